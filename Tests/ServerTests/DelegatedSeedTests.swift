// `delegatedSeed` (DelegatedSeeds.swift): refused unless the daemon was started to accept it;
// when accepted, a generate with session seed S and index i answers exactly what request number
// i of a session with `setSeed S` answers on a daemon holding the session (seed, source,
// commitment, index, receipt request and output), and the journal commits and reveals the seed
// so that `reprolm verify` re-derives it.
import Engine
import Foundation
import ModelStore
import Receipts
import ReproJSON
import Server
import XCTest

private func delegatingDaemon(journal: Journal? = nil) -> Daemon {
    Daemon(registry: ModelRegistry(store: ModelStore()), journal: journal, acceptsDelegatedSeeds: true, onExit: { _ in })
}

private func generate(_ id: Int, _ extra: String) -> String {
    #"{"jsonrpc":"2.0","id":\#(id),"method":"generate","params":{"prompt":"The old lighthouse","maxTokens":6,"temperature":0.9\#(extra)}}"#
}

final class DelegatedSeedTests: XCTestCase {
    func testRefusedUnlessTheDaemonAcceptsIt() {
        let c = InProcessClient(daemon: makeDaemon())
        c.send(generate(1, #","delegatedSeed":{"seed":42,"index":0}"#))
        let error = c.reply(id: 1)?["error"]
        XCTAssertEqual(error?["code"], .int(-32602))
        XCTAssertEqual(error?["data"]?["path"], "params.delegatedSeed")
        XCTAssertTrue(error?["data"]?["reason"]?.stringValue?.contains("--accept-delegated-seeds") ?? false)
    }

    func testMalformedDelegationsNameTheirPath() {
        let c = InProcessClient(daemon: delegatingDaemon())
        let cases: [(String, String)] = [
            (#","delegatedSeed":{"seed":42}"#, "params.delegatedSeed.index"),
            (#","delegatedSeed":{"index":3}"#, "params.delegatedSeed.seed"),
            (#","delegatedSeed":{"seed":42,"index":-1}"#, "params.delegatedSeed.index"),
            (#","delegatedSeed":{"seed":42,"index":9007199254740992}"#, "params.delegatedSeed.index"),
            (#","delegatedSeed":{"seed":1.5,"index":0}"#, "params.delegatedSeed.seed"),
            (#","delegatedSeed":{"seed":"","index":0}"#, "params.delegatedSeed.seed"),
            (#","delegatedSeed":{"seed":9007199254740992,"index":0}"#, "params.delegatedSeed.seed"),
            (#","delegatedSeed":{"seed":42,"index":0,"commitment":"ab"}"#, "params.delegatedSeed.commitment"),
            (#","delegatedSeed":{"seed":42,"index":0},"seed":7"#, "params.delegatedSeed"),
            (#","delegatedSeed":[42,0]"#, "params.delegatedSeed"),
        ]
        for (i, (extra, path)) in cases.enumerated() {
            c.send(generate(i, extra))
            XCTAssertEqual(c.reply(id: .int(Int64(i)))?["error"]?["data"]?["path"], .string(path), extra)
        }
        // Only generate takes a session seed: elsewhere it is an unknown parameter.
        c.send(#"{"jsonrpc":"2.0","id":"s","method":"tokenize","params":{"text":"x","delegatedSeed":{"seed":1,"index":0}}}"#)
        XCTAssertEqual(c.reply(id: "s")?["error"]?["data"]?["path"], "params.delegatedSeed")
    }

    /// The same answers as a daemon holding the session, in any order of arrival.
    func testDelegatedAnswersEqualASessionsAnswers() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let load = #"{"jsonrpc":"2.0","id":0,"method":"models/load","params":{"model":"\#(model)"}}"#
        let single = InProcessClient(daemon: makeDaemon())
        single.send(load)
        XCTAssertNotNil(single.reply(id: 0)?["result"])
        single.send(#"{"jsonrpc":"2.0","id":100,"method":"setSeed","params":{"seed":"fleet"}}"#)
        for i in 0..<3 { single.send(generate(i + 1, "")) }

        let replica = InProcessClient(daemon: delegatingDaemon())
        replica.send(load)
        XCTAssertNotNil(replica.reply(id: 0)?["result"])
        for i in [2, 0, 1] { replica.send(generate(i + 1, #","delegatedSeed":{"seed":"fleet","index":\#(i)}"#)) }

        let commitment = SessionSeed.string("fleet").commitment
        XCTAssertEqual(single.reply(id: 100)?["result"]?["commitment"], .string(commitment))
        for i in 0..<3 {
            let id = JSONValue.int(Int64(i + 1))
            guard let a = single.reply(id: id, timeout: 120)?["result"], let b = replica.reply(id: id, timeout: 120)?["result"] else {
                return XCTFail("no answer to request \(i + 1)")
            }
            for key in ["seed", "seedSource", "seedCommitment", "seedIndex", "tokens", "text"] {
                XCTAssertEqual(a[key], b[key], "\(key) of request \(i)")
            }
            XCTAssertEqual(b["seedSource"], "session")
            XCTAssertEqual(b["seedIndex"], .int(Int64(i)))
            XCTAssertEqual(b["seed"]?.int64Value, Int64(SessionSeed.string("fleet").derivedSeed(index: UInt64(i), scheme: .current)))
            for key in ["seed", "request", "output", "model", "version", "method"] {
                XCTAssertEqual(a["receipt"]?[key], b["receipt"]?[key], "receipt.\(key) of request \(i)")
            }
        }
        // A delegated request takes no index of the connection's own session (it has none).
        replica.send(generate(9, ""))
        XCTAssertEqual(replica.reply(id: 9, timeout: 120)?["result"]?["seedSource"], "entropy")
    }

    /// The journal commits the seed before its first receipt and reveals it when the connection
    /// ends, so the verifier re-derives every delegated seed.
    func testTheJournalCommitsAndRevealsADelegatedSeed() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let path = NSTemporaryDirectory() + "reprolm-delegated-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let daemon = delegatingDaemon(journal: try Journal(path: path))
        let c = InProcessClient(daemon: daemon)
        c.send(#"{"jsonrpc":"2.0","id":0,"method":"models/load","params":{"model":"\#(model)"}}"#)
        XCTAssertNotNil(c.reply(id: 0)?["result"])
        for (n, i) in [4, 1].enumerated() {
            c.send(generate(n + 1, #","delegatedSeed":{"seed":7,"index":\#(i),"fromEntropy":true}"#))
            XCTAssertNotNil(c.reply(id: .int(Int64(n + 1)), timeout: 120)?["result"])
        }
        c.connection.inputEnded()
        XCTAssertTrue(c.waitUntilClosed())
        daemon.closeJournal()

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
        XCTAssertEqual(lines.map { $0["type"]?.stringValue }, ["commit", "receipt", "receipt", "reveal"])
        XCTAssertEqual(lines[0]["commitment"], .string(SessionSeed.integer(7).commitment))
        XCTAssertEqual(lines[0]["fromEntropy"], true)
        XCTAssertEqual(lines[3]["seed"], .int(7))
        XCTAssertEqual(lines[3]["requests"], .int(5), "one past the highest index the connection served")
        let report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.derivedSeedsChecked, 2)
    }
}
