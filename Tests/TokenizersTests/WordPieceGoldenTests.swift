// all-MiniLM-L6-v2's WordPiece tokenizer against Hugging Face `tokenizers` 0.23.3: every golden text
// (scripts/make_wordpiece_golden.py) must give exactly HF's ids with and without [CLS]/[SEP], the
// same truncation flag, and decode to exactly HF's text; and the normalizer and pre-tokenizer must
// agree with HF's on every code point (through the digest the script computes the same way).
// Skipped when the model folder is absent (`reprolm pull minilm-l6`).

import Foundation
import ReproJSON
import TestSupport
@testable import Tokenizers
import XCTest

final class WordPieceGoldenTests: XCTestCase {
    struct Case {
        let note: String
        let text: String
        let ids: [Int32]
        let truncated: Bool
        let plain: [Int32]
        let plainTruncated: Bool
        let decode: String
        let decodeSpecial: String
    }

    static func folder() throws -> String {
        guard let folder = TestModels.folder("minilm-l6") else { throw XCTSkip("minilm-l6 is missing: run `reprolm pull minilm-l6`") }
        return folder
    }

    static func golden() throws -> JSONValue {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Golden/minilm-l6", withExtension: "json"))
        return try JSONValue.parse([UInt8](Data(contentsOf: url)))
    }

    /// The model's limit as the golden script reads it: model_max_length of tokenizer_config.json.
    static func maxLength(_ folder: String) throws -> Int {
        let config = try JSONValue.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/tokenizer_config.json"))))
        return Int(try XCTUnwrap(config["model_max_length"]?.int64Value))
    }

    static func ids(_ v: JSONValue?) throws -> [Int32] {
        try XCTUnwrap(v?.arrayValue).map { Int32(try XCTUnwrap($0.int64Value)) }
    }

    func testMatchesHuggingFace() throws {
        let folder = try Self.folder()
        let golden = try Self.golden()
        let maxLength = try Self.maxLength(folder)
        XCTAssertEqual(golden["max_length"]?.int64Value, Int64(maxLength))
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: folder + "/tokenizer.json", maxLength: maxLength)

        let vocab = try XCTUnwrap(golden["vocab"])
        XCTAssertEqual(tokenizer.vocabularySize, Int(try XCTUnwrap(vocab["size"]?.int64Value)))
        XCTAssertEqual(Int64(tokenizer.clsID), vocab["cls"]?.int64Value)
        XCTAssertEqual(Int64(tokenizer.sepID), vocab["sep"]?.int64Value)
        XCTAssertEqual(Int64(tokenizer.padID), vocab["pad"]?.int64Value)
        XCTAssertEqual(Int64(tokenizer.unkID), vocab["unk"]?.int64Value)

        let cases = try XCTUnwrap(golden["cases"]?.arrayValue).map { c in
            Case(note: try XCTUnwrap(c["note"]?.stringValue), text: try XCTUnwrap(c["text"]?.stringValue),
                 ids: try Self.ids(c["ids"]), truncated: try XCTUnwrap(c["truncated"]?.boolValue),
                 plain: try Self.ids(c["plain"]), plainTruncated: try XCTUnwrap(c["plain_truncated"]?.boolValue),
                 decode: try XCTUnwrap(c["decode"]?.stringValue), decodeSpecial: try XCTUnwrap(c["decode_special"]?.stringValue))
        }
        XCTAssertGreaterThanOrEqual(cases.count, 115)
        XCTAssertGreaterThanOrEqual(cases.filter(\.truncated).count, 5, "the golden texts must exercise truncation")
        var failures = 0
        for c in cases {
            let label = "[\(c.note)]"
            let special = tokenizer.encode(c.text)
            if special != .init(ids: c.ids, truncated: c.truncated) {
                failures += 1
                XCTFail("\(label) ids differ\n ours: \(special)\n HF:   \(c.ids) truncated \(c.truncated)")
            }
            let plain = tokenizer.encode(c.text, addSpecial: false)
            if plain != .init(ids: c.plain, truncated: c.plainTruncated) {
                failures += 1
                XCTFail("\(label) plain ids differ\n ours: \(plain)\n HF:   \(c.plain) truncated \(c.plainTruncated)")
            }
            // Decoding HF's own ids, so a decode bug is not hidden by an encode bug.
            XCTAssertEqual(tokenizer.decode(c.ids), c.decode, "\(label) decode")
            XCTAssertEqual(tokenizer.decode(c.ids, skipSpecial: false), c.decodeSpecial, "\(label) decode keeping specials")
        }
        XCTAssertEqual(failures, 0, "\(failures) tokenization mismatches")

        for d in try XCTUnwrap(golden["decodes"]?.arrayValue) {
            let note = d["note"]?.stringValue ?? "?"
            let ids = try Self.ids(d["ids"])
            XCTAssertEqual(tokenizer.decode(ids), d["decode"]?.stringValue, "decode [\(note)]")
            XCTAssertEqual(tokenizer.decode(ids, skipSpecial: false), d["decode_special"]?.stringValue, "decode keeping specials [\(note)]")
        }
    }

    /// The spot check measured with Hugging Face `tokenizers`.
    func testSpotCheck() throws {
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: try Self.folder() + "/tokenizer.json", maxLength: 512)
        XCTAssertEqual(tokenizer.encode("Hello world, this is a test."),
                       .init(ids: [101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 1012, 102], truncated: false))
        XCTAssertEqual(tokenizer.token(7592), "hello")
        XCTAssertEqual(tokenizer.token(101), "[CLS]")
        XCTAssertNil(tokenizer.token(30522))
        XCTAssertNil(tokenizer.token(-1))
    }

    /// The normalizer's output and the pre-tokenizer's class of every code point, hashed as the
    /// golden script hashes HF's (see its docstring), so a difference in any Unicode table shows.
    func testEveryCodePointAgreesWithHuggingFace() throws {
        let folder = try Self.folder()
        let golden = try XCTUnwrap(Self.golden()["codepoints"])
        let normalizer = try WordPieceFile.read(folder + "/tokenizer.json").normalizer
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func feed(_ byte: UInt8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let dumpPath = ProcessInfo.processInfo.environment["REPROLM_WORDPIECE_DUMP"]
        var dump = ""
        var count = 0
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            var normalized: [UInt8] = []
            for s in normalizer.normalize([scalar]) { UTF8.encode(s) { normalized.append($0) } }
            let cls = BertCharacterClass.of(scalar)
            let kind = UInt8(ascii: cls.contains(.whitespace) ? "W" : cls.contains(.punctuation) ? "P" : "-")
            for byte in normalized + [0xFF, kind] { feed(byte) }
            if dumpPath != nil {
                let hex = normalized.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
                dump += "\(String(value, radix: 16, uppercase: true).leftPadded(to: 4)) \(hex) \(Character(Unicode.Scalar(kind)))\n"
            }
            count += 1
        }
        if let dumpPath { try dump.write(toFile: dumpPath, atomically: true, encoding: .utf8) }
        XCTAssertEqual(count, Int(try XCTUnwrap(golden["count"]?.int64Value)))
        XCTAssertEqual(String(hash, radix: 16).leftPadded(to: 16), golden["fnv1a64"]?.stringValue,
                       "diff REPROLM_WORDPIECE_DUMP=FILE against make_wordpiece_golden.py --dump FILE to find the code points")
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
