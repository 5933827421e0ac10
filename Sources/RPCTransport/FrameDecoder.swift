// Framing, decided once for both transports (stdio and Unix socket).
//
// A connection's framing is detected from its first non-whitespace byte:
//   - an ASCII letter starts a header name, so the stream is LSP framed (`Content-Length: N`);
//   - anything else ('{', '[', a digit, a quote, ...) means one JSON value per line.
// A stream never switches framing after that.
//
// Content-Length framing: header lines are `Name: value`, names compared case-insensitively.
// Content-Length is required, exactly once, as plain decimal digits up to 2^53 − 1 (no sign, no spaces inside);
// Content-Type and any unknown header are accepted and ignored, as LSP readers do. Header lines may
// end in "\r\n" or a bare "\n" (so "\n\n" ends a header block too): hand-written clients
// (`printf` in a shell script) often send bare newlines, and since the body is delimited by its
// length, not by a terminator, accepting both cannot misread a frame. Blank lines between frames
// are skipped. A header block over 8 KiB, a line without ':', a bad or repeated Content-Length are
// malformed: fatal for the stream, because after a bad header there is no reliable way to find
// the next frame. A body longer than `maxFrameBytes` is reported and skipped by its announced
// length, without being buffered, and the stream goes on.
//
// Newline framing: a frame is a line without its "\n" and without one trailing "\r". Empty and
// whitespace-only lines are skipped (they are not JSON-RPC messages and clients send them
// between messages). A line longer than `maxFrameBytes` is reported as soon as the limit is
// crossed and the rest of it is discarded as it streams in, up to the next "\n"; the stream goes
// on. The payload must not contain "\n": compact JSON never does (newlines in strings are escaped).
//
// Memory stays bounded: the decoder holds at most one frame being assembled (at most
// `maxFrameBytes` + 1 bytes) or one header line (at most 8 KiB), whatever the input.
//
// Why not NIOExtras' `ContentLengthHeaderFrameDecoder` and `LineBasedFrameDecoder`: neither detects
// the framing, and neither skips an oversized frame (a `ByteToMessageHandler` buffer limit kills
// the connection instead). One pure decoder here serves both transports and is tested without I/O.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Incremental, I/O-free decoder of a byte stream into frames; see the top of this file for the rules.
public struct FrameDecoder: Sendable {
    /// The frame limit the daemon uses unless told otherwise.
    public static let defaultMaxFrameBytes = 16 * 1024 * 1024
    /// A Content-Length header block longer than this is malformed.
    public static let maxHeaderBytes = 8 * 1024

    /// Largest payload accepted, in bytes.
    public let maxFrameBytes: Int
    /// The stream's framing, nil until the first non-whitespace byte has been seen.
    public private(set) var mode: FramingMode?

    private enum State: Sendable {
        case detecting
        /// Newline mode; `buffer` holds the current line. `discarding`: the line is over the limit.
        case line(discarding: Bool)
        /// Content-Length mode, reading a header block; `buffer` holds the current header line.
        /// `blockBytes` counts the block so far; `lines` the non-empty header lines seen.
        case headers(contentLength: Int?, blockBytes: Int, lines: Int)
        /// Content-Length mode; `buffer` holds the body so far.
        case body(length: Int)
        /// Content-Length mode; dropping the rest of an oversized body.
        case skipping(remaining: Int)
        /// After a malformed header: all further input is ignored.
        case failed
        /// After `finish()`.
        case ended
    }

    private var state: State
    private var buffer: [UInt8] = []

    /// - Parameters:
    ///   - maxFrameBytes: payloads larger than this are reported and skipped (negative counts as 0).
    ///   - mode: force a framing instead of detecting it (nil: detect).
    public init(maxFrameBytes: Int = FrameDecoder.defaultMaxFrameBytes, mode: FramingMode? = nil) {
        self.maxFrameBytes = max(0, maxFrameBytes)
        self.mode = mode
        switch mode {
        case nil: state = .detecting
        case .newline?: state = .line(discarding: false)
        case .contentLength?: state = .headers(contentLength: nil, blockBytes: 0, lines: 0)
        }
    }

    /// Bytes held for a frame or header line still incomplete (for tests of bounded memory).
    public var bufferedByteCount: Int { buffer.count }

