// Reference ids measured with llama.cpp and Hugging Face `tokenizers`, and the vocabulary facts each model's chat use depends on.

import Tokenizers
import XCTest

final class SpotCheckTests: XCTestCase {
    let text = "Hello world, this is a test."

    func testSmolLM2() throws {
        let t = try ModelFixture.smollm2.tokenizer()
        XCTAssertEqual(t.encode(text, addSpecial: false, parseSpecial: false), [19556, 905, 28, 451, 314, 253, 1028, 30])
        XCTAssertEqual(t.vocabularySize, 49152)
        XCTAssertFalse(t.addBOS)
        XCTAssertEqual(t.encode("<|im_start|>user", addSpecial: true, parseSpecial: true).first, 1)
        // llama.cpp reports <|endoftext|> (0) as EOT here, an accident of std::unordered_map order;
        // we report <|im_end|>. Both end generation (see SpecialTextDetector.swift).
        XCTAssertEqual(t.eotToken, 2)
        XCTAssertTrue(t.isEndOfGeneration(0))
        XCTAssertTrue(t.isEndOfGeneration(2))
        XCTAssertFalse(t.isEndOfGeneration(1))
        XCTAssertEqual(t.tokenText(1), "<|im_start|>")
    }

    func testQwen25() throws {
        let t = try ModelFixture.qwen25.tokenizer()
        XCTAssertEqual(t.encode(text, addSpecial: false, parseSpecial: false), [9707, 1879, 11, 419, 374, 264, 1273, 13])
        XCTAssertEqual(t.encode(text, addSpecial: true, parseSpecial: true), [9707, 1879, 11, 419, 374, 264, 1273, 13])
        XCTAssertEqual(t.vocabularySize, 151936)
        XCTAssertEqual(t.eotToken, 151645)
        XCTAssertTrue(t.isEndOfGeneration(151645))
        XCTAssertTrue(t.isEndOfGeneration(151643))
        XCTAssertEqual(t.decode([151644, 872, 198]), "<|im_start|>user\n")
        XCTAssertEqual(t.decode([151644, 872, 198], skipSpecial: true), "user\n")
        // Unused padding ids render as nothing, as in llama.cpp.
        XCTAssertEqual(t.piece(151700), [])
    }

    func testGemma3() throws {
        let t = try ModelFixture.gemma3.tokenizer()
        XCTAssertEqual(t.encode(text, addSpecial: true, parseSpecial: false), [2, 9259, 1902, 236764, 672, 563, 496, 1594, 236761])
        XCTAssertEqual(t.encode(text, addSpecial: false, parseSpecial: false), [9259, 1902, 236764, 672, 563, 496, 1594, 236761])
        XCTAssertEqual(t.vocabularySize, 262144)
        XCTAssertTrue(t.addBOS)
        XCTAssertEqual(t.bosToken, 2)
        XCTAssertEqual(t.eosToken, 1)
        XCTAssertEqual(t.eotToken, 106)
        XCTAssertTrue(t.isEndOfGeneration(106))
        XCTAssertEqual(t.decode([2, 9259, 1902]), "<bos>Hello world")
        XCTAssertEqual(t.decode([2, 9259, 1902], skipSpecial: true), "Hello world")
        // Byte fallback: a character missing from the vocabulary is spelled with <0xXX> tokens.
        XCTAssertEqual(t.tokenText(238 + 0x41), "<0x41>")
        XCTAssertEqual(t.piece(238 + 0x41), [0x41])
    }

    func testEmptyText() throws {
        for model in ModelFixture.all {
            let t = try model.tokenizer()
            XCTAssertEqual(t.encode("", addSpecial: false, parseSpecial: true), [])
            XCTAssertEqual(t.encode("", addSpecial: true, parseSpecial: true), t.addBOS ? (t.bosToken.map { [$0] } ?? []) : [])
            XCTAssertEqual(t.decode([]), "")
        }
    }
}
