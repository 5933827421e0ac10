// Reading a BERT-style tokenizer.json (Hugging Face `tokenizers` serialization, version "1.0")
// into the stages of WordPieceTokenizer. Every stage object is read strictly: an unknown option
// could change the ids, so it is an error rather than ignored. Two top-level sections are read
// but not used: `truncation` (the caller's maxLength decides) and `padding` (encode never pads;
// only its pad token is kept, for the caller's batches).

import ModelFiles
import ReproJSON

/// The stages a tokenizer.json describes, checked against each other.
struct WordPieceFile {
    var normalizer: BertNormalizer
    var model: WordPieceModel
    var decoder: WordPieceDecoder
    var addedTokens: [(content: String, id: Int32, special: Bool)]
    /// The single-sequence template: [CLS] $A [SEP].
    var cls: Int32
    var sep: Int32
    var pad: Int32

    /// tokenizer.json of a large multilingual model is about 20 MB.
    static let maxFileBytes = 64 << 20

    static func read(_ path: String) throws -> WordPieceFile {
        let json: JSONValue
        do {
            json = try JSONFile.read(path, maxBytes: maxFileBytes)
        } catch let error as JSONFileError {
            throw WordPieceError.file(error)
        }
        do {
            return try read(json)
        } catch let error as JSONFieldError {
            throw WordPieceError.field(error)
        }
    }

    static func read(_ json: JSONValue) throws -> WordPieceFile {
        var top = try JSONObjectReader(json, path: "tokenizer.json")
        let version = try top.string("version")
        guard version == "1.0" else { throw WordPieceError.unsupported("version \(version) (supported: 1.0)") }
        _ = top.value("truncation")
        let padding = try top.optionalObject("padding")

        var modelReader = try stage(&top, "model", type: "WordPiece")
        let vocabulary = try readVocabulary(&modelReader)
        func id(of token: String) -> Int32? { vocabulary.id(of: token) }
        let unkToken = try modelReader.string("unk_token")
        guard let unk = id(of: unkToken) else { throw WordPieceError.invalidVocabulary("unk_token '\(unkToken)' is not in the vocabulary") }
        let prefix = try modelReader.string("continuing_subword_prefix")
        let maxChars = try modelReader.int("max_input_chars_per_word", in: 1...1_000_000)
        try modelReader.finish()
        let model = WordPieceModel(vocabulary: vocabulary, unknown: unk, continuingPrefix: Array(prefix.utf8),
                                   maxInputCharacters: Int(maxChars))

        var normalizerReader = try stage(&top, "normalizer", type: "BertNormalizer")
        let lowercase = try required(normalizerReader.optionalBool("lowercase"), normalizerReader, "lowercase")
        let normalizer = BertNormalizer(
            cleanText: try required(normalizerReader.optionalBool("clean_text"), normalizerReader, "clean_text"),
            handleChineseChars: try required(normalizerReader.optionalBool("handle_chinese_chars"), normalizerReader, "handle_chinese_chars"),
            // null: strip accents exactly when lowercasing, as HF does.
            stripAccents: try normalizerReader.optionalBool("strip_accents") ?? lowercase,
            lowercase: lowercase)
        try normalizerReader.finish()

        try stage(&top, "pre_tokenizer", type: "BertPreTokenizer").finish()

        var decoderReader = try stage(&top, "decoder", type: "WordPiece")
        let decoder = WordPieceDecoder(
            continuingPrefix: Array(try decoderReader.string("prefix").utf8),
            cleanup: try required(decoderReader.optionalBool("cleanup"), decoderReader, "cleanup"))
        try decoderReader.finish()

        let added = try readAddedTokens(top.optionalArray("added_tokens"), vocabulary: vocabulary, path: top.fieldPath("added_tokens"))
        let (cls, sep) = try readPostProcessor(&top, vocabularySize: vocabulary.count, id: id)
        try top.finish()

        let pad: Int32
        if var padding {
            let token = try padding.string("pad_token")
            guard let padID = id(of: token) else { throw WordPieceError.invalidVocabulary("pad_token '\(token)' is not in the vocabulary") }
            pad = padID
        } else if let padID = id(of: "[PAD]") {
            pad = padID
        } else {
            throw WordPieceError.invalidVocabulary("no padding token: no padding section and no [PAD]")
        }

        return WordPieceFile(normalizer: normalizer, model: model, decoder: decoder,
                             addedTokens: added, cls: cls, sep: sep, pad: pad)
    }

    /// The reader of a stage object whose `type` must be `type`.
    private static func stage(_ top: inout JSONObjectReader, _ key: String, type: String) throws -> JSONObjectReader {
        guard var reader = try top.optionalObject(key) else {
            throw JSONFieldError(path: top.fieldPath(key), message: "is required (a \(type))")
        }
        let found = try reader.string("type")
        guard found == type else { throw WordPieceError.unsupported("\(key) \(found) (supported: \(type))") }
        return reader
    }

    private static func required<T>(_ value: T?, _ reader: JSONObjectReader, _ key: String) throws -> T {
        guard let value else { throw JSONFieldError(path: reader.fieldPath(key), message: "is required") }
        return value
    }

    // MARK: Vocabulary

