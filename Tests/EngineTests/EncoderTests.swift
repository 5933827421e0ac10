// encode against a reference no one here wrote (scripts/make_minilm_golden.py: Hugging Face
// `tokenizers` + a numpy float64 forward pass), and our own bit-for-bit invariances: an input's
// vector alone, in a batch of mixed lengths, with 1 or 2 threads.
import Foundation
import Models
import ReproJSON
import XCTest
@testable import Engine

final class EncoderTests: XCTestCase {
    struct Case { let text: String; let tokens: [Int32]; let truncated: Bool; let embedding: [Double] }

    static func golden() throws -> (cases: [Case], facts: JSONValue) {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/minilm-l6-embeddings.json")
        let doc = try JSONValue.parse(Array(try Data(contentsOf: url)))
        let cases = (doc["cases"]?.arrayValue ?? []).map { c in
            Case(text: c["text"]?.stringValue ?? "", tokens: (c["tokens"]?.arrayValue ?? []).compactMap { $0.int64Value.map { Int32($0) } },
                 truncated: c["truncated"]?.boolValue ?? false, embedding: (c["embedding"]?.arrayValue ?? []).compactMap(\.doubleValue))
        }
        return (cases, doc["facts"] ?? .null)
    }

    static func cosine(_ a: [Float], _ b: [Double]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * y; na += Double(x) * Double(x); nb += y * y }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// MiniLM (mean pooling, normalised) against the numpy reference: tokens exactly, each vector
    /// within cosine 0.9999, and the reference figures measured with sentence-transformers.
    func testMiniLMMatchesTheNumpyReference() async throws {
        let model = try await EngineFixtures.model("minilm-l6")
        let encoder = try Encoder(model: model, scheduler: InferenceScheduler(threads: 2))
        let (cases, facts) = try Self.golden()
        XCTAssertGreaterThanOrEqual(cases.count, 50)
        let tokenizer = try XCTUnwrap(model.encoder).tokenizer
        var inputs: [[Int32]] = []
        for c in cases {
            let e = tokenizer.encode(c.text)
            XCTAssertEqual(e.ids, c.tokens, c.text)
            XCTAssertEqual(e.truncated, c.truncated, c.text)
            inputs.append(e.ids)
        }
        let vectors = try await encoder.encode(EncodeRequest(inputs: inputs, pooling: .mean, normalize: true))
        var worst = 1.0
        for (c, v) in zip(cases, vectors) {
            XCTAssertEqual(v.count, 384)
            let cos = Self.cosine(v, c.embedding)
            worst = min(worst, cos)
            XCTAssertGreaterThan(cos, 0.9999, c.text)
        }
        print("MiniLM vs numpy float64 over \(cases.count) sentences: lowest cosine \(worst)")
        // Reference figures (sentence-transformers): 0.755, -0.105, and the first five dims of "A man is eating food.".
        func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        XCTAssertEqual(dot(vectors[0], vectors[1]), 0.755, accuracy: 0.0005)
        XCTAssertEqual(dot(vectors[0], vectors[2]), -0.105, accuracy: 0.0005)
        for (x, y) in zip(vectors[0].prefix(5), [0.03324, 0.00441, -0.00628, 0.04838, -0.1387]) {
            XCTAssertEqual(Double(x), y, accuracy: 0.00001)
        }
        XCTAssertEqual(facts["cosEatingBread"]?.doubleValue ?? 0, 0.755, accuracy: 0.0005)
    }

    /// 16 inputs of mixed lengths in one batch give each input the bits it gets alone; and a
    /// 1-thread scheduler the bits of a 2-thread one.
    func testEachInputIsTheSameBitsAloneOrInABatch() async throws {
        let model = try await EngineFixtures.model("minilm-l6")
        let tokenizer = try XCTUnwrap(model.encoder).tokenizer
        let texts = (0..<16).map { i in
            String(repeating: "word\(i) and some more text ", count: 1 + (i * 7) % 23) + (i % 3 == 0 ? "déjà vu 東京" : "")
        }
        let inputs = texts.map { tokenizer.encode($0).ids }
        XCTAssertGreaterThan(Set(inputs.map(\.count)).count, 8, "lengths vary")
        for pooling in [Pooling.mean, .none] {
            let two = try Encoder(model: model, scheduler: InferenceScheduler(threads: 2))
            let one = try Encoder(model: model, scheduler: InferenceScheduler(threads: 1))
            let batch = try await two.encode(EncodeRequest(inputs: inputs, pooling: pooling, normalize: true))
            for (i, input) in inputs.enumerated() {
                let alone = try await one.encode(EncodeRequest(inputs: [input], pooling: pooling, normalize: true))[0]
                XCTAssertEqual(alone.map(\.bitPattern), batch[i].map(\.bitPattern), "input \(i), pooling \(pooling)")
            }
        }
    }

    /// A decoder encodes from its final hidden states: the same bits whatever the prompt chunking
    /// (a 300-token input spans three prefill chunks), batch or thread count; last-token pooling is
    /// the last row of no pooling.
    func testDecoderEncodingIsInvariant() async throws {
        let model = try await EngineFixtures.model("smollm2-135m")
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 30)
        let long = model.tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        XCTAssertGreaterThan(long.count, 2 * Generator.prefillChunk)
        let short = model.tokenizer.encode("hello world", addSpecial: false, parseSpecial: false)
        let two = try Encoder(model: model, scheduler: InferenceScheduler(threads: 2))
        let one = try Encoder(model: model, scheduler: InferenceScheduler(threads: 1))
        let batch = try await two.encode(EncodeRequest(inputs: [long, short], pooling: .mean, normalize: true))
        let alone = try await one.encode(EncodeRequest(inputs: [long], pooling: .mean, normalize: true))
        XCTAssertEqual(batch[0].map(\.bitPattern), alone[0].map(\.bitPattern))
        XCTAssertEqual(batch[0].count, 576)
        let none = try await two.encode(EncodeRequest(inputs: [short], pooling: .none, normalize: false))[0]
        let last = try await one.encode(EncodeRequest(inputs: [short], pooling: .last, normalize: false))[0]
        XCTAssertEqual(Array(none.suffix(576)).map(\.bitPattern), last.map(\.bitPattern))
        XCTAssertTrue(none.allSatisfy(\.isFinite))
    }
}
