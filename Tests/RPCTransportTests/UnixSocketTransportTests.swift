// UnixSocketTransport: binding rules, many clients, disconnects, shutdown.

import Dispatch
import XCTest
@testable import RPCTransport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class UnixSocketTransportTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        super.setUp()
        SignalHandling.ignoreSIGPIPE()
        directory = makeTemporaryDirectory()
    }

    override func tearDown() {
        removeTree(directory)
        super.tearDown()
    }

    private func fileMode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode
    }

    func testEchoBothModesAndSocketIsPrivate() async throws {
        let path = directory + "/new/reprolm.sock"
        let log = EventLog()
        let transport = try await UnixSocketTransport.bind(path: path, factory: echoFactory(log))
        XCTAssertEqual(fileMode(path).map { $0 & S_IFMT }, S_IFSOCK)
        XCTAssertEqual(fileMode(path).map { $0 & 0o777 }, 0o600)
        XCTAssertEqual(fileMode(directory + "/new").map { $0 & 0o777 }, 0o700)

        let lines = try XCTUnwrap(SocketClient(path: path))
        lines.write(bytes("{\"a\":1}\r\n\n[2]\n"))
        XCTAssertEqual(lines.readFrames(2, mode: .newline).map(text), ["{\"a\":1}", "[2]"])

        let lsp = try XCTUnwrap(SocketClient(path: path))
        lsp.write(bytes("Content-Length: 2\r\n\r\n{}"))
        XCTAssertEqual(lsp.readFrames(1, mode: .contentLength).map(text), ["{}"])
        lines.close()
        lsp.close()
        await transport.shutdown()
        XCTAssertNil(fileMode(path), "shutdown removes the socket file")
        XCTAssertNil(SocketClient(path: path))
    }

    func testStaleSocketFileIsReplaced() async throws {
        let path = directory + "/stale.sock"
        // A socket file nobody listens on, as a crashed daemon leaves behind.
        let fd = try SocketPath.makeSocket(path: path)
        XCTAssertEqual(SocketPath.withSocketAddress(Array(path.utf8)) { bind(fd, $0, $1) }, 0)
        POSIX.closeDescriptor(fd)
        XCTAssertEqual(fileMode(path).map { $0 & S_IFMT }, S_IFSOCK)

        let transport = try await UnixSocketTransport.bind(path: path, factory: echoFactory(EventLog()))
        let client = try XCTUnwrap(SocketClient(path: path))
        client.write(bytes("[1]\n"))
        XCTAssertEqual(client.readFrames(1, mode: .newline).map(text), ["[1]"])
        client.close()
        await transport.shutdown()
    }

    func testLiveDaemonIsNotStolen() async throws {
        let path = directory + "/live.sock"
        let first = try await UnixSocketTransport.bind(path: path, factory: echoFactory(EventLog()))
        let identity = FileIdentity(path: path)
        do {
            let second = try await UnixSocketTransport.bind(path: path, factory: echoFactory(EventLog()))
            XCTFail("second bind succeeded")
            await second.shutdown()
        } catch let error as UnixSocketError {
            XCTAssertEqual(error, .alreadyListening(path: path))
            XCTAssertEqual(error.description, "another reprolm daemon is listening on \(path)")
        }
        XCTAssertEqual(FileIdentity(path: path), identity, "the live socket file is untouched")
        let client = try XCTUnwrap(SocketClient(path: path))
        client.write(bytes("[1]\n"))
        XCTAssertEqual(client.readFrames(1, mode: .newline).map(text), ["[1]"])
        client.close()
        await first.shutdown()
    }

    func testNonSocketFileIsNeverRemoved() async throws {
        let path = directory + "/important.txt"
        let fd = open(path, O_WRONLY | O_CREAT, 0o600)
        XCTAssertEqual(POSIX.writeAll(fd, bytes("keep me")), .written)
        close(fd)
        do {
            _ = try await UnixSocketTransport.bind(path: path, factory: echoFactory(EventLog()))
            XCTFail("bound over a regular file")
        } catch let error as UnixSocketError {
            XCTAssertEqual(error, .notASocket(path: path))
        }
        XCTAssertEqual(fileMode(path).map { $0 & S_IFMT }, S_IFREG)
    }

    func testPathTooLongIsRefused() async throws {
        let path = directory + "/" + String(repeating: "s", count: 120) + ".sock"
        do {
            _ = try await UnixSocketTransport.bind(path: path, factory: echoFactory(EventLog()))
            XCTFail("bound a path over 103 bytes")
        } catch let error as UnixSocketError {
            XCTAssertEqual(error, .pathTooLong(path: path, bytes: path.utf8.count, limit: 103))
            XCTAssertTrue(error.description.contains("over the limit of 103"))
        }
        XCTAssertNil(fileMode(path))
    }

    func testDefaultSocketPath() {
        XCTAssertEqual(SocketPath.defaultPath(runtimeDirectory: "/run/user/1000", uid: 1000), "/run/user/1000/reprolm.sock")
        XCTAssertEqual(SocketPath.defaultPath(runtimeDirectory: "/run/user/1000/", uid: 1000), "/run/user/1000/reprolm.sock")
        XCTAssertEqual(SocketPath.defaultPath(runtimeDirectory: nil, uid: 1000), "/tmp/reprolm-1000/reprolm.sock")
        XCTAssertEqual(SocketPath.defaultPath(runtimeDirectory: "", uid: 7), "/tmp/reprolm-7/reprolm.sock")
        XCTAssertEqual(SocketPath.defaultPath(runtimeDirectory: "relative", uid: 7), "/tmp/reprolm-7/reprolm.sock")
        XCTAssertTrue(UnixSocketTransport.defaultSocketPath().hasSuffix("/reprolm.sock"))
    }

    /// 50 clients on 50 threads at once, each sending its own messages: each gets exactly its own.
    func testFiftyConcurrentClientsGetTheirOwnEchoes() async throws {
        let path = directory + "/many.sock"
        let log = EventLog()
        let transport = try await UnixSocketTransport.bind(path: path, eventLoopThreads: 2, factory: echoFactory(log))
        let failures = EventLog()
        let group = DispatchGroup()
        for client in 0..<50 {
            group.enter()
            let started = POSIX.spawnThread {
                defer { group.leave() }
                let lsp = client % 2 == 0
                guard let socket = SocketClient(path: path) else { return failures.add("connect \(client)") }
                let messages = (0..<20).map { "{\"client\":\(client),\"seq\":\($0)}" }
                for message in messages {
                    let frame = lsp ? "Content-Length: \(message.utf8.count)\r\n\r\n\(message)" : message + "\n"
                    let raw = bytes(frame)
                    // Two writes per frame, so frames of different clients interleave mid-frame.
                    socket.write(Array(raw[..<(raw.count / 2)]))
                    socket.write(Array(raw[(raw.count / 2)...]))
                }
                let echoed = socket.readFrames(20, mode: lsp ? .contentLength : .newline).map(text)
                if echoed != messages { failures.add("client \(client) got \(echoed)") }
                socket.close()
            }
            XCTAssertTrue(started)
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(log.count("frame"), 1000)
        let allEnded = await eventually { log.count("ended") == 50 }
        XCTAssertTrue(allEnded)
        await transport.shutdown()
    }

    func testClientDisconnectingMidStreamDoesNotAffectOthers() async throws {
        let path = directory + "/drop.sock"
        let log = EventLog()
        // Echoes are sent 100 ms late, after the first client has gone: they must vanish quietly.
        let transport = try await UnixSocketTransport.bind(path: path, factory: echoFactory(log, delay: 0.1))
        let steady = try XCTUnwrap(SocketClient(path: path))
        let leaver = try XCTUnwrap(SocketClient(path: path))
        leaver.write(bytes("{\"bye\":1}\n{\"half\":"))
        steady.write(bytes("[1]\n"))
        leaver.close()
        // The leaver's unterminated last line is still delivered at EOF (as with a final line
        // without "\n" on stdin): three late sends in all, two of them to a vanished peer.
        let lateSendsDone = await eventually { log.count("late-send") == 3 }
        XCTAssertTrue(lateSendsDone)
        steady.write(bytes("[2]\n"))
        XCTAssertEqual(steady.readFrames(2, mode: .newline).map(text), ["[1]", "[2]"])
        XCTAssertEqual(log.count("ended"), 1, "the leaver's delegate was told its input ended")
        steady.close()
        await transport.shutdown()
    }

    func testHalfClosedClientStillGetsEveryAnswer() async throws {
        let path = directory + "/half.sock"
        let transport = try await UnixSocketTransport.bind(path: path, factory: echoFactory(EventLog(), delay: 0.05))
        let client = try XCTUnwrap(SocketClient(path: path))
        client.write(bytes("[1]\n[2]\n[3]"))
        client.shutdownWrite()
        XCTAssertEqual(client.readToEnd().map(text), "[1]\n[2]\n[3]\n")
        client.close()
        await transport.shutdown()
    }

    func testMalformedHeaderClosesOnlyThatConnection() async throws {
        let path = directory + "/bad.sock"
        let log = EventLog()
        let transport = try await UnixSocketTransport.bind(path: path, factory: echoFactory(log))
        let good = try XCTUnwrap(SocketClient(path: path))
        let bad = try XCTUnwrap(SocketClient(path: path))
        bad.write(bytes("Content-Length: 2\r\n\r\n{}Content-Length: nope\r\n\r\n{}"))
        XCTAssertEqual(bad.readToEnd().map(text), "Content-Length: 2\r\n\r\n{}Content-Length: 10\r\n\r\n!malformed")
        good.write(bytes("Content-Length: 3\r\n\r\n[1]"))
        XCTAssertEqual(good.readFrames(1, mode: .contentLength).map(text), ["[1]"])
        bad.close()
        good.close()
        await transport.shutdown()
    }

    func testOversizedFrameOverSocketIsSkipped() async throws {
        let path = directory + "/big.sock"
        let transport = try await UnixSocketTransport.bind(path: path, maxFrameBytes: 64, factory: echoFactory(EventLog()))
        let client = try XCTUnwrap(SocketClient(path: path))
        client.write(bytes("[\"" + String(repeating: "x", count: 100_000) + "\"]\n[1]\n"))
        XCTAssertEqual(client.readFrames(2, mode: .newline).map(text), ["!too-large", "[1]"])
        client.close()
        await transport.shutdown()
    }

    func testShutdownEndsInputOfOpenConnectionsAndForcesStragglers() async throws {
        let path = directory + "/stop.sock"
        let log = EventLog()
        let transport = try await UnixSocketTransport.bind(path: path, factory: { sink in
            // Even connections keep their sink open forever; shutdown must close them anyway.
            let stubborn = log.count("made") % 2 == 1
            log.add("made")
            return EchoDelegate(sink: sink, log: log, closesOnEnd: !stubborn)
        })
        let clients = try (0..<4).map { _ in try XCTUnwrap(SocketClient(path: path)) }
        for client in clients {
            client.write(bytes("[0]\n"))
            XCTAssertEqual(client.readFrames(1, mode: .newline).map(text), ["[0]"])
        }
        XCTAssertEqual(transport.connectionCount, 4)
        let start = DispatchTime.now().uptimeNanoseconds
        await transport.shutdown(gracePeriod: .milliseconds(300))
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertLessThan(elapsed, 5)
        XCTAssertEqual(log.count("ended"), 4)
        for client in clients {
            XCTAssertEqual(client.readToEnd(), [], "every connection is closed after shutdown")
            client.close()
        }
        XCTAssertNil(fileMode(path))
        await transport.shutdown()  // idempotent
        await transport.waitUntilShutdown()
    }

    func testParentDirectoryOwnedByAnotherUserIsRefused() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to chown") }
        let sub = directory + "/foreign"
        XCTAssertEqual(mkdir(sub, 0o777), 0)
        XCTAssertEqual(chown(sub, 12345, 12345), 0)
        XCTAssertThrowsError(try SocketPath.prepareDirectory(sub)) { error in
            XCTAssertEqual(error as? UnixSocketError, .insecureDirectory(path: sub, ownerUID: 12345))
        }
    }

    func testADirectoryOthersCanWriteInIsRefused() throws {
        // /tmp itself (1777): another user could listen at the path before the daemon does.
        let shared = directory + "/shared"
        XCTAssertEqual(mkdir(shared, 0o700), 0)
        XCTAssertEqual(chmod(shared, 0o1777), 0)
        XCTAssertThrowsError(try SocketPath.bindSocket(at: shared + "/r.sock")) { error in
            XCTAssertEqual(error as? UnixSocketError, .sharedDirectory(path: shared, mode: UInt32(S_IFDIR) | 0o1777))
        }
        XCTAssertEqual(chmod(shared, 0o770), 0)
        XCTAssertThrowsError(try SocketPath.bindSocket(at: shared + "/r.sock"))
        XCTAssertEqual(chmod(shared, 0o755), 0)
        let (fd, _) = try SocketPath.bindSocket(at: shared + "/r.sock")
        POSIX.closeDescriptor(fd)
    }

    func testAnotherUsersSymlinkOrSocketIsNeverFollowedOrTouched() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to chown") }
        let real = directory + "/real"
        XCTAssertEqual(mkdir(real, 0o700), 0)
        let link = directory + "/link"
        XCTAssertEqual(symlink(real, link), 0)
        XCTAssertEqual(lchown(link, 12345, 12345), 0)
        XCTAssertThrowsError(try SocketPath.bindSocket(at: link + "/r.sock")) { error in
            XCTAssertEqual(error as? UnixSocketError, .foreignSymlink(path: link, ownerUID: 12345))
        }
        // A socket at the path that another user owns (a listener or not): reported, not probed or removed.
        let (fd, _) = try SocketPath.bindSocket(at: real + "/r.sock")
        POSIX.closeDescriptor(fd)
        XCTAssertEqual(lchown(real + "/r.sock", 12345, 12345), 0)
        XCTAssertThrowsError(try SocketPath.bindSocket(at: real + "/r.sock")) { error in
            XCTAssertEqual(error as? UnixSocketError, .foreignSocket(path: real + "/r.sock", ownerUID: 12345))
        }
        XCTAssertNotNil(fileMode(real + "/r.sock"), "another user's socket is left where it is")
    }
}
