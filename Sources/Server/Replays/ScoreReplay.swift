// Replaying a `score` receipt: its canonical request (tokens and scoreFrom); compared logprob by
// logprob, the first position that differs named with its token.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

enum ScoreReplay {
    static let rule = ReplayRule(seeded: false, checkOutput: checkOutput, run: run, compare: compare)

    static func checkOutput(_ output: [String: JSONValue], _ at: String) throws {
        guard let a = output["logprobs"]?.arrayValue, a.allSatisfy({ OutputShape.isBits($0, nullable: true) }) else {
            throw JSONFieldError(path: "\(at).logprobs", message: "must be an array of binary32 bit patterns or nulls")
        }
    }

    static func run(_ r: ParsedReceipt, _ model: LoadedModel, _ scheduler: InferenceScheduler, _ lease: ModelLease?, _ audio: AudioResolver) async throws -> [String: JSONValue] {
        try await GenerationHandlers.run(try ScoreParams(.object(r.request)), model: model, scheduler: scheduler, lease: lease).output
    }

    static func compare(_ r: ParsedReceipt, _ expected: [String: JSONValue], _ actual: [String: JSONValue], _ c: inout Replay.Comparison) {
        let e = expected["logprobs"]?.arrayValue ?? [], a = actual["logprobs"]?.arrayValue ?? []
        c.maxLogprobDifference = Replay.maxDifference(e, a, upTo: min(e.count, a.count))
        let tokens = r.request["tokens"]?.arrayValue ?? []
        if let i = (0..<max(e.count, a.count)).first(where: { $0 >= e.count || $0 >= a.count || e[$0] != a[$0] }) {
            c.divergence = ["position": JSONValue(i), "token": i < tokens.count ? tokens[i] : .null,
                            "expectedLogprob": i < e.count ? Replay.value(e[i]).map { .double($0) } ?? .null : .null,
                            "actualLogprob": i < a.count ? Replay.value(a[i]).map { .double($0) } ?? .null : .null]
        }
    }
}
