// Encoder-decoder speech folders (Whisper in CTranslate2's layout, as faster-whisper loads them:
// model.bin, config.json, tokenizer.json). The identity is the sha256 of model.bin.
import Foundation
import ModelFiles
import Models
import Tokenizers

/// A speech model: the encoder-decoder, its byte-level BPE tokenizer and the special tokens its
/// decoding rules use.
public struct SpeechModel: @unchecked Sendable {
    public let whisper: WhisperModel
    public let tokenizer: ByteLevelBPETokenizer
    public let specials: WhisperSpecials
}

/// Whisper's special tokens, looked up by text in the tokenizer (never assumed by id).
public struct WhisperSpecials: Sendable {
    public let endOfText: Int32
    public let startOfTranscript: Int32
    public let transcribe: Int32
    public let translate: Int32
    public let noTimestamps: Int32
    /// <|nospeech|> (<|nocaptions|> in older vocabularies): its probability after
    /// <|startoftranscript|> is Whisper's no-speech probability. nil: the vocabulary has neither.
    public let noSpeech: Int32?
    /// Language code ("en") → its token, for the model's languages (config.json's lang_ids).
    public let languages: [String: Int32]

    init(tokenizer: ByteLevelBPETokenizer, languageIDs: [Int32]) throws {
        func id(_ text: String) throws -> Int32 {
            guard let t = tokenizer.tokenID(text) else { throw ModelError.badHyperparameter("tokenizer.json has no \(text) token") }
            return t
        }
        endOfText = try id("<|endoftext|>")
        startOfTranscript = try id("<|startoftranscript|>")
        transcribe = try id("<|transcribe|>")
        translate = try id("<|translate|>")
        noTimestamps = try id("<|notimestamps|>")
        noSpeech = tokenizer.tokenID("<|nospeech|>") ?? tokenizer.tokenID("<|nocaptions|>")
        var languages: [String: Int32] = [:]
        for t in languageIDs {
            guard let text = tokenizer.tokenText(t), text.hasPrefix("<|"), text.hasSuffix("|>") else {
                throw ModelError.badHyperparameter("lang_ids names token \(t), which is not a <|code|> token")
            }
            languages[String(text.dropFirst(2).dropLast(2))] = t
        }
        self.languages = languages
    }
}

enum SpeechFamily {
    static let family = ModelFamily(
        name: "speech folder",
        weightsFile: { path, isFolder in
            let weights = path + "/model.bin"
            return isFolder && FileManager.default.fileExists(atPath: weights) ? weights : nil
        },
        nameFromPath: ModelFamilies.folderName,
        map: { try CTranslate2File.map(path: $0) },
        build: build)

    static func build(_ input: FamilyInput) throws -> ModelContent {
        let file = try CTranslate2File(source: input.weights)
        let config = try WhisperConfig.load(file: file, configPath: input.path + "/config.json")
        let whisper = try WhisperModel(file: file, config: config)
        // Text is tokenized as Whisper's own tokenizer does, with the merge faster-whisper's
        // tokenizer.json lacks (Ġ t) put back: otherwise " to" would be " " + "to", which the model
        // never produces (RankOrderedMerges.swift). Decoding is the file's either way.
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: input.path + "/tokenizer.json", restoringRankOrderedMerges: true)
        guard tokenizer.vocabularySize <= config.vocabulary else {
            throw ModelError.badHyperparameter("tokenizer.json has \(tokenizer.vocabularySize) tokens, the model \(config.vocabulary)")
        }
        let specials = try WhisperSpecials(tokenizer: tokenizer, languageIDs: config.languageIDs)
        return .speech(SpeechModel(whisper: whisper, tokenizer: tokenizer, specials: specials))
    }
}
