// Building a tokenizer from metadata that we do not support, or that is malformed, throws a typed
// error; nothing traps. Input text of any kind never traps either.

import ModelFiles
import Tokenizers
import XCTest

final class TokenizerErrorTests: XCTestCase {
    private func metadata(_ pairs: [(String, GGUFValue)]) -> GGUFMetadata {
        GGUFMetadata(values: Dictionary(pairs, uniquingKeysWith: { $1 }), orderedKeys: pairs.map(\.0))
    }

    private func strings(_ s: [String]) -> GGUFValue { .array(s.map { .string($0) }) }

    func testUnsupportedModel() {
        let md = metadata([("tokenizer.ggml.model", .string("bert")), ("tokenizer.ggml.tokens", strings(["a"]))])
        XCTAssertThrowsError(try Tokenizer.fromGGUF(md)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedModel("bert"))
        }
    }

    func testUnsupportedPreTokenizer() {
        let md = metadata([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("llama-bpe")),
                           ("tokenizer.ggml.tokens", strings(["a"])), ("tokenizer.ggml.merges", strings([]))])
        XCTAssertThrowsError(try Tokenizer.fromGGUF(md)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedPreTokenizer("llama-bpe"))
            XCTAssertTrue("\(error)".contains("smollm"))
        }
        let noPre = metadata([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", strings(["a"])),
                              ("tokenizer.ggml.merges", strings([]))])
        XCTAssertThrowsError(try Tokenizer.fromGGUF(noPre))
    }

    func testMissingAndMistypedKeys() {
        XCTAssertThrowsError(try Tokenizer.fromGGUF(metadata([]))) { error in
            XCTAssertEqual(error as? TokenizerError, .metadata(.missingKey("tokenizer.ggml.model")))
        }
        let noTokens = metadata([("tokenizer.ggml.model", .string("llama"))])
        XCTAssertThrowsError(try Tokenizer.fromGGUF(noTokens)) { error in
            XCTAssertEqual(error as? TokenizerError, .metadata(.missingKey("tokenizer.ggml.tokens")))
        }
        let badTypes = metadata([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .string("x"))])
        XCTAssertThrowsError(try Tokenizer.fromGGUF(badTypes))
        let shortScores = metadata([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", strings(["a", "b"])),
                                    ("tokenizer.ggml.scores", .array([.float32(0)]))])
        XCTAssertThrowsError(try Tokenizer.fromGGUF(shortScores)) { error in
            guard case .invalidVocabulary = error as? TokenizerError else { return XCTFail("\(error)") }
        }
        let emptyVocab = metadata([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", strings([]))])
        XCTAssertThrowsError(try Tokenizer.fromGGUF(emptyVocab))
    }

    /// A tiny SentencePiece vocabulary with odd contents (no byte tokens, an empty text, ids out of
    /// range for BOS) still loads, and encoding anything neither traps nor emits invalid ids.
    func testOddSmallVocabularyNeverTraps() throws {
        let md = metadata([
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", strings(["<unk>", "", "▁a", "a", "b", "ab", "<ctl>"])),
            ("tokenizer.ggml.scores", .array([0, 0, -1, -2, -2, -1.5, 0].map { .float32($0) })),
            ("tokenizer.ggml.token_type", .array([2, 1, 1, 1, 1, 1, 3].map { .int32($0) })),
            ("tokenizer.ggml.bos_token_id", .uint32(99)),
        ])
        let t = try Tokenizer.fromGGUF(md)
        XCTAssertEqual(t.tokenText(1), "[EMPTY_1]")
        XCTAssertEqual(t.bosToken, 1)       // the default (1) stays when the file's value is out of range
        for text in ["", "ab a", "zzz 🍕", "<ctl>ab<ctl>", String(repeating: "ab ", count: 500)] {
            for special in [false, true] {
                let ids = t.encode(text, addSpecial: special, parseSpecial: special)
                XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < t.vocabularySize })
                _ = t.decode(ids)
            }
        }
        // After a special token the prefix space comes back: "▁ab" merges "▁a" first (score -1 beats -1.5).
        XCTAssertEqual(t.encode("<ctl>ab", addSpecial: false, parseSpecial: true), [6, 2, 4])
        // Unparsed, "<ctl>" is plain text; characters with no token and no byte token are dropped.
        XCTAssertEqual(t.encode("<ctl>ab", addSpecial: false, parseSpecial: false), [5])
        XCTAssertEqual(t.decode([-5, 100, 5]), "ab")
        XCTAssertNil(t.tokenText(7))
    }

    /// Random text through every real model: no trap, ids in range, and decode gives the text back
    /// (all three vocabularies are lossless on valid UTF-8).
    func testRandomTextRoundTrips() throws {
        var rng = SplitMix64(seed: 42)
        let alphabet: [Unicode.Scalar] = Array("aZ09 \t\n\r.,'!?<|>_-éßİΩЖ中あ한ع🍕\u{301}\u{200D}\u{FE0F}\u{A0}\u{3000}".unicodeScalars)
        for model in ModelFixture.all {
            let t = try model.tokenizer()
            for _ in 0..<200 {
                var s = String.UnicodeScalarView()
                for _ in 0..<Int(rng.next() % 40) {
                    if rng.next() % 8 == 0, let u = Unicode.Scalar(UInt32(rng.next() % 0x2FFFF)) {
                        s.append(u)
                    } else {
                        s.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
                    }
                }
                let text = String(s)
                let ids = t.encode(text, addSpecial: false, parseSpecial: false)
                XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < t.vocabularySize })
                XCTAssertEqual(t.decode(ids), text, "\(model.name) round trip")
            }
        }
    }
}

/// A small deterministic generator for the random tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
