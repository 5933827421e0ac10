// Encoding must be fast enough for long prompts: a 10 KB text in milliseconds (release build).
// The bound asserted here is loose so that debug builds pass too; set REPROLM_BENCH=1 to print the
// measured load times and throughput to stderr.

import Foundation
import ModelFiles
import Tokenizers
import XCTest

final class PerformanceTests: XCTestCase {
    /// About 10 KB of mixed prose, code, CJK, emoji and chat markup.
    static let tenKilobytes: String = {
        let unit = "The quick brown fox jumps over the lazy dog; it's 12:30 and 3.14159 > 2.71828. "
            + "def f(x):\n\treturn [i ** 2 for i in range(x)]  # squares\n"
            + "你好，世界！こんにちは。안녕하세요. Привет, мир! 🍕👍🏽 "
            + "<|im_start|>user\nWhat is BPE?<|im_end|>\n"
        var s = ""
        while s.utf8.count < 10_000 { s += unit }
        return s
    }()

    func testTenKilobytesIsFast() throws {
        let bench = ProcessInfo.processInfo.environment["REPROLM_BENCH"] == "1"
        for model in ModelFixture.all {
            guard FileManager.default.fileExists(atPath: model.path) else {
                throw XCTSkip("\(model.path) is missing: run `reprolm pull \(model.name)`")
            }
            let clock = ContinuousClock()
            let metadata = try GGUFFile(path: model.path).metadata
            let loadStart = clock.now
            let t = try Tokenizer.fromGGUF(metadata)
            let load = clock.now - loadStart

            var ids: [Int32] = []
            let rounds = 5
            let start = clock.now
            for _ in 0..<rounds {
                ids = t.encode(Self.tenKilobytes, addSpecial: true, parseSpecial: true)
            }
            let perRound = (clock.now - start) / rounds
            let decodeStart = clock.now
            let text = t.decode(ids)
            let decode = clock.now - decodeStart
            XCTAssertFalse(text.isEmpty)
            XCTAssertLessThan(perRound, .milliseconds(500), "\(model.name): 10 KB took \(perRound)")
            if bench {
                let seconds = Double(perRound.components.attoseconds) / 1e18 + Double(perRound.components.seconds)
                let line = "\(model.name): load \(load), encode 10 KB \(perRound) (\(ids.count) tokens, "
                    + "\(Int(Double(ids.count) / seconds)) tokens/s, \(Int(10_000 / seconds / 1e6)) MB/s), decode \(decode)\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
    }

    /// Inputs that make naive implementations quadratic: long runs of one character (one huge BPE
    /// word, or about 30 overlapping special-token matches per byte in Gemma) and many specials.
    func testPathologicalInputsStayFast() throws {
        let inputs = [
            String(repeating: " ", count: 50_000),
            String(repeating: "\n", count: 50_000),
            String(repeating: "a", count: 50_000),
            String(repeating: "9", count: 50_000),
            String(repeating: "<|im_start|><start_of_turn>", count: 2_000),
            String(repeating: "🍕", count: 10_000),
        ]
        let bench = ProcessInfo.processInfo.environment["REPROLM_BENCH"] == "1"
        let clock = ContinuousClock()
        for model in ModelFixture.all {
            let t = try model.tokenizer()
            for text in inputs {
                let start = clock.now
                let ids = t.encode(text, addSpecial: false, parseSpecial: true)
                let elapsed = clock.now - start
                XCTAssertFalse(ids.isEmpty)
                XCTAssertEqual(t.decode(ids), text)
                XCTAssertLessThan(elapsed, .seconds(3), "\(model.name): \(text.prefix(12))... took \(elapsed)")
                if bench {
                    FileHandle.standardError.write(Data("\(model.name): \(text.unicodeScalars.count) x \(text.unicodeScalars.first.map { String($0).debugDescription } ?? "") -> \(ids.count) tokens in \(elapsed)\n".utf8))
                }
            }
        }
    }
}
