// Shared test fixtures: an echo delegate that records what it was told, pipes, descriptor readers,
// a blocking Unix-socket client with timeouts, and polling with a deadline so no test can hang.

import Dispatch
import XCTest
@testable import RPCTransport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// What delegates saw, across all connections of a test.
final class EventLog: @unchecked Sendable {
    private let entries = Locked<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
    func count(_ entry: String) -> Int { all.filter { $0 == entry }.count }
}

/// Echoes every frame; answers framing errors with a marker frame; closes on inputEnded.
final class EchoDelegate: ConnectionDelegate, @unchecked Sendable {
    let sink: MessageSink
    let log: EventLog
    /// Delay echoes by this much (on another queue), to test sends after the peer went away.
    let delay: Double?
    /// Do not close the sink when input ends (to test forced shutdown).
    let closesOnEnd: Bool
    private let lateQueue = DispatchQueue(label: "test.late-echo")

    init(sink: MessageSink, log: EventLog, delay: Double? = nil, closesOnEnd: Bool = true) {
        self.sink = sink
        self.log = log
        self.delay = delay
        self.closesOnEnd = closesOnEnd
    }

    func received(frame: [UInt8]) {
        log.add("frame")
        if let delay {
            let sink = self.sink
            // A serial queue, so the late echoes keep their order (the global queue would not).
            lateQueue.asyncAfter(deadline: .now() + delay) {
                sink.send(frame)
                self.log.add("late-send")
            }
        } else {
            sink.send(frame)
        }
    }

    func framingError(_ error: FramingError) {
        switch error {
        case .frameTooLarge:
            log.add("too-large")
            sink.send(bytes("!too-large"))
        case .malformedHeader:
            log.add("malformed")
            sink.send(bytes("!malformed"))
        }
    }

    func inputEnded() {
        log.add("ended")
        if delay != nil {
            // Let the late sends happen first.
            let sink = self.sink
            lateQueue.asyncAfter(deadline: .now() + (delay ?? 0) * 2) { sink.close() }
        } else if closesOnEnd {
            sink.close()
        }
    }
}

func echoFactory(_ log: EventLog, delay: Double? = nil, closesOnEnd: Bool = true) -> ConnectionFactory {
    { sink in EchoDelegate(sink: sink, log: log, delay: delay, closesOnEnd: closesOnEnd) }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    while DispatchTime.now().uptimeNanoseconds < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return condition()
}

/// A flag set from another task or thread.
final class Flag: @unchecked Sendable {
    private let value = Locked(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

func makePipe() -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    let rc = pipe(&fds)
    XCTAssertEqual(rc, 0)
    return (fds[0], fds[1])
}

/// Reads a descriptor to EOF on its own thread.
final class DescriptorDrain: @unchecked Sendable {
    private let data = Locked<[UInt8]>([])
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32, closeWhenDone: Bool = true) {
        let started = POSIX.spawnThread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                data.withLock { $0.append(contentsOf: chunk[0..<n]) }
            }
            if closeWhenDone { close(fd) }
            done.signal()
        }
        XCTAssertTrue(started)
    }

    /// Everything read, once EOF was seen within `seconds`; nil on timeout.
    func result(within seconds: Double = 10) -> [UInt8]? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return data.withLock { $0 }
    }
}

/// Decodes a whole transcript (as the client would) into payloads.
func frames(of output: [UInt8], mode: FramingMode) -> [[UInt8]] {
    var decoder = FrameDecoder(maxFrameBytes: 1 << 30, mode: mode)
    var events = decoder.feed(output)
    events += decoder.finish()
    return events.compactMap { event in
        if case .frame(let payload) = event { return payload }
        XCTFail("unexpected \(event) in output")
        return nil
    }
}

/// A short private directory: socket paths must stay under 104 bytes.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/rlt-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
        guard let base = buffer.baseAddress else { return false }
        return mkdtemp(base) != nil
    }
    XCTAssertTrue(made)
    return String(cString: template)
}

func removeTree(_ path: String) {
    // Test directories are flat or one level deep; no need for nftw.
    if let dir = opendir(path) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            if unlink(child) != 0 { removeTree(child) }
        }
        closedir(dir)
    }
    rmdir(path)
}

/// A blocking Unix-socket client with a receive timeout.
final class SocketClient {
    let fd: Int32

    init?(path: String, timeoutSeconds: Int = 10) {
        guard let fd = try? SocketPath.makeSocket(path: path) else { return nil }
        let rc = SocketPath.withSocketAddress(Array(path.utf8)) { connect(fd, $0, $1) }
        guard rc == 0 else {
            POSIX.closeDescriptor(fd)
            return nil
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    func write(_ payload: [UInt8]) {
        XCTAssertEqual(POSIX.writeAll(fd, payload), .written)
    }

    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Reads until `count` frames arrived (or EOF / timeout) and returns them.
    func readFrames(_ count: Int, mode: FramingMode) -> [[UInt8]] {
        var decoder = FrameDecoder(maxFrameBytes: 1 << 30, mode: mode)
        var result: [[UInt8]] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while result.count < count {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            for event in decoder.feed(chunk[0..<n]) {
                if case .frame(let payload) = event { result.append(payload) }
            }
        }
        return result
    }

    /// Reads to EOF; nil if the timeout passed first.
    func readToEnd() -> [UInt8]? {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return all }
            all.append(contentsOf: chunk[0..<n])
        }
    }

    func close() {
        POSIX.closeDescriptor(fd)
    }
}
