// The KV caches of finished requests, kept per model so that a request whose tokens start with
// tokens already seen (an editor's repeated context, each turn of a chat) prefills only the rest.
//
// Why reuse cannot change a bit: a position's keys and values depend only on the tokens up to it,
// and every row's arithmetic is the same whatever the chunking and batching it ran in
// (docs/determinism.md). So the cached positions hold exactly what a cold prefill would compute,
// and the positions after them are then computed exactly as cold. At least the last token of a
// request is always run, because its logits are not cached. Receipts never mention the cache.
//
// Shared by every connection; bounded by a byte budget (the entries' KV capacity), least recently
// used out first. An entry whose tokens another entry extends is dropped for it. A request that
// extends (nearly) a whole entry takes the entry itself (no copy of its cache) and offers it back
// when done; meanwhile a concurrent request for the same prefix computes it afresh, same bits.
import Foundation
import Models

/// A model's cache of token prefixes and their KV caches.
public final class PrefixCache: @unchecked Sendable {
    /// Bytes the entries' KV caches may hold in all.
    public let budgetBytes: Int
    private let lock = NSLock()
    /// Least recently used first.
    private var entries: [SequenceState] = []
    private var counters = PrefixCacheStats()

    public init(budgetBytes: Int) {
        self.budgetBytes = max(0, budgetBytes)
    }

    /// Tokens at the end of an entry a request may drop by taking the entry over rather than
    /// copying its prefix: an editor's next request usually re-tokenizes the context's last few
    /// tokens differently, and copying a long cache (and faulting its fresh pages in) costs more
    /// than re-running a few tokens later.
    static let tailGivenUp = 64

    /// A sequence holding the longest cached prefix of `tokens` (at most all but the last token),
    /// and how many tokens it holds; nil when nothing useful is cached. When `tokens` extend all
    /// of an entry but at most `tailGivenUp` tokens (an editor's next request, a chat's next
    /// turn), the entry itself is handed over, cut to the prefix, leaving the cache until the
    /// request offers it back extended: no copy. Otherwise the prefix is copied and the entry stays.
    public func sequence(for tokens: [Int32]) -> (sequence: SequenceState, reused: Int)? {
        lock.lock()
        defer { lock.unlock() }
        counters.lookups += 1
        var best: (index: Int, length: Int)? = nil
        for (i, entry) in entries.enumerated() {
            let n = Self.commonPrefix(entry.tokens, tokens, limit: tokens.count - 1)
            if n > 0, n > (best?.length ?? 0) { best = (i, n) }
        }
        guard let best else { return nil }
        let entry = entries.remove(at: best.index)
        counters.hits += 1
        counters.tokensReused += best.length
        if entry.length - best.length <= Self.tailGivenUp {
            entry.truncate(to: best.length)
            return (entry, best.length)
        }
        entries.append(entry)
        return (entry.copy(prefix: best.length), best.length)
    }

    /// Keeps `sequence` (the cache takes it over: the caller must not use it again).
    public func offer(_ sequence: SequenceState) {
        guard sequence.length > 0, sequence.cacheBytes <= budgetBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        let tokens = sequence.tokens
        // Already covered by a longer (or equal) entry: that one just becomes the most recent.
        if let i = entries.firstIndex(where: { Self.commonPrefix($0.tokens, tokens, limit: tokens.count) == tokens.count }) {
            entries.append(entries.remove(at: i))
            return
        }
        entries.removeAll { Self.commonPrefix($0.tokens, tokens, limit: $0.tokens.count) == $0.tokens.count }
        entries.append(sequence)
        var bytes = entries.reduce(0) { $0 + $1.cacheBytes }
        while bytes > budgetBytes, !entries.isEmpty {
            bytes -= entries.removeFirst().cacheBytes
            counters.evictions += 1
        }
    }

    /// Drops entries, least recently used first, until `bytes` are freed or none is left (a
    /// memory budget making room); returns the bytes freed.
    public func trim(bytes wanted: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        var freed = 0
        while freed < wanted, !entries.isEmpty {
            freed += entries.removeFirst().cacheBytes
            counters.evictions += 1
        }
        return freed
    }

    /// Bytes the entries hold now.
    public var bytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.reduce(0) { $0 + $1.cacheBytes }
    }

    /// Counters and current size.
    public var stats: PrefixCacheStats {
        lock.lock()
        defer { lock.unlock() }
        var s = counters
        s.entries = entries.count
        s.bytes = entries.reduce(0) { $0 + $1.cacheBytes }
        return s
    }

    /// Tokens a and b share from the start, at most `limit`.
    static func commonPrefix(_ a: [Int32], _ b: [Int32], limit: Int) -> Int {
        let n = min(a.count, b.count, max(0, limit))
        var i = 0
        while i < n, a[i] == b[i] { i += 1 }
        return i
    }
}

/// What a prefix cache has done so far.
public struct PrefixCacheStats: Sendable, Equatable {
    public var lookups = 0
    public var hits = 0
    public var tokensReused = 0
    public var evictions = 0
    public var entries = 0
    public var bytes = 0
}
