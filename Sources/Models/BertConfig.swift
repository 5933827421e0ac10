// The hyperparameters of a BERT encoder (all-MiniLM-L6-v2 and other sentence-transformers
// models), from the `transformers` config.json of a model folder. Read strictly: a value the
// encoder does not implement (another model_type or activation, relative position embeddings) is
// an error, not a silent approximation. Fields the encoder has no use for (dropout rates,
// initializer_range, architectures, ...) are not looked at.

import ReproJSON

/// A BERT encoder's shape and the few settings its forward pass depends on.
public struct BertConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    /// Rows of the position embedding table: the longest input in tokens, [CLS] and [SEP] included.
    public var maxPositions: Int
    /// Rows of the token type (segment) embedding table.
    public var typeVocabSize: Int
    public var layerNormEps: Float
    /// Always "gelu": the exact, erf-based GELU of `transformers`.
    public var hiddenAct: String

    public init(vocabSize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int,
                maxPositions: Int, typeVocabSize: Int, layerNormEps: Float, hiddenAct: String) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
    }

    /// Reads and checks a config.json.
    public static func load(path: String) throws -> BertConfig {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return try readConfig(path, name: name) { json, name in try parse(json, path: name) }
    }

    static func parse(_ json: JSONValue, path: String) throws -> BertConfig {
        var r = try JSONObjectReader(json, path: path)
        let modelType = try r.string("model_type")
        guard modelType == "bert" else { throw ModelConfigError.unsupported(field: "model_type", value: modelType, supported: ["bert"]) }
        let act = try r.string("hidden_act")
        guard act == "gelu" else { throw ModelConfigError.unsupported(field: "hidden_act", value: act, supported: ["gelu"]) }
        if let positions = try r.optionalString("position_embedding_type"), positions != "absolute" {
            throw ModelConfigError.unsupported(field: "position_embedding_type", value: positions, supported: ["absolute"])
        }
        if try r.optionalBool("is_decoder") == true {
            throw ModelConfigError.unsupported(field: "is_decoder", value: "true", supported: ["false"])
        }
        guard let eps = try r.optionalDouble("layer_norm_eps", in: 1e-30...0.1) else {
            throw JSONFieldError(path: r.fieldPath("layer_norm_eps"), message: "is required")
        }
        let config = BertConfig(
            vocabSize: Int(try r.int("vocab_size", in: 1...(1 << 24))),
            hiddenSize: Int(try r.int("hidden_size", in: 1...(1 << 16))),
            layers: Int(try r.int("num_hidden_layers", in: 1...1024)),
            heads: Int(try r.int("num_attention_heads", in: 1...4096)),
            intermediateSize: Int(try r.int("intermediate_size", in: 1...(1 << 18))),
            maxPositions: Int(try r.int("max_position_embeddings", in: 1...(1 << 20))),
            typeVocabSize: Int(try r.int("type_vocab_size", in: 1...(1 << 16))),
            layerNormEps: Float(eps), hiddenAct: act)
        guard config.hiddenSize % config.heads == 0 else {
            throw ModelConfigError.inconsistent("hidden_size \(config.hiddenSize) is not a multiple of num_attention_heads \(config.heads)")
        }
        return config
    }
}
