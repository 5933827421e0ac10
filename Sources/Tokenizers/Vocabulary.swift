// The vocabulary as llama.cpp loads it from GGUF metadata (llama_vocab::impl::load): token texts,
// scores and attributes, the special ids with llama.cpp's defaults and overrides, the add-BOS/EOS
// flags, the end-of-generation set and the fill-in-the-middle tokens. The text-based detection
// rules (EOT, FIM, EOG) are llama.cpp's, kept here because the models depend on them.
// Provenance: llama.cpp src/llama-vocab.cpp.

import ModelFiles

/// Token attributes, with llama.cpp's bit values (llama_token_attr).
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let lstrip = TokenAttributes(rawValue: 1 << 7)
    static let rstrip = TokenAttributes(rawValue: 1 << 8)

    /// From a GGUF token type (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte);
    /// 0 and anything else is "undefined", which has no bit at all.
    init(ggufType: Int) {
        switch ggufType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }

    init(rawValue: UInt16) { self.rawValue = rawValue }
}

/// The tokenizer model a vocabulary uses.
enum VocabularyKind: Sendable {
    /// Byte-level BPE (`tokenizer.ggml.model` = "gpt2") with its pre-tokenizer.
    case bpe(PreTokenizer)
    /// SentencePiece BPE with scores and byte fallback (`tokenizer.ggml.model` = "llama").
    case spm
}

/// Everything the encoder and decoder need, immutable after loading.
struct Vocabulary: Sendable {
    var kind: VocabularyKind
    var texts: TokenTextTable
    var attributes: [TokenAttributes]
    var scores: [Float]
    var bos: Int32?
    var eos: Int32?
    var eot: Int32?
    var eom: Int32?
    var unk: Int32?
    var addBOS = false
    var addEOS = false
    var addSpacePrefix = false
    /// Detokenizer clean-up of " ," " 's" and friends (clean_up_tokenization_spaces).
    var cleanSpaces = false
    var eog: Set<Int32> = []
    /// Fill-in-the-middle tokens: the file's `tokenizer.ggml.fim_*_token_id`, else found by text.
    var fim = FIMTokens()
    /// Control, user-defined and unknown tokens, longest text first: the order in which the
    /// special-token partition looks for them.
    var specialTokens: [Int32] = []

    var count: Int { attributes.count }

    func attributes(of id: Int32) -> TokenAttributes {
        (id >= 0 && Int(id) < attributes.count) ? attributes[Int(id)] : []
    }

    /// `tokenizer.ggml.pre` values we implement, with llama.cpp's clean_spaces setting for each.
    /// Other values throw rather than tokenize differently from llama.cpp.
    static let bpePreTokenizers: [String: (PreTokenizer, cleanSpaces: Bool)] = [
        "smollm": (.digitsThenGPT2, false),
        "starcoder": (.digitsThenGPT2, true),
        "refact": (.digitsThenGPT2, true),
        "command-r": (.digitsThenGPT2, false),
        "codeshell": (.digitsThenGPT2, true),
        "exaone": (.digitsThenGPT2, true),
        "minerva-7b": (.digitsThenGPT2, true),
        "mellum2": (.digitsThenGPT2, true),
        "gpt-2": (.gpt2, true),
        "phi-2": (.gpt2, true),
        "mpt": (.gpt2, true),
        "olmo": (.gpt2, true),
        "jais": (.gpt2, true),
        "exaone4": (.gpt2, true),
        "trillion": (.gpt2, false),
        "granite-docling": (.gpt2, false),
        "qwen2": (.qwen2, false),
        "deepseek-r1-qwen": (.qwen2, false),
        "kormo": (.qwen2, false),
        "f2llmv2": (.qwen2, false),
        "megrez": (.qwen2, true),
        "stablelm2": (.qwen2, true),
        "hunyuan": (.qwen2, false),
        "solar-open": (.qwen2, false),
    ]

