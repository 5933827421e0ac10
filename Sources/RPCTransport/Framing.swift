// The contract between the transports and whoever handles messages (the Server, wired by the
// executable). The transport knows bytes and frames only; it never looks inside a payload, so the
// JSON layer can change without touching this module.

/// How a stream frames its messages; detected from the first non-whitespace byte of a connection.
public enum FramingMode: Sendable, Equatable {
    /// LSP style: `Content-Length: N\r\n\r\n` followed by N payload bytes.
    case contentLength
    /// One payload per line, terminated by "\n" (a trailing "\r" is stripped).
    case newline
}

/// What the transport hands up. Frames are raw payload bytes (not validated as UTF-8 or JSON).
public enum FramingError: Error, Sendable, Equatable {
    /// Recovered: the oversized frame is skipped (line mode: up to the next newline; Content-Length:
    /// the announced bytes), and the stream goes on. `announced` is nil in line mode, where the size
    /// is unknown when the limit is crossed.
    case frameTooLarge(limit: Int, announced: Int?)
    /// Fatal for the stream: the delegate is told, then its input ends (`inputEnded()`), and the
    /// connection closes when the delegate closes its sink. Also reported when input ends inside a
    /// Content-Length frame (truncated header block or body).
    case malformedHeader(String)
}

/// One thing the decoder found in the byte stream.
public enum FrameEvent: Sendable, Equatable {
    case frame([UInt8])
    case error(FramingError)
}

/// The write side of one connection, handed to the delegate at creation.
public protocol MessageSink: AnyObject, Sendable {
    /// Sends one payload, framed in the connection's detected mode (newline mode: payload + "\n";
    /// LSP: "Content-Length: N\r\n\r\n" + payload; newline mode if nothing was received yet).
    /// Thread-safe; writes from many threads never interleave. After close, sends are dropped; so
    /// are sends to a peer that has gone away.
    func send(_ payload: [UInt8])
    /// Says the delegate is done with this connection: pending sends are flushed, then the output is
    /// closed. No delegate callback is made after this. Idempotent.
    func close()
}

/// The read side of one connection. Callbacks for one connection are serialized (never
/// concurrent) and come in stream order; they may come from a transport thread or event loop, so
/// they must not block for long: hand real work to your own tasks.
public protocol ConnectionDelegate: AnyObject, Sendable {
    func received(frame: [UInt8])
    func framingError(_ error: FramingError)
    /// End of input: EOF on stdin, peer closed or half-closed, a malformed header, the daemon
    /// shutting down, or stdout gone. Called at most once, never after `sink.close()`. The delegate
    /// should finish in-flight work (its sends still go out unless the peer is gone) and then call
    /// `sink.close()`: that is what ends `StdioTransport.run` and releases a socket connection.
    func inputEnded()
    /// The peer is gone for good (a socket closed in both directions): nothing sent can reach it
    /// any more, so work done only to be answered should stop. Comes after `inputEnded()`.
    func peerGone()
    /// The transport holds as many connections as it may (`limit`): answer with an error; input
    /// then ends and the connection closes as usual.
    func tooManyConnections(limit: Int)
    /// Whether requests of this connection are still running or answering (an idle connection is
    /// closed only when nothing is).
    var hasWorkInFlight: Bool { get }
}

extension ConnectionDelegate {
    public func peerGone() {}
    public func tooManyConnections(limit: Int) {}
    public var hasWorkInFlight: Bool { false }
}

/// What one socket connection may hold and for how long (`reprolm serve --help` lists the flags).
public struct ConnectionLimits: Sendable {
    /// Connections open at once; one more is answered with an error and closed.
    public var maxConnections: Int
    /// Seconds a frame may stay incomplete once its first byte arrived (a client trickling a
    /// header a byte at a time); then a framing error and the connection ends. nil: no limit.
    public var headerTimeout: Double?
    /// Seconds without a frame while nothing of the connection is in flight; then it is closed.
    public var idleTimeout: Double?
    /// Seconds the connection's answers may wait for a client that does not read them (reading of
    /// its requests is paused meanwhile); then it is closed and its work cancelled.
    public var writeTimeout: Double?
    /// Bytes of answers that may wait unread (beyond the first answer); past them the connection
    /// is closed and its work cancelled at once. nil: no bound but the write timeout.
    public var maxUnreadBytes: Int?

    public init(maxConnections: Int = 256, headerTimeout: Double? = 30, idleTimeout: Double? = 600, writeTimeout: Double? = 60,
                maxUnreadBytes: Int? = 16 << 20) {
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.maxUnreadBytes = maxUnreadBytes
    }

    /// How often a connection checks its clocks: a quarter of the shortest timeout, within
    /// 50 ms and 1 s.
    var tick: Double {
        let shortest = [headerTimeout, idleTimeout, writeTimeout].compactMap { $0 }.min() ?? 4
        return min(1, max(0.05, shortest / 4))
    }
}

/// Makes the delegate of a new connection; called once per connection, before any input.
public typealias ConnectionFactory = @Sendable (MessageSink) -> ConnectionDelegate
