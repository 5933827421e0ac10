// Reading a byte-level BPE tokenizer.json (Hugging Face `tokenizers` serialization, version
// "1.0", as GPT-2 and Whisper ship it) into the stages of ByteLevelBPETokenizer. Each section has
// its reader: model (ByteLevelBPEModelSection.swift), added_tokens (HFAddedTokens.swift),
// pre_tokenizer (HFByteLevelPreTokenization.swift), post_processor (HFPostProcessor.swift). The
// rest is here: no normalizer, a ByteLevel decoder, no truncation and no padding (each would
// change what `encode` returns, and none is implemented, so each is refused by name).

import ModelFiles
import ReproJSON

/// The stages a tokenizer.json describes, checked against each other.
struct ByteLevelBPEFile {
    var model: ByteLevelBPEModelSection
    var addedTokens: [HFAddedToken]
    var preTokenization: HFByteLevelPreTokenization
    var postProcessor: HFPostProcessor

    /// Whisper's tokenizer.json is 2.2 MB; that of a 250,000-token vocabulary about 20 MB.
    static let maxFileBytes = 64 << 20

    static func read(_ path: String) throws -> ByteLevelBPEFile {
        let json: JSONValue
        do {
            json = try JSONFile.read(path, maxBytes: maxFileBytes)
        } catch let error as JSONFileError {
            throw ByteLevelBPEError.file(error)
        }
        do {
            return try read(json)
        } catch let error as JSONFieldError {
            throw ByteLevelBPEError.field(error)
        }
    }

    static func read(_ json: JSONValue) throws -> ByteLevelBPEFile {
        var top = try JSONObjectReader(json, path: "tokenizer.json")
        let version = try top.string("version")
        guard version == "1.0" else { throw ByteLevelBPEError.unsupported("version \(version) (supported: 1.0)") }
        for key in ["truncation", "padding"] {
            if let value = top.value(key) {
                throw ByteLevelBPEError.unsupported("\(key) \(value.typeName) (supported: null; callers cut and pad themselves)")
            }
        }
        if let normalizer = top.value("normalizer") {
            throw ByteLevelBPEError.unsupported("normalizer \(normalizer["type"]?.stringValue ?? normalizer.typeName) (supported: null)")
        }

        guard var modelReader = try top.optionalObject("model") else {
            throw JSONFieldError(path: top.fieldPath("model"), message: "is required (a BPE model)")
        }
        let model = try ByteLevelBPEModelSection.read(&modelReader)
        let added = try HFAddedToken.readAll(top.optionalArray("added_tokens"), path: top.fieldPath("added_tokens"),
                                             model: model.texts)
        let vocabularySize = model.texts.count + added.filter { Int($0.id) >= model.texts.count }.count
        let pre = try HFByteLevelPreTokenization.read(top.value("pre_tokenizer"), path: top.fieldPath("pre_tokenizer"))
        let post = try HFPostProcessor.read(top.value("post_processor"), path: top.fieldPath("post_processor"),
                                            vocabularySize: vocabularySize)
        try readDecoder(top.value("decoder"), path: top.fieldPath("decoder"))
        try top.finish()
        return ByteLevelBPEFile(model: model, addedTokens: added, preTokenization: pre, postProcessor: post)
    }

    /// The decoder must be ByteLevel: token texts mapped back to bytes (its options concern offsets).
    private static func readDecoder(_ value: JSONValue?, path: String) throws {
        guard value != nil else {
            throw ByteLevelBPEError.unsupported("decoder null (supported: ByteLevel)")
        }
        var reader = try JSONObjectReader(value, path: path)
        let type = try reader.string("type")
        guard type == "ByteLevel" else { throw ByteLevelBPEError.unsupported("decoder \(type) (supported: ByteLevel)") }
        for key in ["add_prefix_space", "trim_offsets", "use_regex"] { _ = try reader.optionalBool(key) }
        try reader.finish()
    }
}
