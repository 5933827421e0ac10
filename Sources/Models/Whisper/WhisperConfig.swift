// The shape of a Whisper model in CTranslate2's layout (Systran/faster-whisper-*: model.bin with
// spec WhisperSpec revision 3, and config.json). Widths, layer counts and lengths are read from
// the tensors' shapes, heads from the file's num_heads scalars, and every one is bounded
// (HyperparameterBounds) before anything is sized from it; the switches CTranslate2's Whisper
// decoder spec records (pre-norm, GELU, no embedding scale, no ALiBi) must have the values this
// forward pass implements, else the model is refused by name. config.json gives the token lists
// decoding needs (suppressed tokens, language ids, alignment heads), each checked against the
// vocabulary and the decoder's layers and heads.
import ModelFiles
import ReproJSON

/// A Whisper model's dimensions and decoding lists.
public struct WhisperConfig: Sendable, Equatable {
    /// Log-mel bins per frame (80 for every Whisper but large-v3's 128).
    public var melBins: Int
    /// Frames of one window (3000: 30 s at a 10 ms hop); the encoder's stride-2 convolution
    /// halves it to `encoderPositions`.
    public var inputFrames: Int
    /// Rows of the encoder's output (1500).
    public var encoderPositions: Int
    /// The residual width of encoder and decoder (512 for base).
    public var width: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var encoderHeads: Int
    public var decoderHeads: Int
    public var feedForward: Int
    public var vocabulary: Int
    /// Positions a decoded sequence may hold (448).
    public var maxTargetPositions: Int
    /// Tokens suppressed at every step, and at the first sampled step only (config.json).
    public var suppressIDs: [Int32]
    public var suppressIDsBegin: [Int32]
    /// The language tokens (<|en|> ...), in the order the model's languages are numbered.
    public var languageIDs: [Int32]
    /// (decoder layer, head) pairs whose cross-attention aligns text to audio.
    public var alignmentHeads: [WhisperAlignmentHead]

    /// CTranslate2's LayerNorm epsilon when config.json names none (it has a beta: 1e-5).
    public static let layerNormEpsilon: Float = 1e-5
    /// The kernel width of both convolutions.
    public static let convolutionWidth = 3

    public var encoderHeadDimension: Int { width / encoderHeads }
    public var decoderHeadDimension: Int { width / decoderHeads }

    /// Reads the dimensions from `file` and the token lists from the folder's config.json.
    public static func load(file: CTranslate2File, configPath: String) throws -> WhisperConfig {
        var config = try fromTensors(file)
        try readConfig(configPath, name: "config.json") { json, name in try config.readLists(json, path: name) }
        return config
    }

    /// The dimensions, from the tensors' shapes and the file's scalars; the lists left empty.
    public static func fromTensors(_ file: CTranslate2File) throws -> WhisperConfig {
        guard file.specName == "WhisperSpec" else {
            throw ModelError.unsupportedArchitecture(file.specName, supported: ["WhisperSpec"])
        }
        guard file.specRevision == 3 else {
            throw ModelError.badHyperparameter("WhisperSpec revision \(file.specRevision); only revision 3 is supported")
        }
        func shape(_ name: String) throws -> [Int] {
            guard let v = file.variable(name) else { throw ModelError.missingTensor(name) }
            return v.shape
        }
        func dimension(_ name: String, _ index: Int, rank: Int, in range: ClosedRange<Int>, what: String) throws -> Int {
            let s = try shape(name)
            guard s.count == rank else { throw ModelError.badHyperparameter("\(name) has rank \(s.count), expected \(rank)") }
            guard range.contains(s[index]) else {
                throw ModelError.badHyperparameter("\(what) \(s[index]) (from \(name)) is outside \(range)")
            }
            return s[index]
        }
        let conv1 = "encoder/conv1/weight"
        let width = try dimension(conv1, 0, rank: 3, in: HyperparameterBounds.embedding, what: "width")
        let mels = try dimension(conv1, 1, rank: 3, in: 1...1024, what: "mel bins")
        let encoderPositions = try dimension("encoder/position_encodings/encodings", 0, rank: 2,
                                             in: 1...HyperparameterBounds.maxWhisperFrames / 2, what: "encoder positions")
        let config = WhisperConfig(
            melBins: mels, inputFrames: 2 * encoderPositions, encoderPositions: encoderPositions, width: width,
            encoderLayers: try layerCount(file, "encoder"), decoderLayers: try layerCount(file, "decoder"),
            encoderHeads: try scalar(file, "encoder/num_heads", in: HyperparameterBounds.heads),
            decoderHeads: try scalar(file, "decoder/num_heads", in: HyperparameterBounds.heads),
            feedForward: try dimension("encoder/layer_0/ffn/linear_0/weight", 0, rank: 2, in: HyperparameterBounds.feedForward,
                                       what: "feed-forward width"),
            vocabulary: try dimension("decoder/embeddings/weight", 0, rank: 2, in: HyperparameterBounds.vocabulary, what: "vocabulary"),
            maxTargetPositions: try dimension("decoder/position_encodings/encodings", 0, rank: 2,
                                              in: HyperparameterBounds.contextLength, what: "decoder positions"),
            suppressIDs: [], suppressIDsBegin: [], languageIDs: [], alignmentHeads: [])
        // The decoder spec's switches: what this forward pass implements, or a refusal by name.
        for (flag, value, meaning) in [("decoder/pre_norm", 1, "pre-norm layers"), ("decoder/activation", 3, "GELU (CTranslate2 activation 3)"),
                                       ("decoder/scale_embeddings", 0, "unscaled embeddings"), ("decoder/alibi", 0, "no ALiBi"),
                                       ("decoder/start_from_zero_embedding", 0, "no zero start embedding")] {
            guard let v = file.variable(flag) else { continue }   // absent: CTranslate2's default, which is ours
            let found = try file.integers(v.name)
            guard found == [value] else {
                throw ModelError.badHyperparameter("\(flag) is \(found); this Whisper forward pass implements \(meaning) (\(value))")
            }
        }
        try config.validate()
        return config
    }

