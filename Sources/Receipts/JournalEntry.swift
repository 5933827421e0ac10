// One line of the journal, and the hash chain that links the lines. Every line is the canonical
// JSON of an object with `seq` (0, 1, 2...), `prev` (the previous line's `entry`, 64 zeros for the
// first), `type`, the type's members, and `entry`: the sha256 of the canonical bytes of the same
// object without `entry`. A line is that object's canonical bytes and one "\n".
import ReproJSON

/// What a journal line records.
public enum JournalRecord: Sendable {
    /// An answer's receipt.
    case receipt(JSONValue)
    /// A session seed was set (`setSeed`): its commitment, before any output that uses it.
    case commit(commitment: String, fromEntropy: Bool)
    /// A session seed replaced or ended, revealed with the number of requests that used it.
    case reveal(SeedReveal)
    /// A `reproduce`: which receipt was replayed, and whether it came out identical. A replay is
    /// never journaled as a receipt of its own.
    case replay(of: String, identical: Bool, digest: String, created: String)

    public var type: String {
        switch self {
        case .receipt: return "receipt"
        case .commit: return "commit"
        case .reveal: return "reveal"
        case .replay: return "replay"
        }
    }

    /// The type's members.
    var members: [String: JSONValue] {
        switch self {
        case .receipt(let r):
            return ["receipt": r]
        case let .commit(commitment, fromEntropy):
            return ["commitment": .string(commitment), "fromEntropy": .bool(fromEntropy)]
        case .reveal(let r):
            return ["commitment": .string(r.commitment), "seed": r.seed.json, "requests": .int(Int64(r.requests)),
                    "fromEntropy": .bool(r.fromEntropy)]
        case let .replay(of, identical, digest, created):
            return ["of": .string(of), "identical": .bool(identical), "digest": .string(digest), "created": .string(created)]
        }
    }
}

/// A line that does not belong in the chain.
public struct JournalLineError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

public enum JournalChain {
    /// `prev` of the first line.
    public static let genesis = String(repeating: "0", count: 64)

    /// The line (without its newline) for `record` at `seq` after `prev`, and its `entry` digest.
    public static func line(_ record: JournalRecord, seq: Int64, prev: String) throws -> (bytes: [UInt8], entry: String) {
        var o = record.members
        o["type"] = .string(record.type)
        o["seq"] = .int(seq)
        o["prev"] = .string(prev)
        let entry = Digest.sha256Hex(try JSONValue.object(o).canonicalBytes())
        o["entry"] = .string(entry)
        return (try JSONValue.object(o).canonicalBytes(), entry)
    }

    /// Checks one line (without its newline) at `seq` after `prev`: valid JSON in canonical form,
    /// the right `seq` and `prev`, and an `entry` that is its digest. Returns the object and entry.
    public static func check(_ line: ArraySlice<UInt8>, seq: Int64, prev: String) throws -> (object: [String: JSONValue], entry: String) {
        let bytes = Array(line)
        guard let value = try? JSONValue.parse(bytes), let object = value.objectValue else {
            throw JournalLineError(reason: "not a JSON object")
        }
        guard (try? value.canonicalBytes()) == bytes else { throw JournalLineError(reason: "not in canonical form") }
        guard case .int(let s)? = object["seq"] else { throw JournalLineError(reason: "no integer seq") }
        guard s == seq else { throw JournalLineError(reason: "seq is \(s), expected \(seq)") }
        guard let p = object["prev"]?.stringValue else { throw JournalLineError(reason: "no prev") }
        guard p == prev else { throw JournalLineError(reason: "prev does not match the previous line's entry (the chain is broken)") }
        guard let entry = object["entry"]?.stringValue else { throw JournalLineError(reason: "no entry") }
        var body = object
        body["entry"] = nil
        guard let canon = try? JSONValue.object(body).canonicalBytes(), Digest.sha256Hex(canon) == entry else {
            throw JournalLineError(reason: "entry is not the digest of the line (the line was changed)")
        }
        guard let type = object["type"]?.stringValue, ["receipt", "commit", "reveal", "replay"].contains(type) else {
            throw JournalLineError(reason: "unknown type")
        }
        return (object, entry)
    }
}
