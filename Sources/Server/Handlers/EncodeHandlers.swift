// encode: inputs become token ids (tokenized by the model, truncated to its limit when asked),
// the engine's Encoder turns them into vectors, and the answer carries a receipt whose request
// holds the ids actually encoded.
import Engine
import Models
import Receipts
import ReproJSON
import RPCProtocol

enum EncodeHandlers {
    @Sendable static func encode(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try EncodeParams(params)
        let lease = try await ctx.daemon.registry.acquire(p.model, keepAlive: p.keepAlive) { ctx.progress($0) }
        defer { lease.release() }
        return try await ctx.daemon.seal(try await run(p, model: lease.model, scheduler: ctx.daemon.scheduler, lease: lease,
                                                       audio: AudioResolver(store: ctx.daemon.audioStore)))
    }

    static func run(_ p: EncodeParams, model: LoadedModel, scheduler: InferenceScheduler, lease: ModelLease? = nil,
                    audio: AudioResolver = .none) async throws -> Answer {
        if case .audio(let source) = p.input {
            return try await SpeechEncodeHandler.run(p, source, model: model, scheduler: scheduler, audio: audio)
        }
        if model.speech != nil {
            throw JSONFieldError(path: "params.audio", message: "is required: \(model.name) is a speech model, whose encoder takes audio, not text")
        }
        let encoder = try Encoder(model: model, scheduler: scheduler)
        let defaults = model.encoder.map { (pooling: $0.pooling, normalize: $0.normalize) } ?? (pooling: .mean, normalize: true)
        let pooling = p.pooling ?? EncodeParams.Pooling(rawValue: defaults.pooling.rawValue)!
        let normalize = p.normalize ?? defaults.normalize
        if pooling == .cls, model.encoder == nil {
            throw JSONFieldError(path: "params.pooling", message: "cls needs an encoder model (a [CLS] token); a decoder pools mean or last")
        }
        let limit = encoder.maxTokens
        var inputs: [[Int32]] = []
        var truncated: [Bool] = []
        switch p.input {
        case let .texts(texts, addSpecial):
            for (i, text) in texts.enumerated() {
                let path = "params.input" + (p.inputIsList ? "[\(i)]" : "")
                var ids: [Int32]
                var cut = false
                if let e = model.encoder {
                    let encoding = e.tokenizer.encode(text, addSpecial: addSpecial)
                    (ids, cut) = (encoding.ids, encoding.truncated)
                } else {
                    ids = model.tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: false)
                    if ids.count > limit { (ids, cut) = (Array(ids.prefix(limit)), true) }
                }
                if ids.isEmpty { throw JSONFieldError(path: path, message: "gives no tokens: there is nothing to encode") }
                if cut, !p.truncate { throw tooLong(path: path, limit: limit) }
                inputs.append(ids)
                truncated.append(cut)
            }
        case .tokens(let all):
            let vocabulary = model.tokenizer.vocabularySize
            for (i, ids) in all.enumerated() {
                if let j = ids.firstIndex(where: { Int($0) >= vocabulary }) {
                    throw JSONFieldError(path: "params.tokens[\(i)][\(j)]", message: "token \(ids[j]) is outside the vocabulary (\(vocabulary))")
                }
                if ids.count > limit, !p.truncate { throw tooLong(path: "params.tokens[\(i)]", limit: limit) }
                inputs.append(Array(ids.prefix(limit)))
                truncated.append(ids.count > limit)
            }
        case .audio:
            break  // went to SpeechEncodeHandler above
        }
        let request = EncodeRequest(inputs: inputs, pooling: Pooling(rawValue: pooling.rawValue)!, normalize: normalize)
        // A decoder runs the inputs one after another, each in its own KV cache.
        try await lease?.reserveKV(positions: inputs.map(\.count).max() ?? 0)
        let vectors = try await encoder.encode(request)
        let result = EncodeParams.result(model: model.name, vectors: vectors, dimensions: encoder.dimensions, pooling: pooling,
                                         normalize: normalize, tokenCounts: inputs.map(\.count), truncated: truncated)
        return Answer(result: result.objectValue!, method: EncodeParams.method, model: model,
                      request: EncodeParams.canonicalRequest(tokens: inputs, pooling: pooling, normalize: normalize), seed: nil,
                      output: OutputRecord.encoding(vectors))
    }

    static func tooLong(path: String, limit: Int) -> RPCError {
        RPCError(.contextOverflow, "\(path) is longer than the model's \(limit) tokens (truncate: false)",
                 data: ["path": .string(path), "contextLength": JSONValue(limit)])
    }
}
