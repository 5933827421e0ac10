// tokenize, detokenize.
import Engine
import ReproJSON
import RPCProtocol

enum TokenizerHandlers {
    @Sendable static func tokenize(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try TokenizeParams(params)
        let lease = try await ctx.daemon.registry.acquire(p.model, keepAlive: p.keepAlive) { ctx.progress($0) }
        defer { lease.release() }
        let model = lease.model
        let tokens = model.tokenizer.encode(p.text, addSpecial: p.addSpecial, parseSpecial: p.parseSpecial)
        let pieces = tokens.map { model.tokenizer.piece($0) ?? [] }
        return TokenizeParams.result(model: model.name, tokens: tokens, pieces: pieces)
    }

    @Sendable static func detokenize(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try DetokenizeParams(params)
        let lease = try await ctx.daemon.registry.acquire(p.model, keepAlive: p.keepAlive) { ctx.progress($0) }
        defer { lease.release() }
        let model = lease.model
        let vocab = model.tokenizer.vocabularySize
        if let bad = p.tokens.firstIndex(where: { Int($0) >= vocab }) {
            throw RPCError.invalidParams(path: "params.tokens[\(bad)]", "is not a token id of \(model.name) (vocabulary size \(vocab))")
        }
        return DetokenizeParams.result(model: model.name, text: model.tokenizer.decode(p.tokens, skipSpecial: p.skipSpecial))
    }
}
