// The Unix-socket transport: a SwiftNIO server where each accepted connection gets its own
// FrameDecoder (inside SocketConnectionHandler) and its own delegate from the factory.
//
// Shutdown is graceful by design, because the daemon's answers are receipts that should not be
// lost: stop accepting, remove the socket file, end every connection's input (each delegate is
// told inputEnded and finishes its in-flight work), wait for the delegates to close their sinks,
// force-close whatever is left after the grace period, then stop the event loops.

import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// JSON-RPC over a Unix domain socket, one delegate per connection.
public final class UnixSocketTransport: @unchecked Sendable {
    /// The socket's path.
    public let path: String
    /// Largest payload accepted per frame; larger frames are reported and skipped.
    public let maxFrameBytes: Int
    /// Paths longer than this many bytes are refused (sockaddr_un's limit, portable).
    public static let maxPathBytes = SocketPath.maxBytes

    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: Channel
    private let registry: Registry
    private let identity: FileIdentity?
    private let logger: Logger

    private init(path: String, maxFrameBytes: Int, group: MultiThreadedEventLoopGroup,
                 serverChannel: Channel, registry: Registry, identity: FileIdentity?, logger: Logger) {
        self.path = path
        self.maxFrameBytes = maxFrameBytes
        self.group = group
        self.serverChannel = serverChannel
        self.registry = registry
        self.identity = identity
        self.logger = logger
    }

    /// `$XDG_RUNTIME_DIR/reprolm.sock` when that variable holds an absolute path, else
    /// `/tmp/reprolm-<uid>/reprolm.sock` (its directory is created 0700 by `bind`).
    public static func defaultSocketPath() -> String {
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }
        return SocketPath.defaultPath(runtimeDirectory: runtime, uid: UInt32(getuid()))
    }

    /// Binds and starts listening. Refuses a path over 103 bytes, a path held by a live daemon
    /// ("another reprolm daemon is listening on PATH") or by a non-socket file, and a directory
    /// owned by another user; removes a stale socket; creates missing directories 0700 and the
    /// socket 0600. Errors are `UnixSocketError` (or NIO's, if the event loop refuses the socket).
    ///
    /// Delegate callbacks run on the event loops, so they must not block: hand real work to tasks.
    public static func bind(path: String,
                            maxFrameBytes: Int = FrameDecoder.defaultMaxFrameBytes,
                            limits: ConnectionLimits = ConnectionLimits(),
                            eventLoopThreads: Int = 1,
                            factory: @escaping ConnectionFactory) async throws -> UnixSocketTransport {
        let logger = Logger(label: "reprolm.transport.socket")
        let (fd, identity) = try SocketPath.bindSocket(at: path)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, eventLoopThreads))
        let registry = Registry(maxConnections: limits.maxConnections)
        let descriptors = DescriptorShortage(logger: logger)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptPause(descriptors))
                }
            }
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    descriptors.accepted()
                    let handler = SocketConnectionHandler(
                        maxFrameBytes: maxFrameBytes, limits: limits, factory: factory, gate: registry.gate,
                        registry: registry, logger: logger)
                    // Stops reading a client's requests while its answers wait unread.
                    try channel.pipeline.syncOperations.addHandler(BackPressureHandler())
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            let channel = try await bootstrap.withBoundSocket(fd).get()
            logger.info("listening on \(path)")
            return UnixSocketTransport(path: path, maxFrameBytes: maxFrameBytes, group: group,
                                       serverChannel: channel, registry: registry,
                                       identity: identity, logger: logger)
        } catch {
            SocketPath.removeSocketFile(at: path, identity: identity)
            registry.gate.shut()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Number of connections currently open (for tests and status).
    public var connectionCount: Int { registry.count }

    /// Stops accepting, removes the socket file, ends every connection's input and waits up to
    /// `gracePeriod` for the delegates to close their sinks, then closes what remains and stops
    /// the event loops. Safe to call more than once; later calls wait for the first to finish.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        guard let connections = registry.beginShutdown() else {
            await waitUntilShutdown()
            return
        }
        try? await serverChannel.close().get()
        SocketPath.removeSocketFile(at: path, identity: identity)

        for (channel, handler) in connections {
            channel.eventLoop.execute { handler.shutdownInput() }
        }
        if !connections.isEmpty {
            let loop = group.next()
            let channels = connections.map(\.channel)
            let forceClose = loop.scheduleTask(in: Self.timeAmount(gracePeriod)) {
                for channel in channels { channel.close(promise: nil) }
            }
            let closed = channels.map(\.closeFuture)
            try? await EventLoopFuture.andAllComplete(closed, on: loop).get()
            forceClose.cancel()
        }
        registry.gate.shut()
        do {
            try await group.shutdownGracefully()
        } catch {
            logger.warning("event loop shutdown: \(error)")
        }
        logger.info("stopped listening on \(path)")
        registry.finishShutdown()
    }

    /// Returns once `shutdown()` has completed (started by anyone).
    public func waitUntilShutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            registry.addShutdownWaiter(continuation)
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || seconds < 0 { return seconds < 0 ? .zero : .nanoseconds(Int64.max) }
        return .nanoseconds(scaled + attoseconds / 1_000_000_000)
    }
}

