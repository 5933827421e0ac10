// Delegated session seeds: a router that holds `setSeed` sessions for a fleet of daemons
// (deploy/ray) hands a replica, with each `generate`, the session seed and the index the router
// gave that request on arrival. The replica derives the seed and the commitment itself (nothing
// derived is taken from the client) and records `source: session` exactly as a daemon holding
// the session would, so the receipt cannot be told from a single daemon's.
//
// Accepted only by a daemon started with --accept-delegated-seeds, whose client is the router
// (over stdio or a private socket): a client free to pick indices could run one request under
// many derived seeds and keep the output it likes, which arrival-order indices forbid.
//
// The journal stays self-contained: a connection's first request with a given session seed
// journals its commitment before any receipt that uses it, and when the connection ends the
// seed is revealed with `requests` one past the highest index the connection served, so
// `reprolm verify` re-derives every delegated seed of the journal.
// protocol/README.md ("Delegated session seeds") is the specification.
import Foundation
import Receipts
import ReproJSON
import RPCProtocol

/// `delegatedSeed: {seed, index, fromEntropy?}` of one request.
struct DelegatedSeed: Equatable {
    static let parameter = "delegatedSeed"

    let seed: SessionSeed
    let index: UInt64
    /// The router drew the seed (`setSeed {}`); recorded in the journal's commit and reveal.
    let fromEntropy: Bool

    /// Reads `params.delegatedSeed` and removes it from `params`, so the method's own parser
    /// sees only its parameters. nil when absent or null. Throws a JSONFieldError at its path
    /// when malformed, given beside `seed`, or sent to a daemon that does not accept it.
    static func take(from params: inout JSONValue?, accepted: Bool) throws -> DelegatedSeed? {
        guard case .object(var o)? = params, let value = o[parameter] else { return nil }
        o[parameter] = nil
        params = .object(o)
        if value.isNull { return nil }
        let path = "params.\(parameter)"
        guard accepted else {
            throw JSONFieldError(path: path, message: "is accepted only by a daemon started with --accept-delegated-seeds (a router's replica)")
        }
        if let s = o["seed"], !s.isNull {
            throw JSONFieldError(path: path, message: "cannot be given together with seed")
        }
        var r = try JSONObjectReader(value, path: path)
        let seed = try sessionSeed(&r)
        let index = try r.int("index", in: 0...JSONValue.maxExactInteger)
        let fromEntropy = try r.optionalBool("fromEntropy") ?? false
        try r.finish()
        return DelegatedSeed(seed: seed, index: UInt64(index), fromEntropy: fromEntropy)
    }

    /// The seed as `setSeed` takes it: an integer within ±(2^53 − 1) or a string of 1...1024 bytes.
    private static func sessionSeed(_ r: inout JSONObjectReader) throws -> SessionSeed {
        let path = r.fieldPath("seed")
        switch r.value("seed") {
        case nil:
            throw JSONFieldError(path: path, message: "is required")
        case let v? where v.int64Value != nil:
            try SeedParam.checkSessionInteger(v.int64Value!, path: path)
            return .integer(v.int64Value!)
        case .string(let s)?:
            if s.isEmpty { throw JSONFieldError(path: path, message: "must not be empty") }
            if s.utf8.count > SessionSeed.maxStringBytes {
                throw JSONFieldError(path: path, message: "is longer than \(SessionSeed.maxStringBytes) bytes")
            }
            return .string(s)
        case let v?:
            throw JSONFieldError(path: path, message: "must be an integer or a string, not \(v.typeName)")
        }
    }

    /// The seed use a daemon holding the session would have made for this index.
    var use: SeedUse {
        .session(seed.derivedSeed(index: index, scheme: .current), commitment: seed.commitment, index: index)
    }
}

/// The delegated session seeds one connection has used. Thread-safe.
final class DelegatedSessions: @unchecked Sendable {
    private struct Used {
        let seed: SessionSeed
        let fromEntropy: Bool
        var highestIndex: UInt64
    }

    private let lock = NSLock()
    private var used: [String: Used] = [:]
    /// Commitments in first-use order, so the reveals at the end are journaled in a fixed order.
    private var order: [String] = []

    /// Records a use; true when the connection had not used this session seed before (its
    /// commitment is then journaled, before the receipt of this request).
    func record(_ d: DelegatedSeed) -> (commitment: String, isNew: Bool) {
        let commitment = d.seed.commitment
        lock.lock()
        defer { lock.unlock() }
        if var u = used[commitment] {
            u.highestIndex = max(u.highestIndex, d.index)
            used[commitment] = u
            return (commitment, false)
        }
        used[commitment] = Used(seed: d.seed, fromEntropy: d.fromEntropy, highestIndex: d.index)
        order.append(commitment)
        return (commitment, true)
    }

    /// The connection ended: a reveal for each seed it used, `requests` one past its highest index.
    func end() -> [SeedReveal] {
        lock.lock()
        defer { lock.unlock() }
        let reveals = order.compactMap { c in
            used[c].map { SeedReveal(seed: $0.seed, commitment: c, requests: $0.highestIndex + 1, fromEntropy: $0.fromEntropy) }
        }
        used = [:]
        order = []
        return reveals
    }
}
