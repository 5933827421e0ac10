// Replaying an `encode` receipt: its recorded token ids (or audio, by sha256) with its pooling and
// normalize; compared value by value, the first (input, index) that differs named, and the largest
// difference.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

enum EncodeReplay {
    static let rule = ReplayRule(seeded: false, checkOutput: checkOutput, run: run, compare: compare)

    static func checkOutput(_ output: [String: JSONValue], _ at: String) throws {
        guard let vectors = output["embeddings"]?.arrayValue,
              vectors.allSatisfy({ $0.arrayValue?.allSatisfy { OutputShape.isBits($0, nullable: false) } ?? false }) else {
            throw JSONFieldError(path: "\(at).embeddings", message: "must be arrays of binary32 bit patterns")
        }
    }

    static func run(_ r: ParsedReceipt, _ model: LoadedModel, _ scheduler: InferenceScheduler, _ lease: ModelLease?, _ audio: AudioResolver) async throws -> [String: JSONValue] {
        try await EncodeHandlers.run(try EncodeParams(.object(r.request)), model: model, scheduler: scheduler, lease: lease,
                                     audio: audio).output
    }

    static func compare(_ r: ParsedReceipt, _ expected: [String: JSONValue], _ actual: [String: JSONValue], _ c: inout Replay.Comparison) {
        let e = expected["embeddings"]?.arrayValue ?? [], a = actual["embeddings"]?.arrayValue ?? []
        var largest: Double = 0
        for i in 0..<max(e.count, a.count) {
            let x = i < e.count ? e[i].arrayValue ?? [] : [], y = i < a.count ? a[i].arrayValue ?? [] : []
            for j in 0..<max(x.count, y.count) {
                let u = j < x.count ? Replay.value(x[j]) : nil, v = j < y.count ? Replay.value(y[j]) : nil
                if let u, let v { largest = max(largest, abs(u - v)) }
                if c.divergence.isNull, j >= x.count || j >= y.count || x[j] != y[j] {
                    c.divergence = ["input": JSONValue(i), "index": JSONValue(j),
                                    "expected": u.map { .double($0) } ?? .null, "actual": v.map { .double($0) } ?? .null]
                }
            }
        }
        c.maxEmbeddingDifference = largest
    }
}
