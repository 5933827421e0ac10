// initialize, shutdown, exit, $/cancelRequest.
import ReproJSON
import RPCProtocol

enum LifecycleHandlers {
    @Sendable static func initialize(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try InitializeParams(params)
        if let name = p.clientName { ctx.daemon.logger.info("client: \(name)") }
        return InitializeResult(serverVersion: Daemon.version, engineVersion: Daemon.engineVersion,
                                methods: MethodTable.names, models: ModelHandlers.infos(ctx.daemon)).json
    }

    /// Refuses new requests everywhere, waits for those in flight, then answers null.
    @Sendable static func shutdown(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        ctx.daemon.beginShutdown()
        await ctx.daemon.drain()
        return .null
    }

    /// LSP semantics: exit code 0 after `shutdown`, 1 without it.
    @Sendable static func exit(_ connection: ServerConnection, _ params: JSONValue?) throws {
        connection.daemon.exit(code: connection.daemon.isShuttingDown ? 0 : 1)
    }

    @Sendable static func cancelRequest(_ connection: ServerConnection, _ params: JSONValue?) throws {
        let p = try CancelRequestParams(params)
        connection.cancel(p.id)
    }
}
