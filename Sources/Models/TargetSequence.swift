// The per-sequence state of an encoder-decoder model: its own self-attention KV cache (a
// SequenceState, as the decoder-only models keep) and a reference to the cross-attention keys and
// values of the source it is decoded on. Those are computed once per source and layer from the
// encoder states and never change, so every sequence on a source (beams, retries at another
// temperature) shares them; forking a sequence copies its own cache only.

/// Cross-attention keys and values of one source, for every decoder layer, each head's apart
/// (`PackedHeads` of one window: heads × positions × headDimension floats, and the keys again in
/// SharedKeyAttention's transposed blocks), so a decode step streams each head's keys and values
/// front to back. Immutable once computed.
public final class CrossAttentionMemory: @unchecked Sendable {
    public let layers: Int
    /// Encoder rows (the keys a cross-attention query sees).
    public let positions: Int
    public let width: Int
    public let heads: Int
    let packed: [PackedHeads]

    init(layers: Int, positions: Int, width: Int, heads: Int) {
        self.layers = layers
        self.positions = positions
        self.width = width
        self.heads = heads
        packed = (0..<layers).map { _ in PackedHeads(windows: 1, heads: heads, positions: positions, dim: width / heads) }
    }

    /// Bytes held.
    public var bytes: Int {
        packed.reduce(0) { $0 + ($1.keys.count + $1.values.count + $1.transposed.count) * MemoryLayout<Float>.size }
    }
}

/// A target sequence being decoded on one source.
public final class TargetSequence: @unchecked Sendable {
    public let memory: CrossAttentionMemory
    let cache: SequenceState

    init(memory: CrossAttentionMemory, cache: SequenceState) {
        self.memory = memory
        self.cache = cache
    }

    /// Positions filled so far (the next token's position).
    public var length: Int { cache.length }
    /// The tokens at positions 0..<length.
    public var tokens: [Int32] { cache.tokens }
    /// Bytes of the sequence's own cache (the shared memory is not counted).
    public var cacheBytes: Int { cache.cacheBytes }

    /// An independent copy that shares the source's memory (beam search forks a sequence).
    public func fork() -> TargetSequence { TargetSequence(memory: memory, cache: cache.copy()) }

    /// Forgets positions from `newLength` on.
    public func truncate(to newLength: Int) { cache.truncate(to: newLength) }
}
