// stdio transport: one connection over a pair of file descriptors.
//
// Input is read by a plain blocking thread with read(2), whatever fd 0 is: a pipe, a terminal or a
// regular file (`reprolm serve < requests.jsonl`). NIOPipeBootstrap refuses regular files, and
// one code path for every kind is simpler to reason about than two.
//
// Output goes to a private duplicate of fd 1, and fd 1 itself is pointed at stderr (as
// sourcekit-lsp does), so a stray `print` anywhere in the process can never corrupt the protocol
// stream. Writes are whole frames under a lock; a closed stdout (EPIPE, with SIGPIPE ignored) ends
// the session cleanly instead of killing the process.
//
// Lifecycle: `run` makes the delegate, starts the reader and returns once the delegate has closed
// its sink. When input ends (EOF, malformed header, `endInput()`, broken stdout) the delegate is
// told `inputEnded()`, finishes its in-flight work and closes the sink; that is what returns `run`.

import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// JSON-RPC over a pair of file descriptors (normally stdin and stdout). Single use: one `run`.
public final class StdioTransport: @unchecked Sendable {
    /// Largest payload accepted; larger frames are reported and skipped.
    public let maxFrameBytes: Int

    private let inputFD: Int32
    private let ownsDescriptors: Bool
    private let sink: StdioSink
    private let logger = Logger(label: "reprolm.transport.stdio")

    /// Serializes every delegate callback, so they never run concurrently and `inputEnded` can be
    /// ordered after the last frame without holding a lock while calling out.
    private let callbacks = DispatchQueue(label: "reprolm.transport.stdio.callbacks")
    // Confined to `callbacks`:
    private var delegate: ConnectionDelegate?
    private var inputEnded = false

    private struct RunState {
        var started = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let runState = Locked(RunState())

    /// - Parameters:
    ///   - inputFD: read with blocking read(2); a pipe, terminal, socket or regular file.
    ///   - outputFD: written with write(2) under a lock.
    ///   - closesDescriptors: the transport closes `outputFD` when the sink closes and `inputFD`
    ///     when its reader thread stops; pass false to keep them open.
    public init(inputFD: Int32, outputFD: Int32,
                maxFrameBytes: Int = FrameDecoder.defaultMaxFrameBytes,
                closesDescriptors: Bool = true) {
        self.inputFD = inputFD
        self.maxFrameBytes = maxFrameBytes
        self.ownsDescriptors = closesDescriptors
        self.sink = StdioSink(fd: outputFD, closesFD: closesDescriptors)
        sink.attach(self)
    }

    /// The process's own stdin and stdout: ignores SIGPIPE, moves the protocol to a private
    /// duplicate of fd 1 and points fd 1 at stderr (see the top of this file). Call it once, early,
    /// before anything may print.
    public static func standardIO(maxFrameBytes: Int = FrameDecoder.defaultMaxFrameBytes) -> StdioTransport {
        SignalHandling.ignoreSIGPIPE()
        return StdioTransport(inputFD: STDIN_FILENO, outputFD: takeStandardOutput(),
                              maxFrameBytes: maxFrameBytes, closesDescriptors: true)
    }

    /// Convenience: `standardIO(maxFrameBytes:).run(factory:)`. Returns when the delegate has
    /// closed its sink (normally after `inputEnded()`); the executable then exits.
    public static func run(maxFrameBytes: Int = FrameDecoder.defaultMaxFrameBytes,
                           factory: ConnectionFactory) async {
        await standardIO(maxFrameBytes: maxFrameBytes).run(factory: factory)
    }

    /// Makes the delegate, reads input until it ends, and returns once the delegate has closed
    /// its sink. A second call only waits for the first to finish.
    public func run(factory: ConnectionFactory) async {
        let first = runState.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        if first {
            let made = factory(sink)
            callbacks.sync {
                guard !sink.isClosed else { return }
                delegate = made
                // endInput() came before there was a delegate (a signal during start-up).
                if inputEnded { made.inputEnded() }
            }
            if !POSIX.spawnThread({ [self] in readLoop() }) {
                logger.error("could not start the input reader thread")
                endInput()
            }
        }
        await waitUntilClosed()
    }

    /// Ends input as if EOF had been read (for SIGTERM): no more frames are delivered and the
    /// delegate is told `inputEnded()`. The reader thread may stay blocked in read(2) until real
    /// input arrives or the process exits; nothing it reads is delivered. Idempotent.
    public func endInput() {
        callbacks.async { [self] in
            guard !inputEnded else { return }
            inputEnded = true
            guard let delegate, !sink.isClosed else { return }
            delegate.inputEnded()
        }
    }

    // MARK: - Internals

