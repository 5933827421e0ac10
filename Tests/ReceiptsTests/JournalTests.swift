import Foundation
import Receipts
import ReproJSON
import XCTest

final class JournalTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "journal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func receipt(_ n: Int, seed: SeedUse? = nil, seedValue: Int64? = nil) throws -> JSONValue {
        var request: [String: JSONValue] = ["tokens": [1, 2, .int(Int64(n))], "temperature": .double(0.8)]
        if let v = seedValue ?? seed.map({ Int64($0.value) }) { request["seed"] = .int(v) }
        return try Receipt.make(method: "generate",
                                origin: ReceiptOrigin(modelName: "m", modelSHA256: String(repeating: "ab", count: 32),
                                                      engineVersion: "e", kernels: "k"),
                                request: .object(request), seed: seed,
                                output: ["tokens": [.int(Int64(n))], "logprobs": [.string(Digest.bits(Float(-0.25)))]])
    }

    private func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    func testAppendsChainAndSurviveReopening() async throws {
        let path = dir + "/sub/journal.jsonl"
        var ids: [String] = []
        do {
            let j = try Journal(path: path)
            for n in 0..<5 {
                let r = try receipt(n)
                ids.append(r["id"]!.stringValue!)
                let pos = try await j.append(.receipt(r))
                XCTAssertEqual(pos.seq, Int64(n))
                XCTAssertEqual(pos.line, n + 1)
            }
            j.close()
        }
        let j = try Journal(path: path)
        XCTAssertEqual(j.lineCount, 5)
        let entry = try XCTUnwrap(j.receiptEntry(id: ids[3]))
        XCTAssertEqual(entry["seq"], .int(3))
        XCTAssertEqual(entry["receipt"]?["id"]?.stringValue, ids[3])
        XCTAssertNil(try j.receiptEntry(id: "rc-none"))
        let pos = try await j.append(.replay(of: ids[0], identical: true, digest: String(repeating: "0", count: 64), created: "t"))
        XCTAssertEqual(pos.seq, 5)
        j.close()
        let report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertTrue(report.ok, "\(report.failure!)")
        XCTAssertEqual(report.receipts, 5)
        XCTAssertEqual(report.replays, 1)
    }

    /// Many appenders at once: one line each, all chained, fewer fsyncs than lines not checked
    /// here (the batching is a speed matter), but every ticket gets its own position.
    func testConcurrentAppendsAllLandInOneChain() async throws {
        let path = dir + "/journal.jsonl"
        let j = try Journal(path: path)
        let positions = try await withThrowingTaskGroup(of: JournalPosition.self) { group in
            for n in 0..<200 { group.addTask { try await j.append(.receipt(try self.receipt(n))) } }
            return try await group.reduce(into: [JournalPosition]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(positions.map(\.seq)), Set(0..<200))
        j.close()
        let report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.receipts, 200)
    }

    /// Two daemons on one journal (two Journal objects stand in for them): each catches up with
    /// the other's lines under the file lock before appending, so the chain stays one chain.
    func testTwoWritersShareOneChain() async throws {
        let path = dir + "/journal.jsonl"
        let a = try Journal(path: path), b = try Journal(path: path)
        for n in 0..<10 {
            _ = try await (n % 2 == 0 ? a : b).append(.receipt(try receipt(n)))
        }
        let fromB = try XCTUnwrap(try lines(path).first).data(using: .utf8)!
        let firstID = try JSONValue.parse([UInt8](fromB))["receipt"]!["id"]!.stringValue!
        XCTAssertNotNil(try b.receiptEntry(id: firstID), "b finds a's receipt")
        a.close()
        b.close()
        let report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.lines, 10)
    }

    func testTornLastLineIsSetAsideAndAppendsGoOn() async throws {
        let path = dir + "/journal.jsonl"
        do {
            let j = try Journal(path: path)
            for n in 0..<3 { _ = try await j.append(.receipt(try receipt(n))) }
            j.close()
        }
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let torn = Array("{\"entry\":\"12".utf8)
        try (good + torn).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(JournalVerifier.verify([UInt8](good) + torn).failure?.line, 4)

        let j = try Journal(path: path)
        XCTAssertEqual(j.lineCount, 3)
        let pos = try await j.append(.receipt(try receipt(3)))
        XCTAssertEqual(pos.seq, 3)
        j.close()
        XCTAssertTrue(try JournalVerifier.verify(contentsOf: path).ok)
        let aside = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("journal.jsonl.torn-") }
        XCTAssertEqual(aside.count, 1)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + aside[0])), Data(torn))
    }

    func testAnEditedMiddleLineBreaksTheChainAtThatLine() async throws {
        let path = dir + "/journal.jsonl"
        do {
            let j = try Journal(path: path)
            for n in 0..<6 { _ = try await j.append(.receipt(try receipt(n))) }
            j.close()
        }
        var text = try lines(path)
        text[2] = text[2].replacingOccurrences(of: "\"temperature\":0.8", with: "\"temperature\":0.9")
        try text.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertEqual(report.failure?.line, 3)
        XCTAssertThrowsError(try Journal(path: path)) { error in
            guard case JournalError.broken(_, let line, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 3)
        }
    }

    func testVerifierReDerivesSessionSeeds() async throws {
        let path = dir + "/journal.jsonl"
        let seed = SessionSeed.integer(42)
        let c = seed.commitment
        let j = try Journal(path: path)
        _ = try await j.append(.commit(commitment: c, fromEntropy: false))
        _ = try await j.append(.receipt(try receipt(0, seed: .session(seed.derivedSeed(index: 0, scheme: .current), commitment: c, index: 0))))
        _ = try await j.append(.receipt(try receipt(1, seed: .session(seed.derivedSeed(index: 1, scheme: .current), commitment: c, index: 1))))
        var report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.unrevealed, 2)
        _ = try await j.append(.reveal(SeedReveal(seed: seed, commitment: c, requests: 2, fromEntropy: false)))
        report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.derivedSeedsChecked, 2)

        // A receipt claiming index 2 with some other seed: caught at its line.
        _ = try await j.append(.receipt(try receipt(2, seed: .session(7, commitment: c, index: 2))))
        j.close()
        report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertEqual(report.failure?.line, 5)
    }

    /// A journal written before seed scheme 2 (receipts version 1, seeds of 63 bits) still
    /// verifies, each receipt by its own version's rule, beside receipts of version 2.
    func testVersionOneReceiptsVerifyWithTheirOwnScheme() async throws {
        let path = dir + "/journal.jsonl"
        let seed = SessionSeed.integer(42)
        let c = seed.commitment
        func versionOne(_ receipt: JSONValue) -> JSONValue {
            guard case .object(var o) = receipt else { return receipt }
            o["version"] = .int(1)
            return .object(o)
        }
        let old = seed.derivedSeed(index: 0, scheme: .v1)
        XCTAssertGreaterThan(old, UInt64(JSONValue.maxExactInteger), "the case the new scheme exists for")
        let j = try Journal(path: path)
        _ = try await j.append(.commit(commitment: c, fromEntropy: false))
        _ = try await j.append(.receipt(versionOne(try receipt(0, seed: .session(old, commitment: c, index: 0)))))
        _ = try await j.append(.receipt(try receipt(1, seed: .session(seed.derivedSeed(index: 1, scheme: .v2), commitment: c, index: 1))))
        _ = try await j.append(.reveal(SeedReveal(seed: seed, commitment: c, requests: 2, fromEntropy: false)))
        var report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.derivedSeedsChecked, 2)

        // A version 2 receipt carrying a seed of the old scheme is caught.
        _ = try await j.append(.commit(commitment: c, fromEntropy: false))
        _ = try await j.append(.receipt(try receipt(2, seed: .session(old, commitment: c, index: 0))))
        j.close()
        report = try JournalVerifier.verify(contentsOf: path)
        XCTAssertEqual(report.failure?.line, 6)
    }

    func testAReceiptWhoseOutputWasChangedFailsItsDigest() throws {
        let r = try receipt(1)
        var o = r.objectValue!
        var out = o["output"]!.objectValue!
        out["tokens"] = [2]
        o["output"] = .object(out)
        XCTAssertTrue(try ParsedReceipt(r, path: "r").isIntact)
        XCTAssertFalse(try ParsedReceipt(.object(o), path: "r").isIntact)
    }
}
