// `reprolm verify`: checks a whole journal offline. Every line must be canonical, in sequence,
// chained to the one before and hashed right; every receipt's output record must hash to its
// digest; every revealed session seed must match its commitment, and every receipt that took a
// derived seed must carry exactly the seed the revealed session seed gives for its index.
import Foundation
import ReproJSON

public struct JournalReport: Sendable {
    public var lines = 0
    public var receipts = 0
    public var commits = 0
    public var reveals = 0
    public var replays = 0
    /// Receipts whose derived seed was re-derived from a revealed session seed.
    public var derivedSeedsChecked = 0
    /// Receipts with a session seed not revealed (yet): their seeds cannot be re-derived.
    public var unrevealed = 0
    /// The first problem: its 1-based line and what is wrong.
    public var failure: (line: Int, reason: String)?

    public var ok: Bool { failure == nil }
}

public enum JournalVerifier {
    public static func verify(contentsOf path: String) throws -> JournalReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError.io("read", path: path, errno: errno == 0 ? ENOENT : errno)
        }
        return verify([UInt8](data))
    }

    public static func verify(_ bytes: [UInt8]) -> JournalReport {
        var report = JournalReport()
        var prev = JournalChain.genesis
        var seen = Set<String>()
        var sessionReceipts: [(line: Int, commitment: String, index: UInt64, seed: Int64?, scheme: SeedScheme)] = []
        var revealed: [String: (seed: SessionSeed, requests: UInt64)] = [:]
        var start = 0
        func fail(_ line: Int, _ reason: String) -> JournalReport {
            var r = report
            r.failure = (line, reason)
            return r
        }
        while start < bytes.count {
            let lineNumber = report.lines + 1
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else {
                return fail(lineNumber, "torn: no newline at its end (a crash while appending; the daemon sets it aside when it next starts)")
            }
            let object: [String: JSONValue], entry: String
            do {
                (object, entry) = try JournalChain.check(bytes[start..<nl], seq: Int64(report.lines), prev: prev)
            } catch {
                return fail(lineNumber, "\(error)")
            }
            switch object["type"]?.stringValue {
            case "receipt":
                let receipt: ParsedReceipt
                do { receipt = try ParsedReceipt(object["receipt"] ?? .null, path: "receipt") } catch {
                    return fail(lineNumber, "malformed receipt: \(error)")
                }
                guard receipt.isIntact else {
                    return fail(lineNumber, "receipt \(receipt.id): its output does not hash to its digest \(receipt.claimedDigest)")
                }
                guard seen.insert(receipt.id).inserted else { return fail(lineNumber, "receipt id \(receipt.id) appears twice") }
                if receipt.seedSource == "session", let c = receipt.commitment, let i = receipt.index {
                    sessionReceipts.append((lineNumber, c, i, receipt.request["seed"]?.int64Value, receipt.seedScheme))
                }
                report.receipts += 1
            case "commit":
                guard let c = object["commitment"]?.stringValue, Digest.isSHA256Hex(c) else { return fail(lineNumber, "commit without a commitment") }
                report.commits += 1
            case "reveal":
                guard let c = object["commitment"]?.stringValue, let seed = object["seed"].flatMap(SessionSeed.init(json:)),
                      let n = object["requests"]?.int64Value, n >= 0 else {
                    return fail(lineNumber, "reveal without a commitment, seed or request count")
                }
                guard seed.commitment == c else { return fail(lineNumber, "the revealed seed does not match its commitment \(c)") }
                let known = revealed[c]?.requests ?? 0
                revealed[c] = (seed, max(known, UInt64(n)))
                report.reveals += 1
            default:  // "replay": check() admits only the four types
                guard object["of"]?.stringValue != nil, object["identical"]?.boolValue != nil else {
                    return fail(lineNumber, "replay without `of` or `identical`")
                }
                report.replays += 1
            }
            prev = entry
            report.lines += 1
            start = nl + 1
        }
        for r in sessionReceipts {
            guard let reveal = revealed[r.commitment] else {
                report.unrevealed += 1
                continue
            }
            // Each receipt's own scheme: a journal may hold receipts of both versions.
            let expected = reveal.seed.derivedSeed(index: r.index, scheme: r.scheme)
            guard let seed = r.seed, UInt64(bitPattern: seed) == expected else {
                return fail(r.line, "the request's seed is not seed number \(r.index) derived from the revealed session seed (expected \(expected))")
            }
            guard r.index < reveal.requests else {
                return fail(r.line, "index \(r.index) is beyond the \(reveal.requests) requests the session seed was revealed with")
            }
            report.derivedSeedsChecked += 1
        }
        return report
    }
}
