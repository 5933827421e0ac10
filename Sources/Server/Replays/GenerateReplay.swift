// Replaying a `generate` receipt: its canonical request with its seed; a cancelled answer is
// replayed as far as it got. Compared token by token; logprobs only where the contexts agree.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

enum GenerateReplay {
    static let rule = ReplayRule(seeded: true, checkOutput: checkOutput, run: run, compare: compare)

    static func checkOutput(_ output: [String: JSONValue], _ at: String) throws {
        guard output["finishReason"]?.stringValue != nil else { throw JSONFieldError(path: "\(at).finishReason", message: "must be a string") }
        // Token ids are 32-bit: a divergence report echoes them, and must not echo an integer
        // a JSON client cannot hold (protocol/README.md, "Integers").
        guard let tokens = output["tokens"]?.arrayValue,
              tokens.allSatisfy({ if case .int(let t) = $0 { return (0...Int64(Int32.max)).contains(t) } else { return false } }) else {
            throw JSONFieldError(path: "\(at).tokens", message: "must be an array of token ids")
        }
        if let logprobs = output["logprobs"], !(logprobs.arrayValue?.allSatisfy { OutputShape.isBits($0, nullable: false) } ?? false) {
            throw JSONFieldError(path: "\(at).logprobs", message: "must be an array of binary32 bit patterns (8 hex digits)")
        }
    }

    static func run(_ r: ParsedReceipt, _ model: LoadedModel, _ scheduler: InferenceScheduler, _ lease: ModelLease?, _ audio: AudioResolver) async throws -> [String: JSONValue] {
        var request = r.request
        // A cancelled answer stopped early: replay as far as it got, then compare that far.
        let cutAt = r.output["finishReason"]?.stringValue == "cancelled" ? r.output["tokens"]?.arrayValue?.count : nil
        if let n = cutAt, let limit = request["maxTokens"]?.int64Value {
            request["maxTokens"] = .int(min(limit, Int64(max(1, n))))
        }
        // A version 1 receipt's seed may be any of scheme 1's (up to 2^63 − 1): it replays as made.
        let p = try GenerateParams(.object(request), maxSeed: Int64(r.seedScheme.maxSeed))
        guard let seed = p.seed else { throw JSONFieldError(path: "params.seed", message: "is required to replay a generation") }
        var out = try await GenerationHandlers.run(p, model: model, scheduler: scheduler, seed: .request(seed), lease: lease, audio: audio) { _ in }.output
        if let n = cutAt { out = truncated(out, to: n) }
        return out
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

    static func compare(_ r: ParsedReceipt, _ expected: [String: JSONValue], _ actual: [String: JSONValue], _ c: inout Replay.Comparison) {
        let e = expected["logprobs"]?.arrayValue ?? [], a = actual["logprobs"]?.arrayValue ?? []
        c.actualTokens = actual["tokens"]?.arrayValue
        let et = expected["tokens"]?.arrayValue ?? [], at = actual["tokens"]?.arrayValue ?? []
        // Contexts agree up to the first token that differs; logprobs compare only there.
        let firstTokenDiff = (0..<max(et.count, at.count)).first { i in i >= et.count || i >= at.count || et[i] != at[i] }
        let common = firstTokenDiff ?? et.count
        c.maxLogprobDifference = Replay.maxDifference(e, a, upTo: common)
        let firstLogprobDiff = (0..<min(common, e.count, a.count)).first { e[$0] != a[$0] }
        if let i = firstLogprobDiff ?? firstTokenDiff {
            var d: [String: JSONValue] = ["position": JSONValue(i),
                                          "expectedToken": i < et.count ? et[i] : .null, "actualToken": i < at.count ? at[i] : .null]
            if i < e.count, i < a.count, let x = Replay.value(e[i]), let y = Replay.value(a[i]) {
                d["expectedLogprob"] = .double(x)
                d["actualLogprob"] = .double(y)
            }
            c.divergence = .object(d)
        } else if expected["finishReason"] != actual["finishReason"] {
            c.divergence = ["position": JSONValue(et.count), "expectedFinishReason": expected["finishReason"] ?? .null,
                            "actualFinishReason": actual["finishReason"] ?? .null]
        }
    }
}
