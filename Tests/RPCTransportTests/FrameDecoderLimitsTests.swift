// Oversized frames (recovered), malformed headers (fatal) and the memory bound.

import XCTest
@testable import RPCTransport

final class FrameDecoderLimitsTests: XCTestCase {
    // MARK: - Oversized frames

    func testOversizedLineIsSkippedAndStreamGoesOn() {
        let long = "{\"x\":\"" + String(repeating: "a", count: 30) + "\"}"
        XCTAssertEqual(decode(bytes(long + "\n{}\n"), max: 16).events,
                       [.error(.frameTooLarge(limit: 16, announced: nil)), .frame(bytes("{}"))])
    }

    func testLineLimitIsExact() {
        let exact = String(repeating: "1", count: 16)
        XCTAssertEqual(decode(bytes(exact + "\r\n" + exact + "\n"), max: 16).events, frameEvents(exact, exact))
        XCTAssertEqual(decode(bytes(exact + "1\n{}\n"), max: 16).events,
                       [.error(.frameTooLarge(limit: 16, announced: nil)), .frame(bytes("{}"))])
        XCTAssertEqual(decode(bytes(exact + "1\r\n{}\n"), max: 16).events,
                       [.error(.frameTooLarge(limit: 16, announced: nil)), .frame(bytes("{}"))])
        // Unterminated at EOF, over the limit.
        XCTAssertEqual(decode(bytes(exact + "1"), max: 16).events,
                       [.error(.frameTooLarge(limit: 16, announced: nil))])
    }

