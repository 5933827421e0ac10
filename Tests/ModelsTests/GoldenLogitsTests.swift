// The forward pass against llama.cpp: per-token logprobs of 700-800 tokens of varied text per
// model, and llama.cpp's argmax wherever its top two logits are 0.5 or more apart. llama.cpp
// rounds activations to 8 bits in its quantized products, as we do, and keeps its KV cache in
// F16 (ours is F32), so small differences are expected; the tolerances are the issue's.
import Foundation
import Kernels
import ModelFiles
import Models
import ReproJSON
import TestSupport
import XCTest

struct LogitGolden {
    struct Text { let tokens: [Int32]; let logprobs: [Double?]; let argmax: [Int32]; let gaps: [Double] }
    struct Greedy { let prompt: [Int32]; let tokens: [Int32]; let gaps: [Double] }
    let texts: [Text]
    let greedy: [Greedy]

    init(model: String) throws {
        guard let url = Bundle.module.url(forResource: "logits-\(model)", withExtension: "json", subdirectory: "Golden") else {
            throw XCTSkip("no golden file for \(model)")
        }
        let doc = try JSONValue.parse(Array(try Data(contentsOf: url)))
        func ints(_ v: JSONValue?) -> [Int32] { (v?.arrayValue ?? []).compactMap { $0.int64Value.map { Int32($0) } } }
        func doubles(_ v: JSONValue?) -> [Double] { (v?.arrayValue ?? []).compactMap { $0.doubleValue } }
        texts = (doc["texts"]?.arrayValue ?? []).map { t in
            Text(tokens: ints(t["tokens"]), logprobs: (t["logprobs"]?.arrayValue ?? []).map { $0.doubleValue },
                 argmax: ints(t["argmax"]), gaps: doubles(t["top2Gap"]))
        }
        greedy = (doc["greedy"]?.arrayValue ?? []).map { g in
            Greedy(prompt: ints(g["promptTokens"]), tokens: ints(g["tokens"]), gaps: doubles(g["top2Gap"]))
        }
    }
}

func loadModel(_ name: String) throws -> DecoderModel {
    guard let path = TestModels.path(name) else { throw XCTSkip("run `reprolm pull \(name)` first") }
    return try DecoderModel(file: try GGUFFile(path: path))
}

/// log_softmax(logits)[token], in Double.
func logprob(_ logits: ArraySlice<Float>, _ token: Int32) -> Double {
    let m = Double(logits.max() ?? 0)
    let z = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
    return Double(logits[logits.startIndex + Int(token)]) - m - Foundation.log(z)
}

func argmax(_ logits: ArraySlice<Float>) -> Int32 {
    var best = logits.startIndex
    for i in logits.indices where logits[i] > logits[best] { best = i }
    return Int32(best - logits.startIndex)
}

final class GoldenLogitsTests: XCTestCase {
    static let pool = ThreadPool(threads: 2)

    func check(_ name: String) throws {
        let model = try loadModel(name)
        let golden = try LogitGolden(model: name)
        let v = model.config.vocabulary
        var diffs: [Double] = []
        var argmaxChecked = 0
        for text in golden.texts {
            let seq = model.makeSequence()
            let logits = try model.forward([ForwardItem(sequence: seq, tokens: text.tokens, logits: .all)], pool: Self.pool)[0]
            for i in 0..<text.tokens.count {
                let row = logits[(i * v)..<((i + 1) * v)]
                if i + 1 < text.tokens.count, let ref = text.logprobs[i + 1] {
                    diffs.append(abs(logprob(row, text.tokens[i + 1]) - ref))
                }
                if text.gaps[i] >= 0.5 {
                    argmaxChecked += 1
                    XCTAssertEqual(argmax(row), text.argmax[i], "\(name): argmax at position \(i) (llama.cpp gap \(text.gaps[i]))")
                }
            }
        }
        diffs.sort()
        let mean = diffs.reduce(0, +) / Double(diffs.count)
        let p99 = diffs[min(diffs.count - 1, Int(Double(diffs.count) * 0.99))]
        print("\(name): \(diffs.count) logprobs, mean |Δ| \(mean), p99 \(p99), max \(diffs.last ?? 0); argmax checked at \(argmaxChecked) positions")
        XCTAssertGreaterThanOrEqual(diffs.count, 600)
        XCTAssertLessThanOrEqual(mean, 0.1, "\(name): mean |Δ logprob|")
        XCTAssertLessThanOrEqual(p99, 0.5, "\(name): 99th percentile |Δ logprob|")
    }

    func testSmolLM2() throws { try check("smollm2-135m") }
    func testQwen2() throws { try check("qwen2.5-coder-0.5b") }
    func testGemma3() throws { try check("gemma3-270m") }
}
