// Replaying a `score` receipt: its canonical request (tokens and scoreFrom; with audio, the audio by
// its sha256, the language, task and transcript ids); compared logprob by logprob, the first
// position that differs named with its token (a speech score's record lists its whole sequence).
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
        // A divergence report echoes these: only 32-bit token ids (protocol/README.md, "Integers").
        if let tokens = output["tokens"],
           !(tokens.arrayValue?.allSatisfy { if case .int(let t) = $0 { return (0...Int64(Int32.max)).contains(t) } else { return false } } ?? false) {
            throw JSONFieldError(path: "\(at).tokens", message: "must be an array of token ids")
        }
    }

    static func run(_ r: ParsedReceipt, _ model: LoadedModel, _ scheduler: InferenceScheduler, _ lease: ModelLease?, _ audio: AudioResolver) async throws -> [String: JSONValue] {
        try await GenerationHandlers.run(try ScoreParams(.object(r.request)), model: model, scheduler: scheduler, lease: lease,
                                         audio: audio).output
    }

    static func compare(_ r: ParsedReceipt, _ expected: [String: JSONValue], _ actual: [String: JSONValue], _ c: inout Replay.Comparison) {
        let e = expected["logprobs"]?.arrayValue ?? [], a = actual["logprobs"]?.arrayValue ?? []
        c.maxLogprobDifference = Replay.maxDifference(e, a, upTo: min(e.count, a.count))
        // A speech score's request holds only the transcript; its record, the whole sequence.
        let tokens = expected["tokens"]?.arrayValue ?? r.request["tokens"]?.arrayValue ?? []
        if let i = (0..<max(e.count, a.count)).first(where: { $0 >= e.count || $0 >= a.count || e[$0] != a[$0] }) {
            c.divergence = ["position": JSONValue(i), "token": i < tokens.count ? tokens[i] : .null,
                            "expectedLogprob": i < e.count ? Replay.value(e[i]).map { .double($0) } ?? .null : .null,
                            "actualLogprob": i < a.count ? Replay.value(a[i]).map { .double($0) } ?? .null : .null]
        }
    }
}