    private func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = runState.withLock { state -> Bool in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Called by the sink, once, after its descriptor is closed.
    fileprivate func sinkDidClose() {
        let waiters = runState.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        // Dropping the delegate breaks the transport -> delegate -> sink -> transport cycle.
        callbacks.async { [self] in delegate = nil }
        for waiter in waiters { waiter.resume() }
    }

    /// Called by the sink when stdout is gone: nobody can read answers any more.
    fileprivate func outputBroke() {
        logger.info("output closed by the reader; ending input")
        endInput()
    }

    private func readLoop() {
        var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        var modeKnown = false
        let chunkSize = 64 * 1024
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while !sink.isClosed {
            let n = chunk.withUnsafeMutableBytes { read(inputFD, $0.baseAddress, chunkSize) }
            var events: [FrameEvent]
            var atEnd = false
            if n > 0 {
                events = decoder.feed(chunk[0..<n])
            } else if n == 0 {
                events = decoder.finish()
                atEnd = true
            } else {
                let err = errno
                if err == EINTR { continue }
                if err == EAGAIN || err == EWOULDBLOCK {
                    // An inherited non-blocking stdin: wait rather than spin.
                    POSIX.waitUntilReady(inputFD, events: Int16(POLLIN))
                    continue
                }
                logger.error("reading input failed: \(POSIX.describe(errno: err))")
                events = decoder.finish()
                atEnd = true
            }
            if !modeKnown, let mode = decoder.mode {
                // Set before the first frame is delivered, so the first answer is framed right.
                sink.setMode(mode)
                modeKnown = true
            }
            if !events.isEmpty {
                // sync: the reader waits for the delegate, which bounds what is queued (backpressure).
                callbacks.sync { deliver(events) }
            }
            if atEnd || decoder.hasFailed { break }
        }
        endInput()
        if ownsDescriptors { POSIX.closeDescriptor(inputFD) }
    }

    /// On `callbacks` only.
    private func deliver(_ events: [FrameEvent]) {
        for event in events {
            guard let delegate, !inputEnded, !sink.isClosed else { return }
            switch event {
            case .frame(let payload): delegate.received(frame: payload)
            case .error(let error): delegate.framingError(error)
            }
        }
    }

    private static let standardOutputTaken = Locked<Int32?>(nil)

    /// Duplicates fd 1 for the protocol and points fd 1 at stderr; idempotent.
    static func takeStandardOutput() -> Int32 {
        standardOutputTaken.withLock { taken -> Int32 in
            if let taken { return taken }
            let logger = Logger(label: "reprolm.transport.stdio")
            fflush(nil)  // whatever was printed before goes out first, to the real stdout
            let fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
            guard fd >= 0 else {
                logger.warning("could not duplicate stdout (\(POSIX.describe(errno: errno))); stray prints may corrupt the protocol")
                taken = STDOUT_FILENO
                return STDOUT_FILENO
            }
            if dup2(STDERR_FILENO, STDOUT_FILENO) < 0 {
                logger.warning("could not point stdout at stderr (\(POSIX.describe(errno: errno))); stray prints may corrupt the protocol")
            }
            taken = fd
            return fd
        }
    }
}

/// The write side of the stdio transport: whole frames under one lock.
final class StdioSink: MessageSink, @unchecked Sendable {
    private struct State {
        var mode: FramingMode?
        var closed = false
        var broken = false
        weak var owner: StdioTransport?
    }
    private let state = Locked(State())
    private let fd: Int32
    private let closesFD: Bool
    private let logger = Logger(label: "reprolm.transport.stdio")

    init(fd: Int32, closesFD: Bool) {
        self.fd = fd
        self.closesFD = closesFD
    }

    fileprivate func attach(_ owner: StdioTransport) {
        state.withLock { $0.owner = owner }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    func setMode(_ mode: FramingMode) {
        state.withLock { $0.mode = mode }
    }

    func send(_ payload: [UInt8]) {
        let brokeNow = state.withLock { s -> StdioTransport?? in
            guard !s.closed, !s.broken else { return nil }
            let frame = FrameEncoder.encode(payload, mode: s.mode ?? .newline)
            switch POSIX.writeAll(fd, frame) {
            case .written:
                return nil
            case .brokenPipe:
                s.broken = true
            case .failed(let err):
                logger.error("writing output failed: \(POSIX.describe(errno: err))")
                s.broken = true
            }
            return .some(s.owner)
        }
        // Outside the lock: the owner schedules inputEnded, which may lead the delegate to close.
        if case .some(let owner) = brokeNow { owner?.outputBroke() }
    }

    func close() {
        let owner = state.withLock { s -> StdioTransport?? in
            guard !s.closed else { return nil }
            s.closed = true
            // Under the lock: no write can be in progress on this descriptor.
            if closesFD { POSIX.closeDescriptor(fd) }
            return .some(s.owner)
        }
        if case .some(let owner) = owner { owner?.sinkDidClose() }
    }
}
