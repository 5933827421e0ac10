// How seeds are derived and drawn, by receipt version. A receipt's `version` names its seed
// scheme, so a receipt made before a change of scheme still verifies with the rule it was made by.
//
//   scheme 1 (receipts version 1): derived seeds are the first 8 bytes of the derivation digest
//            & (2^63 − 1); entropy seeds are drawn from 0...2^63 − 1.
//   scheme 2 (receipts version 2): the same digest & (2^53 − 1); entropy seeds from 0...2^53 − 1.
//
// Scheme 2 exists because JSON readers that hold numbers as doubles (JavaScript, Neovim's Lua)
// rounded scheme 1's seeds (5.9516081134233e+17), and a replay with the rounded seed diverged: every
// seed the daemon makes now is exact in a double (RFC 7493, I-JSON). The commitment and the bytes
// hashed are the same in both schemes: only the mask differs, so a session seed's commitment
// fixes its seeds under either scheme, and which one applies is the receipt's version.
import ReproJSON

public enum SeedScheme: Int64, Sendable, CaseIterable {
    case v1 = 1
    case v2 = 2

    /// The scheme of receipts made now.
    public static let current = SeedScheme.v2

    /// The largest seed the scheme derives or draws (and, for scheme 2, the largest request `seed`).
    public var maxSeed: UInt64 {
        switch self {
        case .v1: return UInt64(Int64.max)
        case .v2: return UInt64(JSONValue.maxExactInteger)
        }
    }

    /// The scheme of a receipt of this version (nil: a version this daemon does not read).
    public init?(receiptVersion: Int64) {
        self.init(rawValue: receiptVersion)
    }

    /// The receipt version that records this scheme.
    public var receiptVersion: Int64 { rawValue }
}
