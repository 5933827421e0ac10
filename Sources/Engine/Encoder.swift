// `encode`: one vector per input (or one per token), from an encoder model (BERT) or from a
// decoder's final hidden states. Each input's hidden states depend on that input alone (the
// encoder lays a batch's inputs end to end without padding; a decoder runs each input as its own
// sequence), and pooling and normalisation have one fixed order, so an input's vector is the same
// bits alone or in any batch, with any thread count.
import Kernels
import Models

public struct EncodeRequest: Sendable {
    /// Token ids per input, already truncated to the model's limit.
    public var inputs: [[Int32]]
    public var pooling: Pooling
    public var normalize: Bool

    public init(inputs: [[Int32]], pooling: Pooling, normalize: Bool) {
        self.inputs = inputs
        self.pooling = pooling
        self.normalize = normalize
    }
}

public struct Encoder: Sendable {
    public let model: LoadedModel
    public let scheduler: InferenceScheduler
    /// Most token rows in one encoder pass (an input longer than this runs alone).
    static let maxRowsPerPass = 4096

    public init(model: LoadedModel, scheduler: InferenceScheduler) throws {
        guard model.encoder != nil || model.decoder != nil else {
            throw EngineError.cannotRun(model: model.name, reason: model.decoderUnavailable ?? "no forward pass")
        }
        self.model = model
        self.scheduler = scheduler
    }

    /// Floats per vector.
    public var dimensions: Int {
        model.encoder?.bert.config.hiddenSize ?? model.decoder!.config.embedding
    }

    /// Most tokens one input may have.
    public var maxTokens: Int {
        model.encoder?.maxTokens ?? model.decoder!.config.contextLength
    }

    /// Per input: `dimensions` floats, or tokens × `dimensions` with pooling `.none`.
    public func encode(_ request: EncodeRequest) async throws -> [[Float]] {
        // The handler checks every input first, where it can name the offending parameter.
        for tokens in request.inputs {
            if tokens.isEmpty { throw EngineError.emptyPrompt }
            if tokens.count > maxTokens { throw EngineError.contextOverflow(promptTokens: tokens.count, maxTokens: 0, contextLength: maxTokens) }
        }
        let hidden = try await model.encoder != nil ? encoderStates(request.inputs) : decoderStates(request.inputs, request.pooling)
        let d = dimensions
        return zip(request.inputs, hidden).map { tokens, states in
            Self.pool(states, tokens: request.pooling == .last && model.encoder == nil ? 1 : tokens.count, dimensions: d,
                      request.pooling, normalize: request.normalize)
        }
    }

    /// The encoder's final hidden states, inputs grouped into passes of at most maxRowsPerPass rows.
    private func encoderStates(_ inputs: [[Int32]]) async throws -> [[Float]] {
        let bert = model.encoder!.bert
        var out: [[Float]] = []
        var start = 0
        while start < inputs.count {
            var end = start, rows = 0
            while end < inputs.count, end == start || rows + inputs[end].count <= Self.maxRowsPerPass {
                rows += inputs[end].count
                end += 1
            }
            try Task.checkCancellation()
            let group = Array(inputs[start..<end])
            out += try await scheduler.exclusive { pool in try bert.encode(group, pool: pool) }
            start = end
        }
        return out
    }

    /// A decoder's final hidden states (after its output norm), each input its own sequence,
    /// prefilled in the generator's chunks; only the last row when pooling `.last`.
    private func decoderStates(_ inputs: [[Int32]], _ pooling: Pooling) async throws -> [[Float]] {
        let decoder = model.decoder!
        var out: [[Float]] = []
        for tokens in inputs {
            let sequence = decoder.makeSequence()
            var states: [Float] = []
            var start = 0
            while start < tokens.count {
                try Task.checkCancellation()
                let end = min(start + Generator.prefillChunk, tokens.count)
                let rows: LogitRows = pooling == .last ? (end == tokens.count ? .hiddenLast : .none) : .hiddenAll
                states += try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: Array(tokens[start..<end]), logits: rows))
                start = end
            }
            out.append(states)
        }
        return out
    }

    /// Pools `tokens` rows of `dimensions` floats. Mean: Σ over tokens in increasing order, then
    /// ÷ count. Normalise (each vector): v ÷ max(‖v‖, 1e-12), ‖v‖ from the fixed 16-lane sum of
    /// squares (as sentence-transformers' Normalize).
    static func pool(_ states: [Float], tokens n: Int, dimensions d: Int, _ pooling: Pooling, normalize: Bool) -> [Float] {
        var v: [Float]
        switch pooling {
        case .mean:
            v = [Float](repeating: 0, count: d)
            for t in 0..<n { for j in 0..<d { v[j] += states[t * d + j] } }
            for j in 0..<d { v[j] /= Float(n) }
        case .cls: v = Array(states[0..<d])
        case .last: v = Array(states[(n - 1) * d..<(n * d)])
        case .none: v = states
        }
        if normalize { normalizeEach(&v, dimensions: d) }
        return v
    }

    /// Divides each vector of `d` floats in `v` by max(‖v‖, 1e-12).
    static func normalizeEach(_ v: inout [Float], dimensions d: Int) {
        v.withUnsafeMutableBufferPointer { b in
            for start in stride(from: 0, to: b.count, by: d) {
                let norm = FloatDot.sumOfSquares(b.baseAddress! + start, count: d).squareRoot()
                let divisor = max(norm, 1e-12)
                for j in start..<(start + d) { b[j] /= divisor }
            }
        }
    }
}