    /// The relations the forward pass relies on.
    func validate() throws {
        guard width % encoderHeads == 0, width % decoderHeads == 0 else {
            throw ModelError.badHyperparameter("width \(width) is not a multiple of \(encoderHeads) encoder and \(decoderHeads) decoder heads")
        }
        guard inputFrames <= HyperparameterBounds.maxWhisperFrames else {
            throw ModelError.badHyperparameter("\(inputFrames) input frames, more than \(HyperparameterBounds.maxWhisperFrames)")
        }
    }

    /// How many `scope/layer_N/` blocks the file has: N = 0, 1, ... until one is missing.
    private static func layerCount(_ file: CTranslate2File, _ scope: String) throws -> Int {
        var n = 0
        while file.variable("\(scope)/layer_\(n)/ffn/linear_0/weight") != nil {
            n += 1
            guard n <= HyperparameterBounds.layers.upperBound else {
                throw ModelError.badHyperparameter("\(scope) has more than \(HyperparameterBounds.layers.upperBound) layers")
            }
        }
        guard n >= 1 else { throw ModelError.missingTensor("\(scope)/layer_0/ffn/linear_0/weight") }
        return n
    }

    private static func scalar(_ file: CTranslate2File, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard file.variable(name) != nil else { throw ModelError.missingTensor(name) }
        let values = try file.integers(name)
        guard values.count == 1, range.contains(values[0]) else {
            throw ModelError.badHyperparameter("\(name) is \(values), expected one integer in \(range)")
        }
        return values[0]
    }

    /// config.json's lists (unknown fields are allowed: converters add their own).
    private mutating func readLists(_ json: JSONValue, path: String) throws {
        var r = try JSONObjectReader(json, path: path)
        let ids = 0...Int64(vocabulary - 1), most = vocabulary
        suppressIDs = (try r.optionalIntArray("suppress_ids", in: ids, maxCount: most) ?? []).map { Int32($0) }
        suppressIDsBegin = (try r.optionalIntArray("suppress_ids_begin", in: ids, maxCount: most) ?? []).map { Int32($0) }
        languageIDs = (try r.optionalIntArray("lang_ids", in: ids, maxCount: most) ?? []).map { Int32($0) }
        let heads = try r.optionalArray("alignment_heads", maxCount: decoderLayers * decoderHeads) ?? []
        alignmentHeads = try heads.enumerated().map { i, pair in
            let field = r.fieldPath("alignment_heads[\(i)]")
            guard case .array(let items) = pair, items.count == 2, let layer = items[0].int64Value, let head = items[1].int64Value,
                  (0..<Int64(decoderLayers)).contains(layer), (0..<Int64(decoderHeads)).contains(head) else {
                throw JSONFieldError(path: field, message: "must be [layer, head] with layer < \(decoderLayers) and head < \(decoderHeads)")
            }
            return WhisperAlignmentHead(layer: Int(layer), head: Int(head))
        }
    }
}

/// A cross-attention head of the decoder.
public struct WhisperAlignmentHead: Sendable, Equatable {
    public var layer: Int
    public var head: Int
    public init(layer: Int, head: Int) {
        self.layer = layer
        self.head = head
    }
}

extension HyperparameterBounds {
    /// Input frames of one Whisper window: 3000 in every released model; the bound keeps a
    /// window's buffers (frames × width floats) small whatever a file claims.
    static let maxWhisperFrames = 1 << 14
}
