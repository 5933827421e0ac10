// The streaming detokenizer must release only whole UTF-8 characters and, joined, give exactly
// what decode gives for the same tokens.

import Tokenizers
import XCTest

final class StreamingDetokenizerTests: XCTestCase {
    let texts = [
        "Emoji 🍕🎉 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👋🏽 new \u{1FAE9}",
        "你好，世界！こんにちは世界。안녕하세요 세계",
        "Привет мир, Γειά σου, नमस्ते, สวัสดี, مرحبا",
        "<|im_start|>user\nHi 😀<|im_end|>\n<start_of_turn>model\n漢字<end_of_turn>",
        "plain ascii text with  spaces\tand\nnewlines",
    ]

    func testWholeCharactersOnly() throws {
        for model in ModelFixture.all {
            let t = try model.tokenizer()
            for text in texts {
                let ids = t.encode(text, addSpecial: true, parseSpecial: true)
                let full = Array(t.decode(ids).utf8)
                var stream = StreamingDetokenizer(tokenizer: t)
                var emitted: [UInt8] = []
                for id in ids {
                    let chunk = Array(stream.push(id).utf8)
                    emitted += chunk
                    XCTAssertFalse(String(decoding: chunk, as: UTF8.self).contains("\u{FFFD}"),
                                   "\(model.name): replacement character emitted for \(text)")
                    // What has been released is a prefix of the full text ending at a character boundary.
                    XCTAssertTrue(full.starts(with: emitted), "\(model.name): stream diverged for \(text)")
                    if emitted.count < full.count {
                        XCTAssertNotEqual(full[emitted.count] & 0xC0, 0x80, "\(model.name): cut inside a character")
                    }
                }
                emitted += Array(stream.flush().utf8)
                XCTAssertEqual(emitted, full, "\(model.name): stream != decode for \(text)")
            }
        }
    }

    /// Gemma spells characters missing from its vocabulary byte by byte: a 4-byte emoji arrives as
    /// four tokens, and only the fourth may release text.
    func testByteFallbackHoldsPartialCharacter() throws {
        let t = try ModelFixture.gemma3.tokenizer()
        let byteToken = { (b: UInt8) -> Int32 in 238 + Int32(b) }     // <0x00> is id 238
        XCTAssertEqual(t.tokenText(byteToken(0xF0)), "<0xF0>")
        var stream = StreamingDetokenizer(tokenizer: t)
        XCTAssertEqual(stream.push(byteToken(0xF0)), "")
        XCTAssertEqual(stream.push(byteToken(0x9F)), "")
        XCTAssertEqual(stream.push(byteToken(0x8D)), "")
        XCTAssertEqual(stream.push(byteToken(0x95)), "🍕")
        XCTAssertEqual(stream.flush(), "")
    }

    /// Bytes that can never form a character are released (as U+FFFD) the same way decode does.
    func testInvalidBytesMatchDecode() throws {
        let t = try ModelFixture.gemma3.tokenizer()
        let b = { (x: UInt8) -> Int32 in 238 + Int32(x) }
        let sequences: [[Int32]] = [
            [b(0xF0), b(0x41)],                 // lead byte then ASCII
            [b(0xFF), b(0x41), b(0xC3)],        // never-valid byte; truncated at the end
            [b(0xE0), b(0x80), b(0x80)],        // overlong
            [b(0xED), b(0xA0), b(0x80)],        // surrogate
            [b(0xC3), b(0xA9), b(0xE2), b(0x82)],
        ]
        for ids in sequences {
            var stream = StreamingDetokenizer(tokenizer: t)
            var out = ""
            for id in ids { out += stream.push(id) }
            out += stream.flush()
            XCTAssertEqual(out, t.decode(ids), "ids \(ids)")
        }
    }
}
