// `stats`: the daemon's counters, and each loaded model's memory and prefix cache.
import Foundation
import ReproJSON
import RPCProtocol

enum StatsHandlers {
    @Sendable static func stats(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        _ = try StatsParams(params)
        let daemon = ctx.daemon
        let counted = daemon.stats.snapshot
        let p = daemon.scheduler.passCounts
        let models = daemon.registry.listing().compactMap(\.loaded).map { m -> JSONValue in
            let cache = m.prefixCache.map { c -> JSONValue in
                let s = c.stats
                return StatsParams.prefixCache(entries: s.entries, bytes: s.bytes, budgetBytes: c.budgetBytes, lookups: s.lookups,
                                               hits: s.hits, tokensReused: s.tokensReused, evictions: s.evictions)
            }
            return StatsParams.model(name: m.name, weightBytes: m.decoder?.decodeWeightBytes, prefixCache: cache)
        }
        return StatsParams.result(uptimeSeconds: Date().timeIntervalSince(daemon.stats.started), engine: Daemon.engineInfo,
                                  requests: counted.requests, inFlight: daemon.requestsInFlight,
                                  promptTokens: counted.prompt, cachedPromptTokens: counted.cached,
                                  completionTokens: counted.completion, models: models,
                                  memory: daemon.registry.memory,
                                  passes: (p.passes, p.rows, p.decodePasses, p.decodeRows))
    }
}
