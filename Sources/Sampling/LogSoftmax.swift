// Log-probabilities from a row of logits, in one fixed order so they are the same bits on every
// run: the maximum, then Σ exp(z − max) accumulated in Double in increasing token id, then
// logprob(t) = z_t − (max + ln Σ). Reported logprobs (generate's `logprobs`, `score`) are of the
// model's own distribution: before penalties and temperature.
import Kernels

/// A token and its log-probability.
public struct TokenLogprob: Sendable, Equatable {
    public let token: Int32
    public let logprob: Float

    public init(token: Int32, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}

/// The log-softmax of one logits row.
public struct LogSoftmax: Sendable {
    /// max + ln Σ exp(z − max): subtracting it from a logit gives its log-probability.
    public let logNormalizer: Double

    public init(_ logits: UnsafeBufferPointer<Float>) {
        var maximum = -Float.infinity
        for z in logits where z > maximum { maximum = z }
        guard maximum.isFinite else {
            logNormalizer = Double(maximum)
            return
        }
        var sum = 0.0
        for z in logits { sum += Double(Math.exp(z - maximum)) }
        logNormalizer = Double(maximum) + ReproMath.log(sum)
    }

    public init(_ logits: [Float]) {
        self = logits.withUnsafeBufferPointer { LogSoftmax($0) }
    }

    public func logprob(ofLogit z: Float) -> Float { Float(Double(z) - logNormalizer) }

    /// The `count` most likely tokens, most likely first; equal logits in increasing token id.
    public func top(_ count: Int, of logits: UnsafeBufferPointer<Float>) -> [TokenLogprob] {
        TopTokens.select(count, from: logits).map { TokenLogprob(token: $0, logprob: logprob(ofLogit: logits[Int($0)])) }
    }
}

/// Selection of the highest logits, with ties broken by the lower token id (everywhere in
/// reprolm a tie goes to the lower id, so no choice ever depends on sort stability).
public enum TopTokens {
    /// Token ids of the `count` highest finite logits, highest first.
    public static func select(_ count: Int, from logits: UnsafeBufferPointer<Float>) -> [Int32] {
        guard count > 0 else { return [] }
        if count >= logits.count / 8 { return sortedAll(logits, limit: count) }
        // A small sorted list; ids arrive in increasing order, so an equal logit never displaces.
        var best: [Int32] = []
        best.reserveCapacity(count + 1)
        var worst = -Float.infinity
        for i in 0..<logits.count {
            let z = logits[i]
            guard z.isFinite, best.count < count || z > worst else { continue }
            var at = best.count
            while at > 0, logits[Int(best[at - 1])] < z { at -= 1 }
            best.insert(Int32(i), at: at)
            if best.count > count { best.removeLast() }
            worst = logits[Int(best[best.count - 1])]
        }
        return best
    }

    /// The first `count` ids `allowed` accepts in the order of `select` (finite logits, highest
    /// first, ties to the lower id): what `select` would return if every other logit were -inf.
    /// The best candidates are checked one by one first, so a constraint that allows what the
    /// model prefers costs a few checks; when they hold too few allowed ones, `everyAllowed`
    /// (the whole allowed set, in any order) decides.
    public static func firstAllowed(_ count: Int, from logits: UnsafeBufferPointer<Float>,
                                    _ allowed: (Int32) -> Bool, everyAllowed: () -> [Int32]) -> [Int32] {
        guard count > 0 else { return [] }
        let ranked = select(min(max(64, 4 * count), logits.count), from: logits)
        var found: [Int32] = []
        for id in ranked where allowed(id) {
            found.append(id)
            if found.count == count { return found }
        }
        if ranked.count < min(max(64, 4 * count), logits.count) { return found }  // no other finite logit
        var all = everyAllowed().filter { $0 >= 0 && Int($0) < logits.count && logits[Int($0)].isFinite }
        all.sort { a, b in
            let za = logits[Int(a)], zb = logits[Int(b)]
            return za != zb ? za > zb : a < b
        }
        return Array(all.prefix(count))
    }

    /// Every finite logit's id, highest first, cut to `limit`.
    static func sortedAll(_ logits: UnsafeBufferPointer<Float>, limit: Int) -> [Int32] {
        var ids = (0..<Int32(logits.count)).filter { logits[Int($0)].isFinite }
        ids.sort { a, b in
            let za = logits[Int(a)], zb = logits[Int(b)]
            return za != zb ? za > zb : a < b
        }
        return Array(ids.prefix(limit))
    }

    /// The most likely token (the lowest id among equal maxima); nil when no logit is finite.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32? {
        var best: Int32? = nil
        var bestZ = -Float.infinity
        for i in 0..<logits.count where logits[i].isFinite && (best == nil || logits[i] > bestZ) {
            best = Int32(i)
            bestZ = logits[i]
        }
        return best
    }
}
