// How a Hugging Face byte-level tokenizer.json cuts text into words before BPE, for the forms
// GPT-2-style files use:
//   ByteLevel(use_regex: true)    the GPT-2 pattern splits each piece between added tokens
//   ByteLevel(use_regex: false)   each piece is one word
//   Sequence[Split(GPT-2 pattern, Isolated), ByteLevel(use_regex: false)]
// ByteLevel's add_prefix_space puts a space before what it is given unless that starts with one:
// alone it is given the pieces between added tokens (so the space goes before the pattern runs);
// after a Split it is given the Split's words. The pattern is run with the GPT-2 scanner the GGUF
// tokenizer uses (PreTokenizer.gpt2, over one whole piece, where it agrees with the regex), with
// Oniguruma's Unicode classes rather than llama.cpp's (the golden test checks every code point
// against `tokenizers`). Any other pre-tokenizer, pattern or behaviour is refused by name. Provenance: tokenizers/src/pre_tokenizers/{byte_level,split,
// sequence}.rs.

import ReproJSON

struct HFByteLevelPreTokenization: Sendable, Equatable {
    /// Where add_prefix_space puts its space.
    enum PrefixSpace: Sendable, Equatable {
        case none
        /// Before each piece between added tokens (ByteLevel alone).
        case beforePiece
        /// Before each word of the Split (ByteLevel after a Split).
        case beforeWord
    }

    /// The GPT-2 pattern, as ByteLevel carries it and as a Split spells it.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// Whether the GPT-2 pattern splits pieces into words.
    var splitsWords: Bool
    var prefixSpace: PrefixSpace

    /// Calls `body` with each word of one piece of text (never empty), as raw UTF-8 bytes.
    func forEachWord(in piece: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>) -> Void) {
        var bytes = Array(piece)
        if prefixSpace == .beforePiece && bytes.first != 0x20 { bytes.insert(0x20, at: 0) }
        guard splitsWords else { return body(bytes[...]) }
        PreTokenizer.gpt2.forEachWord(in: bytes, tables: .oniguruma) { word in
            if prefixSpace == .beforeWord && word.first != 0x20 {
                body(([0x20] + word)[...])
            } else {
                body(word)
            }
        }
    }

    // MARK: Reading

    static func read(_ value: JSONValue?, path: String) throws -> HFByteLevelPreTokenization {
        guard value != nil else {
            throw ByteLevelBPEError.unsupported("pre_tokenizer null (supported: ByteLevel, or a Sequence of Split and ByteLevel)")
        }
        var reader = try JSONObjectReader(value, path: path)
        let type = try reader.string("type")
        switch type {
        case "ByteLevel":
            let (prefix, useRegex) = try readByteLevel(&reader)
            return HFByteLevelPreTokenization(splitsWords: useRegex, prefixSpace: prefix ? .beforePiece : .none)
        case "Sequence":
            let stepsPath = reader.fieldPath("pretokenizers")
            guard let steps = try reader.optionalArray("pretokenizers") else {
                throw JSONFieldError(path: stepsPath, message: "is required")
            }
            try reader.finish()
            guard steps.count == 2 else { throw unsupportedSequence(steps) }
            var split = try JSONObjectReader(steps[0], path: "\(stepsPath)[0]")
            var byteLevel = try JSONObjectReader(steps[1], path: "\(stepsPath)[1]")
            guard try split.string("type") == "Split", try byteLevel.string("type") == "ByteLevel" else {
                throw unsupportedSequence(steps)
            }
            try readGPT2Split(&split)
            let (prefix, useRegex) = try readByteLevel(&byteLevel)
            guard !useRegex else {
                throw ByteLevelBPEError.unsupported("\(stepsPath)[1]: ByteLevel with use_regex after a Split (supported: use_regex false)")
            }
            return HFByteLevelPreTokenization(splitsWords: true, prefixSpace: prefix ? .beforeWord : .none)
        default:
            throw ByteLevelBPEError.unsupported("pre_tokenizer \(type) (supported: ByteLevel, or a Sequence of Split and ByteLevel)")
        }
    }

    /// A ByteLevel stage's (add_prefix_space, use_regex). trim_offsets changes offsets only.
    private static func readByteLevel(_ reader: inout JSONObjectReader) throws -> (Bool, Bool) {
        guard let prefix = try reader.optionalBool("add_prefix_space") else {
            throw JSONFieldError(path: reader.fieldPath("add_prefix_space"), message: "is required")
        }
        _ = try reader.optionalBool("trim_offsets")
        let useRegex = try reader.optionalBool("use_regex") ?? true    // HF's default
        try reader.finish()
        return (prefix, useRegex)
    }

    /// A Split stage must isolate the matches of the GPT-2 pattern.
    private static func readGPT2Split(_ reader: inout JSONObjectReader) throws {
        guard var pattern = try reader.optionalObject("pattern") else {
            throw JSONFieldError(path: reader.fieldPath("pattern"), message: "is required")
        }
        guard let regex = try pattern.optionalString("Regex") else {
            throw ByteLevelBPEError.unsupported("\(pattern.path): a Split on something other than a Regex (supported: the GPT-2 pattern)")
        }
        try pattern.finish()
        guard regex == gpt2Pattern else {
            throw ByteLevelBPEError.unsupported("\(pattern.path) '\(regex)' (supported: the GPT-2 pattern \(gpt2Pattern))")
        }
        let behavior = try reader.string("behavior")
        guard behavior == "Isolated" else {
            throw ByteLevelBPEError.unsupported("\(reader.fieldPath("behavior")) \(behavior) (supported: Isolated)")
        }
        guard try reader.optionalBool("invert") != true else {
            throw ByteLevelBPEError.unsupported("\(reader.fieldPath("invert")) true (supported: false)")
        }
        try reader.finish()
    }

    private static func unsupportedSequence(_ steps: [JSONValue]) -> ByteLevelBPEError {
        let types = steps.map { $0["type"]?.stringValue ?? "?" }.joined(separator: ", ")
        return .unsupported("pre_tokenizer Sequence [\(types)] (supported: [Split, ByteLevel])")
    }
}
