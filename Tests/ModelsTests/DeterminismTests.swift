// The determinism contract, bit for bit: a sequence's logits do not depend on the thread count,
// on other sequences batched with it, or on how its prompt was chunked.
import Kernels
import Models
import XCTest

final class DeterminismTests: XCTestCase {
    /// The start of a golden text: long enough for several attention blocks and chunk sizes
    /// (shorter for the models whose 150K-260K vocabularies make every logits row costly).
    func prompt(_ name: String) throws -> [Int32] {
        let golden = try LogitGolden(model: name)
        return Array(golden.texts[0].tokens.prefix(name == "smollm2-135m" ? 96 : 70))
    }

    /// Logits of every position, prefilling in chunks of `chunk` tokens.
    func logits(_ model: DecoderModel, _ tokens: [Int32], chunk: Int, pool: ThreadPool?) throws -> [Float] {
        let seq = model.makeSequence()
        var out: [Float] = []
        var i = 0
        while i < tokens.count {
            let part = Array(tokens[i..<min(tokens.count, i + chunk)])
            out += try model.forward([ForwardItem(sequence: seq, tokens: part, logits: .all)], pool: pool)[0]
            i += part.count
        }
        return out
    }

    func assertBitwiseEqual(_ a: [Float], _ b: [Float], _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        if let i = a.indices.first(where: { $0 < b.count && a[$0].bitPattern != b[$0].bitPattern }) {
            XCTFail("\(what): first difference at index \(i): \(a[i]) vs \(b[i])")
        }
    }

    func checkChunkingAndThreads(_ name: String) throws {
        let model = try loadModel(name)
        let tokens = try prompt(name)
        let one = ThreadPool(threads: 1), two = ThreadPool(threads: 2)
        let reference = try logits(model, tokens, chunk: tokens.count, pool: one)
        assertBitwiseEqual(try logits(model, tokens, chunk: tokens.count, pool: two), reference, "\(name): 2 threads vs 1")
        for chunk in [1, 7, 64] {
            assertBitwiseEqual(try logits(model, tokens, chunk: chunk, pool: two), reference, "\(name): chunks of \(chunk)")
        }
    }

    func testSmolLM2ChunkingAndThreads() throws { try checkChunkingAndThreads("smollm2-135m") }
    func testQwen2ChunkingAndThreads() throws { try checkChunkingAndThreads("qwen2.5-coder-0.5b") }
    func testGemma3ChunkingAndThreads() throws { try checkChunkingAndThreads("gemma3-270m") }

    /// A sequence decoding alone vs batched with three others at other positions, some of them
    /// prefilling a chunk in the same pass.
    func testBatchCompositionDoesNotChangeBits() throws {
        let model = try loadModel("smollm2-135m")
        let golden = try LogitGolden(model: "smollm2-135m")
        let pool = ThreadPool(threads: 2)
        let target = Array(golden.texts[0].tokens.prefix(40))
        let alone = try logits(model, target, chunk: 1, pool: pool)

        let others = (1...3).map { Array(golden.texts[$0].tokens.prefix(60)) }
        let seq = model.makeSequence()
        let otherSeqs = others.map { _ in model.makeSequence() }
        // Give the others different head starts so positions differ within every batch.
        for (k, s) in otherSeqs.enumerated() {
            _ = try model.forward([ForwardItem(sequence: s, tokens: Array(others[k].prefix(5 * (k + 1))), logits: .none)], pool: pool)
        }
        var batched: [Float] = []
        for (step, token) in target.enumerated() {
            var items = [ForwardItem(sequence: seq, tokens: [token], logits: .all)]
            for (k, s) in otherSeqs.enumerated() {
                let start = s.length, width = (step + k) % 3 + 1
                let next = Array(others[k][start..<min(others[k].count, start + width)])
                if !next.isEmpty { items.append(ForwardItem(sequence: s, tokens: next, logits: k == 1 ? .all : .last)) }
            }
            let shuffled = items.shuffledDeterministically(step)
            let results = try model.forward(shuffled, pool: pool)
            guard let mine = shuffled.firstIndex(where: { $0.sequence === seq }) else { return XCTFail("target missing") }
            batched += results[mine]
        }
        assertBitwiseEqual(batched, alone, "decode alone vs batched with 3 others")
    }
}

extension Array {
    /// A fixed reordering that depends on `seed`, so the target is not always first in its batch.
    func shuffledDeterministically(_ seed: Int) -> [Element] {
        guard count > 1 else { return self }
        let k = seed % count
        return Array(self[k...] + self[..<k])
    }
}
