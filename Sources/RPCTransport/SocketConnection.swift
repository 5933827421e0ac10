// One accepted Unix-socket connection: a NIO inbound handler that feeds the shared FrameDecoder and
// calls the connection's delegate, and the sink through which the delegate answers.
//
// All delegate callbacks run on the connection's event loop, in stream order. Sends may come from
// any thread; each is handed to the event loop as one task, so frames are written whole and in
// the order `send` was called. Closing the sink waits for the last write to finish before closing
// the channel: NIO fails writes still pending at close, which would cut off the final answers.

import Logging
import NIOCore

/// Shared between the transport and its sinks: once the event loops are shut down, nothing may be
/// scheduled on them, so sinks check this under its lock before every `execute`.
final class EventLoopGate: @unchecked Sendable {
    private let open = Locked(true)

    /// Runs `body` only while the loops are up; holds the lock so shutdown cannot slip between.
    func ifOpen(_ body: () -> Void) {
        open.withLock { isOpen in if isOpen { body() } }
    }

    func shut() {
        open.withLock { $0 = false }
    }
}

/// The write side of a socket connection.
final class SocketSink: MessageSink, @unchecked Sendable {
    private struct State {
        var mode: FramingMode?
        var closed = false
    }
    private let state = Locked(State())
    private let channel: Channel
    private let gate: EventLoopGate
    private let maxUnreadBytes: Int?
    private let logger: Logger?
    // Touched on the channel's event loop only:
    private var lastWrite: EventLoopFuture<Void>?
    /// Answers written to the channel and not yet taken by the client's socket, and their bytes.
    private var unread = (answers: 0, bytes: 0)

