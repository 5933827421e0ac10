// StdioTransport over real descriptors: pipes, a regular file, a broken stdout.

import Dispatch
import XCTest
@testable import RPCTransport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class StdioTransportTests: XCTestCase {
    /// Runs a transport over (input, new output pipe) and returns the output, or nil on timeout.
    private func runTransport(input: Int32, maxFrameBytes: Int = FrameDecoder.defaultMaxFrameBytes,
                              factory: @escaping ConnectionFactory,
                              feed: (() -> Void)? = nil) async -> [UInt8]? {
        let output = makePipe()
        let drain = DescriptorDrain(fd: output.read)
        let transport = StdioTransport(inputFD: input, outputFD: output.write, maxFrameBytes: maxFrameBytes)
        let finished = Flag()
        Task.detached {
            await transport.run(factory: factory)
            finished.set()
        }
        feed?()
        let ended = await eventually { finished.isSet }
        XCTAssertTrue(ended, "run did not return")
        return drain.result()
    }

    private func feedPipe(_ text: String) -> Int32 {
        let input = makePipe()
        let payload = bytes(text)
        let started = POSIX.spawnThread {
            _ = POSIX.writeAll(input.write, payload)
            POSIX.closeDescriptor(input.write)
        }
        XCTAssertTrue(started)
        return input.read
    }

    func testNewlineEchoOverPipes() async {
        let log = EventLog()
        let input = feedPipe("{\"a\":1}\n\n  \r\n[2]\r\n{\"last\":true}")
        let output = await runTransport(input: input, factory: echoFactory(log))
        XCTAssertEqual(output.map(text), "{\"a\":1}\n[2]\n{\"last\":true}\n")
        XCTAssertEqual(log.all, ["frame", "frame", "frame", "ended"])
    }

    func testContentLengthEchoOverPipes() async {
        let log = EventLog()
        let input = feedPipe("Content-Length: 7\r\n\r\n{\"a\":1}Content-Type: x\r\ncontent-length: 3\r\n\r\n[2]")
        let output = await runTransport(input: input, factory: echoFactory(log))
        XCTAssertEqual(output.map(text), "Content-Length: 7\r\n\r\n{\"a\":1}Content-Length: 3\r\n\r\n[2]")
        XCTAssertEqual(log.all, ["frame", "frame", "ended"])
    }

    func testRegularFileAsInput() async throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/requests.jsonl"
        let lines = (0..<1000).map { "{\"id\":\($0),\"pad\":\"" + String(repeating: "p", count: $0 % 97) + "\"}" }
        let fileFD = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fileFD, 0)
        XCTAssertEqual(POSIX.writeAll(fileFD, bytes(lines.joined(separator: "\n") + "\n")), .written)
        close(fileFD)

        let input = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(input, 0)
        let log = EventLog()
        let output = await runTransport(input: input, factory: echoFactory(log))
        let echoed = try XCTUnwrap(output)
        XCTAssertEqual(frames(of: echoed, mode: .newline).map(text), lines)
        XCTAssertEqual(log.count("ended"), 1)
    }

    func testOversizedFrameIsReportedAndStreamGoesOn() async {
        let log = EventLog()
        let input = feedPipe("{\"big\":\"" + String(repeating: "b", count: 5000) + "\"}\n{}\n")
        let output = await runTransport(input: input, maxFrameBytes: 1024, factory: echoFactory(log))
        XCTAssertEqual(output.map(text), "!too-large\n{}\n")
    }

    func testMalformedHeaderEndsInputEvenWithInputOpen() async {
        let log = EventLog()
        let input = makePipe()
        XCTAssertEqual(POSIX.writeAll(input.write, bytes("Content-Length: 2\r\n\r\n{}Content-Length: x\r\n\r\n")), .written)
        let output = await runTransport(input: input.read, factory: echoFactory(log))
        XCTAssertEqual(output.map(text), "Content-Length: 2\r\n\r\n{}Content-Length: 10\r\n\r\n!malformed")
        XCTAssertEqual(log.all, ["frame", "malformed", "ended"])
        POSIX.closeDescriptor(input.write)
    }

    func testEndInputReturnsRunWhileInputStaysOpen() async {
        let log = EventLog()
        let input = makePipe()
        let output = makePipe()
        let drain = DescriptorDrain(fd: output.read)
        let transport = StdioTransport(inputFD: input.read, outputFD: output.write)
        let finished = Flag()
        Task.detached {
            await transport.run(factory: echoFactory(log))
            finished.set()
        }
        XCTAssertEqual(POSIX.writeAll(input.write, bytes("{\"a\":1}\n")), .written)
        let echoedFirst = await eventually { log.count("frame") == 1 }
        XCTAssertTrue(echoedFirst)
        transport.endInput()
        let returned = await eventually { finished.isSet }
        XCTAssertTrue(returned)
        XCTAssertEqual(log.all, ["frame", "ended"])
        XCTAssertEqual(drain.result().map(text), "{\"a\":1}\n")
        // Input after endInput is not delivered; closing it lets the reader thread go.
        _ = POSIX.writeAll(input.write, bytes("{\"b\":2}\n"))
        POSIX.closeDescriptor(input.write)
        try? await Task.sleep(nanoseconds: 50_000_000)
        XCTAssertEqual(log.all, ["frame", "ended"])
    }

    func testBrokenStdoutEndsTheSessionCleanly() async {
        SignalHandling.ignoreSIGPIPE()
        let log = EventLog()
        let input = makePipe()
        let output = makePipe()
        POSIX.closeDescriptor(output.read)  // nobody will ever read the answers
        let transport = StdioTransport(inputFD: input.read, outputFD: output.write)
        let finished = Flag()
        Task.detached {
            await transport.run(factory: echoFactory(log))
            finished.set()
        }
        XCTAssertEqual(POSIX.writeAll(input.write, bytes("{\"a\":1}\n")), .written)
        let returned = await eventually { finished.isSet }
        XCTAssertTrue(returned, "EPIPE must end the session")
        XCTAssertEqual(log.all, ["frame", "ended"])
        POSIX.closeDescriptor(input.write)
    }

    /// Many threads sending frames larger than PIPE_BUF at once: each frame arrives whole.
    func testConcurrentSendsNeverInterleave() async throws {
        final class Blaster: ConnectionDelegate, @unchecked Sendable {
            let sink: MessageSink
            init(sink: MessageSink) { self.sink = sink }
            func received(frame: [UInt8]) {
                let group = DispatchGroup()
                for thread in 0..<4 {
                    group.enter()
                    let sink = self.sink
                    _ = POSIX.spawnThread {
                        for i in 0..<100 {
                            let fill = UInt8(ascii: "a") + UInt8(thread)
                            sink.send([UInt8](repeating: fill, count: 1000 + (i * 97) % 9000))
                        }
                        group.leave()
                    }
                }
                group.wait()
            }
            func framingError(_ error: FramingError) {}
            func inputEnded() { sink.close() }
        }
        let input = feedPipe("Content-Length: 2\r\n\r\n{}")
        let output = await runTransport(input: input, factory: { Blaster(sink: $0) })
        let received = frames(of: try XCTUnwrap(output), mode: .contentLength)
        XCTAssertEqual(received.count, 400)
        for frame in received {
            XCTAssertTrue(frame.allSatisfy { $0 == frame[0] }, "a frame mixes bytes of two senders")
        }
    }

    func testSendsAfterCloseAreDropped() async {
        final class CloseEarly: ConnectionDelegate, @unchecked Sendable {
            let sink: MessageSink
            init(sink: MessageSink) { self.sink = sink }
            func received(frame: [UInt8]) {
                sink.send(frame)
                sink.close()
                sink.send(bytes("dropped"))
                sink.close()
            }
            func framingError(_ error: FramingError) {}
            func inputEnded() { sink.close() }
        }
        let input = makePipe()
        XCTAssertEqual(POSIX.writeAll(input.write, bytes("[1]\n[2]\n")), .written)
        let output = await runTransport(input: input.read, factory: { CloseEarly(sink: $0) })
        XCTAssertEqual(output.map(text), "[1]\n")
        POSIX.closeDescriptor(input.write)
    }
}
