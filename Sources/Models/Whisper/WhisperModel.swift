// Whisper speech-to-text (OpenAI's architecture in CTranslate2's layout: Systran/faster-whisper-*
// folders) as an EncoderDecoderModel: log-mel windows in, encoder states out; target sequences on
// those states, stepped in batches. The arithmetic is in WhisperEncoderPass and
// WhisperDecoderPass; this file checks every input before it reaches them.
import Kernels
import ModelFiles

/// A Whisper model with its weights copied to owned buffers (matrices in the file's float width).
public final class WhisperModel: EncoderDecoderModel, @unchecked Sendable {
    public typealias Source = [Float]

    public let config: WhisperConfig
    /// The model.bin the weights were read from (its bytes' identity and lease; the weights
    /// themselves are owned copies and do not read it again).
    public let file: CTranslate2File
    let weights: WhisperWeights

    /// Loads a faster-whisper folder: model.bin and config.json.
    public convenience init(folder: String) throws {
        let file = try CTranslate2File(path: folder + "/model.bin")
        try self.init(file: file, config: try WhisperConfig.load(file: file, configPath: folder + "/config.json"))
    }

    public init(file: CTranslate2File, config: WhisperConfig) throws {
        self.file = file
        self.config = config
        weights = try WhisperWeights(file: file, config: config)
        // Every weight is an owned copy now: the file's pages (the small vectors' too) are not read again.
        file.releasePages(file.source.bytes)
    }

    public var targetVocabulary: Int { config.vocabulary }
    public var maxTargetPositions: Int { config.maxTargetPositions }

    /// Bytes of the owned matrices and position tables.
    public var weightBytes: Int {
        weights.storage.reduce(0) { $0 + $1.bytes.count }
            + (weights.encoderPositions.count + weights.decoderPositions.count) * MemoryLayout<Float>.size
    }

    /// The most memory one request's transcription holds at once, beyond the weights: one
    /// window's encoder pass (its convolution columns and layer buffers), its states and
    /// cross-attention memory, and `sequences` target sequences of up to maxTargetPositions with
    /// their logits. The daemon charges it to the memory budget before the request runs.
    public func workingBytes(sequences: Int) -> Int {
        let c = config, k = WhisperConfig.convolutionWidth, rows = c.encoderPositions
        // The encoder's attention packs each head's keys and values (and the keys again,
        // transposed): three copies of a layer's keys' size, rounded up for the blocks.
        let packedRows = (rows + 63) / 64 * 64
        let encoderFloats = c.inputFrames * c.melBins * k + c.inputFrames * c.width + rows * c.width * k + rows * c.width
            + rows * (6 * c.width + c.feedForward) + 3 * packedRows * c.width
        let states = rows * c.width, memory = 3 * c.decoderLayers * packedRows * c.width
        let capacity = SequenceState.capacity(toHold: c.maxTargetPositions, contextLength: c.maxTargetPositions)
        let sequence = SequenceState.bytes(layers: c.decoderLayers, kvDim: c.width, capacity: capacity)
            + c.vocabulary * MemoryLayout<Float>.size
        return (encoderFloats + states + memory) * MemoryLayout<Float>.size + max(1, sequences) * sequence
    }

    // MARK: Encoder

    public func encode(_ windows: [[Float]], pool: ThreadPool?) throws -> [EncoderStates] {
        try encode(windows, pool: pool, kernels: .selected)
    }

    /// Each window is melBins × inputFrames log-mel floats, mel-major (faster-whisper's features
    /// of one 30 s window); the result is encoderPositions × width per window.
    public func encode(_ windows: [[Float]], pool: ThreadPool?, kernels: KernelSet) throws -> [EncoderStates] {
        let expected = config.melBins * config.inputFrames
        for (i, w) in windows.enumerated() where w.count != expected {
            throw ModelError.badHyperparameter("window \(i) has \(w.count) floats; expected \(config.melBins) mel bins × \(config.inputFrames) frames = \(expected)")
        }
        guard !windows.isEmpty else { return [] }
        let pass = WhisperEncoderPass(weights: weights, config: config, ops: WhisperOps(pool: pool, kernels: kernels))
        return try pass.run(windows)
    }

