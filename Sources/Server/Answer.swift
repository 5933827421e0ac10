// An answer on its way out: its result, and what its receipt records. Every method that carries a
// receipt (generate, score; encode later) builds one of these, then `Daemon.seal` makes the
// receipt, writes it to the journal and only then lets the answer go.
import Engine
import Kernels
import Receipts
import ReproJSON
import Sampling

public struct Answer: Sendable {
    /// The result's members, without the receipt.
    public var result: [String: JSONValue]
    public let method: String
    public let model: LoadedModel
    /// The canonical effective request (valid params of `method`).
    public let request: JSONValue
    /// nil for methods that take no seed.
    public let seed: SeedUse?
    /// The output record: tokens, and every float returned as its bit pattern.
    public let output: [String: JSONValue]

    public var origin: ReceiptOrigin {
        ReceiptOrigin(modelName: model.name, modelSHA256: model.sha256, engineVersion: Daemon.engineVersion,
                      kernels: KernelSet.selected.kernelClass)
    }

    public func makeReceipt() throws -> JSONValue {
        try Receipt.make(method: method, origin: origin, request: request, seed: seed, output: output)
    }

    /// The result with `receipt` added.
    public static func json(_ result: [String: JSONValue], receipt: JSONValue) -> JSONValue {
        var r = result
        r["receipt"] = receipt
        return .object(r)
    }

    /// Not journaled: for the one-shot CLI commands.
    public func unjournaledJSON() throws -> JSONValue {
        Self.json(result, receipt: try makeReceipt())
    }
}

/// The output records receipts hash. Floats appear as their IEEE bit patterns in lowercase hex
/// (8 digits for a binary32 logprob, 16 for a binary64 sum), so the digest covers exact bits.
enum OutputRecord {
    /// `{finishReason, tokens, logprobs?, top?}`: `logprobs` when they were returned, `top` when
    /// alternatives were.
    static func generation(finishReason: String, tokens: [Int32], logprobs: [TokenChoice]?, topLogprobs: Int) -> [String: JSONValue] {
        var o: [String: JSONValue] = ["finishReason": .string(finishReason), "tokens": JSONValue(ints: tokens)]
        if let logprobs {
            o["logprobs"] = .array(logprobs.map { .string(Digest.bits($0.logprob)) })
            if topLogprobs > 0 { o["top"] = .array(logprobs.map { alternatives($0.top) }) }
        }
        return o
    }

    /// `{logprobs, top?, sum, mean, perplexity}`: a logprob per token (null where unscored).
    static func score(_ r: ScoreResult, topLogprobs: Int) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "logprobs": .array(r.tokens.map { t in t.logprob.map { .string(Digest.bits($0)) } ?? .null }),
            "sum": .string(Digest.bits(r.sum)),
            "mean": r.mean.map { .string(Digest.bits($0)) } ?? .null,
            "perplexity": r.perplexity.map { .string(Digest.bits($0)) } ?? .null,
        ]
        if topLogprobs > 0 { o["top"] = .array(r.tokens.map { $0.logprob == nil ? .array([]) : alternatives($0.top) }) }
        return o
    }

    /// `{embeddings}`: per input its vector's binary32 bit patterns (with pooling `none`, every
    /// token's vector one after another).
    static func encoding(_ vectors: [[Float]]) -> [String: JSONValue] {
        ["embeddings": .array(vectors.map { v in .array(v.map { .string(Digest.bits($0)) }) })]
    }

    /// `[[token, bits], ...]`.
    static func alternatives(_ top: [TokenLogprob]) -> JSONValue {
        .array(top.map { [JSONValue($0.token), .string(Digest.bits($0.logprob))] })
    }
}