    func testEndlessLineIsDiscardedAsItStreams() {
        var decoder = FrameDecoder(maxFrameBytes: 1024)
        var errors = 0
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 4096)
        XCTAssertEqual(decoder.feed(bytes("[")), [])
        for _ in 0..<2560 {  // 10 MiB
            for event in decoder.feed(chunk) {
                XCTAssertEqual(event, .error(.frameTooLarge(limit: 1024, announced: nil)))
                errors += 1
            }
            XCTAssertLessThanOrEqual(decoder.bufferedByteCount, 1025)
        }
        XCTAssertEqual(errors, 1, "reported once, as soon as the limit is crossed")
        XCTAssertEqual(decoder.feed(bytes("]\n[1]\n")), frameEvents("[1]"))
    }

    func testOversizedContentLengthFrameIsSkippedByAnnouncedLength() {
        let body = String(repeating: "z", count: 100)
        let input = "Content-Length: 100\r\n\r\n" + body + "Content-Length: 2\r\n\r\n{}"
        XCTAssertEqual(decode(bytes(input), max: 16).events,
                       [.error(.frameTooLarge(limit: 16, announced: 100)), .frame(bytes("{}"))])
    }

    func testHugeAnnouncedLengthIsNeverBuffered() {
        var decoder = FrameDecoder(maxFrameBytes: 16)
        XCTAssertEqual(decoder.feed(bytes("Content-Length: 1099511627776\r\n\r\n")),
                       [.error(.frameTooLarge(limit: 16, announced: 1 << 40))])
        let chunk = [UInt8](repeating: 0x41, count: 65536)
        for _ in 0..<100 {
            XCTAssertEqual(decoder.feed(chunk), [])
            XCTAssertEqual(decoder.bufferedByteCount, 0)
        }
        XCTAssertFalse(decoder.hasFailed)
        var edge = FrameDecoder(maxFrameBytes: 16)
        XCTAssertEqual(edge.feed(bytes("Content-Length: 9007199254740991\r\n\r\n")),
                       [.error(.frameTooLarge(limit: 16, announced: (1 << 53) - 1))])
    }

    func testBodyBufferIsBoundedByLimit() {
        var decoder = FrameDecoder(maxFrameBytes: 1000)
        XCTAssertEqual(decoder.feed(bytes("Content-Length: 1000\r\n\r\n")), [])
        for _ in 0..<999 {
            XCTAssertEqual(decoder.feed([0x61]), [])
            XCTAssertLessThanOrEqual(decoder.bufferedByteCount, 1000)
        }
        XCTAssertEqual(decoder.feed([0x61]), [.frame([UInt8](repeating: 0x61, count: 1000))])
        XCTAssertEqual(decoder.bufferedByteCount, 0)
    }

    // MARK: - Malformed headers

    func testMalformedHeaderTable() {
        let table: [(input: String, reason: String, line: UInt)] = [
            ("Content-Type: x\r\n\r\n{}", "missing Content-Length header", #line),
            ("Content-Length: abc\r\n\r\n{}",
             "Content-Length is not a non-negative decimal integer in range: \"abc\"", #line),
            ("Content-Length: -5\r\n\r\n{}",
             "Content-Length is not a non-negative decimal integer in range: \"-5\"", #line),
            ("Content-Length: +5\r\n\r\n{}",
             "Content-Length is not a non-negative decimal integer in range: \"+5\"", #line),
            ("Content-Length: 1 2\r\n\r\n{}",
             "Content-Length is not a non-negative decimal integer in range: \"1 2\"", #line),
            ("Content-Length:\r\n\r\n{}",
             "Content-Length is not a non-negative decimal integer in range: \"\"", #line),
            ("Content-Length: 99999999999999999999999\r\n\r\n",
             "Content-Length is not a non-negative decimal integer in range: \"99999999999999999999999\"", #line),
            // Past 2^53 − 1 an oversized frame's `data.announced` would not be exact in a JSON
            // client that reads numbers as doubles (I-JSON): such a length is malformed.
            ("Content-Length: 9007199254740992\r\n\r\n",
             "Content-Length is not a non-negative decimal integer in range: \"9007199254740992\"", #line),
            ("Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "duplicate Content-Length header", #line),
            ("Content-Length: 2\r\ncontent-length: 3\r\n\r\n{}", "duplicate Content-Length header", #line),
            ("Content-Length 2\r\n\r\n{}", "header line without ':': \"Content-Length 2\"", #line),
            ("Content-Length: 2\r\n: x\r\n\r\n{}", "invalid header name: \"\"", #line),
            ("Bad Name: 1\r\n\r\n", "invalid header name: \"Bad Name\"", #line),
            ("Content-Length: 2\r\n{\"a\":1}\r\n", "invalid header name: \"{\\\"a\\\"\"", #line),
            ("Content-Length: 2\r\n{}\r\n", "header line without ':': \"{}\"", #line),
            ("X\u{01}: 1\r\n", "invalid header name: \"X\\x01\"", #line),
        ]
        for (input, reason, line) in table {
            var decoder = FrameDecoder()
            let events = decoder.feed(bytes(input))
            XCTAssertEqual(events, [.error(.malformedHeader(reason))], "input \(input.debugDescription)", line: line)
            XCTAssertTrue(decoder.hasFailed, line: line)
            // Fatal: nothing more comes out of this stream, not even a valid frame.
            XCTAssertEqual(decoder.feed(bytes("Content-Length: 2\r\n\r\n{}")), [], line: line)
            XCTAssertEqual(decoder.finish(), [], line: line)
        }
    }

    func testFramesBeforeAMalformedHeaderAreDelivered() {
        let input = "Content-Length: 2\r\n\r\n{}Content-Length: x\r\n\r\n"
        XCTAssertEqual(decode(bytes(input)).events,
                       [.frame(bytes("{}")), .error(.malformedHeader(
                           "Content-Length is not a non-negative decimal integer in range: \"x\""))])
    }

    func testHeaderLineTooLong() {
        var decoder = FrameDecoder()
        var events: [FrameEvent] = decoder.feed(bytes("X-Long: "))
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<20 {
            events += decoder.feed(chunk)
            XCTAssertLessThanOrEqual(decoder.bufferedByteCount, FrameDecoder.maxHeaderBytes)
        }
        XCTAssertEqual(events, [.error(.malformedHeader("header block longer than 8192 bytes"))])
        XCTAssertTrue(decoder.hasFailed)
    }

    func testHeaderBlockTooLongAcrossManyLines() {
        let many = String(repeating: "X-Pad: 1234567890\r\n", count: 500) + "Content-Length: 2\r\n\r\n{}"
        XCTAssertEqual(decode(bytes(many)).events, [.error(.malformedHeader("header block longer than 8192 bytes"))])
        // Just under the bound is fine: the limit is on the block, not on a count of lines.
        let fits = String(repeating: "X-Pad: 1234567890\r\n", count: 400) + "Content-Length: 2\r\n\r\n{}"
        XCTAssertEqual(decode(bytes(fits)).events, frameEvents("{}"))
    }

    func testBlankLinesBetweenFramesDoNotCountTowardTheHeaderBound() {
        let input = String(repeating: "\r\n", count: 10000) + "Content-Length: 2\r\n\r\n{}"
        XCTAssertEqual(decode(bytes(input)).events, frameEvents("{}"))
    }

    func testNegativeLimitIsClampedNotTrapped() {
        let decoder = FrameDecoder(maxFrameBytes: -5)
        XCTAssertEqual(decoder.maxFrameBytes, 0)
        XCTAssertEqual(decode(bytes("{}\nContent"), max: -1).events,
                       [.error(.frameTooLarge(limit: 0, announced: nil)), .error(.frameTooLarge(limit: 0, announced: nil))])
    }
}
