// `setSeed`: fixes the seed of the caller's session in advance, by its commitment.
import ReproJSON

/// `setSeed {seed?}`: `seed` is an integer within ±(2^53 − 1) or a string of 1 to 1024
/// bytes; without it the daemon draws 256 bits from the OS's entropy and returns only the
/// commitment (the seed is revealed when it is replaced, or when the session ends, in the journal).
public struct SetSeedParams: Sendable {
    public static let method = "setSeed"
    public static let maxStringBytes = 1024

    public enum Seed: Sendable, Equatable {
        case integer(Int64)
        case string(String)
    }

    /// nil: draw one from entropy.
    public let seed: Seed?

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        switch r.value("seed") {
        case nil:
            seed = nil
        case let v? where v.int64Value != nil:
            // 3 and 3.0 alike, as every integer parameter (JSONValue.int64Value).
            try SeedParam.checkSessionInteger(v.int64Value!, path: r.fieldPath("seed"))
            seed = .integer(v.int64Value!)
        case .string(let s)?:
            if s.isEmpty { throw JSONFieldError(path: r.fieldPath("seed"), message: "must not be empty") }
            if s.utf8.count > Self.maxStringBytes { throw JSONFieldError(path: r.fieldPath("seed"), message: "is longer than \(Self.maxStringBytes) bytes") }
            seed = .string(s)
        case let .double(d)? where d.rounded() == d:  // an integer beyond 64 bits, written as a real
            throw SeedParam.sessionRangeError(path: r.fieldPath("seed"), value: "\(d)")
        case let v?:
            throw JSONFieldError(path: r.fieldPath("seed"), message: "must be an integer or a string, not \(v.typeName == "number" ? "a number with a fraction" : v.typeName)")
        }
        try r.finish()
    }

    /// `{commitment, previous}`: `previous` reveals the replaced seed (null when there was none).
    public static func result(commitment: String, previous: (seed: JSONValue, commitment: String, requests: UInt64, fromEntropy: Bool)?) -> JSONValue {
        [
            "commitment": .string(commitment),
            "previous": previous.map { p in
                ["seed": p.seed, "commitment": .string(p.commitment), "requests": .int(Int64(p.requests)), "fromEntropy": .bool(p.fromEntropy)]
            } ?? .null,
        ]
    }
}
