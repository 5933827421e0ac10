// Restoring the merges a rank-ordered vocabulary implies (RankOrderedMerges.swift): on tiny files
// (the tiny valid file of ByteLevelBPEErrorTests, changed) and on whisper-base's tokenizer.json,
// which lacks exactly Ġ + t → Ġt. Without the option the tokenizer stays Hugging Face's.

import Foundation
import ReproJSON
import TestSupport
@testable import Tokenizers
import XCTest

final class RankOrderedMergesTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rank-merges-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The 256 byte characters, then `tokens` (ids 256...), the given merges, Whisper's added tokens after.
    private func file(tokens: [String], merges: [String]) throws -> String {
        var top = ByteLevelBPEErrorTests.tiny()
        guard case .object(var model)? = top["model"], case .object(var vocab)? = model["vocab"] else { throw XCTSkip("tiny file changed") }
        vocab["ab"] = nil
        vocab["Ġa"] = nil
        for (i, t) in tokens.enumerated() { vocab[t] = .int(Int64(256 + i)) }
        model["vocab"] = .object(vocab)
        model["merges"] = .array(merges.map { .string($0) })
        top["model"] = .object(model)
        top["added_tokens"] = .array(ByteLevelBPEErrorTests.addedTokens.enumerated().map { i, content in
            .object(["id": .int(Int64(256 + tokens.count + i)), "content": .string(content), "single_word": .bool(false),
                     "lstrip": .bool(false), "rstrip": .bool(false), "normalized": .bool(false), "special": .bool(true)])
        })
        let path = directory.appendingPathComponent("\(UUID().uuidString).json").path
        try Data(try JSONValue.object(top).serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func id(_ character: String, _ tokenizer: ByteLevelBPETokenizer) throws -> Int32 {
        try XCTUnwrap(tokenizer.tokenID(character))
    }

    func testAMissingFirstMergeIsRestoredAtItsRank() throws {
        // "ab" (256) has no merge; "abc" (257) is made from it.
        let path = try file(tokens: ["ab", "abc"], merges: ["ab c"])
        let hf = try ByteLevelBPETokenizer(tokenizerJSON: path)
        let restored = try ByteLevelBPETokenizer(tokenizerJSON: path, restoringRankOrderedMerges: true)
        let a = try id("a", hf), b = try id("b", hf), c = try id("c", hf)
        XCTAssertEqual(hf.encode("abc"), [a, b, c])  // Hugging Face: "ab c" never fires without "a b"
        XCTAssertEqual(restored.encode("abc"), [257])
        XCTAssertEqual(restored.encode("ab"), [256])
        XCTAssertEqual(restored.restoredMerges.map { [$0.left, $0.right, $0.merged] }, [[a, b, 256]])
        XCTAssertTrue(hf.restoredMerges.isEmpty)
    }

    func testATokenOfThreePartsIsSplitByRank() throws {
        // "abc" (257) has no merge: a + b → "ab" (256, ranked before it), then "ab" + "c".
        let path = try file(tokens: ["ab", "abc", "bc"], merges: ["a b", "b c"])
        let restored = try ByteLevelBPETokenizer(tokenizerJSON: path, restoringRankOrderedMerges: true)
        XCTAssertEqual(restored.restoredMerges.map { [$0.left, $0.right, $0.merged] }, [[256, try id("c", restored), 257]])
        XCTAssertEqual(restored.encode("abc"), [257])
    }

    func testNothingIsRestoredWhenTheMergesAreNotInIdOrder() throws {
        // "b c" makes 258 before "a b" makes 256: the ids are not ranks, so "xy" implies nothing.
        let path = try file(tokens: ["ab", "xy", "bc"], merges: ["b c", "a b"])
        let restored = try ByteLevelBPETokenizer(tokenizerJSON: path, restoringRankOrderedMerges: true)
        XCTAssertTrue(restored.restoredMerges.isEmpty)
        XCTAssertEqual(restored.encode("xy"), [try id("x", restored), try id("y", restored)])
    }

    func testWhisperBaseLacksExactlyTheRankZeroMerge() throws {
        guard let folder = TestModels.folder("whisper-base") else { throw XCTSkip("whisper-base is missing: run `reprolm pull whisper-base`") }
        let hf = try ByteLevelBPETokenizer(tokenizerJSON: folder + "/tokenizer.json")
        let whisper = try ByteLevelBPETokenizer(tokenizerJSON: folder + "/tokenizer.json", restoringRankOrderedMerges: true)
        XCTAssertEqual(whisper.restoredMerges.map { [$0.left, $0.right, $0.merged] },
                       [[try id("Ġ", whisper), try id("t", whisper), 256]])
        XCTAssertEqual(whisper.tokenText(256), "Ġt")
        let text = " Please call Stella and ask her to bring these things with her from the store."
        // faster-whisper 1.2.1's greedy ids for the stella clip (Tests/AudioTests/Golden/whisper-clips.json).
        XCTAssertEqual(whisper.encode(text, parseSpecial: false),
                       [2555, 818, 45073, 293, 1029, 720, 281, 1565, 613, 721, 365, 720, 490, 264, 3531, 13])
        // Hugging Face `tokenizers` on the file as it is: " to" is " " + "to", and so on.
        XCTAssertEqual(hf.encode(" to the things", parseSpecial: false), [220, 1353, 220, 3322, 220, 825, 82])
        XCTAssertEqual(whisper.encode(" to the things", parseSpecial: false), [281, 264, 721])
    }
}
