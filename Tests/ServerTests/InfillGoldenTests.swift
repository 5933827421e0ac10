// generate {prompt, suffix} against llama.cpp's own server (Golden/infill-qwen2.5-coder-0.5b.json,
// written by scripts/make_infill_golden.py from llama-server's /infill): through the daemon's whole
// path, the prompt is laid out token for token as llama-server lays it out, and the greedy infill
// follows llama-server's wherever its top two logits are not a near-tie.
import Foundation
import ReproJSON
import TestSupport
import XCTest

final class InfillGoldenTests: XCTestCase {
    /// Below this gap between llama.cpp's top two logits, float and 8-bit arithmetic may disagree
    /// (as in Tests/EngineTests/GenerationTests.swift).
    static let nearTie = 0.5

    struct Snippet {
        let name: String
        let request: JSONValue
        let promptTokens: JSONValue
        let tokens: [Int64]
        /// llama-server's two most likely tokens at each step.
        let top2: [[Int64]]
        let gaps: [Double]
        let stoppedAtEnd: Bool
    }

    static func golden() throws -> JSONValue {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/infill-qwen2.5-coder-0.5b.json")
        return try JSONValue.parse(Array(try Data(contentsOf: url)))
    }

    static func snippets(model: String) throws -> [Snippet] {
        try (golden()["snippets"]?.arrayValue ?? []).map { s in
            Snippet(name: s["name"]?.stringValue ?? "?",
                    request: ["model": .string(model), "prompt": s["prefix"] ?? "", "suffix": s["suffix"] ?? "",
                              "maxTokens": s["maxTokens"] ?? 24, "temperature": 0],
                    promptTokens: s["promptTokens"] ?? .null,
                    tokens: (s["tokens"]?.arrayValue ?? []).compactMap(\.int64Value),
                    top2: (s["top2"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.int64Value) },
                    gaps: (s["top2Gap"]?.arrayValue ?? []).compactMap(\.doubleValue),
                    stoppedAtEnd: s["stopType"]?.stringValue == "eos")
        }
    }

    /// How many leading tokens agree, and whether a difference (if any) is acceptable: at a
    /// near-tie of llama-server's, where we chose its runner-up (either is a correct greedy
    /// answer). Tokens after a near-tie at which both chose alike are still compared: the two
    /// continue from the same text.
    static func agreement(ours: [Int64], _ s: Snippet) -> (count: Int, acceptable: Bool) {
        for i in 0..<min(ours.count, s.tokens.count) where ours[i] != s.tokens[i] {
            return (i, s.gaps[i] < nearTie && ours[i] == s.top2[i].last)
        }
        return (min(ours.count, s.tokens.count), ours.count == s.tokens.count)
    }

    func testLayoutAndGreedyInfillFollowLlamaServer() throws {
        guard let path = TestModels.path("qwen2.5-coder-0.5b") else { throw XCTSkip("run `reprolm pull qwen2.5-coder-0.5b` first") }
        let c = InProcessClient(daemon: makeDaemon())
        c.send(["jsonrpc": "2.0", "id": "load", "method": "models/load", "params": ["model": .string(path), "alias": "q"]])
        XCTAssertNotNil(c.reply(id: "load", timeout: 120)?["result"])
        let snippets = try Self.snippets(model: "q")
        XCTAssertGreaterThanOrEqual(snippets.count, 10)
        var report: [String] = []
        for (i, s) in snippets.enumerated() {
            c.send(["jsonrpc": "2.0", "id": .int(Int64(i)), "method": "generate", "params": s.request])
            guard let result = c.reply(id: .int(Int64(i)), timeout: 600)?["result"] else {
                XCTFail("\(s.name): no result")
                continue
            }
            XCTAssertEqual(result["receipt"]?["request"]?["tokens"], s.promptTokens, "\(s.name): prompt layout")
            let ours = (result["tokens"]?.arrayValue ?? []).compactMap(\.int64Value)
            let (count, acceptable) = Self.agreement(ours: ours, s)
            let gap = count < s.gaps.count ? s.gaps[count] : .nan
            XCTAssertTrue(acceptable, "\(s.name): differs from llama-server at token \(count) (its gap \(gap)): ours \(ours), llama-server's \(s.tokens)")
            if count == s.tokens.count, s.stoppedAtEnd {
                XCTAssertEqual(result["finishReason"], "stop", "\(s.name): llama-server stopped at an end-of-generation token")
            }
            report.append("\(s.name) \(count)/\(s.tokens.count)" + (count < s.tokens.count ? String(format: " (gap %.2f)", gap) : ""))
        }
        print("infill against llama-server, tokens agreeing: \(report.joined(separator: ", "))")
    }

    /// An infill receipt holds the laid-out prompt as token ids, so it replays with no field of its own.
    func testAnInfillReceiptReplays() throws {
        guard let path = TestModels.path("qwen2.5-coder-0.5b") else { throw XCTSkip("run `reprolm pull qwen2.5-coder-0.5b` first") }
        let c = InProcessClient(daemon: makeDaemon())
        c.send(["jsonrpc": "2.0", "id": "load", "method": "models/load", "params": ["model": .string(path), "alias": "q"]])
        XCTAssertNotNil(c.reply(id: "load", timeout: 120)?["result"])
        c.send(["jsonrpc": "2.0", "id": 1, "method": "generate",
                "params": ["model": "q", "prompt": "def add(a, b):\n    ", "suffix": "\n", "maxTokens": 8, "seed": 5, "logprobs": true]])
        guard let receipt = c.reply(id: 1, timeout: 300)?["result"]?["receipt"] else { return XCTFail("no receipt") }
        XCTAssertNil(receipt["request"]?["suffix"], "the receipt records token ids, not the texts")
        c.send(["jsonrpc": "2.0", "id": 2, "method": "reproduce", "params": ["receipt": receipt]])
        let replay = c.reply(id: 2, timeout: 300)?["result"]
        XCTAssertEqual(replay?["identical"], true)
        XCTAssertEqual(replay?["maxLogprobDifference"]?.doubleValue, 0)
    }
}
