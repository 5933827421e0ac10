// The Whisper tokenizer must keep up with long inputs: a megabyte of text in well under two
// seconds (release build), whatever its script, including one word of a million letters (BPE
// over it stays n log n) and text full of near-misses of special tokens ("<|e" ...). Set
// REPROLM_BENCH=1 to print the timings to stderr.

import Foundation
import TestSupport
import Tokenizers
import XCTest

final class WhisperTokenizerPerformanceTests: XCTestCase {
    func testOneMegabyteIsFast() throws {
        guard let folder = TestModels.folder("whisper-base") else {
            throw XCTSkip("whisper-base is missing: run `reprolm pull whisper-base`")
        }
        let clock = ContinuousClock()
        let loadStart = clock.now
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: folder + "/tokenizer.json")
        let load = clock.now - loadStart
        XCTAssertLessThan(load, .seconds(2))
        let bench = ProcessInfo.processInfo.environment["REPROLM_BENCH"] == "1"
        if bench { FileHandle.standardError.write(Data("whisper-base: load \(load)\n".utf8)) }

        let inputs: [(String, String)] = [
            ("mixed prose", WordPiecePerformanceTests.megabyte(of: "The quick brown fox jumps over the lazy dog; it's 12:30 and 3.14159 > 2.71828. "
                + "Café naïve résumé, Zürich — “quoted” text… 你好，世界！ Привет, мир! 🍕👍🏽 <|en|> "
                + "def f(x):\n\treturn [i ** 2 for i in range(x)]  # squares\n")),
            ("chinese", WordPiecePerformanceTests.megabyte(of: "我爱北京天安门，日本語のテキストと漢字。")),
            ("emoji", WordPiecePerformanceTests.megabyte(of: "🍕👍🏽🥰🫠 ")),
            ("one word", String(repeating: "a", count: 1_000_000)),
            ("special near-misses", WordPiecePerformanceTests.megabyte(of: "<|e")),
            ("spaces", String(repeating: " ", count: 1_000_000)),
        ]
        for (name, text) in inputs {
            let start = clock.now
            let ids = tokenizer.encode(text)
            let encoded = clock.now - start
            let decoded = tokenizer.decode(ids, skipSpecial: false)
            let elapsed = clock.now - start
            XCTAssertEqual(decoded, text, "\(name) round trip")
            XCTAssertLessThan(elapsed, .seconds(2), "\(name): 1 MB took \(elapsed)")
            if bench {
                FileHandle.standardError.write(Data("whisper-base \(name): 1 MB -> \(ids.count) ids in \(encoded), decoded by \(elapsed)\n".utf8))
            }
        }
    }
}
