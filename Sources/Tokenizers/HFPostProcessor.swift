// The tokens a Hugging Face tokenizer.json's post-processor puts around one text when it is
// encoded with add_special_tokens: nothing for ByteLevel (which only trims offsets) or none, the
// special tokens before and after `$A` for TemplateProcessing (Whisper's is
// <|startoftranscript|> <|notimestamps|> $A <|endoftext|>). The pair template is not used: only
// single texts are encoded. Other post-processors are refused by name. Provenance:
// tokenizers/src/processors/template.rs.

import ReproJSON

struct HFPostProcessor: Sendable, Equatable {
    /// Ids before and after the text.
    var prefix: [Int32] = []
    var suffix: [Int32] = []

    static func read(_ value: JSONValue?, path: String, vocabularySize: Int) throws -> HFPostProcessor {
        guard value != nil else { return HFPostProcessor() }
        var reader = try JSONObjectReader(value, path: path)
        let type = try reader.string("type")
        switch type {
        case "ByteLevel":
            for key in ["add_prefix_space", "trim_offsets", "use_regex"] { _ = try reader.optionalBool(key) }
            try reader.finish()
            return HFPostProcessor()
        case "TemplateProcessing":
            let processor = try readTemplate(&reader, vocabularySize: vocabularySize)
            try reader.finish()
            return processor
        default:
            throw ByteLevelBPEError.unsupported("post_processor \(type) (supported: TemplateProcessing, ByteLevel, null)")
        }
    }

    /// The single template: special tokens, exactly one `$A`, special tokens.
    private static func readTemplate(_ reader: inout JSONObjectReader, vocabularySize: Int) throws -> HFPostProcessor {
        _ = reader.value("pair")
        let single = try reader.optionalArray("single") ?? []
        // Entries the single template does not use (the pair template's) are not looked at.
        var specials = try reader.optionalObject("special_tokens") ?? JSONObjectReader(nil, path: reader.fieldPath("special_tokens"))
        var processor = HFPostProcessor()
        var sawSequence = false
        for (index, item) in single.enumerated() {
            let path = "\(reader.fieldPath("single"))[\(index)]"
            var itemReader = try JSONObjectReader(item, path: path)
            if var piece = try itemReader.optionalObject("SpecialToken") {
                let name = try piece.string("id")
                _ = try piece.optionalInt("type_id")
                try piece.finish()
                guard var entry = try specials.optionalObject(name) else {
                    throw JSONFieldError(path: specials.fieldPath(name), message: "is required by \(path)")
                }
                let ids = try entry.optionalIntArray("ids", in: 0...Int64(vocabularySize - 1)) ?? []
                _ = entry.value("id")
                _ = entry.value("tokens")
                try entry.finish()
                let converted = ids.map { Int32($0) }
                if sawSequence { processor.suffix += converted } else { processor.prefix += converted }
            } else if var sequence = try itemReader.optionalObject("Sequence") {
                let id = try sequence.string("id")
                guard id == "A", !sawSequence else {
                    throw ByteLevelBPEError.unsupported("\(path): sequence \(id) in the single template (supported: one sequence A)")
                }
                _ = try sequence.optionalInt("type_id")
                try sequence.finish()
                sawSequence = true
            } else {
                throw JSONFieldError(path: path, message: "must hold a SpecialToken or a Sequence")
            }
            try itemReader.finish()
        }
        guard sawSequence else {
            throw ByteLevelBPEError.unsupported("\(reader.fieldPath("single")) without the sequence $A")
        }
        return processor
    }
}
