// Fill-in-the-middle tokens: found as llama.cpp's vocabulary loader finds them (compared with what
// llama-server logs for the three catalogue models, recorded by scripts/make_infill_golden.py), the
// metadata keys before the texts, and the infill layout's bounds (format_prompt_infill in llama.cpp's
// tools/server/server-common.cpp; whole prompts are compared with llama-server in
// Tests/ServerTests/InfillGoldenTests.swift).

import Foundation
import ModelFiles
import ReproJSON
import Tokenizers
import XCTest

final class FIMTokenTests: XCTestCase {
    /// What llama-server's vocabulary loader printed for each model: its FIM and end-of-generation ids.
    static func serverLog() throws -> JSONValue {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../ServerTests/Golden/infill-qwen2.5-coder-0.5b.json").standardized
        return try JSONValue.parse(Array(try Data(contentsOf: url)))
    }

    func testCatalogueModelsFindWhatLlamaServerFinds() throws {
        let log = try Self.serverLog()
        for fixture in ModelFixture.all {
            let t = try fixture.tokenizer()
            guard let fim = log["fimTokens"]?[fixture.name] else { return XCTFail("no log for \(fixture.name)") }
            func id(_ key: String) -> Int32? { fim[key]?.int64Value.map { Int32($0) } }
            let expected = FIMTokens(prefix: id("prefix"), suffix: id("suffix"), middle: id("middle"), pad: id("pad"),
                                     repository: id("repository"), fileSeparator: id("fileSeparator"))
            XCTAssertEqual(t.fimTokens, expected, fixture.name)
            let eog = (log["endOfGeneration"]?[fixture.name]?.arrayValue ?? []).compactMap { $0.int64Value.map { Int32($0) } }
            XCTAssertEqual(t.endOfGenerationTokens, eog, "\(fixture.name): end-of-generation tokens")
        }
        // Qwen2.5-Coder's file names none of them: all six were found by their text.
        XCTAssertEqual(try ModelFixture.qwen25.tokenizer().fimTokens,
                       FIMTokens(prefix: 151659, suffix: 151661, middle: 151660, pad: 151662, repository: 151663, fileSeparator: 151664))
        XCTAssertFalse(try ModelFixture.smollm2.tokenizer().fimTokens.canInfill, "SmolLM2 has only <reponame>")
        XCTAssertFalse(try ModelFixture.gemma3.tokenizer().fimTokens.canInfill)
    }

    // MARK: a handmade vocabulary

    /// (text, GGUF token type: 1 normal, 2 unknown, 3 control, 6 byte)
    static let entries: [(String, Int32)] = [
        ("<unk>", 2), ("<s>", 3), ("</s>", 3), ("<fim_prefix>", 1), ("<|fim_prefix|>", 3), ("<fim_suffix>", 1),
        ("<fim_middle>", 1), ("<PAD>", 1), ("<reponame>", 1), ("<|file_sep|>", 1), ("a", 1), ("b", 1), ("▁", 1),
    ] + (0..<256).map { (String(format: "<0x%02X>", $0), 6) }

