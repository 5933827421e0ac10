// Per-sequence state: the tokens seen so far and the KV cache. Weights are shared by every
// sequence (DecoderModel); each request owns its SequenceState, as llama2.c keeps RunState apart
// from TransformerWeights.
//
// Layout: for each layer, keys and values are (position × kvHeads·headDim) Float32, appended
// position by position. Float32 keeps the cache exact (what was computed is what is attended
// to), at 4 bytes per value; it grows by doubling, so a short request holds a short cache.

/// The cache of one sequence.
public final class SequenceState: @unchecked Sendable {
    public let layers: Int
    public let kvDim: Int
    public let contextLength: Int
    /// Positions filled so far (the next token's position).
    public private(set) var length = 0
    /// The tokens at positions 0..<length.
    public private(set) var tokens: [Int32] = []
    private(set) var capacity = 0
    private(set) var keys: [UnsafeMutablePointer<Float>]
    private(set) var values: [UnsafeMutablePointer<Float>]

    init(layers: Int, kvDim: Int, contextLength: Int) {
        self.layers = layers
        self.kvDim = kvDim
        self.contextLength = contextLength
        keys = (0..<layers).map { _ in .allocate(capacity: 0) }
        values = (0..<layers).map { _ in .allocate(capacity: 0) }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Bytes held by the cache.
    public var cacheBytes: Int { Self.bytes(layers: layers, kvDim: kvDim, capacity: capacity) }

    /// The capacity a cache holding `positions` has (`reserve` grows to it): doublings from 64,
    /// capped at the context. A memory budget reserves this much for a request.
    public static func capacity(toHold positions: Int, contextLength: Int) -> Int {
        guard positions > 0 else { return 0 }
        var c = 64
        while c < positions { c *= 2 }
        return min(c, max(positions, contextLength))
    }

    /// Bytes of a cache of `capacity` positions.
    public static func bytes(layers: Int, kvDim: Int, capacity: Int) -> Int {
        2 * layers * capacity * kvDim * MemoryLayout<Float>.size
    }

    /// Makes room for `count` more positions.
    func reserve(additional count: Int) {
        let needed = length + count
        guard needed > capacity else { return }
        let newCapacity = Self.capacity(toHold: needed, contextLength: contextLength)
        for l in 0..<layers {
            keys[l] = grow(keys[l], to: newCapacity)
            values[l] = grow(values[l], to: newCapacity)
        }
        capacity = newCapacity
    }

    private func grow(_ p: UnsafeMutablePointer<Float>, to newCapacity: Int) -> UnsafeMutablePointer<Float> {
        let q = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvDim)
        q.update(from: p, count: length * kvDim)
        p.deallocate()
        return q
    }

    /// Records that `newTokens` now fill the next positions (their K and V were written).
    func commit(_ newTokens: [Int32]) {
        tokens.append(contentsOf: newTokens)
        length += newTokens.count
    }

    /// Forgets positions from `newLength` on (the cache beyond is simply overwritten later).
    public func truncate(to newLength: Int) {
        guard newLength < length else { return }
        length = max(0, newLength)
        tokens.removeLast(tokens.count - length)
    }

    /// An independent copy (beam search forks a sequence).
    public func copy() -> SequenceState { copy(prefix: length) }

    /// An independent copy of the first `count` positions (a prefix cache hands out its entries'
    /// prefixes this way).
    public func copy(prefix count: Int) -> SequenceState {
        let n = max(0, min(count, length))
        let c = SequenceState(layers: layers, kvDim: kvDim, contextLength: contextLength)
        c.reserve(additional: max(n, 1))
        for l in 0..<layers {
            c.keys[l].update(from: keys[l], count: n * kvDim)
            c.values[l].update(from: values[l], count: n * kvDim)
        }
        c.length = n
        c.tokens = Array(tokens.prefix(n))
        return c
    }
}
