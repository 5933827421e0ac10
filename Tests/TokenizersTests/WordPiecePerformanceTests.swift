// The WordPiece tokenizer must keep up with long inputs: a megabyte of text in well under two
// seconds (release build), whatever its script, and inputs that make a naive greedy longest-match
// quadratic stay linear. Set REPROLM_BENCH=1 to print the timings to stderr.

import Foundation
import TestSupport
import Tokenizers
import XCTest

final class WordPiecePerformanceTests: XCTestCase {
    static func megabyte(of unit: String) -> String {
        var s = ""
        while s.utf8.count < 1_000_000 { s += unit }
        return s
    }

    func testOneMegabyteIsFast() throws {
        guard let folder = TestModels.folder("minilm-l6") else { throw XCTSkip("minilm-l6 is missing: run `reprolm pull minilm-l6`") }
        let clock = ContinuousClock()
        let loadStart = clock.now
        // A limit no text here reaches, so every word is tokenized.
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: folder + "/tokenizer.json", maxLength: 1 << 30)
        let load = clock.now - loadStart
        let bench = ProcessInfo.processInfo.environment["REPROLM_BENCH"] == "1"
        if bench { FileHandle.standardError.write(Data("minilm-l6: load \(load)\n".utf8)) }

        let inputs: [(String, String)] = [
            ("mixed prose", Self.megabyte(of: "The quick brown fox jumps over the lazy dog; it's 12:30 and 3.14159 > 2.71828. "
                + "Café naïve résumé, Zürich — “quoted” text… 你好，世界！ Привет, мир! 🍕👍🏽 [SEP] "
                + "def f(x):\n\treturn [i ** 2 for i in range(x)]  # squares\n")),
            ("chinese", Self.megabyte(of: "我爱北京天安门，日本語のテキストと漢字。")),
            ("emoji", Self.megabyte(of: "🍕👍🏽🥰🫠 ")),
            ("one word", String(repeating: "a", count: 1_000_000)),
            ("words of 100 letters", Self.megabyte(of: String(repeating: "qzxvbnmlkj", count: 10) + " ")),
            ("accents", Self.megabyte(of: "e\u{301}a\u{300}\u{301}o\u{308}\u{304} ÀÉÎÕÜ ")),
            ("punctuation", Self.megabyte(of: "!?.,;:()[]{}")),
        ]
        for (name, text) in inputs {
            let start = clock.now
            let encoding = tokenizer.encode(text)
            let elapsed = clock.now - start
            XCTAssertFalse(encoding.truncated)
            XCTAssertGreaterThan(encoding.ids.count, 2)
            XCTAssertLessThan(elapsed, .seconds(2), "\(name): 1 MB took \(elapsed)")
            if bench {
                FileHandle.standardError.write(Data("minilm-l6 \(name): 1 MB -> \(encoding.ids.count) ids in \(elapsed)\n".utf8))
            }
        }
    }

    /// With the real limit, a long text stops being tokenized soon after the limit is passed.
    func testTruncatedEncodingStopsEarly() throws {
        guard let folder = TestModels.folder("minilm-l6") else { throw XCTSkip("minilm-l6 is missing: run `reprolm pull minilm-l6`") }
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: folder + "/tokenizer.json", maxLength: 512)
        let text = Self.megabyte(of: "The quick brown fox jumps over the lazy dog. ")
        let clock = ContinuousClock()
        let start = clock.now
        let encoding = tokenizer.encode(text)
        XCTAssertLessThan(clock.now - start, .seconds(1))
        XCTAssertTrue(encoding.truncated)
        XCTAssertEqual(encoding.ids.count, 512)
        XCTAssertEqual(encoding.ids.first, tokenizer.clsID)
        XCTAssertEqual(encoding.ids.last, tokenizer.sepID)
    }
}