    private func tokenizer(_ extra: [(String, GGUFValue)] = [], entries: [(String, Int32)] = FIMTokenTests.entries) throws -> Tokenizer {
        let pairs: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .array(entries.map { .string($0.0) })),
            ("tokenizer.ggml.token_type", .array(entries.map { .int32($0.1) })),
            ("tokenizer.ggml.scores", .array(entries.map { _ in .float32(0) })),
            ("tokenizer.ggml.add_space_prefix", .bool(false)),
        ] + extra
        return try Tokenizer.fromGGUF(GGUFMetadata(values: Dictionary(pairs, uniquingKeysWith: { $1 }), orderedKeys: pairs.map(\.0)))
    }

    func testFoundByTextBecomeControlAndTheLastThreeEndGeneration() throws {
        let t = try tokenizer()
        // "<|fim_prefix|>" comes before "<fim_prefix>" in llama.cpp's list of candidates (which of
        // two present ones llama.cpp takes depends on its hash map; see SpecialTextDetector.swift).
        XCTAssertEqual(t.fimTokens, FIMTokens(prefix: 4, suffix: 5, middle: 6, pad: 7, repository: 8, fileSeparator: 9))
        // A token found by its text is a control token: written in text, it is one only with parseSpecial.
        XCTAssertEqual(t.encode("<fim_middle>", addSpecial: false, parseSpecial: true), [6])
        XCTAssertNotEqual(t.encode("<fim_middle>", addSpecial: false, parseSpecial: false), [6])
        for id: Int32 in [7, 8, 9] { XCTAssertTrue(t.isEndOfGeneration(id), "\(id)") }
        for id: Int32 in [4, 5, 6] { XCTAssertFalse(t.isEndOfGeneration(id), "\(id)") }
    }

    func testMetadataKeysComeBeforeTextsAndTheOlderKeysLast() throws {
        let t = try tokenizer([
            ("tokenizer.ggml.fim_pre_token_id", .uint32(10)),
            ("tokenizer.ggml.fim_suf_token_id", .uint32(11)),
            ("tokenizer.ggml.suffix_token_id", .uint32(3)),        // the older key is read after, and wins
            ("tokenizer.ggml.fim_mid_token_id", .uint32(100_000)), // outside the vocabulary: ignored
            ("tokenizer.ggml.fim_sep_token_id", .uint32(1)),
        ])
        XCTAssertEqual(t.fimTokens, FIMTokens(prefix: 10, suffix: 3, middle: 6, pad: 7, repository: 8, fileSeparator: 1))
        XCTAssertTrue(t.isEndOfGeneration(1), "the file separator ends generation")
    }

    func testLayoutOfAHandmadeVocabulary() throws {
        let t = try tokenizer([("tokenizer.ggml.add_bos_token", .bool(true)), ("tokenizer.ggml.bos_token_id", .uint32(1))])
        let header = [8] + t.encode("myproject\n", addSpecial: false, parseSpecial: false)
            + [9] + t.encode("filename\n", addSpecial: false, parseSpecial: false)
        let prompt = t.infillPrompt(prefix: "ab", suffix: "ba", contextLength: 4096)
        XCTAssertEqual(prompt, header + [1, 4, 10, 11, 5, 11, 10, 6], "header, BOS, PRE prefix, SUF suffix, MID")
        XCTAssertEqual(t.infillPrompt(prefix: "ab", suffix: "ba", contextLength: 4096, addSpecial: false), header + [4, 10, 11, 5, 11, 10, 6])
        // Special-token text stays text unless asked for.
        XCTAssertEqual(t.infillPrompt(prefix: "<s>", suffix: "", contextLength: 4096, parseSpecial: true), header + [1, 4, 1, 5, 6])
        let noMiddle = Self.entries.map { ($0.0 == "<fim_middle>" ? "m" : $0.0, $0.1) }
        XCTAssertNil(try tokenizer(entries: noMiddle).infillPrompt(prefix: "a", suffix: "b", contextLength: 4096),
                     "no middle token: no infill")
    }

    func testBoundsOfPrefixSuffixAndHeader() {
        let fim = FIMTokens(prefix: -1, suffix: -2, middle: -3)
        let prefix = (0..<2000).map(Int32.init), suffix = (5000..<6000).map(Int32.init), header: [Int32] = [90, 91, 92, 93]
        let full = InfillLayout.compose(prefix: prefix, suffix: suffix, header: header, bos: nil, fim: fim, contextLength: 32768)
        // The last 1536 prefix tokens and the first 510 suffix tokens: 3/4 and 1/4 − 2 of a 2048 batch.
        XCTAssertEqual(full, header + [-1] + Array(464..<2000).map(Int32.init) + [-2] + Array(5000..<5510).map(Int32.init) + [-3])
        // The header keeps only what the context holds beyond a batch (n_ctx − 2048 + 2), from its end.
        XCTAssertEqual(InfillLayout.compose(prefix: [7], suffix: [8], header: header, bos: 1, fim: fim, contextLength: 2048),
                       [92, 93, 1, -1, 7, -2, 8, -3])
        XCTAssertEqual(InfillLayout.compose(prefix: [], suffix: [], header: header, bos: nil, fim: fim, contextLength: 2000),
                       [-1, -2, -3])
    }
}
