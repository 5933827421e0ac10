// The tokenizer facade: built from a GGUF file's metadata, it encodes and decodes exactly as
// llama.cpp does for the same file (llama_tokenize / llama_token_to_piece / llama_detokenize).
// Stages, one file each: special-token partition (SpecialTokenPartition.swift), pre-tokenizer
// (PreTokenizer.swift, BPE only), model (BPEModel.swift or SPMModel.swift), detokenizer
// (Detokenizer.swift). Provenance: llama.cpp src/llama-vocab.cpp and src/unicode.cpp.

import ModelFiles

/// Why a tokenizer could not be built from a file's metadata.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a tokenizer we do not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer we do not implement (or is missing).
    case unsupportedPreTokenizer(String)
    /// The vocabulary arrays are inconsistent.
    case invalidVocabulary(String)
    /// A metadata key is missing or has the wrong type.
    case metadata(GGUFMetadataError)

    public var description: String {
        switch self {
        case .unsupportedModel(let m):
            return "unsupported tokenizer model '\(m)' (supported: gpt2, llama)"
        case .unsupportedPreTokenizer(let p):
            return "unsupported pre-tokenizer '\(p)' (supported: \(Vocabulary.bpePreTokenizers.keys.sorted().joined(separator: ", ")))"
        case .invalidVocabulary(let why):
            return "invalid tokenizer vocabulary: \(why)"
        case .metadata(let e):
            return e.description
        }
    }
}

/// A GGUF model's tokenizer. Immutable after construction, so one instance can serve any number
/// of threads.
public final class Tokenizer: @unchecked Sendable {
    let vocabulary: Vocabulary
    private let matcher: SpecialTokenMatcher
    private let bpe: BPEModel?
    private let spm: SPMModel?

    private init(vocabulary: Vocabulary, merges: [String]) {
        self.vocabulary = vocabulary
        self.matcher = SpecialTokenMatcher(tokens: vocabulary.specialTokens, vocabulary: vocabulary)
        switch vocabulary.kind {
        case .bpe:
            bpe = BPEModel(merges: merges, texts: vocabulary.texts)
            spm = nil
        case .spm:
            bpe = nil
            spm = SPMModel(texts: vocabulary.texts)
        }
    }

    /// Builds the tokenizer that the file's `tokenizer.*` metadata describes.
    public static func fromGGUF(_ metadata: GGUFMetadata) throws -> Tokenizer {
        do {
            var vocabulary = try Vocabulary.load(metadata)
            try vocabulary.applyModelNameRules(metadata)
            var merges: [String] = []
            if case .bpe = vocabulary.kind {
                merges = try metadata.stringArray("tokenizer.ggml.merges")
                // Each merge can add at most two pieces past the vocabulary (see BPEModel).
                guard merges.count < 1 << 28 else {
                    throw TokenizerError.invalidVocabulary("\(merges.count) merges")
                }
            }
            return Tokenizer(vocabulary: vocabulary, merges: merges)
        } catch let e as GGUFMetadataError {
            throw TokenizerError.metadata(e)
        }
    }

    /// Number of token ids (the length of `tokenizer.ggml.tokens`).
    public var vocabularySize: Int { vocabulary.count }
    /// Beginning of sequence: the file's `bos_token_id`, else llama.cpp's default for the model type.
    public var bosToken: Int32? { vocabulary.bos }
    /// End of sequence: the file's `eos_token_id`, else llama.cpp's default for the model type.
    public var eosToken: Int32? { vocabulary.eos }
    /// End of turn: the file's `eot_token_id`, else found by text as llama.cpp does (see
    /// SpecialTextDetector.swift for how a choice among several candidates is made).
    public var eotToken: Int32? { vocabulary.eot }
    /// Whether `encode(addSpecial: true)` prepends BOS / appends EOS (file flags, llama.cpp defaults).
    public var addBOS: Bool { vocabulary.addBOS }
    public var addEOS: Bool { vocabulary.addEOS }