    init(channel: Channel, gate: EventLoopGate, maxUnreadBytes: Int? = nil, logger: Logger? = nil) {
        self.channel = channel
        self.gate = gate
        self.maxUnreadBytes = maxUnreadBytes
        self.logger = logger
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    func setMode(_ mode: FramingMode) {
        state.withLock { $0.mode = mode }
    }

    func send(_ payload: [UInt8]) {
        state.withLock { s in
            // A peer that has gone away: drop silently, the delegate was or will be told inputEnded.
            guard !s.closed, channel.isActive else { return }
            let mode = s.mode ?? .newline
            // Scheduled under the lock, so the loop sees sends in the order they were made.
            gate.ifOpen { channel.eventLoop.execute { self.write(payload, mode: mode) } }
        }
    }

    func close() {
        state.withLock { s in
            guard !s.closed else { return }
            s.closed = true
            gate.ifOpen { channel.eventLoop.execute { self.closeAfterLastWrite() } }
        }
    }

    private func write(_ payload: [UInt8], mode: FramingMode) {
        guard channel.isActive else { return }
        let head = FrameEncoder.prefix(mode: mode, payloadCount: payload.count)
        let tail = FrameEncoder.suffix(mode: mode)
        var buffer = channel.allocator.buffer(capacity: head.count + payload.count + tail.count)
        buffer.writeBytes(head)
        buffer.writeBytes(payload)
        buffer.writeBytes(tail)
        let bytes = buffer.readableBytes
        unread.answers += 1
        unread.bytes += bytes
        let write = channel.writeAndFlush(buffer)
        write.whenComplete { _ in
            self.unread.answers -= 1
            self.unread.bytes -= bytes
        }
        lastWrite = write
        // A client that does not read its answers holds them in the daemon's memory: past the
        // bound (counting only answers beyond the first, so one large answer to a reading client
        // is never cut), the connection is closed and its requests cancelled.
        if let maxUnreadBytes, unread.answers > 1, unread.bytes > maxUnreadBytes {
            logger?.notice("closing a connection with \(unread.bytes) bytes of answers unread (--max-unread-mib); its requests are cancelled")
            channel.close(promise: nil)
        }
    }

    private func closeAfterLastWrite() {
        let channel = self.channel
        if let lastWrite {
            lastWrite.whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }
}

/// What the handler needs from its transport.
protocol ConnectionRegistry: AnyObject, Sendable {
    /// Whether the connection may stay: not once the transport is shutting down, nor beyond the
    /// connection limit; either way it should end its input at once.
    func register(_ handler: SocketConnectionHandler, channel: Channel) -> Admission
    func unregister(_ handler: SocketConnectionHandler)
}

enum Admission {
    case admitted, shuttingDown, full(limit: Int)
}

/// Decodes one connection's bytes into frames for its delegate.
final class SocketConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var decoder: FrameDecoder
    private let factory: ConnectionFactory
    private let gate: EventLoopGate
    private weak var registry: ConnectionRegistry?
    private let logger: Logger
    // Event loop only:
    private var sink: SocketSink?
    private var delegate: ConnectionDelegate?
    private var modeKnown = false
    private var inputEnded = false
    // The clocks of ConnectionLimits (event loop only):
    private let limits: ConnectionLimits
    private var clock: RepeatedTask?
    /// When the frame under way began arriving (nil: between frames).
    private var frameStarted: NIODeadline?
    /// When the last frame was completed (or the connection opened).
    private var lastFrame = NIODeadline.now()
    /// Since when the client has not been reading its answers (nil: it is).
    private var unreadSince: NIODeadline?

    init(maxFrameBytes: Int, limits: ConnectionLimits, factory: @escaping ConnectionFactory, gate: EventLoopGate,
         registry: ConnectionRegistry, logger: Logger) {
        self.decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        self.limits = limits
        self.factory = factory
        self.gate = gate
        self.registry = registry
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let sink = SocketSink(channel: context.channel, gate: gate, maxUnreadBytes: limits.maxUnreadBytes, logger: logger)
        self.sink = sink
        delegate = factory(sink)
        switch registry?.register(self, channel: context.channel) ?? .shuttingDown {
        case .admitted:
            let tick = TimeAmount.milliseconds(Int64(limits.tick * 1000))
            clock = context.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { [weak self] _ in
                self?.checkClocks(context.channel)
            }
        case .shuttingDown:
            endInput()  // accepted while the daemon shuts down
        case .full(let limit):
            logger.warning("connection refused: \(limit) connections are open (--max-connections)")
            delegate?.tooManyConnections(limit: limit)
            endInput()
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard !inputEnded else { return }  // after a malformed header or shutdown: discard
        let events = decoder.feed(buffer.readableBytesView)
        if !modeKnown, let mode = decoder.mode {
            sink?.setMode(mode)
            modeKnown = true
        }
        let now = NIODeadline.now()
        if events.contains(where: { if case .frame = $0 { return true } else { return false } }) { lastFrame = now }
        if decoder.isBetweenFrames { frameStarted = nil } else if frameStarted == nil || !events.isEmpty { frameStarted = now }
        deliver(events)
        if decoder.hasFailed { endInput() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // NIO's BackPressureHandler, before this handler, stops reading requests meanwhile.
        unreadSince = context.channel.isWritable ? nil : (unreadSince ?? .now())
        context.fireChannelWritabilityChanged()
    }

    /// The header, idle and write timeouts (ConnectionLimits). Event loop only.
    private func checkClocks(_ channel: Channel) {
        let now = NIODeadline.now()
        func over(_ since: NIODeadline?, _ seconds: Double?) -> Bool {
            guard let since, let seconds else { return false }
            return now - since > .nanoseconds(Int64(seconds * 1e9))
        }
        if over(unreadSince, limits.writeTimeout) {
            logger.notice("closing a connection whose answers went unread for \(limits.writeTimeout!) s; its requests are cancelled")
            clock?.cancel()
            channel.close(promise: nil)
        } else if !inputEnded, over(frameStarted, limits.headerTimeout) {
            logger.notice("closing a connection that left a frame incomplete for \(limits.headerTimeout!) s")
            if let delegate, let sink, !sink.isClosed {
                delegate.framingError(.malformedHeader("no complete frame within \(limits.headerTimeout!) s of its first byte"))
            }
            endInput()
        } else if !inputEnded, frameStarted == nil, over(lastFrame, limits.idleTimeout), delegate?.hasWorkInFlight != true {
            logger.debug("closing a connection idle for \(limits.idleTimeout!) s")
            endInput()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // With allowRemoteHalfClosure, EOF arrives here and the output stays open, so a client
        // that shuts down its write side after the last request still gets every answer.
        if let event = event as? ChannelEvent, event == .inputClosed {
            finishInput()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock?.cancel()
        clock = nil
        finishInput()
        // A half-closed peer still reads its answers; a closed one cannot, so its work stops.
        if let sink, !sink.isClosed { delegate?.peerGone() }
        registry?.unregister(self)
        // Break sink -> channel -> pipeline -> handler -> delegate -> sink once nothing can follow.
        delegate = nil
        sink = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ECONNRESET and the like: the peer is gone. Closing leads to channelInactive -> inputEnded.
        logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    /// Ends input without flushing the decoder (daemon shutdown). Event loop only.
    func shutdownInput() {
        endInput()
    }

    /// EOF: a last unterminated line is still a frame; a partial Content-Length frame is reported.
    private func finishInput() {
        guard !inputEnded else { return }
        deliver(decoder.finish())
        endInput()
    }

    private func endInput() {
        guard !inputEnded else { return }
        inputEnded = true
        guard let delegate, let sink, !sink.isClosed else { return }
        delegate.inputEnded()
    }

    private func deliver(_ events: [FrameEvent]) {
        for event in events {
            guard !inputEnded, let delegate, let sink, !sink.isClosed else { return }
            switch event {
            case .frame(let payload): delegate.received(frame: payload)
            case .error(let error): delegate.framingError(error)
            }
        }
    }
}