    // MARK: Decoder

    public func startSequences(on states: [EncoderStates], pool: ThreadPool?) throws -> [TargetSequence] {
        try startSequences(on: states, pool: pool, kernels: .selected)
    }

    /// Computes each source's cross-attention keys and values (every decoder layer's K and V
    /// projections of the encoder states) and starts an empty sequence on them.
    public func startSequences(on states: [EncoderStates], pool: ThreadPool?, kernels: KernelSet) throws -> [TargetSequence] {
        let c = config, ops = WhisperOps(pool: pool, kernels: kernels)
        return try states.map { s in
            guard s.width == c.width, s.rows >= 1, s.rows <= c.encoderPositions else {
                throw ModelError.badHyperparameter("encoder states of \(s.rows) × \(s.width); expected up to \(c.encoderPositions) × \(c.width)")
            }
            let memory = CrossAttentionMemory(layers: c.decoderLayers, positions: s.rows, width: c.width, heads: c.decoderHeads)
            let keys = FloatBuffer(s.rows * c.width), values = FloatBuffer(s.rows * c.width)
            try s.values.withUnsafeBufferPointer { v in
                for (l, layer) in weights.decoderLayers.enumerated() {
                    try ops.linear(layer.crossKey, v.baseAddress!, rows: s.rows, into: keys.p)
                    try ops.linear(layer.crossValue, v.baseAddress!, rows: s.rows, into: values.p)
                    ops.packHeads(windows: 1, positions: s.rows, heads: c.decoderHeads, keys: keys.p, values: values.p,
                                  into: memory.packed[l])
                }
            }
            return TargetSequence(memory: memory, cache: SequenceState(layers: c.decoderLayers, kvDim: c.width,
                                                                        contextLength: c.maxTargetPositions))
        }
    }

    public func step(_ items: [TargetStep], pool: ThreadPool?) throws -> [[Float]] {
        try step(items, pool: pool, kernels: .selected)
    }

    /// Runs the items' tokens, appends them to their sequences, and returns each item's
    /// requested rows (logits: rows × vocabulary; hidden states: rows × width; empty for `.none`).
    public func step(_ items: [TargetStep], pool: ThreadPool?, kernels: KernelSet) throws -> [[Float]] {
        let c = config
        var rows: [WhisperDecoderPass.Row] = []
        for (i, item) in items.enumerated() {
            let seq = item.sequence
            guard seq.cache.layers == c.decoderLayers, seq.cache.kvDim == c.width, seq.memory.layers == c.decoderLayers,
                  seq.memory.width == c.width else {
                throw ModelError.badHyperparameter("a sequence of another model was passed")
            }
            let needed = seq.length + item.tokens.count
            guard needed <= c.maxTargetPositions else { throw ModelError.contextOverflow(needed: needed, limit: c.maxTargetPositions) }
            for (j, t) in item.tokens.enumerated() {
                guard t >= 0, Int(t) < c.vocabulary else { throw ModelError.tokenOutOfRange(token: t, vocabulary: c.vocabulary) }
                rows.append(.init(item: i, position: seq.length + j, token: t))
            }
        }
        // A sequence may appear once per batch: its rows must see each other's keys in order.
        guard Set(items.map { ObjectIdentifier($0.sequence) }).count == items.count else {
            throw ModelError.badHyperparameter("a sequence appears twice in one batch")
        }
        guard !rows.isEmpty else { return items.map { _ in [] } }
        for item in items { item.sequence.cache.reserve(additional: item.tokens.count) }
        let pass = WhisperDecoderPass(weights: weights, config: c, ops: WhisperOps(pool: pool, kernels: kernels),
                                      items: items, rows: rows)
        let hidden = try pass.run()
        for item in items { item.sequence.cache.commit(item.tokens) }
        return try pass.outputs(hidden: hidden)
    }
}
