// Whisper's weights from a CTranslate2 model.bin, copied once at load into owned, aligned buffers
// (the file's payloads sit at odd offsets). Matrices keep the file's float width: float16 stays
// F16 and runs the kernel sets' F16 product, which widens each weight exactly and then does the
// F32 product's arithmetic (Matmul.swift), so the bits are those of the float32 widening while
// half the bytes are read (the decoder step reads every matrix once per token) and held. Vectors
// (biases, norms, positions) are widened to Float. The fused projections (self-attention QKV
// [3w, w], cross-attention KV [2w, w]) stay one buffer, viewed as one matrix per part, so Q, K and
// V land in the separate buffers attention reads. The output projection is the decoder's
// embedding matrix (the file's alias decoder/projection/weight names it).
import Kernels
import ModelFiles

/// A matrix and its bias: out = W·x + b.
struct WhisperLinear {
    let weight: QuantizedMatrix
    let bias: [Float]
}

/// LayerNorm's scale and shift.
struct WhisperNorm {
    let gamma: [Float]
    let beta: [Float]
}

struct WhisperWeights {
    struct EncoderLayer {
        let attentionNorm: WhisperNorm
        let query, key, value, attentionOutput: WhisperLinear
        let ffnNorm: WhisperNorm
        let up, down: WhisperLinear
    }

    struct DecoderLayer {
        let selfNorm: WhisperNorm
        let query, key, value, selfOutput: WhisperLinear
        let crossNorm: WhisperNorm
        let crossQuery, crossKey, crossValue, crossOutput: WhisperLinear
        let ffnNorm: WhisperNorm
        let up, down: WhisperLinear
    }

    /// The convolutions as matrices over im2col columns: row o, column c · 3 + k (the file's
    /// [out, in, 3] layout read row-major).
    let conv1, conv2: WhisperLinear
    /// positions × width.
    let encoderPositions, decoderPositions: FloatBuffer
    let encoderLayers: [EncoderLayer]
    let encoderNorm: WhisperNorm
    /// vocabulary × width: the token embeddings and the output projection.
    let embeddings: QuantizedMatrix
    let decoderLayers: [DecoderLayer]
    let decoderNorm: WhisperNorm
    /// Every owned buffer the matrices view.
    let storage: [OwnedWeights]

    init(file: CTranslate2File, config c: WhisperConfig) throws {
        var loader = WhisperWeightLoader(file: file)
        let w = c.width, k = WhisperConfig.convolutionWidth
        conv1 = try loader.linear("encoder/conv1", shape: [w, c.melBins, k])
        conv2 = try loader.linear("encoder/conv2", shape: [w, w, k])
        encoderPositions = try loader.buffer("encoder/position_encodings/encodings", shape: [c.encoderPositions, w])
        encoderLayers = try (0..<c.encoderLayers).map { l in
            let p = "encoder/layer_\(l)"
            let qkv = try loader.fused("\(p)/self_attention/linear_0", parts: 3, width: w)
            return EncoderLayer(
                attentionNorm: try loader.norm("\(p)/self_attention/layer_norm", width: w),
                query: qkv[0], key: qkv[1], value: qkv[2],
                attentionOutput: try loader.linear("\(p)/self_attention/linear_1", shape: [w, w]),
                ffnNorm: try loader.norm("\(p)/ffn/layer_norm", width: w),
                up: try loader.linear("\(p)/ffn/linear_0", shape: [c.feedForward, w]),
                down: try loader.linear("\(p)/ffn/linear_1", shape: [w, c.feedForward]))
        }
        encoderNorm = try loader.norm("encoder/layer_norm", width: w)

        embeddings = try loader.matrix("decoder/embeddings/weight", shape: [c.vocabulary, w])
        // The output projection must be the embeddings (tied): anything else is another model.
        if file.variable("decoder/projection/weight") != nil, file.aliases["decoder/projection/weight"] != "decoder/embeddings/weight" {
            throw ModelError.badHyperparameter("decoder/projection/weight is not tied to decoder/embeddings/weight")
        }
        if file.variable("decoder/projection/bias") != nil {
            throw ModelError.badHyperparameter("decoder/projection/bias: this forward pass has no output bias")
        }
        decoderPositions = try loader.buffer("decoder/position_encodings/encodings", shape: [c.maxTargetPositions, w])
        decoderLayers = try (0..<c.decoderLayers).map { l in
            let p = "decoder/layer_\(l)"
            let qkv = try loader.fused("\(p)/self_attention/linear_0", parts: 3, width: w)
            let kv = try loader.fused("\(p)/attention/linear_1", parts: 2, width: w)
            return DecoderLayer(
                selfNorm: try loader.norm("\(p)/self_attention/layer_norm", width: w),
                query: qkv[0], key: qkv[1], value: qkv[2],
                selfOutput: try loader.linear("\(p)/self_attention/linear_1", shape: [w, w]),
                crossNorm: try loader.norm("\(p)/attention/layer_norm", width: w),
                crossQuery: try loader.linear("\(p)/attention/linear_0", shape: [w, w]),
                crossKey: kv[0], crossValue: kv[1],
                crossOutput: try loader.linear("\(p)/attention/linear_2", shape: [w, w]),
                ffnNorm: try loader.norm("\(p)/ffn/layer_norm", width: w),
                up: try loader.linear("\(p)/ffn/linear_0", shape: [c.feedForward, w]),
                down: try loader.linear("\(p)/ffn/linear_1", shape: [w, c.feedForward]))
        }
        decoderNorm = try loader.norm("decoder/layer_norm", width: w)
        storage = loader.storage
    }
}