    /// Loads the vocabulary. Steps follow llama.cpp's order, because later steps read what earlier
    /// ones decided (the attributes that EOG detection changes decide the special-token list).
    static func load(_ md: GGUFMetadata) throws -> Vocabulary {
        let model = try md.string("tokenizer.ggml.model")
        let pre = try optionalString(md, "tokenizer.ggml.pre")

        var kind: VocabularyKind
        var bos: Int32?, eos: Int32?, unk: Int32?
        var addBOS = false, addEOS = false, addSpacePrefix = false, cleanSpaces = false
        switch model {
        case "llama":
            kind = .spm
            bos = 1; eos = 2; unk = 0
            addSpacePrefix = true; addBOS = true
        case "gpt2":
            guard let pre else { throw TokenizerError.unsupportedPreTokenizer("(missing)") }
            guard let (p, clean) = bpePreTokenizers[pre] else { throw TokenizerError.unsupportedPreTokenizer(pre) }
            kind = .bpe(p)
            cleanSpaces = clean
            // llama.cpp's defaults for BPE files; files normally override them.
            bos = 11; eos = 11
        default:
            throw TokenizerError.unsupportedModel(model)
        }
        if let v = try optionalBool(md, "tokenizer.ggml.add_space_prefix") { addSpacePrefix = v }

        // Texts, scores, types.
        // Read in place (no [String] or [[UInt8]] copy: 262K small arrays would add megabytes to
        // the load's peak memory).
        guard let tokenValues = md["tokenizer.ggml.tokens"] else { throw GGUFMetadataError.missingKey("tokenizer.ggml.tokens") }
        guard let tokenArray = tokenValues.arrayValue else {
            throw GGUFMetadataError.wrongType(key: "tokenizer.ggml.tokens", expected: "array of string", found: tokenValues.typeName)
        }
        let n = tokenArray.count
        // Ids are Int32, and BPE numbers extra pieces after the vocabulary: keep well below 2^31.
        guard n > 0, n < 1 << 28 else { throw TokenizerError.invalidVocabulary("tokenizer.ggml.tokens has \(n) entries") }
        if let bad = tokenArray.firstIndex(where: { $0.stringValue == nil }) {
            throw GGUFMetadataError.wrongType(key: "tokenizer.ggml.tokens[\(bad)]", expected: "string", found: tokenArray[bad].typeName)
        }
        // llama.cpp renames empty tokens so that each id keeps a distinct text.
        let texts = tokenArray.indices.lazy.map { i -> String.UTF8View in
            let s = tokenArray[i].stringValue!
            return (s.isEmpty ? "[EMPTY_\(i)]" : s).utf8
        }
        var scores = [Float](repeating: 0, count: n)
        if md["tokenizer.ggml.scores"] != nil {
            // One score per token, each a number (a NaN score has no merge order).
            let s = try md.floatArray("tokenizer.ggml.scores")
            guard s.count == n else { throw TokenizerError.invalidVocabulary("tokenizer.ggml.scores has \(s.count) entries for \(n) tokens") }
            if let bad = s.firstIndex(where: \.isNaN) {
                throw TokenizerError.invalidVocabulary("tokenizer.ggml.scores[\(bad)] is NaN")
            }
            scores = s
        }
        var attributes = [TokenAttributes](repeating: .normal, count: n)
        if md["tokenizer.ggml.token_type"] != nil {
            let t = try md.intArray("tokenizer.ggml.token_type")
            guard t.count == n else { throw TokenizerError.invalidVocabulary("tokenizer.ggml.token_type has \(t.count) entries for \(n) tokens") }
            for i in 0..<n { attributes[i] = TokenAttributes(ggufType: t[i]) }
        }
        let table = TokenTextTable(texts: texts)

        // Special ids: a default outside the vocabulary is dropped; a file value outside it is
        // ignored (the default stays).
        func special(_ key: String, _ current: Int32?) throws -> Int32? {
            var id = current
            if let c = id, c >= 0, Int(c) >= n { id = nil }
            if let v = try optionalInt(md, key), v >= 0, v < n { id = Int32(v) }
            return id
        }
        bos = try special("tokenizer.ggml.bos_token_id", bos)
        eos = try special("tokenizer.ggml.eos_token_id", eos)
        var eot = try special("tokenizer.ggml.eot_token_id", nil)
        var eom = try special("tokenizer.ggml.eom_token_id", nil)
        unk = try special("tokenizer.ggml.unknown_token_id", unk)
        // Not used by these tokenizers, but read so that a mistyped value fails as in llama.cpp.
        for key in ["seperator", "padding", "mask"] { _ = try special("tokenizer.ggml.\(key)_token_id", nil) }
        var fimPre = try special("tokenizer.ggml.fim_pre_token_id", nil)
        var fimSuf = try special("tokenizer.ggml.fim_suf_token_id", nil)
        var fimMid = try special("tokenizer.ggml.fim_mid_token_id", nil)
        var fimPad = try special("tokenizer.ggml.fim_pad_token_id", nil)
        var fimRep = try special("tokenizer.ggml.fim_rep_token_id", nil)
        var fimSep = try special("tokenizer.ggml.fim_sep_token_id", nil)
        fimPre = try special("tokenizer.ggml.prefix_token_id", fimPre)
        fimSuf = try special("tokenizer.ggml.suffix_token_id", fimSuf)
        fimMid = try special("tokenizer.ggml.middle_token_id", fimMid)

        if let v = try optionalBool(md, "tokenizer.ggml.add_bos_token") { addBOS = v }
        if let v = try optionalBool(md, "tokenizer.ggml.add_eos_token") { addEOS = v }

        // Text-based detection of EOT/EOM/FIM tokens that the file does not name. A token found
        // this way is made a control token, as llama.cpp does.
        var detector = SpecialTextDetector(table: table, attributes: attributes)
        if eot == nil { eot = detector.find(SpecialTextDetector.eotTexts) }
        if eom == nil { eom = detector.find(["<|eom_id|>"]) }
        if fimPre == nil { fimPre = detector.find(SpecialTextDetector.fimPreTexts) }
        if fimSuf == nil { fimSuf = detector.find(SpecialTextDetector.fimSufTexts) }
        if fimMid == nil { fimMid = detector.find(SpecialTextDetector.fimMidTexts) }
        if fimPad == nil { fimPad = detector.find(SpecialTextDetector.fimPadTexts) }
        if fimRep == nil { fimRep = detector.find(SpecialTextDetector.fimRepTexts) }
        if fimSep == nil { fimSep = detector.find(["<|file_sep|>"]) }
        attributes = detector.attributes

        // Control tokens whose text says "unused" are unused.
        let unusedWord = Array("unused".utf8)
        for i in 0..<n where attributes[i].contains(.control) && !attributes[i].contains(.unused) {
            if contains(table.text(i), unusedWord) { attributes[i].insert(.unused) }
        }

        // End-of-generation set.
        var eog: Set<Int32> = []
        for id in [fimPad, fimRep, fimSep] { if let id { eog.insert(id) } }
        for text in SpecialTextDetector.eogTexts {
            // The canonical id: llama.cpp walks its text map, which holds one id per text (the last).
            if let id = table.id(of: text) {
                eog.insert(id)
                attributes[Int(id)].insert(.control)
            }
        }
        // gpt-oss: these always render, whatever their declared type.
        for text in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let id = table.id(of: text) { attributes[Int(id)] = .userDefined }
        }
        for id in [eos, eot, eom] { if let id { eog.insert(id) } }
        // o200k_harmony / solar-open: "<|end|>" is not EOG when "<|return|>"+"<|call|>" or
        // "<|calls|>"+"<|flush|>" are.
        let eogText = { (t: String) in eog.contains { table.text(Int($0)).elementsEqual(t.utf8) } }
        if let end = eog.first(where: { table.text(Int($0)).elementsEqual("<|end|>".utf8) }),
           (eogText("<|return|>") && (eogText("<|call|>") || eogText("<|calls|>")))
            || ((eogText("<|call|>") || eogText("<|calls|>")) && eogText("<|flush|>")) {
            eog.remove(end)
            attributes[Int(end)] = .userDefined
        }
        // gemma4 / plamo: "</s>" is a normal token there.
        if eogText("<|tool_response>") || eogText("<|plamo:eos|>"),
           let s = eog.first(where: { table.text(Int($0)).elementsEqual("</s>".utf8) }) {
            eog.remove(s)
            attributes[Int(s)] = .normal
        }

