// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011), the counter-based generator behind every sampled token. A draw is a pure function of
// (key, counter): the draw at decode step t depends only on the request's seed and t, never on
// what ran before it, so replaying any prefix of a generation gives the same draws, and a
// generation's randomness cannot depend on batching or threads. protocol/README.md specifies
// how reprolm forms the key and counter; the known-answer tests pin this implementation to the
// published vectors.

/// The Philox4x32 block function with 10 rounds.
public enum Philox4x32 {
    static let m0: UInt32 = 0xD251_1F53
    static let m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9
    static let w1: UInt32 = 0xBB67_AE85

    /// Encrypts a 128-bit counter under a 64-bit key; returns four 32-bit words.
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for round in 0..<10 {
            if round > 0 {
                k0 = k0 &+ w0
                k1 = k1 &+ w1
            }
            let p0 = UInt64(m0) * UInt64(c0)
            let p1 = UInt64(m1) * UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        }
        return (c0, c1, c2, c3)
    }
}

/// The uniform draws of one request: `uniform(step:)` is a pure function of (seed, step, lane).
public struct CounterRNG: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// Four 32-bit words for (step, lane): key = seed (low word first), counter = (step low,
    /// step high, lane, 0).
    public func words(step: UInt64, lane: UInt32 = 0) -> (UInt32, UInt32, UInt32, UInt32) {
        Philox4x32.block(
            counter: (UInt32(truncatingIfNeeded: step), UInt32(truncatingIfNeeded: step >> 32), lane, 0),
            key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// A Double uniform in [0, 1) with 53 random bits: the top 27 bits of word 0 and the top
    /// 26 bits of word 1, as (a * 2^26 + b) / 2^53.
    public func uniform(step: UInt64, lane: UInt32 = 0) -> Double {
        let w = words(step: step, lane: lane)
        let a = UInt64(w.0 >> 5), b = UInt64(w.1 >> 6)
        return Double(a << 26 | b) * 0x1p-53
    }
}
