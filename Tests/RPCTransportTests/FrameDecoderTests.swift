// Well-formed input in both framings, mode detection, chunking, and the encoder.

import XCTest
@testable import RPCTransport

/// Feeds `input` whole, then finishes; returns the events and the decoder's mode.
func decode(_ input: [UInt8], max: Int = FrameDecoder.defaultMaxFrameBytes) -> (events: [FrameEvent], mode: FramingMode?) {
    var decoder = FrameDecoder(maxFrameBytes: max)
    var events = decoder.feed(input)
    events += decoder.finish()
    return (events, decoder.mode)
}

func frameEvents(_ payloads: String...) -> [FrameEvent] {
    payloads.map { .frame(bytes($0)) }
}

final class FrameDecoderTests: XCTestCase {
    func testNewlineTable() {
        let table: [(input: String, expected: [FrameEvent], line: UInt)] = [
            ("{\"a\":1}\n", frameEvents("{\"a\":1}"), #line),
            ("{\"a\":1}\r\n", frameEvents("{\"a\":1}"), #line),
            ("[1,2]\n[3]\n", frameEvents("[1,2]", "[3]"), #line),
            ("\n\n  \r\n\t\n{}\n", frameEvents("{}"), #line),
            ("  \t {}\n", frameEvents("{}"), #line),
            ("{}\n   \n\t\r\n{}", frameEvents("{}", "{}"), #line),
            ("{} \r\n", frameEvents("{} "), #line),
            ("{\"s\":\"x\r\"}\n", frameEvents("{\"s\":\"x\r\"}"), #line),
            ("{}\r\r\n", frameEvents("{}\r"), #line),
            ("1\n\"s\"\n", frameEvents("1", "\"s\""), #line),
            ("{}", frameEvents("{}"), #line),
            ("{}\r", frameEvents("{}"), #line),
        ]
        for (input, expected, line) in table {
            let (events, mode) = decode(bytes(input))
            XCTAssertEqual(events, expected, "input \(input.debugDescription)", line: line)
            XCTAssertEqual(mode, .newline, line: line)
        }
    }

    func testContentLengthTable() {
        let table: [(input: String, expected: [FrameEvent], line: UInt)] = [
            ("Content-Length: 2\r\n\r\n{}", frameEvents("{}"), #line),
            ("content-length: 2\r\n\r\n{}", frameEvents("{}"), #line),
            ("CONTENT-LENGTH:2\r\n\r\n{}", frameEvents("{}"), #line),
            ("Content-Length: \t 2 \t\r\n\r\n{}", frameEvents("{}"), #line),
            ("Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}",
             frameEvents("{}"), #line),
            ("Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", frameEvents("{}"), #line),
            ("X-Custom: 1\r\nContent-Length: 2\r\n\r\n{}", frameEvents("{}"), #line),
            ("Content-Length: 2\n\n{}", frameEvents("{}"), #line),
            ("Content-Length: 2\r\n\n{}", frameEvents("{}"), #line),
            ("Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]", frameEvents("{}", "[1]"), #line),
            ("Content-Length: 2\r\n\r\n{}\r\n\r\nContent-Length: 3\r\n\r\n[1]\r\n", frameEvents("{}", "[1]"), #line),
            ("Content-Length: 0\r\n\r\n", [.frame([])], #line),
            ("\r\n  \nContent-Length: 2\r\n\r\n{}", frameEvents("{}"), #line),
            // The body is raw bytes: header-like text inside it is payload.
            ("Content-Length: 25\r\n\r\n\r\n\r\nContent-Length: 9\r\n\r\n", frameEvents("\r\n\r\nContent-Length: 9\r\n\r\n"), #line),
            ("Content-Length: 3\r\n\r\na\nb", frameEvents("a\nb"), #line),
        ]
        for (input, expected, line) in table {
            let (events, mode) = decode(bytes(input))
            XCTAssertEqual(events, expected, "input \(input.debugDescription)", line: line)
            XCTAssertEqual(mode, .contentLength, line: line)
        }
    }

    func testModeDetection() {
        let cases: [(String, FramingMode?)] = [
            ("{", .newline), ("[", .newline), ("1", .newline), ("\"", .newline),
            ("C", .contentLength), ("c", .contentLength), ("x", .contentLength),
            (" \r\n\t{", .newline), ("\n\nContent", .contentLength), ("", nil), (" \n\r\t", nil),
        ]
        for (input, expected) in cases {
            var decoder = FrameDecoder()
            _ = decoder.feed(bytes(input))
            XCTAssertEqual(decoder.mode, expected, "input \(input.debugDescription)")
        }
    }

    func testForcedModeSkipsDetection() {
        var decoder = FrameDecoder(mode: .newline)
        XCTAssertEqual(decoder.feed(bytes("Content-Length: 2\n")), frameEvents("Content-Length: 2"))
        var lsp = FrameDecoder(mode: .contentLength)
        XCTAssertEqual(lsp.feed(bytes("{}\r\n\r\n")), [.error(.malformedHeader("header line without ':': \"{}\""))])
    }

    func testSeveralFramesInOneChunk() {
        let lines = (0..<100).map { "{\"id\":\($0)}" }
        let (events, _) = decode(bytes(lines.joined(separator: "\n") + "\n"))
        XCTAssertEqual(events, lines.map { .frame(bytes($0)) })

        let lsp = lines.map { "Content-Length: \($0.utf8.count)\r\n\r\n\($0)" }.joined()
        XCTAssertEqual(decode(bytes(lsp)).events, lines.map { .frame(bytes($0)) })
    }

    /// Every split point of a stream, and byte-at-a-time feeding, give the same events.
    func testSplitAtEveryByteBoundary() {
        let streams = [
            "\r\n {\"a\":1}\r\n\n  \n[2,3]\n" + String(repeating: "x", count: 40) + "\n{\"é\":\"ü\"}\n{}",
            "\r\nContent-Length: 7\r\nContent-Type: a/b\r\n\r\n{\"a\":1}content-length:2\n\n{}"
                + "Content-Length: 40\r\n\r\n" + String(repeating: "y", count: 40)
                + "\r\nContent-Length: 0\r\n\r\nContent-Length: 3\r\n\r\n[1]",
        ]
        for stream in streams {
            let input = bytes(stream)
            let expected = decode(input, max: 32).events
            XCTAssertGreaterThan(expected.count, 3)
            XCTAssertTrue(expected.contains(.error(.frameTooLarge(limit: 32, announced: nil)))
                || expected.contains(.error(.frameTooLarge(limit: 32, announced: 40))))
            for split in 0...input.count {
                var decoder = FrameDecoder(maxFrameBytes: 32)
                var events = decoder.feed(input[..<split])
                events += decoder.feed(input[split...])
                events += decoder.finish()
                XCTAssertEqual(events, expected, "split at \(split)")
            }
            var decoder = FrameDecoder(maxFrameBytes: 32)
            var events: [FrameEvent] = []
            for byte in input { events += decoder.feed(CollectionOfOne(byte)) }
            events += decoder.finish()
            XCTAssertEqual(events, expected, "byte at a time")
        }
    }

    func testNonContiguousCollectionInput() {
        var decoder = FrameDecoder()
        let events = decoder.feed(AnyCollection(bytes("{}\n[1]\n")))
        XCTAssertEqual(events, frameEvents("{}", "[1]"))
    }

    func testFinishDeliversLastLineAndIgnoresLaterInput() {
        var decoder = FrameDecoder()
        XCTAssertEqual(decoder.feed(bytes("{}\n{\"last\":true}")), frameEvents("{}"))
        XCTAssertEqual(decoder.finish(), frameEvents("{\"last\":true}"))
        XCTAssertEqual(decoder.feed(bytes("{}\n")), [])
        XCTAssertEqual(decoder.finish(), [])
    }

    func testFinishInsideContentLengthFrameIsReported() {
        XCTAssertEqual(decode(bytes("Content-Length: 2\r\n\r\n{")).events,
                       [.error(.malformedHeader("input ended after 1 of 2 body bytes"))])
        XCTAssertEqual(decode(bytes("Content-Length: 2\r\n")).events,
                       [.error(.malformedHeader("input ended inside a header block"))])
        XCTAssertEqual(decode(bytes("Content-Len")).events,
                       [.error(.malformedHeader("input ended inside a header block"))])
        // Trailing blank lines after a complete frame are not a partial frame.
        XCTAssertEqual(decode(bytes("Content-Length: 2\r\n\r\n{}\r\n")).events, frameEvents("{}"))
    }

    // MARK: - Encoder

    func testEncoder() {
        XCTAssertEqual(FrameEncoder.encode(bytes("{}"), mode: .newline), bytes("{}\n"))
        XCTAssertEqual(FrameEncoder.encode(bytes("{}"), mode: .contentLength), bytes("Content-Length: 2\r\n\r\n{}"))
        XCTAssertEqual(FrameEncoder.encode([], mode: .contentLength), bytes("Content-Length: 0\r\n\r\n"))
        XCTAssertEqual(FrameEncoder.encode([], mode: .newline), bytes("\n"))
        // The length counts bytes, not characters.
        XCTAssertEqual(FrameEncoder.encode(bytes("\"é\""), mode: .contentLength), bytes("Content-Length: 4\r\n\r\n\"é\""))
        XCTAssertEqual(FrameEncoder.prefix(mode: .contentLength, payloadCount: 12345), bytes("Content-Length: 12345\r\n\r\n"))
        XCTAssertEqual(FrameEncoder.suffix(mode: .newline), [0x0A])
    }

    func testEncoderRoundTripsThroughDecoder() {
        let payloads = (0..<50).map { i in bytes("{\"id\":\(i),\"text\":\"" + String(repeating: "é", count: i) + "\"}") }
        for mode in [FramingMode.newline, .contentLength] {
            let stream = payloads.flatMap { FrameEncoder.encode($0, mode: mode) }
            let (events, detected) = decode(stream)
            XCTAssertEqual(detected, mode)
            XCTAssertEqual(events, payloads.map { .frame($0) })
        }
    }
}
