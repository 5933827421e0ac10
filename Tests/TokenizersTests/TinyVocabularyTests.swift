// A handmade SentencePiece vocabulary that exercises what the three real models do not: special
// tokens that overlap (llama.cpp takes the longest first, wherever it is), control tokens that
// SentencePiece merges reach in plain text, user-defined tokens containing spaces, the prefix space
// after every special token, byte fallback, and the right-strip rule llama.cpp applies to models
// named "phi-3". The expected ids were produced by llama.cpp (llama-cpp-python 0.3.36) from a GGUF
// file holding exactly this vocabulary.

import ModelFiles
import Tokenizers
import XCTest

final class TinyVocabularyTests: XCTestCase {
    /// (text, type, score); types: 1 normal, 2 unknown, 3 control, 4 user defined, 6 byte.
    static let entries: [(String, Int32, Float)] = [
        ("<unk>", 2, 0), ("<s>", 3, 0), ("</s>", 3, 0), ("bcd", 3, 0), ("ab", 3, 0), ("<|user|>", 3, 0),
        ("<tag>", 4, 0), ("a", 1, -1), ("b", 1, -1), ("c", 1, -1), ("d", 1, -1), ("▁", 1, -1),
        ("▁a", 1, -0.5), ("cd", 1, -0.7), ("x y", 4, 0), ("<|endoftext|>", 3, 0),
    ] + (0..<256).map { (String(format: "<0x%02X>", $0), 6, 0) }

    private func tokenizer(name: String, extra: [(String, GGUFValue)]) throws -> Tokenizer {
        var pairs: [(String, GGUFValue)] = [
            ("general.name", .string(name)),
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .array(Self.entries.map { .string($0.0) })),
            ("tokenizer.ggml.token_type", .array(Self.entries.map { .int32($0.1) })),
            ("tokenizer.ggml.scores", .array(Self.entries.map { .float32($0.2) })),
        ]
        pairs += extra
        return try Tokenizer.fromGGUF(GGUFMetadata(values: Dictionary(pairs, uniquingKeysWith: { $1 }),
                                                   orderedKeys: pairs.map(\.0)))
    }

    /// (text, ids without special handling, ids with addSpecial + parseSpecial)
    typealias Expectation = (String, [Int32], [Int32])

    func testPhi3NamedModelStripsAfterSpecialTokens() throws {
        let t = try tokenizer(name: "Phi-3 tiny", extra: [
            ("tokenizer.ggml.add_bos_token", .bool(true)),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
        ])
        let expected: [Expectation] = [
            ("abcd", [11, 4, 13], [1, 12, 3]),
            ("xabcdx", [11, 136, 4, 13, 136], [1, 11, 136, 7, 3, 11, 136]),
            ("ab cd", [11, 4, 11, 13], [1, 4, 11, 13]),
            ("bcdab", [11, 3, 4], [1, 3, 4]),
            ("<|user|>  hi  <|user|>ab", [11, 76, 140, 133, 131, 117, 130, 140, 78, 11, 11, 120, 121, 11, 11, 76, 140, 133, 131, 117, 130, 140, 78, 4], [1, 5, 11, 120, 121, 11, 11, 5, 4]),
            (" <tag> a", [11, 11, 6, 12], [1, 11, 11, 6, 12]),
            ("a<tag>b", [12, 6, 11, 8], [1, 12, 6, 11, 8]),
            ("x y  x  y", [14, 11, 136, 11, 11, 137], [1, 14, 11, 136, 11, 11, 137]),
            ("<s>a</s>", [11, 76, 131, 78, 7, 76, 63, 131, 78], [1, 1, 12, 2]),
            ("", [], [1]),
            (" ", [11, 11], [1, 11, 11]),
            ("é", [11, 211, 185], [1, 11, 211, 185]),
        ]
        check(t, expected)
    }

    func testPlainModel() throws {
        let t = try tokenizer(name: "tiny", extra: [
            ("tokenizer.ggml.add_bos_token", .bool(false)),
            ("tokenizer.ggml.add_space_prefix", .bool(true)),
        ])
        let expected: [Expectation] = [
            ("abcd", [11, 4, 13], [12, 3]),
            ("xabcdx", [11, 136, 4, 13, 136], [11, 136, 7, 3, 11, 136]),
            ("ab cd", [11, 4, 11, 13], [4, 11, 11, 13]),
            ("bcdab", [11, 3, 4], [3, 4]),
            ("<|user|>  hi  <|user|>ab", [11, 76, 140, 133, 131, 117, 130, 140, 78, 11, 11, 120, 121, 11, 11, 76, 140, 133, 131, 117, 130, 140, 78, 4], [5, 11, 11, 11, 120, 121, 11, 11, 5, 4]),
            (" <tag> a", [11, 11, 6, 11, 12], [11, 11, 6, 11, 12]),
            ("a<tag>b", [12, 6, 11, 8], [12, 6, 11, 8]),
            ("x y  x  y", [14, 11, 11, 11, 136, 11, 11, 137], [14, 11, 11, 11, 136, 11, 11, 137]),
            ("<s>a</s>", [11, 76, 131, 78, 7, 76, 63, 131, 78], [1, 12, 2]),
            ("", [], []),
            (" ", [11, 11], [11, 11]),
            ("é", [11, 211, 185], [11, 211, 185]),
        ]
        check(t, expected)
        // The prefix space is taken off the first piece again when decoding.
        XCTAssertEqual(t.decode([12, 3]), "abcd")
        XCTAssertEqual(t.decode([11, 211, 185]), "é")
    }

    private func check(_ t: Tokenizer, _ expected: [Expectation], file: StaticString = #filePath, line: UInt = #line) {
        for (text, plain, special) in expected {
            XCTAssertEqual(t.encode(text, addSpecial: false, parseSpecial: false), plain, "plain: \(text)", file: file, line: line)
            XCTAssertEqual(t.encode(text, addSpecial: true, parseSpecial: true), special, "special: \(text)", file: file, line: line)
        }
    }
}
