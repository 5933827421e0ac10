// Session seeds: the commitment that fixes a seed before any output is seen, and the per-request
// seeds derived from it. protocol/README.md ("Seeds") states the byte layouts with a worked
// example; Tests/conformance/receipts_ref.py recomputes them with Python's hashlib.
//
//   seedField(seed)  = kind || u64be(byteCount(body)) || body
//                      kind 0x69 ('i'): body = the integer as 8 bytes, two's complement, big-endian
//                      kind 0x73 ('s'): body = the string's UTF-8 bytes
//   commitment       = hex(sha256("reprolm/seed/v1" || seedField(seed)))
//   seed_i           = u64be(sha256("reprolm/seed/v1" || seedField(seed) || u64be(i))[0..<8]) & mask
//                      mask 2^53 - 1 (seed scheme 2, receipts version 2), 2^63 - 1 (scheme 1)
//
// Why not simply `"reprolm/seed/v1" || seed || i`: the kind byte keeps the integer 7 apart from
// the string "7"-as-bytes, and the length field keeps a commitment input from ever equalling a
// derivation input (they differ in length by the index's 8 bytes, and the length field pins where
// the seed ends). The mask keeps every derived seed a valid request `seed` that every JSON client
// holds exactly (0...2^53-1, SeedScheme.swift), so a replay can pass it as one. The domain string
// names the commitment's format, which scheme 2 did not change.
import Crypto
import Foundation
import ReproJSON

/// A session seed as the client gave it (or as drawn from entropy).
public enum SessionSeed: Equatable, Sendable {
    case integer(Int64)
    case string(String)

    public static let domain = Array("reprolm/seed/v1".utf8)
    public static let maxStringBytes = 1024

    /// 32 bytes from the OS's entropy, as 64 lowercase hex digits (a string seed): far too many
    /// to guess from the commitment, unlike a small integer a person picks.
    public static func fromEntropy() -> SessionSeed {
        .string(Digest.randomHex(bytes: 32))
    }

    /// kind || u64be(length) || body.
    public var field: [UInt8] {
        let kind: UInt8
        let body: [UInt8]
        switch self {
        case .integer(let v):
            kind = UInt8(ascii: "i")
            body = Digest.bigEndian(UInt64(bitPattern: v))
        case .string(let s):
            kind = UInt8(ascii: "s")
            body = Array(s.utf8)
        }
        return [kind] + Digest.bigEndian(UInt64(body.count)) + body
    }

    /// hex(sha256(domain || field)).
    public var commitment: String {
        Digest.sha256Hex(Self.domain + field)
    }

    /// The seed of the session's request number `index` (0 for the first) under `scheme` (the
    /// receipt's; a verifier of an old receipt passes `.v1`).
    public func derivedSeed(index: UInt64, scheme: SeedScheme) -> UInt64 {
        let digest = Digest.sha256(Self.domain + field + Digest.bigEndian(index))
        let first8 = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return first8 & scheme.maxSeed
    }

    /// As it appears in JSON (setSeed's reveal, the journal).
    public var json: JSONValue {
        switch self {
        case .integer(let v): return .int(v)
        case .string(let s): return .string(s)
        }
    }

    /// Reads `seed` as JSON gives it: an integer or a string of 1...1024 bytes. Any 64-bit integer
    /// is read back, since journals of scheme 1 revealed such seeds; `setSeed` takes only
    /// integers within ±(2^53 − 1) now (SetSeedParams).
    public init?(json: JSONValue) {
        switch json {
        case .int(let v): self = .integer(v)
        case .string(let s) where !s.isEmpty && s.utf8.count <= Self.maxStringBytes: self = .string(s)
        default: return nil
        }
    }
}

/// SHA-256 and the byte helpers the receipt formats share.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// `count` bytes from the OS's entropy, in lowercase hex.
    public static func randomHex(bytes count: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return hex((0..<count).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(sha256(bytes))
    }

    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    public static func bigEndian(_ v: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) }
    }

    public static func isSHA256Hex(_ s: String) -> Bool {
        s.utf8.count == 64 && isLowerHex(s)
    }

    static func isLowerHex(_ s: String) -> Bool {
        s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// A binary32's bit pattern as 8 lowercase hex digits: how receipts carry floats exactly.
    public static func bits(_ f: Float) -> String {
        let s = String(f.bitPattern, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// A binary64's bit pattern as 16 lowercase hex digits.
    public static func bits(_ d: Double) -> String {
        let s = String(d.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    public static func float(bits: String) -> Float? {
        guard bits.utf8.count == 8, isLowerHex(bits), let v = UInt32(bits, radix: 16) else { return nil }
        return Float(bitPattern: v)
    }

    public static func double(bits: String) -> Double? {
        guard bits.utf8.count == 16, isLowerHex(bits), let v = UInt64(bits, radix: 16) else { return nil }
        return Double(bitPattern: v)
    }
}