    /// True for every token that ends generation in llama.cpp (EOS, EOT, EOM, and text-detected ones).
    public func isEndOfGeneration(_ token: Int32) -> Bool {
        vocabulary.eog.contains(token)
    }

    /// Whether a token stands for output text: not a control, unknown or unused token (whose
    /// texts are markers such as "<|im_end|>", not text a grammar constraint could match).
    public func standsForText(_ token: Int32) -> Bool {
        guard token >= 0, Int(token) < vocabulary.count else { return false }
        return vocabulary.attributes[Int(token)].isDisjoint(with: [.control, .unknown, .unused])
    }

    /// All end-of-generation ids, ascending.
    public var endOfGenerationTokens: [Int32] { vocabulary.eog.sorted() }

    /// Encodes text. `addSpecial` adds BOS/EOS as the file's flags say; `parseSpecial` lets
    /// control tokens written in the text ("<|im_start|>") become those tokens. User-defined
    /// tokens are recognised either way, as in llama.cpp.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        let fragments = matcher.partition(bytes, parseSpecial: parseSpecial)
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 4)
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
        switch vocabulary.kind {
        case .spm:
            // A space is put before the text at the start and after each special token when the
            // vocabulary asks for a prefix space (Gemma 3 does not).
            var afterSpecial = true
            for fragment in fragments {
                switch fragment {
                case .token(let id):
                    output.append(id)
                    afterSpecial = true
                case .text(let range):
                    let escaped = SPMModel.escapeWhitespace(bytes[range],
                                                            prefixSpace: vocabulary.addSpacePrefix && afterSpecial)
                    spm?.encode(escaped, texts: vocabulary.texts, scores: vocabulary.scores, into: &output)
                    afterSpecial = false
                }
            }
        case .bpe(let pre):
            for fragment in fragments {
                switch fragment {
                case .token(let id):
                    output.append(id)
                case .text(let range):
                    encodeBPE(bytes[range], pre: pre, into: &output)
                }
            }
        }
        if addSpecial && vocabulary.addEOS, let eos = vocabulary.eos { output.append(eos) }
        return output
    }

    /// Pre-tokenizes one raw fragment into words and runs BPE on each word.
    private func encodeBPE(_ bytes: ArraySlice<UInt8>, pre: PreTokenizer, into output: inout [Int32]) {
        guard let bpe else { return }
        pre.forEachWord(in: Array(bytes)) { word in
            bpe.encode(word: word, texts: vocabulary.texts, into: &output)
        }
    }

    /// The bytes token `token` stands for (llama.cpp's token_to_piece with special = true), or
    /// nil for an id outside the vocabulary. May be a partial UTF-8 character.
    public func piece(_ token: Int32) -> [UInt8]? {
        vocabulary.piece(token)
    }

    /// Decodes tokens to text; malformed UTF-8 becomes U+FFFD. With `skipSpecial` false this is
    /// llama_detokenize(remove_special: false, unparse_special: true): control tokens appear as
    /// their text. With `skipSpecial` true it is (remove_special: true, unparse_special: false):
    /// the BOS/EOS the vocabulary adds are removed and control tokens render as nothing.
    public func decode(_ tokens: [Int32], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(tokens, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// `decode` before UTF-8 decoding, for callers that need the exact bytes.
    public func decodeBytes(_ tokens: [Int32], skipSpecial: Bool = false) -> [UInt8] {
        vocabulary.detokenize(tokens, removeSpecial: skipSpecial, unparseSpecial: !skipSpecial)
    }

    /// The raw vocabulary string of a token (nil outside the vocabulary).
    public func tokenText(_ token: Int32) -> String? {
        guard token >= 0, Int(token) < vocabulary.count else { return nil }
        return String(decoding: vocabulary.texts.text(Int(token)), as: UTF8.self)
    }
}
