// A handmade BERT tokenizer.json that exercises what MiniLM's golden texts do not reach: a cased
// normalizer, BertProcessing instead of TemplateProcessing, a short max_input_chars_per_word and
// truncation at a tiny maximum length; and every way a tokenizer.json can be refused. The expected
// ids and texts were produced by Hugging Face `tokenizers` 0.23.3 (Tokenizer.from_str of exactly
// this file, enable_truncation(max_length), encode with and without special tokens, decode with and
// without skip_special_tokens).

import ModelFiles
import ReproJSON
import TestSupport
import Tokenizers
import XCTest

final class WordPieceTinyTests: XCTestCase {
    static let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "world", "##s", "!", ",",
                        "hello", "h", "##e", "##llo", "é", "ca", "##fe", "##fé", "中", "a", "##a"]

    static func file(lowercase: Bool = true) -> [String: JSONValue] {
        let added: [JSONValue] = vocab.prefix(5).enumerated().map { i, content in
            ["id": JSONValue(i), "content": .string(content), "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        var ids: [String: JSONValue] = [:]
        for (i, t) in vocab.enumerated() { ids[t] = JSONValue(i) }
        func special(_ name: String) -> JSONValue { ["SpecialToken": ["id": .string(name), "type_id": 0]] }
        return [
            "version": "1.0", "truncation": nil, "padding": nil, "added_tokens": .array(added),
            "normalizer": ["type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                           "strip_accents": nil, "lowercase": .bool(lowercase)],
            "pre_tokenizer": ["type": "BertPreTokenizer"],
            "post_processor": [
                "type": "TemplateProcessing",
                "single": [special("[CLS]"), ["Sequence": ["id": "A", "type_id": 0]], special("[SEP]")],
                "pair": [special("[CLS]"), ["Sequence": ["id": "A", "type_id": 0]], special("[SEP]"),
                         ["Sequence": ["id": "B", "type_id": 1]], ["SpecialToken": ["id": "[SEP]", "type_id": 1]]],
                "special_tokens": ["[CLS]": ["id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]],
                                   "[SEP]": ["id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]]],
            ],
            "decoder": ["type": "WordPiece", "prefix": "##", "cleanup": true],
            "model": ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 6, "vocab": .object(ids)],
        ]
    }

    static func tokenizer(_ json: [String: JSONValue], maxLength: Int = 512) throws -> WordPieceTokenizer {
        let path = try TemporaryFiles.write(try JSONValue.object(json).serialized(), name: "tokenizer.json")
        defer { TemporaryFiles.remove(path) }
        return try WordPieceTokenizer(tokenizerJSON: path, maxLength: maxLength)
    }

    struct Expected {
        let text: String
        let ids: [Int32]
        let truncated: Bool
        let plain: [Int32]
        let plainTruncated: Bool
        let decode: String
        let decodeSpecial: String
    }

    func check(_ t: WordPieceTokenizer, _ cases: [Expected], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for c in cases {
            XCTAssertEqual(t.encode(c.text), .init(ids: c.ids, truncated: c.truncated), "\(label) \(c.text)", file: file, line: line)
            XCTAssertEqual(t.encode(c.text, addSpecial: false), .init(ids: c.plain, truncated: c.plainTruncated), "\(label) \(c.text) plain", file: file, line: line)
            XCTAssertEqual(t.decode(c.ids), c.decode, "\(label) \(c.text) decode", file: file, line: line)
            XCTAssertEqual(t.decode(c.ids, skipSpecial: false), c.decodeSpecial, "\(label) \(c.text) decode keeping specials", file: file, line: line)
        }
    }

    static let uncased: [Expected] = [
        .init(text: "unaff worlds!", ids: [2, 5, 6, 8, 9, 10, 3], truncated: false, plain: [5, 6, 8, 9, 10], plainTruncated: false,
              decode: "unaff worlds!", decodeSpecial: "[CLS] unaff worlds! [SEP]"),
        .init(text: "Hello, WORLD [SEP]x[MASK]", ids: [2, 12, 11, 8, 3, 1, 4, 3], truncated: false, plain: [12, 11, 8, 3, 1, 4], plainTruncated: false,
              decode: "hello, world", decodeSpecial: "[CLS] hello, world [SEP] [UNK] [MASK] [SEP]"),
        .init(text: "Café 中文", ids: [2, 17, 18, 20, 1, 3], truncated: false, plain: [17, 18, 20, 1], plainTruncated: false,
              decode: "cafe 中", decodeSpecial: "[CLS] cafe 中 [UNK] [SEP]"),
        .init(text: "aaaaaa aaaaaaa", ids: [2, 21, 22, 22, 22, 22, 22, 1, 3], truncated: false, plain: [21, 22, 22, 22, 22, 22, 1], plainTruncated: false,
              decode: "aaaaaa", decodeSpecial: "[CLS] aaaaaa [UNK] [SEP]"),
        .init(text: "unaffablex", ids: [2, 1, 3], truncated: false, plain: [1], plainTruncated: false, decode: "", decodeSpecial: "[CLS] [UNK] [SEP]"),
    ]

    func testUncased() throws {
        check(try Self.tokenizer(Self.file()), Self.uncased, "uncased")
    }

    func testBertProcessingEqualsTheTemplate() throws {
        var json = Self.file()
        json["post_processor"] = ["type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]]
        let t = try Self.tokenizer(json)
        XCTAssertEqual([t.clsID, t.sepID, t.padID, t.unkID], [2, 3, 0, 1])
        check(t, Self.uncased, "BertProcessing")
    }

    func testCased() throws {
        check(try Self.tokenizer(Self.file(lowercase: false)), [
            .init(text: "Hello, WORLD [SEP]x[MASK]", ids: [2, 1, 11, 1, 3, 1, 4, 3], truncated: false, plain: [1, 11, 1, 3, 1, 4], plainTruncated: false,
                  decode: ",", decodeSpecial: "[CLS] [UNK], [UNK] [SEP] [UNK] [MASK] [SEP]"),
            .init(text: "café Café", ids: [2, 17, 19, 1, 3], truncated: false, plain: [17, 19, 1], plainTruncated: false,
                  decode: "café", decodeSpecial: "[CLS] café [UNK] [SEP]"),
        ], "cased")
    }

    func testTruncationAtFive() throws {
        check(try Self.tokenizer(Self.file(), maxLength: 5), [
            .init(text: "unaff worlds!", ids: [2, 5, 6, 8, 3], truncated: true, plain: [5, 6, 8, 9, 10], plainTruncated: false,
                  decode: "unaff world", decodeSpecial: "[CLS] unaff world [SEP]"),
            .init(text: "Hello, WORLD [SEP]x[MASK]", ids: [2, 12, 11, 8, 3], truncated: true, plain: [12, 11, 8, 3, 1], plainTruncated: true,
                  decode: "hello, world", decodeSpecial: "[CLS] hello, world [SEP]"),
            .init(text: "café Café", ids: [2, 17, 18, 17, 3], truncated: true, plain: [17, 18, 17, 18], plainTruncated: false,
                  decode: "cafe ca", decodeSpecial: "[CLS] cafe ca [SEP]"),
            .init(text: "hello world hello", ids: [2, 12, 8, 12, 3], truncated: false, plain: [12, 8, 12], plainTruncated: false,
                  decode: "hello world hello", decodeSpecial: "[CLS] hello world hello [SEP]"),
        ], "max 5")
    }

    // MARK: Refused files

    func refused(_ change: (inout [String: JSONValue]) -> Void, maxLength: Int = 512) -> WordPieceError? {
        var json = Self.file()
        change(&json)
        do {
            _ = try Self.tokenizer(json, maxLength: maxLength)
            return nil
        } catch {
            return error as? WordPieceError
        }
    }

    func field(_ path: String, _ message: String) -> WordPieceError { .field(JSONFieldError(path: path, message: message)) }

    func testRefusedFiles() throws {
        let cases: [(String, WordPieceError?, WordPieceError)] = [
            ("version 2.0", refused { $0["version"] = "2.0" }, .unsupported("version 2.0 (supported: 1.0)")),
            ("unknown top-level key", refused { $0["extra"] = 1 }, field("tokenizer.json.extra", "is not a known parameter")),
            ("normalizer missing", refused { $0["normalizer"] = nil }, field("tokenizer.json.normalizer", "is required (a BertNormalizer)")),
            ("other normalizer", refused { $0["normalizer"] = ["type": "Lowercase"] }, .unsupported("normalizer Lowercase (supported: BertNormalizer)")),
            ("unknown normalizer option", refused { $0["normalizer"] = ["type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                                                                         "lowercase": true, "nfkc": true] },
             field("tokenizer.json.normalizer.nfkc", "is not a known parameter")),
            ("normalizer option missing", refused { $0["normalizer"] = ["type": "BertNormalizer", "clean_text": true, "lowercase": true] },
             field("tokenizer.json.normalizer.handle_chinese_chars", "is required")),
            ("normalizer option mistyped", refused { $0["normalizer"] = ["type": "BertNormalizer", "clean_text": 1, "handle_chinese_chars": true, "lowercase": true] },
             field("tokenizer.json.normalizer.clean_text", "must be a boolean, not integer")),
            ("other pre-tokenizer", refused { $0["pre_tokenizer"] = ["type": "Whitespace"] }, .unsupported("pre_tokenizer Whitespace (supported: BertPreTokenizer)")),
            ("other model", refused { $0["model"] = ["type": "BPE"] }, .unsupported("model BPE (supported: WordPiece)")),
            ("other decoder", refused { $0["decoder"] = ["type": "ByteLevel"] }, .unsupported("decoder ByteLevel (supported: WordPiece)")),
            ("other post-processor", refused { $0["post_processor"] = ["type": "RobertaProcessing"] },
             .unsupported("post_processor RobertaProcessing (supported: TemplateProcessing, BertProcessing)")),
            ("no post-processor", refused { $0["post_processor"] = nil },
             field("tokenizer.json.post_processor", "is required (TemplateProcessing or BertProcessing)")),
            ("template without [SEP]", refused {
                $0["post_processor"] = ["type": "TemplateProcessing", "single": [["SpecialToken": ["id": "[CLS]", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                                        "special_tokens": ["[CLS]": ["id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]]]]
            }, .unsupported("a single-sequence template other than [CLS] $A [SEP]")),
            ("template naming an undefined token", refused {
                $0["post_processor"] = ["type": "TemplateProcessing", "single": [["SpecialToken": ["id": "[BOS]", "type_id": 0]]], "special_tokens": [:]]
            }, field("tokenizer.json.post_processor.special_tokens.[BOS]", "is required by tokenizer.json.post_processor.single[0]")),
            ("template with type id 1", refused {
                $0["post_processor"] = ["type": "TemplateProcessing", "single": [["Sequence": ["id": "A", "type_id": 1]]], "special_tokens": [:]]
            }, field("tokenizer.json.post_processor.single[0].Sequence.type_id", "must be between 0 and 0, not 1")),
            ("BertProcessing id not matching", refused { $0["post_processor"] = ["type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 7]] },
             .invalidVocabulary("cls token '[CLS]' does not have id 7")),
            ("vocabulary id out of range", refused { $0["model"] = Self.model(vocab: ["[UNK]": 0, "a": 2]) }, .invalidVocabulary("'a' has id 2, outside 0..<2")),
            ("vocabulary id twice", refused { $0["model"] = Self.model(vocab: ["[UNK]": 0, "a": 0]) }, .invalidVocabulary("id 0 is given twice")),
            ("vocabulary id a string", refused { $0["model"] = Self.model(vocab: ["[UNK]": "0"]) }, field("tokenizer.json.model.vocab.[UNK]", "must be an integer, not string")),
            ("empty vocabulary", refused { $0["model"] = Self.model(vocab: [:]) }, .invalidVocabulary("the vocabulary is empty")),
            ("unk_token not in the vocabulary", refused { $0["model"] = Self.model(vocab: ["a": 0]) }, .invalidVocabulary("unk_token '[UNK]' is not in the vocabulary")),
            ("max_input_chars_per_word 0", refused { $0["model"] = Self.model(vocab: ["[UNK]": 0], maxChars: 0) },
             field("tokenizer.json.model.max_input_chars_per_word", "must be between 1 and 1000000, not 0")),
            ("added token with lstrip", refused { $0["added_tokens"] = [["id": 4, "content": "[MASK]", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true]] },
             .unsupported("added token '[MASK]' with lstrip (supported: none of single_word, lstrip, rstrip, normalized)")),
            ("added token not in the vocabulary", refused { $0["added_tokens"] = [["id": 4, "content": "<mask>", "special": true]] },
             .unsupported("added token '<mask>' (id 4) differs from its vocabulary entry")),
            ("padding token not in the vocabulary", refused { $0["padding"] = ["pad_token": "<pad>", "pad_id": 0] }, .invalidVocabulary("pad_token '<pad>' is not in the vocabulary")),
            ("maximum length 2", refused({ _ in }, maxLength: 2), .maxLengthTooSmall(maxLength: 2, specialTokens: 2)),
        ]
        XCTAssertEqual(Set(cases.map(\.0)).count, cases.count)
        for (name, error, expected) in cases {
            XCTAssertEqual(error, expected, name)
            XCTAssertFalse(expected.description.isEmpty)
        }
    }

    static func model(vocab: [String: JSONValue], maxChars: Int64 = 100) -> JSONValue {
        ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": .int(maxChars), "vocab": .object(vocab)]
    }

    func testUnreadableFiles() throws {
        XCTAssertThrowsError(try WordPieceTokenizer(tokenizerJSON: "/nonexistent/tokenizer.json", maxLength: 512)) {
            XCTAssertEqual($0 as? WordPieceError, .file(.openFailed(path: "/nonexistent/tokenizer.json", errno: 2)))
        }
        let path = try TemporaryFiles.write(Array("{\"version\": ".utf8), name: "tokenizer.json")
        defer { TemporaryFiles.remove(path) }
        XCTAssertThrowsError(try WordPieceTokenizer(tokenizerJSON: path, maxLength: 512)) { error in
            guard case .file(.notJSON(let p, _))? = error as? WordPieceError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
        }
    }
}