/// A matrix's elements as the file stores them (float16 or float32), copied to 64-byte-aligned
/// memory the process owns.
final class OwnedWeights {
    let format: WeightFormat
    let bytes: UnsafeMutableRawBufferPointer

    init(_ source: UnsafeRawBufferPointer, format: WeightFormat) {
        self.format = format
        bytes = .allocate(byteCount: max(1, source.count), alignment: 64)
        if let base = source.baseAddress { bytes.baseAddress!.copyMemory(from: base, byteCount: source.count) }
    }

    deinit { bytes.deallocate() }
}

/// Reads variables into owned buffers, checking each one's shape and type first.
private struct WhisperWeightLoader {
    let file: CTranslate2File
    var storage: [OwnedWeights] = []

    init(file: CTranslate2File) { self.file = file }

    /// The variable, after checking its shape and type (float16 or float32).
    func variable(_ name: String, shape: [Int]) throws -> CTranslate2Variable {
        guard let v = file.variable(name) else { throw ModelError.missingTensor(name) }
        guard v.shape == shape else { throw ModelError.badTensorShape(name: name, expected: shape, actual: v.shape) }
        guard v.dtype == .float16 || v.dtype == .float32 else {
            throw ModelError.unsupportedTensorType(name: name, type: v.dtype.name)
        }
        return v
    }

    /// The variable widened to Float in a new buffer.
    func buffer(_ name: String, shape: [Int]) throws -> FloatBuffer {
        let v = try variable(name, shape: shape)
        let b = FloatBuffer(v.elementCount)
        try file.floats(v, into: b.buffer)
        return b
    }

    /// The variable's elements in the file's width (F16 or F32), owned.
    mutating func owned(_ name: String, shape: [Int]) throws -> OwnedWeights {
        let v = try variable(name, shape: shape)
        let o = OwnedWeights(file.data(of: v), format: v.dtype == .float16 ? .f16 : .f32)
        file.releasePages(file.data(of: v))   // copied: the mapped pages need not stay resident
        storage.append(o)
        return o
    }

    /// A matrix of shape[0] rows and the product of the other dimensions as columns.
    mutating func matrix(_ name: String, shape: [Int]) throws -> QuantizedMatrix {
        let o = try owned(name, shape: shape)
        return try QuantizedMatrix(format: o.format, rows: shape[0], columns: shape.dropFirst().reduce(1, *),
                                   bytes: UnsafeRawBufferPointer(o.bytes))
    }

    func vector(_ name: String, count: Int) throws -> [Float] {
        try buffer(name, shape: [count]).array
    }

    mutating func linear(_ scope: String, shape: [Int]) throws -> WhisperLinear {
        WhisperLinear(weight: try matrix(scope + "/weight", shape: shape), bias: try vector(scope + "/bias", count: shape[0]))
    }

    mutating func norm(_ scope: String, width: Int) throws -> WhisperNorm {
        WhisperNorm(gamma: try vector(scope + "/gamma", count: width), beta: try vector(scope + "/beta", count: width))
    }

    /// A fused projection [parts · width, width] as `parts` matrices of width rows each, viewing
    /// consecutive rows of one buffer, with their slices of the bias.
    mutating func fused(_ scope: String, parts: Int, width: Int) throws -> [WhisperLinear] {
        let o = try owned(scope + "/weight", shape: [parts * width, width])
        let bias = try vector(scope + "/bias", count: parts * width)
        let partBytes = width * width * o.format.blockBytes
        return try (0..<parts).map { i in
            let m = try QuantizedMatrix(format: o.format, rows: width, columns: width,
                                        bytes: UnsafeRawBufferPointer(start: o.bytes.baseAddress! + i * partBytes, count: partBytes))
            return WhisperLinear(weight: m, bias: Array(bias[(i * width)..<((i + 1) * width)]))
        }
    }
}
