// How a sentence-transformers model folder turns the encoder's token vectors into one embedding:
// modules.json lists the modules after the encoder (Pooling, then optionally Normalize), the
// Pooling module's config.json (1_Pooling/config.json in all-MiniLM-L6-v2) names the pooling
// mode, and sentence_bert_config.json the length sentence-transformers truncates inputs to.
// Modules reprolm does not run (Dense, LayerNorm, ...) and pooling modes it does not implement
// (max, mean_sqrt_len, weightedmean, several at once) are errors: the embeddings would differ.

import ModelFiles
import ReproJSON

/// How token vectors become one vector.
public enum Pooling: String, Sendable {
    /// The mean over the sequence's tokens ([CLS] and [SEP] included).
    case mean
    /// The first token's vector ([CLS]).
    case cls
    /// The last token's vector.
    case last
    /// The folder names no pooling (no modules.json, or no Pooling module): the caller chooses.
    case none
}

/// The sentence-transformers defaults of a model folder.
public struct PoolingConfig: Sendable, Equatable {
    public var pooling: Pooling
    /// Whether modules.json ends in a Normalize module (embeddings scaled to unit length).
    public var normalize: Bool
    /// sentence_bert_config.json's max_seq_length: the tokens sentence-transformers keeps per
    /// input, [CLS] and [SEP] included (256 for all-MiniLM-L6-v2, whose positions go to 512).
    /// Nil when the file is absent.
    public var maxSequenceLength: Int?

    public init(pooling: Pooling, normalize: Bool, maxSequenceLength: Int?) {
        self.pooling = pooling
        self.normalize = normalize
        self.maxSequenceLength = maxSequenceLength
    }

    /// Reads modules.json, the Pooling module's config.json and sentence_bert_config.json of
    /// `folder`; each may be absent (a plain `transformers` folder has none of them).
    public static func load(folder: String) throws -> PoolingConfig {
        var config = PoolingConfig(pooling: .none, normalize: false, maxSequenceLength: nil)
        if JSONFile.exists(folder + "/modules.json") {
            let modules = try readConfig(folder + "/modules.json", name: "modules.json") { json, name in try readModules(json, path: name) }
            if let pooling = modules.poolingPath {
                let name = pooling.isEmpty ? "config.json" : pooling + "/config.json"
                config.pooling = try readConfig(folder + "/" + name, name: name) { json, name in try readPooling(json, path: name) }
            }
            config.normalize = modules.normalize
        }
        if JSONFile.exists(folder + "/sentence_bert_config.json") {
            config.maxSequenceLength = try readConfig(folder + "/sentence_bert_config.json", name: "sentence_bert_config.json") { json, name in
                try readSentenceBert(json, path: name)
            }
        }
        return config
    }

    // MARK: modules.json

    private static let transformer = "sentence_transformers.models.Transformer"
    private static let poolingModule = "sentence_transformers.models.Pooling"
    private static let normalizeModule = "sentence_transformers.models.Normalize"

    /// modules.json: [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}, ...]
    static func readModules(_ json: JSONValue, path: String) throws -> (poolingPath: String?, normalize: Bool) {
        guard case .array(let items) = json else { throw JSONFieldError(path: path, message: "must be an array, not \(json.typeName)") }
        var poolingPath: String?
        var normalize = false
        for (i, item) in items.enumerated() {
            var r = try JSONObjectReader(item, path: "\(path)[\(i)]")
            let type = try r.string("type")
            let modulePath = try r.string("path")
            _ = r.value("idx")
            _ = r.value("name")
            // Newer sentence-transformers write module options here; none changes the output of the modules we run.
            _ = r.value("kwargs")
            try r.finish()
            switch type {
            case transformer:
                guard i == 0 else { throw ModelConfigError.inconsistent("\(path): the Transformer module is not first") }
            case poolingModule:
                guard poolingPath == nil else { throw ModelConfigError.inconsistent("\(path): two Pooling modules") }
                poolingPath = modulePath
            case normalizeModule:
                guard i == items.count - 1, poolingPath != nil else {
                    throw ModelConfigError.inconsistent("\(path): Normalize is not the last module after Pooling")
                }
                normalize = true
            default:
                throw ModelConfigError.unsupported(field: "\(path)[\(i)].type", value: type,
                                                   supported: [transformer, poolingModule, normalizeModule])
            }
        }
        return (poolingPath, normalize)
    }

    // MARK: The Pooling module

    /// The mode keys sentence-transformers writes, with the pooling each stands for (nil: not implemented).
    private static let modes: [(key: String, pooling: Pooling?)] = [
        ("pooling_mode_cls_token", .cls),
        ("pooling_mode_mean_tokens", .mean),
        ("pooling_mode_lasttoken", .last),
        ("pooling_mode_max_tokens", nil),
        ("pooling_mode_mean_sqrt_len_tokens", nil),
        ("pooling_mode_weightedmean_tokens", nil),
    ]

    static func readPooling(_ json: JSONValue, path: String) throws -> Pooling {
        var r = try JSONObjectReader(json, path: path)
        _ = try r.int("word_embedding_dimension", in: 1...(1 << 16))
        // Whether prompt tokens are pooled: reprolm adds no prompts, so either value gives the same vector.
        _ = try r.optionalBool("include_prompt")
        let on = try modes.filter { try r.optionalBool($0.key) == true }
        try r.finish()
        guard on.count == 1 else {
            let names = on.isEmpty ? "none" : on.map(\.key).joined(separator: " + ")
            throw ModelConfigError.unsupported(field: "\(path) pooling modes", value: names,
                                               supported: modes.compactMap { $0.pooling == nil ? nil : $0.key })
        }
        guard let pooling = on[0].pooling else {
            throw ModelConfigError.unsupported(field: "\(path) pooling mode", value: on[0].key,
                                               supported: modes.compactMap { $0.pooling == nil ? nil : $0.key })
        }
        return pooling
    }

    // MARK: sentence_bert_config.json

    static func readSentenceBert(_ json: JSONValue, path: String) throws -> Int {
        var r = try JSONObjectReader(json, path: path)
        // sentence-transformers lowercases the input itself when this is set; reprolm leaves that
        // to the tokenizer's normalizer, so it must be off.
        if try r.optionalBool("do_lower_case") == true {
            throw ModelConfigError.unsupported(field: "\(path) do_lower_case", value: "true", supported: ["false"])
        }
        let length = try r.int("max_seq_length", in: 1...(1 << 20))
        try r.finish()
        return Int(length)
    }
}