        var vocab = Vocabulary(kind: kind, texts: table, attributes: attributes, scores: scores,
                               bos: bos, eos: eos, eot: eot, eom: eom, unk: unk)
        vocab.addBOS = addBOS
        vocab.addEOS = addEOS
        vocab.addSpacePrefix = addSpacePrefix
        vocab.cleanSpaces = cleanSpaces
        vocab.eog = eog
        vocab.fim = FIMTokens(prefix: fimPre, suffix: fimSuf, middle: fimMid, pad: fimPad,
                              repository: fimRep, fileSeparator: fimSep)

        // Special-token search order: longest text first; among equal lengths, lower id first.
        // (llama.cpp uses an unstable std::sort there; the order among equal lengths only matters
        // for two different tokens of one length that overlap in the text, and none of the
        // supported vocabularies has such a pair among tokens that can overlap.)
        let specialMask: TokenAttributes = [.control, .userDefined, .unknown]
        var specials: [Int32] = []
        for i in 0..<n where !attributes[i].isDisjoint(with: specialMask) { specials.append(Int32(i)) }
        specials.sort { a, b in
            let la = table.textLength(Int(a)), lb = table.textLength(Int(b))
            return la != lb ? la > lb : a < b
        }
        vocab.specialTokens = specials
        return vocab
    }

    /// Per-model strip attributes, applied by llama.cpp after the piece cache is built (so they
    /// change only how special tokens swallow neighbouring spaces when encoding).
    mutating func applyModelNameRules(_ md: GGUFMetadata) throws {
        // ASCII lower-casing, as llama.cpp's std::tolower.
        let name = String(decoding: (try Self.optionalString(md, "general.name") ?? "").utf8.map {
            ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0
        }, as: UTF8.self)
        if name.contains("phi-3") || name.contains("phi3") {
            for id in specialTokens { attributes[Int(id)].insert(.rstrip) }
            if let id = texts.id(of: "</s>") { attributes[Int(id)].insert(.rstrip) }
            for t in ["<unk>", "<s>", "<|endoftext|>"] {
                if let id = texts.id(of: t) { attributes[Int(id)].remove(.rstrip) }
            }
        }
    }

    // MARK: metadata helpers: an absent key is nil, a key of the wrong type is an error.

    static func optionalString(_ md: GGUFMetadata, _ key: String) throws -> String? {
        md[key] == nil ? nil : try md.string(key)
    }

    static func optionalBool(_ md: GGUFMetadata, _ key: String) throws -> Bool? {
        md[key] == nil ? nil : try md.bool(key)
    }

    static func optionalInt(_ md: GGUFMetadata, _ key: String) throws -> Int? {
        md[key] == nil ? nil : try md.int(key)
    }

    private static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        var i = haystack.startIndex
        while i + needle.count <= haystack.endIndex {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