    /// True when no frame is under way: nothing of a next frame has arrived (the header timeout
    /// measures how long a frame stays incomplete).
    public var isBetweenFrames: Bool {
        switch state {
        case .detecting, .line(discarding: false): return buffer.isEmpty
        case .headers(_, let blockBytes, _): return blockBytes == 0 && buffer.isEmpty
        case .failed, .ended: return true
        case .line(discarding: true), .body, .skipping: return false
        }
    }

    /// True after a malformed header: the stream cannot be resynchronised, input is ignored.
    public var hasFailed: Bool {
        if case .failed = state { return true }
        return false
    }

    /// Consumes a chunk of input and returns what it completed, in stream order.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [FrameEvent] {
        var events: [FrameEvent] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { consume($0, into: &events) }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { consume($0, into: &events) }
        }
        return events
    }

    /// Call at end of input. In newline mode a last line without "\n" is still a frame (so
    /// `printf '{...}' | reprolm serve` works); in Content-Length mode a partial frame is reported
    /// as malformed. Later input is ignored.
    public mutating func finish() -> [FrameEvent] {
        var events: [FrameEvent] = []
        switch state {
        case .line(discarding: false):
            completeLine(into: &events)
        case .headers(_, _, let lines):
            if lines > 0 || buffer.contains(where: { !Self.isWhitespace($0) }) {
                events.append(.error(.malformedHeader("input ended inside a header block")))
            }
        case .body(let length):
            events.append(.error(.malformedHeader(
                "input ended after \(buffer.count) of \(length) body bytes")))
        case .detecting, .line(discarding: true), .skipping, .failed, .ended:
            break
        }
        buffer = []
        state = .ended
        return events
    }

    // MARK: - Scanning

    private mutating func consume(_ input: UnsafeBufferPointer<UInt8>, into events: inout [FrameEvent]) {
        var i = 0
        let count = input.count
        while i < count {
            switch state {
            case .detecting:
                let byte = input[i]
                if Self.isWhitespace(byte) {
                    i += 1
                } else if Self.isLetter(byte) {
                    mode = .contentLength
                    state = .headers(contentLength: nil, blockBytes: 0, lines: 0)
                } else {
                    mode = .newline
                    state = .line(discarding: false)
                }

            case .line(let discarding):
                let newline = Self.index(of: 0x0A, in: input, from: i)
                let end = newline ?? count
                if discarding {
                    if newline != nil { state = .line(discarding: false) }
                } else if buffer.count + (end - i) > maxFrameBytes + 1 {
                    // +1: a line of exactly the limit may still carry its "\r". Report now, never
                    // buffer the rest: this is what keeps an endless line from exhausting memory.
                    events.append(.error(.frameTooLarge(limit: maxFrameBytes, announced: nil)))
                    releaseBuffer()
                    if newline == nil { state = .line(discarding: true) }
                } else {
                    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<end]))
                    if newline != nil { completeLine(into: &events) }
                }
                i = newline.map { $0 + 1 } ?? count

            case .headers(let contentLength, let blockBytes, let lines):
                let newline = Self.index(of: 0x0A, in: input, from: i)
                let end = newline ?? count
                let blockSoFar = blockBytes + (end - i) + (newline == nil ? 0 : 1)
                if blockSoFar > Self.maxHeaderBytes {
                    fail("header block longer than \(Self.maxHeaderBytes) bytes", into: &events)
                    return
                }
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<end]))
                guard let newline else {
                    state = .headers(contentLength: contentLength, blockBytes: blockSoFar, lines: lines)
                    return
                }
                i = newline + 1
                headerLine(contentLength: contentLength, blockBytes: blockSoFar, lines: lines, into: &events)
                if hasFailed { return }

            case .body(let length):
                let take = min(length - buffer.count, count - i)
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                if buffer.count == length {
                    events.append(.frame(buffer))
                    buffer = []
                    state = .headers(contentLength: nil, blockBytes: 0, lines: 0)
                }

            case .skipping(let remaining):
                let take = min(remaining, count - i)
                i += take
                state = remaining == take
                    ? .headers(contentLength: nil, blockBytes: 0, lines: 0)
                    : .skipping(remaining: remaining - take)

            case .failed, .ended:
                return
            }
        }
    }

    /// Ends the line in `buffer` (without its "\n"): a frame, an error, or nothing if blank.
    private mutating func completeLine(into events: inout [FrameEvent]) {
        if buffer.last == 0x0D { buffer.removeLast() }
        if buffer.count > maxFrameBytes {
            events.append(.error(.frameTooLarge(limit: maxFrameBytes, announced: nil)))
            releaseBuffer()
        } else if buffer.allSatisfy(Self.isWhitespace) {
            buffer.removeAll(keepingCapacity: true)
        } else {
            events.append(.frame(buffer))
            buffer = []
        }
    }

    /// Handles the complete header line in `buffer` (without its "\n").
    private mutating func headerLine(contentLength: Int?, blockBytes: Int, lines: Int,
                                     into events: inout [FrameEvent]) {
        if buffer.last == 0x0D { buffer.removeLast() }
        let line = buffer
        buffer.removeAll(keepingCapacity: true)

        if line.isEmpty {
            guard lines > 0 else {
                // Blank lines between frames: skipped, and they do not count toward the block.
                state = .headers(contentLength: nil, blockBytes: 0, lines: 0)
                return
            }
            guard let length = contentLength else {
                fail("missing Content-Length header", into: &events)
                return
            }
            startBody(length: length, into: &events)
            return
        }

        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            fail("header line without ':': \(Self.quote(line[...]))", into: &events)
            return
        }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(Self.isTokenByte) else {
            fail("invalid header name: \(Self.quote(name))", into: &events)
            return
        }
        var newLength = contentLength
        if Self.equalsIgnoringCase(name, "content-length") {
            if contentLength != nil {
                fail("duplicate Content-Length header", into: &events)
                return
            }
            let value = Self.trimmed(line[(colon + 1)...])
            guard let parsed = Self.parseLength(value) else {
                fail("Content-Length is not a non-negative decimal integer in range: \(Self.quote(value))",
                     into: &events)
                return
            }
            newLength = parsed
        }
        // Content-Type and unknown headers are ignored: LSP defines only these two, and a reader
        // that rejects extra headers gains nothing.
        state = .headers(contentLength: newLength, blockBytes: blockBytes, lines: lines + 1)
    }

    private mutating func startBody(length: Int, into events: inout [FrameEvent]) {
        if length > maxFrameBytes {
            events.append(.error(.frameTooLarge(limit: maxFrameBytes, announced: length)))
            state = .skipping(remaining: length)  // length > maxFrameBytes >= 0, so at least 1
        } else if length == 0 {
            events.append(.frame([]))
            state = .headers(contentLength: nil, blockBytes: 0, lines: 0)
        } else {
            // Reserve up front so a large body is not reallocated as it streams in, but at most
            // 1 MiB: an announcement alone, without the bytes, should not claim 16 MiB per connection.
            buffer.reserveCapacity(min(length, 1 << 20))
            state = .body(length: length)
        }
    }

    private mutating func fail(_ reason: String, into events: inout [FrameEvent]) {
        events.append(.error(.malformedHeader(reason)))
        releaseBuffer()
        state = .failed
    }

    /// Drops the buffer and its capacity: after an oversized or failed frame, keeping megabytes
    /// reserved for an idle connection would defeat the memory bound's point.
    private mutating func releaseBuffer() {
        buffer = []
    }

    // MARK: - Byte helpers

    private static func index(of byte: UInt8, in input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < input.count, let base = input.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), input.count - start) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// RFC 9110 token characters, which are what a header name may contain.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        if isLetter(byte) || (byte >= 0x30 && byte <= 0x39) { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: String) -> Bool {
        guard bytes.count == lowercase.utf8.count else { return false }
        return zip(bytes, lowercase.utf8).allSatisfy { a, b in
            (a >= 0x41 && a <= 0x5A ? a + 0x20 : a) == b
        }
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice.removeFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice.removeLast() }
        return slice
    }

    /// The largest Content-Length read, 2^53 − 1: an oversized frame's error reports its announced
    /// length in `data.announced`, which must be exact in every JSON client (I-JSON); no real
    /// frame comes near it.
    static let maxContentLength = (1 << 53) - 1

    /// Plain decimal digits only, at most `maxContentLength`: a sign, spaces or a larger value are
    /// all malformed.
    private static func parseLength(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(byte - 0x30))
            if o1 || o2 || sum > maxContentLength { return nil }
            value = sum
        }
        return value
    }

    /// Printable rendering of untrusted header bytes for an error message, at most 64 of them.
    private static func quote(_ bytes: ArraySlice<UInt8>) -> String {
        var out = "\""
        for byte in bytes.prefix(64) {
            switch byte {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if bytes.count > 64 { out += "..." }
        return out + "\""
    }
}
