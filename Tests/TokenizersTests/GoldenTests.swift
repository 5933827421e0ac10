// Every golden text, for every model, must tokenize to exactly llama.cpp's ids in both modes and
// decode to exactly llama.cpp's bytes. No tolerance: one differing id fails the test.

import Tokenizers
import XCTest

final class GoldenTests: XCTestCase {
    func testSmolLM2() throws { try check(.smollm2) }
    func testQwen25() throws { try check(.qwen25) }
    func testGemma3() throws { try check(.gemma3) }

    private func check(_ model: ModelFixture) throws {
        let tokenizer = try model.tokenizer()
        let golden = try model.golden()
        XCTAssertGreaterThanOrEqual(golden.cases.count, 70)

        // Vocabulary facts.
        XCTAssertEqual(tokenizer.vocabularySize, golden.nTokens)
        XCTAssertEqual(tokenizer.bosToken, golden.bos)
        XCTAssertEqual(tokenizer.eosToken, golden.eos)
        XCTAssertEqual(tokenizer.addBOS, golden.addBOS)
        XCTAssertEqual(tokenizer.addEOS, golden.addEOS)
        XCTAssertEqual(tokenizer.endOfGenerationTokens, golden.eog)
        for id in golden.eog { XCTAssertTrue(tokenizer.isEndOfGeneration(id)) }
        if let eot = tokenizer.eotToken { XCTAssertTrue(tokenizer.isEndOfGeneration(eot)) }

        var failures = 0
        for c in golden.cases {
            let label = "\(model.name) [\(c.note)]"
            let plain = tokenizer.encode(c.text, addSpecial: false, parseSpecial: false)
            if plain != c.plain {
                failures += 1
                XCTFail("\(label) plain ids differ\n ours:  \(plain)\n llama: \(c.plain)")
            }
            let special = tokenizer.encode(c.text, addSpecial: true, parseSpecial: true)
            if special != c.special {
                failures += 1
                XCTFail("\(label) special ids differ\n ours:  \(special)\n llama: \(c.special)")
            }
            // Decoding llama.cpp's own ids, so a decode bug is not hidden by an encode bug.
            XCTAssertEqual(tokenizer.decodeBytes(c.plain), c.plainDetok, "\(label) decode(plain)")
            XCTAssertEqual(tokenizer.decodeBytes(c.special), c.specialDetok, "\(label) decode(special)")
            XCTAssertEqual(tokenizer.decode(c.special), String(decoding: c.specialDetok, as: UTF8.self),
                           "\(label) decode(special) as String")
            XCTAssertEqual(tokenizer.decodeBytes(c.special, skipSpecial: true), c.specialDetokSkip,
                           "\(label) decode(special, skipSpecial)")
        }
        XCTAssertEqual(failures, 0, "\(model.name): \(failures) tokenization mismatches")

        for (id, bytes) in golden.pieces {
            XCTAssertEqual(tokenizer.piece(id), bytes, "\(model.name) piece(\(id))")
        }
        XCTAssertNil(tokenizer.piece(-1))
        XCTAssertNil(tokenizer.piece(Int32(golden.nTokens)))
    }
}