/// Open connections and shutdown state, shared by the transport and every connection handler.
private final class Registry: ConnectionRegistry, @unchecked Sendable {
    struct Entry {
        let channel: Channel
        let handler: SocketConnectionHandler
    }
    private struct State {
        var connections: [ObjectIdentifier: Entry] = [:]
        var shuttingDown = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Locked(State())
    let gate = EventLoopGate()
    let maxConnections: Int

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    var count: Int { state.withLock { $0.connections.count } }

    func register(_ handler: SocketConnectionHandler, channel: Channel) -> Admission {
        state.withLock { s in
            guard !s.shuttingDown else { return .shuttingDown }
            guard s.connections.count < maxConnections else { return .full(limit: maxConnections) }
            s.connections[ObjectIdentifier(handler)] = Entry(channel: channel, handler: handler)
            return .admitted
        }
    }

    func unregister(_ handler: SocketConnectionHandler) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(handler)) }
    }

    /// The open connections, or nil if shutdown had already begun.
    func beginShutdown() -> [(channel: Channel, handler: SocketConnectionHandler)]? {
        state.withLock { s in
            guard !s.shuttingDown else { return nil }
            s.shuttingDown = true
            return s.connections.values.map { (channel: $0.channel, handler: $0.handler) }
        }
    }

    func finishShutdown() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.finished = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func addShutdownWaiter(_ continuation: CheckedContinuation<Void, Never>) {
        let now = state.withLock { s -> Bool in
            if s.finished { return true }
            s.waiters.append(continuation)
            return false
        }
        if now { continuation.resume() }
    }
}

/// Out of descriptors (EMFILE, ENFILE) or buffers, accept fails until something frees, and NIO
/// retries at once (its read stays pending, so the socket stays readable to epoll: a busy loop of
/// failing accepts). This stops reading the listening socket for a quarter second at a time
/// instead, and says so once per shortage.
private final class AcceptPause: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    private let descriptors: DescriptorShortage
    private var paused = false

    init(_ descriptors: DescriptorShortage) { self.descriptors = descriptors }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let io = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(io.errnoCode) else {
            context.fireErrorCaught(error)
            return
        }
        descriptors.report(io)
        guard !paused else { return }
        paused = true
        let channel = context.channel
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in
            channel.eventLoop.scheduleTask(in: .milliseconds(250)) {
                self.paused = false
                channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            }
        }
    }
}

/// Logs a descriptor shortage once, until a connection is accepted again.
private final class DescriptorShortage: @unchecked Sendable {
    private let reported = Locked(false)
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func report(_ error: IOError) {
        let first = reported.withLock { r -> Bool in
            defer { r = true }
            return !r
        }
        if first { logger.error("cannot accept connections: \(error); pausing until a descriptor frees (raise the limit with ulimit -n)") }
    }

    func accepted() {
        let was = reported.withLock { r -> Bool in
            defer { r = false }
            return r
        }
        if was { logger.notice("accepting connections again") }
    }
}
