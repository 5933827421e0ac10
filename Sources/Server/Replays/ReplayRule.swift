// How receipts of one method are replayed: the method's own shape check, run and comparison,
// carried on its method-table entry (MethodTable.swift). Replay.swift holds what every method
// shares (re-rooting errors inside the receipt, the output digest, the result's JSON); nothing
// there switches on method names, so a replayable method is one params file, one handler, one
// rule and one table row.
import Engine
import Receipts
import ReproJSON

struct ReplayRule: Sendable {
    /// Whether its receipts carry a seed (the seed's value is in the request).
    let seeded: Bool
    /// Checks that the receipt's output record has the method's shape, so a divergence report
    /// never echoes something that is not a token or a bit pattern (`path`: the record's).
    let checkOutput: @Sendable (_ output: [String: JSONValue], _ path: String) throws -> Void
    /// Runs the receipt's request on the model (a speech request's audio from the resolver);
    /// returns the replay's output record.
    let run: @Sendable (ParsedReceipt, LoadedModel, InferenceScheduler, ModelLease?, AudioResolver) async throws -> [String: JSONValue]
    /// Fills the comparison's divergence and largest difference (expected: the receipt's record
    /// without its digest).
    let compare: @Sendable (_ r: ParsedReceipt, _ expected: [String: JSONValue], _ actual: [String: JSONValue],
                            _ c: inout Replay.Comparison) -> Void
}

/// Output-record checks the rules share.
enum OutputShape {
    /// A binary32 bit pattern (8 hex digits), or null where allowed.
    static func isBits(_ v: JSONValue, nullable: Bool) -> Bool {
        if nullable, v.isNull { return true }
        return v.stringValue.flatMap(Digest.float(bits:)) != nil
    }
}
