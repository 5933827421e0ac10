// A tokenizer.json that is malformed, inconsistent or asks for something ByteLevelBPETokenizer does
// not implement gives a typed error naming the problem, never a trap or a huge allocation; a
// tokenizer that does load never traps on any input. Built on a tiny valid file (the 256 byte
// characters, two merges, Whisper-like added tokens) changed one way per case.

import Foundation
import ModelFiles
import ReproJSON
@testable import Tokenizers
import XCTest

final class ByteLevelBPEErrorTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-errors-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Whisper's added tokens past a 258-token vocabulary (256 bytes, "ab", "Ġa").
    static let addedTokens = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|de|>", "<|translate|>",
                              "<|transcribe|>", "<|startofprev|>", "<|notimestamps|>"]

    static func byteCharacter(_ byte: Int) -> String {
        String(decoding: ByteLevel.utf8ForByte[byte], as: UTF8.self)
    }

    /// The tiny valid file, as an object to change.
    static func tiny() -> [String: JSONValue] {
        var vocab: [String: JSONValue] = [:]
        for byte in 0..<256 { vocab[byteCharacter(byte)] = .int(Int64(byte)) }
        vocab["ab"] = .int(256)
        vocab["Ġa"] = .int(257)
        let added: [JSONValue] = addedTokens.enumerated().map { i, content in
            .object(["id": .int(Int64(258 + i)), "content": .string(content), "single_word": .bool(false),
                     "lstrip": .bool(false), "rstrip": .bool(false), "normalized": .bool(false), "special": .bool(true)])
        }
        return [
            "version": .string("1.0"), "truncation": .null, "padding": .null, "normalizer": .null,
            "added_tokens": .array(added),
            "pre_tokenizer": .object(["type": .string("ByteLevel"), "add_prefix_space": .bool(false),
                                      "trim_offsets": .bool(true), "use_regex": .bool(true)]),
            "post_processor": .null,
            "decoder": .object(["type": .string("ByteLevel"), "add_prefix_space": .bool(true),
                                "trim_offsets": .bool(true), "use_regex": .bool(true)]),
            "model": .object(["type": .string("BPE"), "dropout": .null, "unk_token": .null,
                              "continuing_subword_prefix": .string(""), "end_of_word_suffix": .string(""),
                              "fuse_unk": .bool(false), "vocab": .object(vocab),
                              "merges": .array([.string("a b"), .string("Ġ a")])]),
        ]
    }

    private func write(_ top: [String: JSONValue]) throws -> String {
        let path = directory.appendingPathComponent("\(UUID().uuidString).json").path
        try Data(try JSONValue.object(top).serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `change` applied to the tiny file's model section.
    private func withModel(_ change: (inout [String: JSONValue]) -> Void) -> [String: JSONValue] {
        var top = Self.tiny()
        var model = top["model"]!.objectValue!
        change(&model)
        top["model"] = .object(model)
        return top
    }

    private func assertRefused(_ top: [String: JSONValue], _ matches: (ByteLevelBPEError) -> Bool,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try write(top)
        XCTAssertThrowsError(try ByteLevelBPETokenizer(tokenizerJSON: path), file: file, line: line) { error in
            guard let error = error as? ByteLevelBPEError else {
                return XCTFail("not a ByteLevelBPEError: \(error)", file: file, line: line)
            }
            XCTAssertTrue(matches(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.isEmpty, file: file, line: line)
        }
    }

    private func isUnsupported(_ needle: String) -> (ByteLevelBPEError) -> Bool {
        { if case .unsupported(let what) = $0 { return what.contains(needle) } else { return false } }
    }

    private func isInvalidVocabulary(_ needle: String) -> (ByteLevelBPEError) -> Bool {
        { if case .invalidVocabulary(let why) = $0 { return why.contains(needle) } else { return false } }
    }

    private func isInvalidMerge(_ needle: String) -> (ByteLevelBPEError) -> Bool {
        { if case .invalidMerge(let why) = $0 { return why.contains(needle) } else { return false } }
    }

    private func isField(_ path: String) -> (ByteLevelBPEError) -> Bool {
        { if case .field(let e) = $0 { return e.path == path } else { return false } }
    }

    // MARK: The tiny file itself

    /// The tiny file loads; any text round-trips through encode and decode (byte-level BPE loses
    /// nothing), every id is in the vocabulary, and hostile ids decode to nothing.
    func testTinyFileLoadsAndNeverTraps() throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: try write(Self.tiny()))
        XCTAssertEqual(tokenizer.vocabularySize, 258 + Self.addedTokens.count)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                let pick = Int.random(in: 0..<4, using: &generator)
                let value: UInt32 = pick == 0 ? UInt32.random(in: 0...0x7F, using: &generator)
                    : pick == 1 ? UInt32.random(in: 0...0x10FFFF, using: &generator)
                    : pick == 2 ? [0x20, 0x61, 0x62, 0x0A, 0x27][Int.random(in: 0..<5, using: &generator)]
                    : 0x3C   // "<", so that special-token text appears below
                if let s = Unicode.Scalar(value) { scalars.append(s) }
            }
            var text = String(scalars)
            if round % 3 == 0 { text += Self.addedTokens[round % Self.addedTokens.count] + text }
            let ids = tokenizer.encode(text)
            XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize }, "\(ids)")
            XCTAssertEqual(tokenizer.decode(ids, skipSpecial: false), text)
            let unparsed = tokenizer.encode(text, parseSpecial: false)
            XCTAssertFalse(unparsed.contains { tokenizer.isSpecial($0) })
            XCTAssertEqual(tokenizer.decode(unparsed, skipSpecial: false), text)
        }
        XCTAssertEqual(tokenizer.decode([-1, Int32.min, Int32.max, Int32(tokenizer.vocabularySize)]), "")
        XCTAssertNil(tokenizer.tokenText(-1))
        XCTAssertNil(tokenizer.tokenID("not a token"))
    }

    // MARK: Merges

    func testMalformedMerges() throws {
        try assertRefused(withModel { $0["merges"] = .array([.string("a b c")]) }, isInvalidMerge("merges[0]"))
        try assertRefused(withModel { $0["merges"] = .array([.string("ab")]) }, isInvalidMerge("not two pieces"))
        try assertRefused(withModel { $0["merges"] = .array([.string("a  b")]) }, isInvalidMerge("not two pieces"))
        try assertRefused(withModel { $0["merges"] = .array([.string("a b"), .string("a zz")]) }, isInvalidMerge("'zz'"))
        // "ba" is not a token, so merging b and a cannot be.
        try assertRefused(withModel { $0["merges"] = .array([.string("b a")]) }, isInvalidMerge("'ba'"))
        try assertRefused(withModel { $0["merges"] = .array([.array([.string("a"), .string("b"), .string("c")])]) },
                          isField("tokenizer.json.model.merges[0]"))
        try assertRefused(withModel { $0["merges"] = .array([.array([.string("a"), .string("b")]), .string("Ġ a")]) },
                          isField("tokenizer.json.model.merges[1]"))
        try assertRefused(withModel { $0["merges"] = .array([.string("a b"), .string("Ġ a"), .string("a b")]) },
                          isInvalidMerge("repeats the pair of tokenizer.json.model.merges[0]"))
        try assertRefused(withModel { $0["merges"] = .string("a b") }, isField("tokenizer.json.model.merges"))
        try assertRefused(withModel { $0["merges"] = nil }, isField("tokenizer.json.model.merges"))
    }

    /// Both forms of the same merges give the same tokenizer.
    func testPairMergesEqualStringMerges() throws {
        let strings = try ByteLevelBPETokenizer(tokenizerJSON: try write(Self.tiny()))
        let pairs = try ByteLevelBPETokenizer(tokenizerJSON: try write(withModel {
            $0["merges"] = .array([.array([.string("a"), .string("b")]), .array([.string("Ġ"), .string("a")])])
        }))
        for text in ["ab", " ab a b", "aab bab  a", "<|en|>ab"] {
            XCTAssertEqual(strings.encode(text), pairs.encode(text), text)
        }
        // The merges apply at all: "ab" is one token, not two bytes.
        XCTAssertEqual(pairs.encode("ab"), [try XCTUnwrap(pairs.tokenID("ab"))])
    }

    // MARK: Vocabulary

    func testInvalidVocabulary() throws {
        try assertRefused(withModel { model in
            var vocab = model["vocab"]!.objectValue!
            vocab["ab"] = .int(5)
            model["vocab"] = .object(vocab)
        }, isInvalidVocabulary("id 5 is given twice"))
        try assertRefused(withModel { model in
            var vocab = model["vocab"]!.objectValue!
            vocab["ab"] = .int(300)
            model["vocab"] = .object(vocab)
        }, isInvalidVocabulary("outside 0..<258"))
        try assertRefused(withModel { model in
            var vocab = model["vocab"]!.objectValue!
            vocab["ab"] = .int(-1)
            model["vocab"] = .object(vocab)
        }, isInvalidVocabulary("outside"))
        try assertRefused(withModel { model in
            var vocab = model["vocab"]!.objectValue!
            vocab["ab"] = .string("256")
            model["vocab"] = .object(vocab)
        }, isField("tokenizer.json.model.vocab.ab"))
        // Byte 0's character removed, and "ab" moved down to keep the ids dense.
        try assertRefused(withModel { model in
            var vocab = model["vocab"]!.objectValue!
            vocab[Self.byteCharacter(0)] = nil
            vocab["Ġa"] = .int(0)
            model["vocab"] = .object(vocab)
            model["merges"] = .array([.string("a b")])
        }, isInvalidVocabulary("byte 0x0 has no token"))
        try assertRefused(withModel { $0["vocab"] = .array([]) }, isField("tokenizer.json.model.vocab"))
    }

    func testUnsupportedModel() throws {
        try assertRefused(withModel { $0["type"] = .string("Unigram") }, isUnsupported("model type Unigram"))
        try assertRefused(withModel { $0["type"] = .string("WordPiece") }, isUnsupported("model type WordPiece"))
        try assertRefused(withModel { $0["dropout"] = .double(0.1) }, isUnsupported("model.dropout"))
        try assertRefused(withModel { $0["continuing_subword_prefix"] = .string("##") },
                          isUnsupported("continuing_subword_prefix"))
        try assertRefused(withModel { $0["end_of_word_suffix"] = .string("</w>") }, isUnsupported("end_of_word_suffix"))
        try assertRefused(withModel { $0["surprise"] = .bool(true) }, isField("tokenizer.json.model.surprise"))
        var noModel = Self.tiny()
        noModel["model"] = nil
        try assertRefused(noModel, isField("tokenizer.json.model"))
    }

    // MARK: Stages

    func testUnsupportedStages() throws {
        func with(_ key: String, _ value: JSONValue) -> [String: JSONValue] {
            var top = Self.tiny()
            top[key] = value
            return top
        }
        func object(_ pairs: [String: JSONValue]) -> JSONValue { .object(pairs) }
        let split = object(["type": .string("Split"), "pattern": object(["Regex": .string(HFByteLevelPreTokenization.gpt2Pattern)]),
                            "behavior": .string("Isolated"), "invert": .bool(false)])
        let byteLevel = object(["type": .string("ByteLevel"), "add_prefix_space": .bool(false), "use_regex": .bool(false)])

        try assertRefused(with("pre_tokenizer", object(["type": .string("Metaspace")])), isUnsupported("pre_tokenizer Metaspace"))
        try assertRefused(with("pre_tokenizer", .null), isUnsupported("pre_tokenizer null"))
        try assertRefused(with("pre_tokenizer", object(["type": .string("Sequence"), "pretokenizers": .array([split, byteLevel, byteLevel])])),
                          isUnsupported("Sequence [Split, ByteLevel, ByteLevel]"))
        try assertRefused(with("pre_tokenizer", object(["type": .string("Sequence"), "pretokenizers": .array([byteLevel, split])])),
                          isUnsupported("Sequence [ByteLevel, Split]"))
        var qwenSplit = split.objectValue!
        qwenSplit["pattern"] = object(["Regex": .string(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+"#)])
        try assertRefused(with("pre_tokenizer", object(["type": .string("Sequence"), "pretokenizers": .array([.object(qwenSplit), byteLevel])])),
                          isUnsupported("supported: the GPT-2 pattern"))
        var removedSplit = split.objectValue!
        removedSplit["behavior"] = .string("Removed")
        try assertRefused(with("pre_tokenizer", object(["type": .string("Sequence"), "pretokenizers": .array([.object(removedSplit), byteLevel])])),
                          isUnsupported("Removed"))
        var regexByteLevel = byteLevel.objectValue!
        regexByteLevel["use_regex"] = .bool(true)
        try assertRefused(with("pre_tokenizer", object(["type": .string("Sequence"), "pretokenizers": .array([split, .object(regexByteLevel)])])),
                          isUnsupported("use_regex after a Split"))

        try assertRefused(with("normalizer", object(["type": .string("NFC")])), isUnsupported("normalizer NFC"))
        try assertRefused(with("decoder", .null), isUnsupported("decoder null"))
        try assertRefused(with("decoder", object(["type": .string("Metaspace")])), isUnsupported("decoder Metaspace"))
        try assertRefused(with("post_processor", object(["type": .string("RobertaProcessing")])),
                          isUnsupported("post_processor RobertaProcessing"))
        try assertRefused(with("truncation", object(["max_length": .int(448)])), isUnsupported("truncation"))
        try assertRefused(with("padding", object(["pad_id": .int(0)])), isUnsupported("padding"))
        try assertRefused(with("version", .string("2.0")), isUnsupported("version 2.0"))
        try assertRefused(with("surprise", .int(1)), isField("tokenizer.json.surprise"))
    }

    // MARK: Added tokens

    func testInvalidAddedTokens() throws {
        func withAdded(_ change: (inout [JSONValue]) -> Void) -> [String: JSONValue] {
            var top = Self.tiny()
            var added = top["added_tokens"]!.arrayValue!
            change(&added)
            top["added_tokens"] = .array(added)
            return top
        }
        func token(_ id: Int64, _ content: String, _ extra: [String: JSONValue] = [:]) -> JSONValue {
            var fields: [String: JSONValue] = ["id": .int(id), "content": .string(content), "special": .bool(true)]
            for (k, v) in extra { fields[k] = v }
            return .object(fields)
        }
        let next = Int64(258 + Self.addedTokens.count)
        try assertRefused(withAdded { $0.append(token(next + 1, "<|gap|>")) }, isInvalidVocabulary("Hugging Face gives it \(next)"))
        try assertRefused(withAdded { $0.append(token(next, "ab")) }, isInvalidVocabulary("Hugging Face gives it 256"))
        try assertRefused(withAdded { $0.append(token(next, "<|en|>")) }, isInvalidVocabulary("is given twice"))
        try assertRefused(withAdded { $0.append(token(next, "<|x|>", ["lstrip": .bool(true)])) }, isUnsupported("lstrip"))
        try assertRefused(withAdded { $0.append(token(next, "<|x|>", ["single_word": .bool(true)])) }, isUnsupported("single_word"))
        try assertRefused(withAdded { $0.append(token(next, "")) }, isField("tokenizer.json.added_tokens[8].content"))
        try assertRefused(withAdded { $0.append(token(Int64(Int32.max) + 1, "<|x|>")) }, isField("tokenizer.json.added_tokens[8].id"))
    }

    // MARK: The file

    func testUnreadableFiles() throws {
        let big = directory.appendingPathComponent("big.json").path
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: big))
        try handle.truncate(atOffset: UInt64(ByteLevelBPEFile.maxFileBytes + 1))   // sparse: costs no disk
        try handle.close()
        XCTAssertThrowsError(try ByteLevelBPETokenizer(tokenizerJSON: big)) { error in
            XCTAssertEqual(error as? ByteLevelBPEError,
                           .file(.tooLarge(path: big, size: ByteLevelBPEFile.maxFileBytes + 1, limit: ByteLevelBPEFile.maxFileBytes)))
        }
        let notJSON = directory.appendingPathComponent("not.json").path
        try Data("{\"version\": \"1.0\", ".utf8).write(to: URL(fileURLWithPath: notJSON))
        XCTAssertThrowsError(try ByteLevelBPETokenizer(tokenizerJSON: notJSON)) { error in
            guard case .file(.notJSON)? = error as? ByteLevelBPEError else { return XCTFail("\(error)") }
        }
        let missing = directory.appendingPathComponent("missing.json").path
        XCTAssertThrowsError(try ByteLevelBPETokenizer(tokenizerJSON: missing)) { error in
            guard case .file(.openFailed)? = error as? ByteLevelBPEError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ByteLevelBPETokenizer(tokenizerJSON: directory.path)) { error in
            guard case .file(.notARegularFile)? = error as? ByteLevelBPEError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ByteLevelBPETokenizer(tokenizerJSON: try write(["version": .string("1.0")]))) { error in
            XCTAssertEqual(error as? ByteLevelBPEError, .field(JSONFieldError(path: "tokenizer.json.model", message: "is required (a BPE model)")))
        }
    }

    // MARK: Whisper's special tokens

    func testWhisperSpecialTokensOfTheTinyFile() throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: try write(Self.tiny()))
        let whisper = try WhisperSpecialTokens(tokenizer)
        XCTAssertEqual(whisper.languageCodes, ["en", "de"])
        XCTAssertEqual(whisper.language("de"), tokenizer.tokenID("<|de|>"))
        XCTAssertEqual(whisper.timestampBegin, Int32(tokenizer.vocabularySize))
        XCTAssertNil(whisper.startOfLM)
        XCTAssertNil(whisper.noSpeech)
    }

    func testNotAWhisperTokenizer() throws {
        func whisperError(_ top: [String: JSONValue]) throws -> WhisperTokenError? {
            let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: try write(top))
            do {
                _ = try WhisperSpecialTokens(tokenizer)
                return nil
            } catch let error as WhisperTokenError {
                XCTAssertFalse(error.description.isEmpty)
                return error
            }
        }
        func renaming(_ content: String, to newContent: String, special: Bool = true) -> [String: JSONValue] {
            var top = Self.tiny()
            top["added_tokens"] = .array(top["added_tokens"]!.arrayValue!.map { token in
                guard var fields = token.objectValue, fields["content"]?.stringValue == content else { return token }
                fields["content"] = .string(newContent)
                fields["special"] = .bool(special)
                return .object(fields)
            })
            return top
        }
        XCTAssertEqual(try whisperError(renaming("<|transcribe|>", to: "<|transcribes|>")), .missing("<|transcribe|>"))
        XCTAssertEqual(try whisperError(renaming("<|transcribe|>", to: "<|transcribe|>", special: false)), .notSpecial("<|transcribe|>"))
        XCTAssertEqual(try whisperError(renaming("<|de|>", to: "de")), .layout("id 261, between <|startoftranscript|> and <|translate|>, is not a language token"))
        var extra = Self.tiny()
        extra["added_tokens"] = .array(extra["added_tokens"]!.arrayValue! + [
            .object(["id": .int(266), "content": .string("<|extra|>"), "special": .bool(true)]),
        ])
        XCTAssertEqual(try whisperError(extra), .layout("the ids after <|notimestamps|> are not timestamps"))
    }
}
