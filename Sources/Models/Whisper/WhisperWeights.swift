// Whisper's weights from a CTranslate2 model.bin, converted once at load to owned Float32 buffers:
// the file's float16 payloads sit at odd offsets, and F32 matrices run the kernel sets' F32
// product (every set gives the same bits, Matmul.swift). float16 → float32 is exact, so these are
// exactly the file's values. The fused projections (self-attention QKV [3w, w], cross-attention
// KV [2w, w]) stay one buffer, viewed as one matrix per part, so Q, K and V land in the separate
// buffers attention reads. The output projection is the decoder's embedding matrix (the file's
// alias decoder/projection/weight names it).
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
    let storage: [FloatBuffer]

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

/// Reads variables into owned Float32 buffers, checking each one's shape and type first.
private struct WhisperWeightLoader {
    let file: CTranslate2File
    var storage: [FloatBuffer] = []

    init(file: CTranslate2File) { self.file = file }

    /// The variable's floats (float16 or float32 in the file) in a new buffer, after checking its shape.
    mutating func buffer(_ name: String, shape: [Int]) throws -> FloatBuffer {
        guard let v = file.variable(name) else { throw ModelError.missingTensor(name) }
        guard v.shape == shape else { throw ModelError.badTensorShape(name: name, expected: shape, actual: v.shape) }
        guard v.dtype == .float16 || v.dtype == .float32 else {
            throw ModelError.unsupportedTensorType(name: name, type: v.dtype.name)
        }
        let b = FloatBuffer(v.elementCount)
        try file.floats(v, into: b.buffer)
        file.releasePages(of: v)
        storage.append(b)
        return b
    }

    /// A matrix of shape[0] rows and the product of the other dimensions as columns.
    mutating func matrix(_ name: String, shape: [Int]) throws -> QuantizedMatrix {
        let b = try buffer(name, shape: shape)
        let columns = shape.dropFirst().reduce(1, *)
        return try QuantizedMatrix(format: .f32, rows: shape[0], columns: columns,
                                   bytes: UnsafeRawBufferPointer(start: b.p, count: b.count * MemoryLayout<Float>.size))
    }

    mutating func vector(_ name: String, count: Int) throws -> [Float] {
        let b = try buffer(name, shape: [count])
        storage.removeLast()   // copied out: the array owns its floats
        return b.array
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
        let b = try buffer(scope + "/weight", shape: [parts * width, width])
        let bias = try vector(scope + "/bias", count: parts * width)
        let partBytes = width * width * MemoryLayout<Float>.size
        return try (0..<parts).map { i in
            let m = try QuantizedMatrix(format: .f32, rows: width, columns: width,
                                        bytes: UnsafeRawBufferPointer(start: b.p + i * width * width, count: partBytes))
            return WhisperLinear(weight: m, bias: Array(bias[(i * width)..<((i + 1) * width)]))
        }
    }
}
