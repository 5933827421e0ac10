// The `seed` parameter of generate and setSeed: an integer that every JSON client holds exactly.
// A seed above 2^53 − 1 would come back from the daemon (in the result and the receipt) as a
// number that JavaScript or Neovim round to a double, and a replay with the rounded seed gives
// other tokens: such a seed is refused where it enters, with its path (RFC 7493, I-JSON).
import ReproJSON

public enum SeedParam {
    /// Why the bound is 2^53 − 1, for the error message.
    static let why = "an integer beyond 2^53 − 1 is not exact in JSON clients that hold numbers as doubles"

    /// `seed` as a non-negative integer up to `max` (nil when absent). `max` is 2^53 − 1 for a
    /// request; a replay of a version 1 receipt passes 2^63 − 1, the range it was made with.
    public static func read(_ r: inout JSONObjectReader, max: Int64) throws -> UInt64? {
        guard let v = r.value("seed") else { return nil }
        let path = r.fieldPath("seed")
        let reason = max == JSONValue.maxExactInteger ? " (\(why))" : ""
        guard let i = v.int64Value else {
            if let d = v.doubleValue, d.rounded() == d {
                throw JSONFieldError(path: path, message: "must be between 0 and \(max)\(reason), not \(d)")
            }
            throw JSONFieldError(path: path, message: "must be an integer, not \(v.typeName == "number" ? "the non-integer \(v.doubleValue ?? 0)" : v.typeName)")
        }
        guard (0...max).contains(i) else {
            throw JSONFieldError(path: path, message: "must be between 0 and \(max)\(reason), not \(i)")
        }
        return UInt64(i)
    }

    /// setSeed's integer seed: within ±(2^53 − 1), since the journal and a replacing setSeed's
    /// answer reveal it. (A longer secret fits in a string seed.)
    public static func checkSessionInteger(_ i: Int64, path: String) throws {
        let m = JSONValue.maxExactInteger
        guard (-m...m).contains(i) else { throw sessionRangeError(path: path, value: "\(i)") }
    }

    static func sessionRangeError(path: String, value: String) -> JSONFieldError {
        let m = JSONValue.maxExactInteger
        return JSONFieldError(path: path, message: "must be between -\(m) and \(m) (\(why)); a string seed may be longer, not \(value)")
    }
}
