// JSON-RPC envelope handling of the server, in-process (the conformance suite under
// Tests/conformance checks the same over real processes and transports).
import Engine
import ModelStore
import ReproJSON
import Server
import XCTest

func makeDaemon(maxRequests: Int = 256) -> Daemon {
    Daemon(registry: ModelRegistry(store: ModelStore()), journal: nil, maxRequestsInFlight: maxRequests, onExit: { _ in })
}

final class EnvelopeTests: XCTestCase {
    func testParseErrorHasNullID() {
        let c = InProcessClient(daemon: makeDaemon())
        c.send("{not json")
        let r = c.waitFor(count: 1).first
        XCTAssertEqual(errorCode(r), -32700)
        XCTAssertEqual(r?["id"], .null)
    }

    func testInvalidUTF8IsAParseError() {
        let c = InProcessClient(daemon: makeDaemon())
        c.connection.receive(frame: Array(#"{"jsonrpc":"2.0","id":1,"method":"tokenize","params":{"text":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8))
        XCTAssertEqual(errorCode(c.waitFor(count: 1).first), -32700)
    }

    func testIDsAreEchoedExactly() throws {
        let c = InProcessClient(daemon: makeDaemon())
        let ids: [JSONValue] = [.string("abc"), .int(0), .int(-7), .int(Int64.max), .double(1.5), .null, .string("")]
        for id in ids {
            c.send(["jsonrpc": "2.0", "id": id, "method": "models/list"])
        }
        let replies = c.waitFor(count: ids.count)
        XCTAssertEqual(replies.count, ids.count)
        for id in ids {
            XCTAssertTrue(replies.contains { $0["id"] == id && $0["result"] != nil }, "no result for id \(id)")
        }
    }

    func testInvalidEnvelopes() {
        let c = InProcessClient(daemon: makeDaemon())
        let bad = [
            #"{"id":1,"method":"models/list"}"#,
            #"{"jsonrpc":"1.0","id":2,"method":"models/list"}"#,
            #"{"jsonrpc":"2.0","id":3,"method":7}"#,
            #"{"jsonrpc":"2.0","id":4,"method":"models/list","params":"x"}"#,
            #"{"jsonrpc":"2.0","id":{"a":1},"method":"models/list"}"#,
            #"42"#,
        ]
        for b in bad { c.send(b) }
        let replies = c.waitFor(count: bad.count)
        XCTAssertEqual(replies.count, bad.count)
        XCTAssertTrue(replies.allSatisfy { errorCode($0) == -32600 }, "\(replies)")
        XCTAssertTrue(replies.contains { $0["id"] == .int(2) }, "the id of a readable request is kept")
    }

    /// `"params": null` (pygls with shutdown and exit) and `"params": []` (Neovim's empty table)
    /// both mean no params, for every method; a non-empty array is still not by-name params.
    func testNullAndEmptyArrayParamsMeanNoParams() {
        let exited = NSLock(), exitCodes = Box()
        let daemon = Daemon(registry: ModelRegistry(store: ModelStore()), journal: nil) { code in
            exited.lock()
            exitCodes.values.append(code)
            exited.unlock()
        }
        let c = InProcessClient(daemon: daemon)
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"setSeed","params":[]}"#)
        c.send(#"{"jsonrpc":"2.0","id":2,"method":"models/list","params":null}"#)
        c.send(#"{"jsonrpc":"2.0","id":3,"method":"stats","params":[]}"#)
        c.send(#"{"jsonrpc":"2.0","id":4,"method":"setSeed","params":[42]}"#)
        c.send(#"{"jsonrpc":"2.0","id":5,"method":"shutdown","params":null}"#)
        c.send(#"{"jsonrpc":"2.0","method":"exit","params":null}"#)
        XCTAssertEqual(c.reply(id: 1)?["result"]?["previous"], .null, "setSeed [] draws a seed, as setSeed {} does")
        XCTAssertNotNil(c.reply(id: 2)?["result"]?["models"])
        XCTAssertNotNil(c.reply(id: 3)?["result"]?["requests"])
        let positional = c.reply(id: 4)
        XCTAssertEqual(errorCode(positional), -32602)
        XCTAssertEqual(positional?["error"]?["data"]?["path"], "params")
        XCTAssertEqual(c.reply(id: 5)?["result"], .null)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            exited.lock()
            let codes = exitCodes.values
            exited.unlock()
            if !codes.isEmpty { return XCTAssertEqual(codes, [0], "exit with null params ends the daemon after shutdown") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTFail("exit with \"params\": null did not end the daemon")
    }

    func testBatches() {
        let c = InProcessClient(daemon: makeDaemon())
        c.send("[]")
        XCTAssertEqual(errorCode(c.waitFor(count: 1).first), -32600)
        c.send(#"[{"jsonrpc":"2.0","method":"models/list"},{"jsonrpc":"2.0","method":"nothing"}]"#)
        c.send(#"[{"jsonrpc":"2.0","id":"x","method":"models/list"},{"jsonrpc":"2.0","method":"models/list"},5,{"jsonrpc":"2.0","id":"y","method":"nope"}]"#)
        let all = c.waitFor(count: 2)
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(c.messages.count, 2, "a batch of notifications gets no reply")
        guard case .array(let batch)? = all.last else { return XCTFail("expected a batch reply, got \(all)") }
        XCTAssertEqual(batch.count, 3)
        XCTAssertNotNil(batch.first { $0["id"] == "x" }?["result"])
        XCTAssertEqual(errorCode(batch.first { $0["id"] == "y" }), -32601)
        XCTAssertEqual(errorCode(batch.first { $0["id"] == .null }), -32600)
    }

    func testUnknownMethodAndBadParams() {
        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"generate2"}"#)
        c.send(#"{"jsonrpc":"2.0","id":2,"method":"tokenize","params":{"txt":"a"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":3,"method":"models/load","params":{"model":"a","alias":5}}"#)
        XCTAssertEqual(errorCode(c.reply(id: 1)), -32601)
        let r2 = c.reply(id: 2)
        XCTAssertEqual(errorCode(r2), -32602)
        XCTAssertEqual(r2?["error"]?["data"]?["path"], "params.text")
        XCTAssertEqual(c.reply(id: 3)?["error"]?["data"]?["path"], "params.alias")
    }

    func testNoModelLoadedIsAnApplicationError() {
        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"tokenize","params":{"text":"a"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":2,"method":"models/load","params":{"model":"/nonexistent/x.gguf"}}"#)
        XCTAssertEqual(errorCode(c.reply(id: 1)), -32001)
        XCTAssertEqual(errorCode(c.reply(id: 2)), -32001)
    }

    func testCorruptModelFileFailsToLoadAndServerGoesOn() throws {
        let path = NSTemporaryDirectory() + "reprolm-corrupt-\(UUID().uuidString).gguf"
        try Data("GGUF\u{3}\0\0\0 definitely not a model".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"models/load","params":{"model":"\#(path)"}}"#)
        let r = c.reply(id: 1)
        XCTAssertEqual(errorCode(r), -32002, "\(String(describing: r))")
        c.send(#"{"jsonrpc":"2.0","id":2,"method":"models/list"}"#)
        XCTAssertNotNil(c.reply(id: 2)?["result"])
    }

    func testShutdownRefusesNewWork() {
        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#)
        XCTAssertEqual(c.reply(id: 1)?["result"], .null)
        c.send(#"{"jsonrpc":"2.0","id":2,"method":"models/list"}"#)
        XCTAssertEqual(errorCode(c.reply(id: 2)), -32005)
    }

    func testOverloadIsRefusedWithItsOwnCode() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let c = InProcessClient(daemon: makeDaemon(maxRequests: 1))
        // The load holds the only slot while later requests arrive.
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"models/load","params":{"model":"\#(model)"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":2,"method":"models/list"}"#)
        XCTAssertEqual(errorCode(c.reply(id: 2)), -32004)
        XCTAssertNotNil(c.reply(id: 1)?["result"])
    }

    func testEndOfInputAnswersInFlightThenCloses() throws {
        let c = InProcessClient(daemon: makeDaemon())
        for i in 0..<20 { c.send(#"{"jsonrpc":"2.0","id":\#(i),"method":"models/list"}"#) }
        c.connection.inputEnded()
        XCTAssertTrue(c.waitUntilClosed())
        XCTAssertEqual(c.messages.count, 20)
    }
}

/// Values a test collects from another thread (guarded by the test's own lock).
final class Box: @unchecked Sendable {
    var values: [Int32] = []
}