    /// model.vocab: text -> id, with ids exactly 0..<count, and at least one.
    private static func readVocabulary(_ model: inout JSONObjectReader) throws -> TokenTextTable {
        let texts = try TokenTextTable.readDense(&model, invalid: WordPieceError.invalidVocabulary)
        guard texts.count > 0 else { throw WordPieceError.invalidVocabulary("the vocabulary is empty") }
        return texts
    }

    // MARK: Added tokens

    /// added_tokens: only tokens matched on the raw text, as BERT's are; each must be its
    /// vocabulary entry.
    private static func readAddedTokens(_ array: [JSONValue]?, vocabulary: TokenTextTable, path: String) throws -> [(content: String, id: Int32, special: Bool)] {
        var tokens: [(content: String, id: Int32, special: Bool)] = []
        for (i, value) in (array ?? []).enumerated() {
            var reader = try JSONObjectReader(value, path: "\(path)[\(i)]")
            let id = try reader.int("id", in: 0...Int64(vocabulary.count - 1))
            let content = try reader.string("content")
            guard vocabulary.text(Int(id)).elementsEqual(content.utf8) else {
                throw WordPieceError.unsupported("added token '\(content)' (id \(id)) differs from its vocabulary entry")
            }
            for flag in ["single_word", "lstrip", "rstrip", "normalized"] {
                if try reader.optionalBool(flag) == true {
                    throw WordPieceError.unsupported("added token '\(content)' with \(flag) (supported: none of single_word, lstrip, rstrip, normalized)")
                }
            }
            let special = try reader.optionalBool("special") ?? false
            try reader.finish()
            tokens.append((content, Int32(id), special))
        }
        return tokens
    }

    // MARK: Post-processor

    /// The [CLS] and [SEP] ids of a TemplateProcessing or BertProcessing post-processor.
    private static func readPostProcessor(_ top: inout JSONObjectReader, vocabularySize: Int, id: (String) -> Int32?) throws -> (Int32, Int32) {
        guard var reader = try top.optionalObject("post_processor") else {
            throw JSONFieldError(path: top.fieldPath("post_processor"), message: "is required (TemplateProcessing or BertProcessing)")
        }
        let type = try reader.string("type")
        let pair: (Int32, Int32)
        switch type {
        case "TemplateProcessing": pair = try readTemplate(&reader, vocabularySize: vocabularySize)
        case "BertProcessing": pair = try (readBertToken(&reader, "cls", id: id), readBertToken(&reader, "sep", id: id))
        default: throw WordPieceError.unsupported("post_processor \(type) (supported: TemplateProcessing, BertProcessing)")
        }
        try reader.finish()
        return pair
    }

    /// BertProcessing's "cls"/"sep": [token, id].
    private static func readBertToken(_ reader: inout JSONObjectReader, _ key: String, id: (String) -> Int32?) throws -> Int32 {
        let path = reader.fieldPath(key)
        guard let items = try reader.optionalArray(key), items.count == 2,
              let token = items[0].stringValue, case .int(let value) = items[1] else {
            throw JSONFieldError(path: path, message: "must be [token, id]")
        }
        guard id(token) == Int32(clamping: value) else {
            throw WordPieceError.invalidVocabulary("\(key) token '\(token)' does not have id \(value)")
        }
        return Int32(clamping: value)
    }

    /// TemplateProcessing's single-sequence template must be one special token, $A, one special
    /// token, all with type id 0 (so callers may give BERT zeros for token types). The pair
    /// template is not used: only single sequences are encoded.
    private static func readTemplate(_ reader: inout JSONObjectReader, vocabularySize: Int) throws -> (Int32, Int32) {
        _ = reader.value("pair")
        // Entries the single template does not use (the pair template's) are not looked at.
        guard var specials = try reader.optionalObject("special_tokens") else {
            throw JSONFieldError(path: reader.fieldPath("special_tokens"), message: "is required")
        }
        let single = try reader.optionalArray("single") ?? []
        var ids: [Int32?] = []      // nil marks the sequence
        for (i, item) in single.enumerated() {
            let path = "\(reader.fieldPath("single"))[\(i)]"
            var itemReader = try JSONObjectReader(item, path: path)
            if var piece = try itemReader.optionalObject("SpecialToken") {
                let name = try piece.string("id")
                _ = try piece.int("type_id", in: 0...0)
                try piece.finish()
                guard var entry = try specials.optionalObject(name) else {
                    throw JSONFieldError(path: specials.fieldPath(name), message: "is required by \(path)")
                }
                let entryIDs = try entry.optionalIntArray("ids", in: 0...Int64(vocabularySize - 1)) ?? []
                _ = entry.value("id")
                _ = entry.value("tokens")
                try entry.finish()
                guard entryIDs.count == 1 else { throw WordPieceError.unsupported("special token \(name) of \(entryIDs.count) ids") }
                ids.append(Int32(entryIDs[0]))
            } else if var sequence = try itemReader.optionalObject("Sequence") {
                guard try sequence.string("id") == "A" else { throw JSONFieldError(path: path, message: "must be sequence A") }
                _ = try sequence.int("type_id", in: 0...0)
                try sequence.finish()
                ids.append(nil)
            } else {
                throw JSONFieldError(path: path, message: "must hold a SpecialToken or a Sequence")
            }
            try itemReader.finish()
        }
        guard ids.count == 3, let cls = ids[0], ids[1] == nil, let sep = ids[2] else {
            throw WordPieceError.unsupported("a single-sequence template other than [CLS] $A [SEP]")
        }
        return (cls, sep)
    }
}
