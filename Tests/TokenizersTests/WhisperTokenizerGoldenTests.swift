// whisper-base's tokenizer.json against Hugging Face `tokenizers` 0.23.3: every golden text
// (scripts/make_whisper_tokenizer_golden.py) must give exactly HF's ids (plain, with the file's
// template, and with special-token text left unparsed), decode to exactly HF's text with and
// without special tokens, and give HF's ids under each variant of the file (other pre-tokenizer
// forms, merges as pairs, ignore_merges, more added tokens); every id's text and decoded piece,
// and the pre-tokenizer's split of every code point, must agree with HF's through the digests
// the script computes the same way. Whisper's special tokens and timestamps are checked against
// the CTranslate2 vocabulary.txt of the same folder, which lists all 51,865 of the model's ids.
// Skipped when the model folder is absent (`reprolm pull whisper-base`).

import Foundation
import ModelFiles
import ReproJSON
import TestSupport
@testable import Tokenizers
import XCTest

final class WhisperTokenizerGoldenTests: XCTestCase {
    static func folder() throws -> String {
        guard let folder = TestModels.folder("whisper-base") else {
            throw XCTSkip("whisper-base is missing: run `reprolm pull whisper-base`")
        }
        return folder
    }

    static func golden() throws -> JSONValue {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Golden/whisper-tokenizer", withExtension: "json"))
        return try JSONValue.parse([UInt8](Data(contentsOf: url)))
    }

    static func ids(_ v: JSONValue?) throws -> [Int32] {
        try XCTUnwrap(v?.arrayValue).map { Int32(try XCTUnwrap($0.int64Value)) }
    }

    static func cases() throws -> [JSONValue] {
        try XCTUnwrap(golden()["cases"]?.arrayValue)
    }

