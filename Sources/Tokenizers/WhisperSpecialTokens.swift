// Whisper's special tokens, found by their text in its tokenizer, and its timestamps. Whisper's
// layout (openai/whisper tokenizer.py; transformers' WhisperTokenizer): <|endoftext|>, then
// <|startoftranscript|>, one token per language (<|en|>, <|zh|>, ...), <|translate|>,
// <|transcribe|>, <|startoflm|>, <|startofprev|>, <|nospeech|> (<|nocaptions|> in older files),
// <|notimestamps|>, and right after it the 1501 timestamps <|0.00|> ... <|30.00|> in steps of
// 20 ms. The timestamps belong to the model's output layer; a tokenizer.json need not list them
// (whisper-base's does not, so HF decodes them as nothing), but where it does they must sit there.

/// Why a tokenizer does not have Whisper's special tokens.
public enum WhisperTokenError: Error, Equatable, CustomStringConvertible {
    /// A required token ("<|transcribe|>") is not in the tokenizer.
    case missing(String)
    /// A required token is there but not marked special.
    case notSpecial(String)
    /// The tokens are not laid out as Whisper's are (what is out of place).
    case layout(String)

    public var description: String {
        switch self {
        case .missing(let t): return "not a Whisper tokenizer: it has no \(t) token"
        case .notSpecial(let t): return "not a Whisper tokenizer: \(t) is not a special token"
        case .layout(let why): return "not a Whisper tokenizer: \(why)"
        }
    }
}

/// The ids of Whisper's special tokens and timestamps in one tokenizer.
public struct WhisperSpecialTokens: Sendable, Equatable {
    public let endOfText: Int32
    public let startOfTranscript: Int32
    public let translate: Int32
    public let transcribe: Int32
    public let startOfLM: Int32?
    public let startOfPrevious: Int32
    /// <|nospeech|>, or <|nocaptions|> in older files.
    public let noSpeech: Int32?
    public let noTimestamps: Int32
    /// The first timestamp, <|0.00|>: the id after <|notimestamps|>.
    public let timestampBegin: Int32
    /// 0.00 to 30.00 seconds in steps of 0.02.
    public static let timestampCount = 1501
    /// Language codes ("en", "zh", ...) in id order: the language tokens are the ids between
    /// <|startoftranscript|> and <|translate|>.
    public let languageCodes: [String]
    private let languageIDs: [String: Int32]
    private let special: Set<Int32>

    public init(_ tokenizer: ByteLevelBPETokenizer) throws {
        func find(_ text: String) throws -> Int32 {
            guard let id = tokenizer.tokenID(text) else { throw WhisperTokenError.missing(text) }
            guard tokenizer.isSpecial(id) else { throw WhisperTokenError.notSpecial(text) }
            return id
        }
        func optional(_ text: String) throws -> Int32? {
            tokenizer.tokenID(text) == nil ? nil : try find(text)
        }
        endOfText = try find("<|endoftext|>")
        startOfTranscript = try find("<|startoftranscript|>")
        translate = try find("<|translate|>")
        transcribe = try find("<|transcribe|>")
        startOfLM = try optional("<|startoflm|>")
        startOfPrevious = try find("<|startofprev|>")
        noSpeech = try optional("<|nospeech|>") ?? optional("<|nocaptions|>")
        noTimestamps = try find("<|notimestamps|>")
        timestampBegin = noTimestamps + 1
        if let zero = tokenizer.tokenID("<|0.00|>"), zero != timestampBegin {
            throw WhisperTokenError.layout("<|0.00|> is \(zero), not the id after <|notimestamps|> (\(timestampBegin))")
        }
        if tokenizer.tokenID("<|0.00|>") == nil, Int(timestampBegin) < tokenizer.vocabularySize {
            throw WhisperTokenError.layout("the ids after <|notimestamps|> are not timestamps")
        }

        guard startOfTranscript < translate else {
            throw WhisperTokenError.layout("<|translate|> (\(translate)) comes before <|startoftranscript|> (\(startOfTranscript))")
        }
        var codes: [String] = []
        var ids: [String: Int32] = [:]
        for id in (startOfTranscript + 1)..<translate {
            guard tokenizer.isSpecial(id), let text = tokenizer.tokenText(id), text.hasPrefix("<|"), text.hasSuffix("|>"),
                  text.utf8.count > 4 else {
                throw WhisperTokenError.layout("id \(id), between <|startoftranscript|> and <|translate|>, is not a language token")
            }
            let code = String(text.dropFirst(2).dropLast(2))
            codes.append(code)
            ids[code] = id
        }
        languageCodes = codes
        languageIDs = ids
        special = Set(tokenizer.specialTokens)
    }

    /// The token of a language code ("en" -> <|en|>), or nil when Whisper has no such language.
    public func language(_ code: String) -> Int32? {
        languageIDs[code]
    }

    /// The language code of a language token, or nil when `id` is none.
    public func languageCode(_ id: Int32) -> String? {
        guard id > startOfTranscript, id < translate else { return nil }
        return languageCodes[Int(id - startOfTranscript - 1)]
    }

    /// Whether `id` is a timestamp, <|0.00|> ... <|30.00|>.
    public func isTimestamp(_ id: Int32) -> Bool {
        timestampIndex(id) != nil
    }

    /// Whether `id` is a special token or a timestamp: anything that is not text.
    public func isSpecial(_ id: Int32) -> Bool {
        special.contains(id) || isTimestamp(id)
    }

    /// A timestamp's position in steps of 20 ms (<|1.24|> is 62), or nil when `id` is none.
    public func timestampIndex(_ id: Int32) -> Int? {
        let index = Int(id) - Int(timestampBegin)
        return (0..<Self.timestampCount).contains(index) ? index : nil
    }

    /// The timestamp token of a position in steps of 20 ms, or nil past 30 seconds.
    public func timestampToken(index: Int) -> Int32? {
        (0..<Self.timestampCount).contains(index) ? timestampBegin + Int32(index) : nil
    }

    /// A timestamp's text, "<|1.24|>" (as Whisper writes it; exact, not through floating point).
    public func timestampText(_ id: Int32) -> String? {
        guard let index = timestampIndex(id) else { return nil }
        let hundredths = (index % 50) * 2
        return "<|\(index / 50).\(hundredths < 10 ? "0" : "")\(hundredths)|>"
    }
}
