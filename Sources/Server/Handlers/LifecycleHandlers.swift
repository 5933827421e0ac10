// initialize, shutdown, exit, $/cancelRequest.
import ReproJSON
import RPCProtocol

enum LifecycleHandlers {
    @Sendable static func initialize(_ ctx: RequestContext, _ params: JSONValue?) throws -> ImmediateReply {
        let p = try InitializeParams(params)
        if ctx.daemon.isShuttingDown { throw RPCError(.shuttingDown, "the daemon is shutting down") }
        if let name = p.clientName { ctx.daemon.logger.info("client: \(name)") }
        let daemon = ctx.daemon
        return .later {
            InitializeResult(serverVersion: Daemon.version, engine: Daemon.engineInfo,
                             methods: MethodTable.names, models: ModelHandlers.infos(daemon)).json
        }
    }

    /// Refuses new requests everywhere from this frame on, waits until every request in flight
    /// has been answered, then answers null.
    @Sendable static func shutdown(_ ctx: RequestContext, _ params: JSONValue?) throws -> ImmediateReply {
        try JSONObjectReader(params, path: "params").finish()
        ctx.daemon.beginShutdown()
        let daemon = ctx.daemon
        let earlier = ctx.connection.outstandingSnapshot()
        return .later {
            await daemon.drain()
            for w in earlier { _ = await w.value }
            return .null
        }
    }

    /// LSP semantics: exit code 0 after `shutdown`, 1 without it. Without a shutdown, work in
    /// flight is cancelled (each request still answers, with what it has or -32800); either way
    /// every answer owed to this connection is sent before the process ends.
    @Sendable static func exit(_ connection: ServerConnection, _ params: JSONValue?) throws {
        let daemon = connection.daemon
        let code: Int32 = daemon.isShuttingDown ? 0 : 1
        let earlier = connection.outstandingSnapshot()
        Task {
            if code != 0 { await daemon.terminate() }
            for w in earlier { _ = await w.value }
            daemon.exit(code: code)
        }
    }

    @Sendable static func cancelRequest(_ connection: ServerConnection, _ params: JSONValue?) throws {
        let p = try CancelRequestParams(params)
        connection.cancel(p.id)
    }
}
