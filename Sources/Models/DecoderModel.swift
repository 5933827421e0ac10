// The shared decoder backbone: one forward pass over a batch of sequences at different
// positions (prefill chunks and single decode tokens together). Every per-row operation depends
// only on that row (and its own sequence's cache), and every reduction has a fixed order (see
// docs/determinism.md and Kernels), so a token's logits are the same bits whether it was computed
// alone, in a prompt chunk of any size, or batched with other sequences, and for any thread count.
import Kernels
import ModelFiles

/// What a batch item wants back: logits, or final hidden states (`encode` on a decoder).
public enum LogitRows: Sendable, Equatable {
    case none
    /// The last token's (decode, or the end of a prompt).
    case last
    /// Every token's (scoring).
    case all
    /// The last token's final hidden state (after the output norm): embedding floats.
    case hiddenLast
    /// Every token's final hidden state: tokens × embedding floats.
    case hiddenAll
}

/// One sequence's part of a forward pass.
public struct ForwardItem {
    public let sequence: SequenceState
    public let tokens: [Int32]
    public let logits: LogitRows
    public init(sequence: SequenceState, tokens: [Int32], logits: LogitRows) {
        self.sequence = sequence
        self.tokens = tokens
        self.logits = logits
    }
}

/// A decoder-only language model bound to its mapped file.
public final class DecoderModel: @unchecked Sendable {
    public let config: DecoderConfig
    let weights: DecoderWeights
    let rope: RopeTables
    /// Keeps the mapping alive as long as the weights point into it.
    public let file: GGUFFile

    public init(file: GGUFFile) throws {
        self.file = file
        config = try Architectures.config(for: file)
        weights = try DecoderWeights(file: file, config: config)
        rope = try RopeTables(config: config)
    }

    /// Bytes of weights one decode step reads: every block's matrices and the output matrix (the
    /// tiles the kernels read, or the file's rows on the reference path). The embedding lookup
    /// reads one row and is not counted.
    public var decodeWeightBytes: Int {
        func bytes(_ m: QuantizedMatrix) -> Int { m.tiles?.byteCount ?? m.rows * m.rowBytes }
        return weights.layers.reduce(bytes(weights.output)) { sum, l in
            sum + [l.q, l.k, l.v, l.output, l.gate, l.up, l.down].reduce(0) { $0 + bytes($1) }
        }
    }

    public func makeSequence() -> SequenceState {
        SequenceState(layers: config.layers, kvDim: config.kvDim, contextLength: config.contextLength)
    }

    /// Runs the batch, appends every item's tokens to its sequence, and returns each item's
    /// requested rows (logits: rows × vocabulary; hidden states: rows × embedding; row-major;
    /// empty for `.none`).
    public func forward(_ items: [ForwardItem], pool: ThreadPool?) throws -> [[Float]] {
        let c = config
        var rows: [RowInfo] = []
        for (i, item) in items.enumerated() {
            guard item.sequence.layers == c.layers, item.sequence.kvDim == c.kvDim else {
                throw ModelError.badHyperparameter("a sequence of another model was passed")
            }
            let needed = item.sequence.length + item.tokens.count
            guard needed <= c.contextLength else { throw ModelError.contextOverflow(needed: needed, limit: c.contextLength) }
            for (j, t) in item.tokens.enumerated() {
                guard t >= 0, Int(t) < c.vocabulary else { throw ModelError.tokenOutOfRange(token: t, vocabulary: c.vocabulary) }
                rows.append(RowInfo(item: i, position: item.sequence.length + j, token: t))
            }
        }
        // A sequence may appear once per batch: its rows must see each other's keys in order.
        guard Set(items.map { ObjectIdentifier($0.sequence) }).count == items.count else {
            throw ModelError.badHyperparameter("a sequence appears twice in one batch")
        }
        guard !rows.isEmpty else { return items.map { _ in [] } }
        for item in items { item.sequence.reserve(additional: item.tokens.count) }

        let pass = ForwardPass(model: self, items: items, rows: rows, pool: pool)
        let hidden = try pass.run()
        for item in items { item.sequence.commit(item.tokens) }
        return try pass.logits(hidden: hidden)
    }
}

/// One row of a batch: a token of an item at an absolute position.
struct RowInfo {
    let item: Int
    let position: Int
    let token: Int32
}
