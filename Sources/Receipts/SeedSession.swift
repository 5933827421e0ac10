// The seed state of one session (a socket connection, or the stdio stream): the current session
// seed, its commitment, and how many requests have taken a derived seed from it. Indices are
// handed out when a request arrives (in the order the client sent them), not when it runs, so
// concurrent requests of one session get the same seeds however the scheduler orders them.
import Foundation

/// How a request got its seed; what a result and its receipt report.
public enum SeedUse: Sendable, Equatable {
    /// The request carried `seed`.
    case request(UInt64)
    /// Derived from the session seed with this commitment, as request number `index`.
    case session(UInt64, commitment: String, index: UInt64)
    /// Drawn from the OS's entropy (no request seed, no session seed).
    case entropy(UInt64)

    public var value: UInt64 {
        switch self {
        case .request(let v), .entropy(let v), .session(let v, _, _): return v
        }
    }

    public var source: String {
        switch self {
        case .request: return "request"
        case .session: return "session"
        case .entropy: return "entropy"
        }
    }

    /// A fresh entropy seed, in the range a request `seed` may take (0...2^53 − 1, exact in every
    /// JSON client: SeedScheme.swift).
    public static func drawEntropy() -> SeedUse {
        .entropy(UInt64.random(in: 0...SeedScheme.current.maxSeed))
    }
}

/// A session seed being replaced, revealed with the number of requests that used it.
public struct SeedReveal: Sendable, Equatable {
    public let seed: SessionSeed
    public let commitment: String
    public let requests: UInt64
    /// Drawn by the daemon (`setSeed {}`) rather than given by the client.
    public let fromEntropy: Bool

    public init(seed: SessionSeed, commitment: String, requests: UInt64, fromEntropy: Bool) {
        self.seed = seed
        self.commitment = commitment
        self.requests = requests
        self.fromEntropy = fromEntropy
    }
}

/// One session's seed state. Thread-safe.
public final class SeedSession: @unchecked Sendable {
    private struct Current {
        let seed: SessionSeed
        let commitment: String
        let fromEntropy: Bool
        var used: UInt64
    }

    private let lock = NSLock()
    private var current: Current?

    public init() {}

    /// Sets a new session seed; returns its commitment and the reveal of the one it replaces.
    public func set(_ seed: SessionSeed, fromEntropy: Bool) -> (commitment: String, previous: SeedReveal?) {
        let commitment = seed.commitment
        lock.lock()
        defer { lock.unlock() }
        let previous = current.map { SeedReveal(seed: $0.seed, commitment: $0.commitment, requests: $0.used, fromEntropy: $0.fromEntropy) }
        current = Current(seed: seed, commitment: commitment, fromEntropy: fromEntropy, used: 0)
        return (commitment, previous)
    }

    /// The next derived seed, or nil when the session has no seed.
    public func nextSeed() -> SeedUse? {
        lock.lock()
        defer { lock.unlock() }
        guard var c = current else { return nil }
        let index = c.used
        c.used += 1
        current = c
        return .session(c.seed.derivedSeed(index: index, scheme: .current), commitment: c.commitment, index: index)
    }

    /// Ends the session: the reveal of its seed, if it had one.
    public func end() -> SeedReveal? {
        lock.lock()
        defer { lock.unlock() }
        let reveal = current.map { SeedReveal(seed: $0.seed, commitment: $0.commitment, requests: $0.used, fromEntropy: $0.fromEntropy) }
        current = nil
        return reveal
    }
}
