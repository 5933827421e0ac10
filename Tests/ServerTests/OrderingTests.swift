// Request ordering on one connection: models/load and models/unload are barriers; other
// requests run concurrently; `$/cancelRequest` cancels a request still in flight.
import Foundation
import ReproJSON
import Server
import TestSupport
import XCTest

enum TestSupportModel {
    static var smollm: String? { TestModels.path("smollm2-135m") }
}

final class OrderingTests: XCTestCase {
    /// A pipelined tokenize after a load must see the loaded model, though nothing waited.
    func testRequestsAfterALoadWaitForIt() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"models/load","params":{"model":"\#(model)","alias":"s"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":2,"method":"tokenize","params":{"model":"s","text":"Hello world, this is a test.","addSpecial":false}}"#)
        c.send(#"{"jsonrpc":"2.0","id":3,"method":"models/unload","params":{"model":"s"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":4,"method":"tokenize","params":{"model":"s","text":"x"}}"#)
        XCTAssertEqual(c.reply(id: 2)?["result"]?["tokens"], JSONValue(ints: [19556, 905, 28, 451, 314, 253, 1028, 30] as [Int]))
        XCTAssertEqual(c.reply(id: 3)?["result"]?["unloaded"], "smollm2-135m")
        XCTAssertEqual(errorCode(c.reply(id: 4)), -32001, "the unload is a barrier for later requests")
        // Progress notifications of the load come before its answer and name its request.
        let progress = c.messages.filter { $0["method"] == "$/progress" }
        XCTAssertTrue(progress.allSatisfy { $0["params"]?["requestId"] == .int(1) })
    }

    /// A request queued behind a slow barrier and cancelled answers -32800.
    func testCancellingAQueuedRequest() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        // A fresh copy is hashed anew, which keeps the load busy long enough.
        let copy = NSTemporaryDirectory() + "reprolm-cancel-\(UUID().uuidString).gguf"
        try FileManager.default.copyItem(atPath: model, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"models/load","params":{"model":"\#(copy)"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":"t","method":"tokenize","params":{"text":"hi"}}"#)
        c.send(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"t"}}"#)
        XCTAssertEqual(errorCode(c.reply(id: "t")), -32800)
        XCTAssertNotNil(c.reply(id: 1)?["result"])
        // Cancelling something unknown or finished is not an error and gets no reply.
        c.send(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"zzz"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":9,"method":"models/list"}"#)
        XCTAssertNotNil(c.reply(id: 9)?["result"])
    }

    func testDuplicateIDInFlightIsRefused() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"models/load","params":{"model":"\#(model)"}}"#)
        c.send(#"{"jsonrpc":"2.0","id":1,"method":"models/list"}"#)
        let deadline = Date().addingTimeInterval(30)
        var replies: [JSONValue] = []
        while replies.count < 2, Date() < deadline {
            replies = c.messages.filter { $0["id"] == .int(1) && $0["method"] == nil }
            Thread.sleep(forTimeInterval: 0.005)
        }
        XCTAssertEqual(replies.count, 2)
        XCTAssertEqual(replies.filter { errorCode($0) == -32600 }.count, 1)
    }

    func testConnectionsAreIndependent() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let daemon = makeDaemon()
        let a = InProcessClient(daemon: daemon)
        let b = InProcessClient(daemon: daemon)
        a.send(#"{"jsonrpc":"2.0","id":1,"method":"models/load","params":{"model":"\#(model)"}}"#)
        XCTAssertNotNil(a.reply(id: 1)?["result"])
        for i in 0..<50 {
            a.send(#"{"jsonrpc":"2.0","id":\#(i + 100),"method":"tokenize","params":{"text":"a \#(i)"}}"#)
            b.send(#"{"jsonrpc":"2.0","id":\#(i + 100),"method":"tokenize","params":{"text":"b \#(i)"}}"#)
        }
        for i in 0..<50 {
            let ra = a.reply(id: .int(Int64(i + 100)))?["result"]?["tokens"]
            let rb = b.reply(id: .int(Int64(i + 100)))?["result"]?["tokens"]
            XCTAssertNotNil(ra)
            XCTAssertNotNil(rb)
            XCTAssertNotEqual(ra, rb)
        }
        XCTAssertEqual(a.messages.filter { $0["id"] != nil }.count, 51)
    }
}
