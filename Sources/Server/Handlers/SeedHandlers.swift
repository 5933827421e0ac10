// setSeed: sets the session's seed and answers its commitment, revealing the seed it replaces.
// The reveal and the new commitment are queued to the journal at once, in arrival order, so the
// commitment is in the journal before any receipt whose seed derives from it.
import Receipts
import ReproJSON
import RPCProtocol

enum SeedHandlers {
    @Sendable static func setSeed(_ ctx: RequestContext, _ params: JSONValue?) throws -> ImmediateReply {
        let p = try SetSeedParams(params)
        if ctx.daemon.isShuttingDown { throw RPCError(.shuttingDown, "the daemon is shutting down") }
        let seed: SessionSeed
        switch p.seed {
        case .integer(let v)?: seed = .integer(v)
        case .string(let s)?: seed = .string(s)
        case nil: seed = .fromEntropy()
        }
        let fromEntropy = p.seed == nil
        let (commitment, previous) = ctx.connection.seedSession.set(seed, fromEntropy: fromEntropy)
        var queued: [JournalTicket] = []
        if let journal = ctx.daemon.journal {
            if let previous { queued.append(journal.enqueue(.reveal(previous))) }
            queued.append(journal.enqueue(.commit(commitment: commitment, fromEntropy: fromEntropy)))
        }
        let tickets = queued
        let result = SetSeedParams.result(commitment: commitment, previous: previous.map {
            (seed: $0.seed.json, commitment: $0.commitment, requests: $0.requests, fromEntropy: $0.fromEntropy)
        })
        return .later {
            for t in tickets { _ = try await t.wait() }
            return result
        }
    }
}
