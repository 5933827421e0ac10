// `stats`: what the daemon has done since it started, and what it holds now.
import ReproJSON

/// `stats` takes no parameters; its result is built by `result`.
public struct StatsParams: Sendable {
    public static let method = "stats"
    public init(_ params: JSONValue?) throws {
        try JSONObjectReader(params, path: "params").finish()
    }

    /// The result. `requests`: answered requests by method, then by outcome ("ok" or the error
    /// code); `inFlight`: requests running or waiting over every connection; `tokens`: prompt
    /// tokens (cached ones included), of which cached, and generated, over every generate;
    /// `memory`: `--memory-budget` (null: none), the bytes charged against it now (weights,
    /// loads in progress, running requests' KV reservations, prefix caches), the requests and
    /// loads waiting for room now and how many have waited so far; `passes`: forward passes run
    /// and their token rows, and of them the decode passes (every step one token) and their rows:
    /// decodeRows / decodePasses is how many streams shared each decode pass's weight reads.
    public static func result(uptimeSeconds: Double, engine: EngineInfo, requests: [String: [String: Int]], inFlight: Int,
                              promptTokens: Int, cachedPromptTokens: Int, completionTokens: Int,
                              models: [JSONValue], memory: (budgetBytes: Int?, chargedBytes: Int, waiting: Int, waited: Int),
                              passes: (passes: Int, rows: Int, decodePasses: Int, decodeRows: Int)) -> JSONValue {
        [
            "uptimeSeconds": .double(uptimeSeconds),
            "engine": engine.json,
            "requests": .object(requests.mapValues { outcomes in .object(outcomes.mapValues { JSONValue($0) }) }),
            "inFlight": JSONValue(inFlight),
            "tokens": ["prompt": JSONValue(promptTokens), "cachedPrompt": JSONValue(cachedPromptTokens),
                       "completion": JSONValue(completionTokens)],
            "models": .array(models),
            "memory": ["budgetBytes": memory.budgetBytes.map { JSONValue($0) } ?? .null, "chargedBytes": JSONValue(memory.chargedBytes),
                       "waiting": JSONValue(memory.waiting), "waited": JSONValue(memory.waited)],
            "passes": ["passes": JSONValue(passes.passes), "rows": JSONValue(passes.rows),
                       "decodePasses": JSONValue(passes.decodePasses), "decodeRows": JSONValue(passes.decodeRows)],
        ]
    }

    /// One loaded model: the bytes of weights its forward pass reads (nil for an encoder) and its
    /// prefix cache (`prefixCache(...)`, nil for an encoder).
    public static func model(name: String, weightBytes: Int?, prefixCache: JSONValue?) -> JSONValue {
        ["name": .string(name), "weightBytes": weightBytes.map { JSONValue($0) } ?? .null, "prefixCache": prefixCache ?? .null]
    }

    /// A decoder's prefix cache: its size now and its use so far.
    public static func prefixCache(entries: Int, bytes: Int, budgetBytes: Int, lookups: Int, hits: Int,
                                   tokensReused: Int, evictions: Int) -> JSONValue {
        ["entries": JSONValue(entries), "bytes": JSONValue(bytes), "budgetBytes": JSONValue(budgetBytes),
         "lookups": JSONValue(lookups), "hits": JSONValue(hits), "tokensReused": JSONValue(tokensReused),
         "evictions": JSONValue(evictions)]
    }
}