    func testMatchesHuggingFace() throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: try Self.folder() + "/tokenizer.json")
        let golden = try Self.golden()
        let vocab = try XCTUnwrap(golden["vocab"])
        XCTAssertEqual(tokenizer.vocabularySize, Int(try XCTUnwrap(vocab["size"]?.int64Value)))
        for (content, id) in try XCTUnwrap(vocab["added"]?.objectValue) {
            XCTAssertEqual(tokenizer.tokenID(content), Int32(try XCTUnwrap(id.int64Value)), content)
        }
        XCTAssertEqual(tokenizer.specialTokens, try Self.ids(vocab["special"]))

        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 117)
        var failures = 0
        for c in cases {
            let text = try XCTUnwrap(c["text"]?.stringValue)
            let label = "[\(c["note"]?.stringValue ?? "?")]"
            let expected = [
                ("ids", tokenizer.encode(text), try Self.ids(c["ids"])),
                ("template ids", tokenizer.encode(text, addSpecial: true), try Self.ids(c["ids_template"])),
                ("ids with specials unparsed", tokenizer.encode(text, parseSpecial: false), try Self.ids(c["ids_split"])),
            ]
            for (what, ours, theirs) in expected where ours != theirs {
                failures += 1
                XCTFail("\(label) \(what) differ\n ours: \(ours)\n HF:   \(theirs)")
            }
            // Decoding HF's own ids, so a decode bug is not hidden by an encode bug.
            let template = try Self.ids(c["ids_template"])
            XCTAssertEqual(tokenizer.decode(template), c["decode"]?.stringValue, "\(label) decode")
            XCTAssertEqual(tokenizer.decode(template, skipSpecial: false), c["decode_special"]?.stringValue,
                           "\(label) decode keeping specials")
        }
        XCTAssertEqual(failures, 0, "\(failures) tokenization mismatches")
    }

    func testDecodesMatchHuggingFace() throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: try Self.folder() + "/tokenizer.json")
        let decodes = try XCTUnwrap(Self.golden()["decodes"]?.arrayValue)
        XCTAssertGreaterThanOrEqual(decodes.count, 50)
        var replaced = 0
        for d in decodes {
            let note = d["note"]?.stringValue ?? "?"
            let ids = try Self.ids(d["ids"])
            let plain = tokenizer.decode(ids)
            XCTAssertEqual(plain, d["decode"]?.stringValue, "decode [\(note)]")
            XCTAssertEqual(tokenizer.decode(ids, skipSpecial: false), d["decode_special"]?.stringValue,
                           "decode keeping specials [\(note)]")
            if plain.unicodeScalars.contains("\u{FFFD}") { replaced += 1 }
        }
        XCTAssertGreaterThanOrEqual(replaced, 20, "the decode cases must exercise malformed UTF-8")
    }

    /// The same file with one section replaced, as the golden script replaces it.
    static func variantFile(_ base: JSONValue, _ variant: JSONValue) throws -> JSONValue {
        var top = try XCTUnwrap(base.objectValue)
        var model = try XCTUnwrap(top["model"]?.objectValue)
        if let pre = variant["pre_tokenizer"] { top["pre_tokenizer"] = pre }
        if let extra = variant["append_added_tokens"]?.arrayValue {
            top["added_tokens"] = .array((top["added_tokens"]?.arrayValue ?? []) + extra)
        }
        for (key, value) in variant["model"]?.objectValue ?? [:] { model[key] = value }
        if variant["merges_as_pairs"]?.boolValue == true {
            model["merges"] = .array(try XCTUnwrap(model["merges"]?.arrayValue).map { merge in
                let parts = try XCTUnwrap(merge.stringValue).split(separator: " ", omittingEmptySubsequences: false)
                return .array(parts.map { .string(String($0)) })
            })
        }
        top["model"] = .object(model)
        return .object(top)
    }

    func testVariantsMatchHuggingFace() throws {
        let folder = try Self.folder()
        let golden = try Self.golden()
        let base = try JSONFile.read(folder + "/tokenizer.json", maxBytes: ByteLevelBPEFile.maxFileBytes)
        let variants = try XCTUnwrap(golden["variants"]?.arrayValue)
        XCTAssertEqual(variants.count, 6)
        let cases = try Self.cases()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("whisper-variants-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for variant in variants {
            let name = try XCTUnwrap(variant["name"]?.stringValue)
            let path = directory.appendingPathComponent("\(name).json").path
            try Data(try Self.variantFile(base, variant).serialized()).write(to: URL(fileURLWithPath: path))
            let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: path)
            var failures = 0
            for c in cases {
                let text = try XCTUnwrap(c["text"]?.stringValue)
                let label = "[\(name)] [\(c["note"]?.stringValue ?? "?")]"
                let expected = try XCTUnwrap(c["variants"]?[name])
                let theirs = try Self.ids(expected["ids"])
                let ours = tokenizer.encode(text)
                if ours != theirs {
                    failures += 1
                    XCTFail("\(label) ids differ\n ours: \(ours)\n HF:   \(theirs)")
                }
                if expected["ids_split"] != nil {
                    XCTAssertEqual(tokenizer.encode(text, parseSpecial: false), try Self.ids(expected["ids_split"]),
                                   "\(label) ids with specials unparsed")
                    XCTAssertEqual(tokenizer.decode(theirs), expected["decode"]?.stringValue, "\(label) decode")
                    XCTAssertEqual(tokenizer.decode(theirs, skipSpecial: false), expected["decode_special"]?.stringValue,
                                   "\(label) decode keeping specials")
                }
            }
            XCTAssertEqual(failures, 0, "[\(name)] \(failures) tokenization mismatches")
        }
    }

    /// Every id's text and its decoded piece, hashed as the golden script hashes HF's
    /// id_to_token(id) and decode([id], skip_special_tokens=False).
    func testEveryPieceAgreesWithHuggingFace() throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: try Self.folder() + "/tokenizer.json")
        let golden = try XCTUnwrap(Self.golden()["pieces"])
        var hash = FNV1a()
        for id in 0..<Int32(tokenizer.vocabularySize) {
            hash.feed(Array(try XCTUnwrap(tokenizer.tokenText(id)).utf8) + [0xFE])
            hash.feed(Array(String(decoding: try XCTUnwrap(tokenizer.piece(id)), as: UTF8.self).utf8) + [0xFF])
        }
        XCTAssertEqual(tokenizer.vocabularySize, Int(try XCTUnwrap(golden["count"]?.int64Value)))
        XCTAssertEqual(hash.hex, golden["fnv1a64"]?.stringValue)
        XCTAssertNil(tokenizer.piece(-1))
        XCTAssertNil(tokenizer.piece(Int32(tokenizer.vocabularySize)))
    }

    /// The pre-tokenizer's words of a probe around every code point, hashed as the golden script
    /// hashes HF's, so a difference in any Unicode class (letter, number, whitespace) shows.
    func testEveryCodePointAgreesWithHuggingFace() throws {
        let golden = try XCTUnwrap(Self.golden()["codepoints"])
        var hash = FNV1a()
        let dumpPath = ProcessInfo.processInfo.environment["REPROLM_WHISPER_DUMP"]
        var dump = ""
        var count = 0
        for value in UInt32(0)...0x10FFFF where Unicode.Scalar(value) != nil {
            let c = value
            let probe: [UInt32] = [0x61, c, 0x31, c, 0x21, c, 0x20, c, 0x20, 0x20, c, 0x62]
            let lengths = PreTokenizer.gpt2.split(probe, tables: .oniguruma)
            hash.feed(lengths.map { UInt8(truncatingIfNeeded: $0) } + [0xFF])
            if dumpPath != nil {
                dump += String(value, radix: 16, uppercase: true).leftPadded(to: 4) + " "
                    + lengths.map(String.init).joined(separator: " ") + "\n"
            }
            count += 1
        }
        if let dumpPath { try dump.write(toFile: dumpPath, atomically: true, encoding: .utf8) }
        XCTAssertEqual(count, Int(try XCTUnwrap(golden["count"]?.int64Value)))
        XCTAssertEqual(hash.hex, golden["fnv1a64"]?.stringValue,
                       "diff REPROLM_WHISPER_DUMP=FILE against make_whisper_tokenizer_golden.py --dump FILE to find the code points")
    }

    /// Whisper's special tokens by text and its timestamps, against the folder's vocabulary.txt
    /// (CTranslate2's list of the model's ids, timestamps included, one text per line).
    func testWhisperSpecialTokensMatchTheModelVocabulary() throws {
        let folder = try Self.folder()
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: folder + "/tokenizer.json")
        let whisper = try WhisperSpecialTokens(tokenizer)
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/vocabulary.txt")))
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        let config = try JSONFile.read(folder + "/config.json", maxBytes: 1 << 20)
        let languageIDs = try Self.ids(config["lang_ids"])

        XCTAssertEqual(lines.count, Int(whisper.timestampBegin) + WhisperSpecialTokens.timestampCount,
                       "the model's ids end with the 1501 timestamps")
        for (id, text) in lines.enumerated() {
            let id = Int32(id)
            if id < tokenizer.vocabularySize {
                XCTAssertEqual(tokenizer.tokenText(id), text, "id \(id)")
                XCTAssertFalse(whisper.isTimestamp(id))
                XCTAssertEqual(whisper.isSpecial(id), tokenizer.isSpecial(id))
            } else {
                XCTAssertEqual(whisper.timestampText(id), text, "id \(id)")
                XCTAssertEqual(whisper.timestampToken(index: try XCTUnwrap(whisper.timestampIndex(id))), id)
                XCTAssertTrue(whisper.isSpecial(id))
            }
        }
        XCTAssertNil(whisper.timestampText(Int32(lines.count)))
        XCTAssertNil(whisper.timestampToken(index: WhisperSpecialTokens.timestampCount))

        func line(_ id: Int32?) throws -> String { lines[Int(try XCTUnwrap(id))] }
        XCTAssertEqual(try line(whisper.endOfText), "<|endoftext|>")
        XCTAssertEqual(try line(whisper.startOfTranscript), "<|startoftranscript|>")
        XCTAssertEqual(try line(whisper.translate), "<|translate|>")
        XCTAssertEqual(try line(whisper.transcribe), "<|transcribe|>")
        XCTAssertEqual(try line(whisper.startOfLM), "<|startoflm|>")
        XCTAssertEqual(try line(whisper.startOfPrevious), "<|startofprev|>")
        XCTAssertEqual(try line(whisper.noSpeech), "<|nocaptions|>")
        XCTAssertEqual(try line(whisper.noTimestamps), "<|notimestamps|>")
        XCTAssertEqual(try line(whisper.timestampBegin), "<|0.00|>")

        // The languages are config.json's lang_ids, each found by its code.
        XCTAssertEqual(whisper.languageCodes.count, languageIDs.count)
        for id in languageIDs {
            let code = try XCTUnwrap(whisper.languageCode(id), "id \(id)")
            XCTAssertEqual(try line(id), "<|\(code)|>")
            XCTAssertEqual(whisper.language(code), id)
        }
        XCTAssertNil(whisper.language("transcribe"))
        XCTAssertNil(whisper.language("xx"))
        XCTAssertNil(whisper.languageCode(whisper.translate))
    }
}

/// FNV-1a 64, as the golden scripts compute it.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func feed(_ bytes: [UInt8]) {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    }

    var hex: String { String(value, radix: 16).leftPadded(to: 16) }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
