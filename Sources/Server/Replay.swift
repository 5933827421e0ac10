// Replaying a receipt and comparing output records. The replay runs the receipt's canonical
// request with its seed; the comparison is over the output records (tokens and float bit
// patterns), and on a difference points at the first position where they part.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

enum Replay {
    static let methods = [GenerateParams.method, ScoreParams.method, EncodeParams.method]

    /// Runs the receipt's request on `model`; returns the replay's output record. A problem with
    /// the request is reported at its place in the receipt (`params.receipt.request.tokens[3]`).
    static func run(_ r: ParsedReceipt, model: LoadedModel, scheduler: InferenceScheduler, path: String,
                    lease: ModelLease? = nil) async throws -> [String: JSONValue] {
        try checkShape(r, path: path)
        do {
            return try await replay(r, model: model, scheduler: scheduler, path: path, lease: lease)
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

    private static func replay(_ r: ParsedReceipt, model: LoadedModel, scheduler: InferenceScheduler, path: String,
                               lease: ModelLease?) async throws -> [String: JSONValue] {
        switch r.method {
        case GenerateParams.method:
            var request = r.request
            // A cancelled answer stopped early: replay as far as it got, then compare that far.
            let cutAt = r.output["finishReason"]?.stringValue == "cancelled" ? r.output["tokens"]?.arrayValue?.count : nil
            if let n = cutAt, let limit = request["maxTokens"]?.int64Value {
                request["maxTokens"] = .int(min(limit, Int64(max(1, n))))
            }
            // A version 1 receipt's seed may be any of scheme 1's (up to 2^63 − 1): it replays as made.
            let p = try GenerateParams(.object(request), maxSeed: Int64(r.seedScheme.maxSeed))
            guard let seed = p.seed else { throw JSONFieldError(path: "params.seed", message: "is required to replay a generation") }
            var out = try await GenerationHandlers.run(p, model: model, scheduler: scheduler, seed: .request(seed), lease: lease) { _ in }.output
            if let n = cutAt { out = truncated(out, to: n) }
            return out
        case ScoreParams.method:
            return try await GenerationHandlers.run(try ScoreParams(.object(r.request)), model: model, scheduler: scheduler, lease: lease).output
        case EncodeParams.method:
            return try await EncodeHandlers.run(try EncodeParams(.object(r.request)), model: model, scheduler: scheduler, lease: lease).output
        default:  // checkShape, which runs first, admits only `methods`
            throw JSONFieldError(path: "\(path).method", message: "is \(r.method): it cannot be replayed")
        }
    }

    /// The receipt is one of a replayable method, with a seed exactly when the method takes one,
    /// and an output record of its method's shape (so a divergence report never echoes something
    /// that is not a token or a bit pattern).
    static func checkShape(_ r: ParsedReceipt, path: String) throws {
        let at = "\(path).output"
        func bits(_ v: JSONValue, nullable: Bool) -> Bool {
            if nullable, v.isNull { return true }
            return v.stringValue.flatMap(Digest.float(bits:)) != nil
        }
        let logprobs = r.output["logprobs"]
        guard methods.contains(r.method) else {
            throw JSONFieldError(path: "\(path).method", message: "is \(r.method): only \(methods.joined(separator: ", ")) answers can be replayed")
        }
        // Only generate takes a seed (its value is in the request).
        if (r.method == GenerateParams.method) != (r.seedSource != nil) {
            throw JSONFieldError(path: "\(path).seed", message: r.seedSource == nil ? "is required for generate" : "must be null for \(r.method)")
        }
        switch r.method {
        case GenerateParams.method:
            guard r.output["finishReason"]?.stringValue != nil else { throw JSONFieldError(path: "\(at).finishReason", message: "must be a string") }
            // Token ids are 32-bit: a divergence report echoes them, and must not echo an integer
            // a JSON client cannot hold (protocol/README.md, "Integers").
            guard let tokens = r.output["tokens"]?.arrayValue,
                  tokens.allSatisfy({ if case .int(let t) = $0 { return (0...Int64(Int32.max)).contains(t) } else { return false } }) else {
                throw JSONFieldError(path: "\(at).tokens", message: "must be an array of token ids")
            }
            if let logprobs, !(logprobs.arrayValue?.allSatisfy { bits($0, nullable: false) } ?? false) {
                throw JSONFieldError(path: "\(at).logprobs", message: "must be an array of binary32 bit patterns (8 hex digits)")
            }
        case ScoreParams.method:
            guard let a = logprobs?.arrayValue, a.allSatisfy({ bits($0, nullable: true) }) else {
                throw JSONFieldError(path: "\(at).logprobs", message: "must be an array of binary32 bit patterns or nulls")
            }
        case EncodeParams.method:
            guard let vectors = r.output["embeddings"]?.arrayValue,
                  vectors.allSatisfy({ $0.arrayValue?.allSatisfy { bits($0, nullable: false) } ?? false }) else {
                throw JSONFieldError(path: "\(at).embeddings", message: "must be arrays of binary32 bit patterns")
            }
        default:
            break
        }
    }

    /// A generation record cut to its first `n` tokens, as a cancelled answer would have been.
    static func truncated(_ record: [String: JSONValue], to n: Int) -> [String: JSONValue] {
        var o = record
        for key in ["tokens", "logprobs", "top"] {
            if let a = o[key]?.arrayValue, a.count > n { o[key] = .array(Array(a.prefix(n))) }
        }
        if o["finishReason"]?.stringValue == "length" { o["finishReason"] = .string("cancelled") }
        return o
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
        let e = expected["logprobs"]?.arrayValue ?? [], a = actual["logprobs"]?.arrayValue ?? []
        if r.method == EncodeParams.method {
            compareEmbeddings(expected["embeddings"]?.arrayValue ?? [], actual["embeddings"]?.arrayValue ?? [], into: &c)
        } else if r.method == GenerateParams.method {
            c.actualTokens = actual["tokens"]?.arrayValue
            let et = expected["tokens"]?.arrayValue ?? [], at = actual["tokens"]?.arrayValue ?? []
            // Contexts agree up to the first token that differs; logprobs compare only there.
            let firstTokenDiff = (0..<max(et.count, at.count)).first { i in i >= et.count || i >= at.count || et[i] != at[i] }
            let common = firstTokenDiff ?? et.count
            c.maxLogprobDifference = maxDifference(e, a, upTo: common)
            let firstLogprobDiff = (0..<min(common, e.count, a.count)).first { e[$0] != a[$0] }
            if let i = firstLogprobDiff ?? firstTokenDiff {
                var d: [String: JSONValue] = ["position": JSONValue(i),
                                              "expectedToken": i < et.count ? et[i] : .null, "actualToken": i < at.count ? at[i] : .null]
                if i < e.count, i < a.count, let x = value(e[i]), let y = value(a[i]) {
                    d["expectedLogprob"] = .double(x)
                    d["actualLogprob"] = .double(y)
                }
                c.divergence = .object(d)
            } else if expected["finishReason"] != actual["finishReason"] {
                c.divergence = ["position": JSONValue(et.count), "expectedFinishReason": expected["finishReason"] ?? .null,
                                "actualFinishReason": actual["finishReason"] ?? .null]
            }
        } else {
            c.maxLogprobDifference = maxDifference(e, a, upTo: min(e.count, a.count))
            let tokens = r.request["tokens"]?.arrayValue ?? []
            if let i = (0..<max(e.count, a.count)).first(where: { $0 >= e.count || $0 >= a.count || e[$0] != a[$0] }) {
                c.divergence = ["position": JSONValue(i), "token": i < tokens.count ? tokens[i] : .null,
                                "expectedLogprob": i < e.count ? value(e[i]).map { .double($0) } ?? .null : .null,
                                "actualLogprob": i < a.count ? value(a[i]).map { .double($0) } ?? .null : .null]
            }
        }
        return c
    }

    /// encode: the first (input, index) whose bits differ, and the largest difference anywhere.
    static func compareEmbeddings(_ e: [JSONValue], _ a: [JSONValue], into c: inout Comparison) {
        var largest: Double = 0
        for i in 0..<max(e.count, a.count) {
            let x = i < e.count ? e[i].arrayValue ?? [] : [], y = i < a.count ? a[i].arrayValue ?? [] : []
            for j in 0..<max(x.count, y.count) {
                let u = j < x.count ? value(x[j]) : nil, v = j < y.count ? value(y[j]) : nil
                if let u, let v { largest = max(largest, abs(u - v)) }
                if c.divergence.isNull, j >= x.count || j >= y.count || x[j] != y[j] {
                    c.divergence = ["input": JSONValue(i), "index": JSONValue(j),
                                    "expected": u.map { .double($0) } ?? .null, "actual": v.map { .double($0) } ?? .null]
                }
            }
        }
        c.maxEmbeddingDifference = largest
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
