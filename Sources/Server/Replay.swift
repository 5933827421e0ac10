// Replaying a receipt and comparing output records. The replay runs the receipt's canonical
// request with its seed; the comparison is over the output records (tokens and float bit
// patterns), and on a difference points at the first position where they part. What differs by
// method (shape, run, comparison) is the method's ReplayRule (Replays/), found on its
// method-table entry.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

enum Replay {
    /// The methods whose receipts can be replayed, in table order.
    static var methods: [String] { MethodTable.entries.filter { $0.replay != nil }.map(\.name) }

    /// Runs the receipt's request on `model`; returns the replay's output record. A problem with
    /// the request is reported at its place in the receipt (`params.receipt.request.tokens[3]`).
    static func run(_ r: ParsedReceipt, model: LoadedModel, scheduler: InferenceScheduler, path: String,
                    lease: ModelLease? = nil, audio: AudioResolver = .none) async throws -> [String: JSONValue] {
        let rule = try checkShape(r, path: path)
        do {
            return try await rule.run(r, model, scheduler, lease, audio)
        } catch let e as JSONFieldError where !e.path.hasPrefix(path) && (e.path == "params" || e.path.hasPrefix("params.")) {
            throw JSONFieldError(path: "\(path).request" + e.path.dropFirst("params".count), message: e.message)
        } catch let EngineError.tokenOutOfRange(index, token, vocabulary) {
            throw JSONFieldError(path: "\(path).request.tokens[\(index)]", message: "token \(token) is outside the vocabulary (\(vocabulary))")
        } catch let e as RPCError {
            // An error whose data names a parameter (encode's -32003) names it inside the receipt.
            guard case .object(var data)? = e.data, let at = data["path"]?.stringValue, at.hasPrefix("params."),
                  let code = RPCErrorCode(rawValue: e.code) else { throw e }
            data["path"] = .string("\(path).request" + at.dropFirst("params".count))
            throw RPCError(code, e.message, data: .object(data))
        }
    }

    /// The receipt is one of a replayable method, with a seed exactly when the method takes one,
    /// and an output record of its method's shape; returns the method's rule.
    @discardableResult
    static func checkShape(_ r: ParsedReceipt, path: String) throws -> ReplayRule {
        guard let rule = MethodTable.byName[r.method]?.replay else {
            throw JSONFieldError(path: "\(path).method", message: "is \(r.method): only \(methods.joined(separator: ", ")) answers can be replayed")
        }
        if rule.seeded != (r.seedSource != nil) {
            throw JSONFieldError(path: "\(path).seed", message: r.seedSource == nil ? "is required for \(r.method)" : "must be null for \(r.method)")
        }
        try rule.checkOutput(r.output, "\(path).output")
        return rule
    }

    struct Comparison {
        var identical: Bool
        var intact: Bool
        var expectedDigest: String
        var actualDigest: String
        var divergence: JSONValue
        var maxLogprobDifference: Double?
        /// encode: the largest |expected − actual| over every embedding value.
        var maxEmbeddingDifference: Double?
        var actualTokens: [JSONValue]?

        var json: [String: JSONValue] {
            var actual: [String: JSONValue] = ["digest": .string(actualDigest)]
            if let actualTokens { actual["tokens"] = .array(actualTokens) }
            if let maxEmbeddingDifference {
                return [
                    "identical": .bool(identical),
                    "expected": ["digest": .string(expectedDigest), "intact": .bool(intact)],
                    "actual": .object(actual),
                    "divergence": divergence,
                    "maxEmbeddingDifference": .double(maxEmbeddingDifference),
                ]
            }
            return [
                "identical": .bool(identical),
                "expected": ["digest": .string(expectedDigest), "intact": .bool(intact)],
                "actual": .object(actual),
                "divergence": divergence,
                "maxLogprobDifference": maxLogprobDifference.map { .double($0) } ?? .null,
            ]
        }
    }

    static func compare(_ r: ParsedReceipt, _ actual: [String: JSONValue]) throws -> Comparison {
        var expected = r.output
        expected["digest"] = nil
        let actualDigest = try Receipt.outputDigest(actual)
        let intact = r.isIntact
        let same = (try? JSONValue.object(expected).canonicalBytes()) == (try JSONValue.object(actual).canonicalBytes())
        var c = Comparison(identical: intact && same && actualDigest == r.claimedDigest, intact: intact,
                           expectedDigest: r.claimedDigest, actualDigest: actualDigest, divergence: .null)
        MethodTable.byName[r.method]?.replay?.compare(r, expected, actual, &c)
        return c
    }

    /// A logprob of an output record (a binary32 bit pattern), widened to Double.
    static func value(_ bits: JSONValue) -> Double? {
        bits.stringValue.flatMap(Digest.float(bits:)).map(Double.init)
    }

    /// The largest |expected - actual| over the first `n` positions where both have a logprob.
    static func maxDifference(_ e: [JSONValue], _ a: [JSONValue], upTo n: Int) -> Double? {
        var best: Double?
        for i in 0..<min(n, e.count, a.count) {
            if let x = value(e[i]), let y = value(a[i]) { best = max(best ?? 0, abs(x - y)) }
        }
        return best
    }
}
