// `generate`: parameters (validated, each error naming its path), the result, and the `$/stream`
// notification. Defaults are stated here once and in protocol/openrpc.json.
import ReproJSON

/// What to condition on: text (tokenized by the model), token ids as given, a chat rendered
/// with the model's chat template, or the text before and after a gap to fill in (`generate`'s
/// `prompt` + `suffix`, laid out as llama-server's `/infill`).
public enum PromptInput: Sendable, Equatable {
    case text(String, addSpecial: Bool, parseSpecial: Bool)
    case tokens([Int32])
    case messages([ChatTurn], addGenerationPrompt: Bool)
    case infill(prefix: String, suffix: String, addSpecial: Bool, parseSpecial: Bool)
    /// Speech, for a speech model (SpeechInput.swift).
    case speech(SpeechInput)

    public static let maxMessages = 4096

    /// The parameter path a problem with this input is reported at.
    public func path(textKey: String) -> String {
        switch self {
        case .tokens: return "params.tokens"
        case .messages: return "params.messages"
        case .text: return "params.\(textKey)"
        case .infill: return "params.suffix"
        case .speech: return "params.audio"
        }
    }

    /// Reads `messages` (with `addGenerationPrompt`), which exclude `prompt`, `tokens`,
    /// `addSpecial`, `parseSpecial` and `suffix`; nil when there is no `messages`.
    static func readMessages(_ r: inout JSONObjectReader) throws -> PromptInput? {
        let path = r.fieldPath("messages")
        guard let list = try r.optionalArray("messages", maxCount: maxMessages) else {
            if r.contains("addGenerationPrompt") {
                throw JSONFieldError(path: r.fieldPath("addGenerationPrompt"), message: "applies only to messages")
            }
            _ = r.value("addGenerationPrompt")
            return nil
        }
        for key in ["prompt", "tokens", "addSpecial", "parseSpecial", "suffix"] {
            if r.contains(key) { throw JSONFieldError(path: r.fieldPath(key), message: "cannot be given together with messages") }
            _ = r.value(key)  // null: absent
        }
        guard !list.isEmpty else { throw JSONFieldError(path: path, message: "must not be empty") }
        let turns = try list.enumerated().map { i, m in try ChatTurn.read(m, path: "\(path)[\(i)]") }
        return .messages(turns, addGenerationPrompt: try r.optionalBool("addGenerationPrompt") ?? true)
    }

    /// Reads `prompt` | `tokens` (exactly one) and the tokenization switches.
    static func read(_ r: inout JSONObjectReader, textKey: String) throws -> PromptInput {
        let text = try r.optionalString(textKey)
        let ids = try r.optionalIntArray("tokens", in: 0...Int64(Int32.max), maxCount: GenerateParams.maxPromptTokens)
        let addSpecial = try r.optionalBool("addSpecial")
        let parseSpecial = try r.optionalBool("parseSpecial")
        switch (text, ids) {
        case let (t?, nil):
            return .text(t, addSpecial: addSpecial ?? true, parseSpecial: parseSpecial ?? false)
        case let (nil, ids?):
            if addSpecial != nil { throw JSONFieldError(path: r.fieldPath("addSpecial"), message: "applies only to \(textKey), not to tokens") }
            if parseSpecial != nil { throw JSONFieldError(path: r.fieldPath("parseSpecial"), message: "applies only to \(textKey), not to tokens") }
            return .tokens(ids.map { Int32($0) })
        case (_?, _?):
            throw JSONFieldError(path: r.fieldPath("tokens"), message: "cannot be given together with \(textKey)")
        case (nil, nil):
            throw JSONFieldError(path: r.fieldPath(textKey), message: "is required (or tokens)")
        }
    }

    /// Reads `suffix` after `prompt` | `tokens`: the text after the gap, which makes a text
    /// prompt the text before it. Token ids are the model's final prompt and cannot be laid out.
    static func readSuffix(_ r: inout JSONObjectReader, after input: PromptInput) throws -> PromptInput {
        guard let suffix = try r.optionalString("suffix") else { return input }
        switch input {
        case let .text(prefix, addSpecial, parseSpecial):
            return .infill(prefix: prefix, suffix: suffix, addSpecial: addSpecial, parseSpecial: parseSpecial)
        case .tokens:
            throw JSONFieldError(path: r.fieldPath("suffix"), message: "applies only to a text prompt, not to tokens")
        case .messages, .infill, .speech:
            // readMessages refuses suffix beside messages, readSpeech beside audio.
            throw JSONFieldError(path: r.fieldPath("suffix"), message: "applies only to a text prompt")
        }
    }
}

/// `generate {model?, prompt | tokens | messages, suffix?, addGenerationPrompt?, maxTokens?, stop?, temperature?, topK?, topP?, minP?,
/// repeatPenalty?, presencePenalty?, frequencyPenalty?, penaltyLastN?, beams?, lengthPenalty?,
/// seed?, logprobs?, topLogprobs?, stream?, addSpecial?, parseSpecial?, format? | jsonSchema? | grammar?,
/// tools?, toolChoice?}`.
public struct GenerateParams: Sendable {
    public static let method = "generate"
    public static let maxPromptTokens = 1 << 22
    public static let defaultMaxTokens = 256
    public static let maxStops = 16
    public static let maxStopBytes = 256
    public static let maxBeams = 16
    public static let maxTopLogprobs = 20

    public let model: String?
    /// Seconds the model stays loaded once idle (KeepAlive.swift).
    public let keepAlive: Double?
    public let prompt: PromptInput
    public let maxTokens: Int
    public let stop: [String]
    public let temperature: Double
    public let topK: Int
    public let topP: Double
    public let minP: Double
    public let repeatPenalty: Double
    public let presencePenalty: Double
    public let frequencyPenalty: Double
    public let penaltyLastN: Int
    public let beams: Int
    public let lengthPenalty: Double
    /// nil: the daemon draws one (and reports it).
    public let seed: UInt64?
    public let logprobs: Bool
    public let topLogprobs: Int
    public let stream: Bool
    /// Only text that is a valid prefix of this constraint is generated (OutputConstraint.swift).
    public let constraint: OutputConstraint?
    /// Tools shown to the chat template, and whether the answer must call one (Tools.swift).
    public let tools: ToolUse?

    static let samplingKeys = ["temperature", "topK", "topP", "minP", "repeatPenalty", "presencePenalty",
                               "frequencyPenalty", "penaltyLastN"]

    /// `maxSeed`: the largest `seed` accepted: 2^53 − 1 for a request (SeedParam); a replay of a
    /// version 1 receipt passes 2^63 − 1.
    public init(_ params: JSONValue?, maxSeed: Int64 = JSONValue.maxExactInteger) throws {
        var r = try JSONObjectReader(params, path: "params")
        model = try r.optionalModelName("model")
        keepAlive = try KeepAlive.read(&r, path: "params")
        if let speech = try SpeechInput.read(&r, withTask: true, withTimestamps: true) {
            for key in ["prompt", "tokens", "messages", "suffix", "addSpecial", "parseSpecial", "addGenerationPrompt",
                        "format", "jsonSchema", "grammar", "tools", "toolChoice"] {
                if r.contains(key) { throw JSONFieldError(path: r.fieldPath(key), message: "cannot be given together with audio") }
                _ = r.value(key)  // null: absent
            }
            prompt = .speech(speech)
        } else if let chat = try PromptInput.readMessages(&r) {
            prompt = chat
        } else {
            prompt = try PromptInput.readSuffix(&r, after: PromptInput.read(&r, textKey: "prompt"))
        }
        maxTokens = Int(try r.optionalInt("maxTokens", in: 1...1_048_576) ?? Int64(Self.defaultMaxTokens))
        stop = try Self.readStops(&r)
        beams = Int(try r.optionalInt("beams", in: 1...Int64(Self.maxBeams)) ?? 1)
        if beams > 1 {
            // Beam search ranks by the model's own logprobs; sampling knobs would be silently ignored.
            for key in Self.samplingKeys where r.contains(key) && !(key == "temperature" && r.object[key]?.doubleValue == 0) {
                throw JSONFieldError(path: r.fieldPath(key), message: "does not apply to beam search (beams > 1), which is deterministic")
            }
        } else if r.contains("lengthPenalty") {
            throw JSONFieldError(path: r.fieldPath("lengthPenalty"), message: "applies only to beam search (beams > 1)")
        }
        temperature = try r.optionalDouble("temperature", in: 0...100) ?? (beams > 1 ? 0 : 0.8)
        topK = Int(try r.optionalInt("topK", in: 0...1_000_000) ?? 40)
        topP = try r.optionalDouble("topP", in: 0...1) ?? 0.95
        minP = try r.optionalDouble("minP", in: 0...1) ?? 0.05
        repeatPenalty = try r.optionalDouble("repeatPenalty", in: 0.01...100) ?? 1
        presencePenalty = try r.optionalDouble("presencePenalty", in: -100...100) ?? 0
        frequencyPenalty = try r.optionalDouble("frequencyPenalty", in: -100...100) ?? 0
        penaltyLastN = Int(try r.optionalInt("penaltyLastN", in: -1...1_048_576) ?? 64)
        lengthPenalty = try r.optionalDouble("lengthPenalty", in: -10...10) ?? 1
        seed = try SeedParam.read(&r, max: maxSeed)
        let top = Int(try r.optionalInt("topLogprobs", in: 0...Int64(Self.maxTopLogprobs)) ?? 0)
        let wantLogprobs = try r.optionalBool("logprobs")
        if wantLogprobs == false, top > 0 {
            throw JSONFieldError(path: r.fieldPath("topLogprobs"), message: "needs logprobs (it is false)")
        }
        topLogprobs = top
        logprobs = wantLogprobs ?? (top > 0)
        stream = try r.optionalBool("stream") ?? false
        constraint = try OutputConstraint.read(&r)
        if let constraint, beams > 1 {
            throw JSONFieldError(path: constraint.path, message: "does not apply to beam search (beams > 1)")
        }
        tools = try ToolUse.read(&r)
        if let tools, tools.choice.constrained(tools.tools) != nil {
            // A forced call is itself a constraint on the text: it cannot be combined with another.
            if let constraint {
                throw JSONFieldError(path: constraint.path, message: "cannot be given together with toolChoice \(tools.choice.json.stringValue.map { "\"\($0)\"" } ?? "naming a function")")
            }
            if beams > 1 { throw JSONFieldError(path: r.fieldPath("toolChoice"), message: "does not apply to beam search (beams > 1)") }
        }
        try r.finish()
    }

    /// The canonical effective request a receipt records: the prompt as token ids and every
    /// parameter that applies, after defaults (so a later change of a default never changes a
    /// replay). It is itself valid `generate` params, which is how `reproduce` replays it.
    /// `stream` is left out: it changes how the answer travels, not what it is.
    public func canonicalRequest(tokens: [Int32], seed: UInt64) -> JSONValue {
        var o: [String: JSONValue] = [
            "tokens": JSONValue(ints: tokens),
            "maxTokens": JSONValue(maxTokens),
            "stop": .array(stop.map { .string($0) }),
            "beams": JSONValue(beams),
            "seed": .int(Int64(bitPattern: seed)),
            "logprobs": .bool(logprobs),
            "topLogprobs": JSONValue(topLogprobs),
        ]
        if let constraint { o[constraint.canonicalField.key] = constraint.canonicalField.value }
        // With its tools, a replay compiles the same forced-call grammar and parses calls alike.
        for (key, value) in tools?.canonicalFields ?? [:] { o[key] = value }
        if beams > 1 {
            o["lengthPenalty"] = .double(lengthPenalty)
        } else {
            o["temperature"] = .double(temperature)
            o["topK"] = JSONValue(topK)
            o["topP"] = .double(topP)
            o["minP"] = .double(minP)
            o["repeatPenalty"] = .double(repeatPenalty)
            o["presencePenalty"] = .double(presencePenalty)
            o["frequencyPenalty"] = .double(frequencyPenalty)
            o["penaltyLastN"] = JSONValue(penaltyLastN)
        }
        return .object(o)
    }

    /// The canonical request of a speech `generate`: as `canonicalRequest(tokens:seed:)`, with the
    /// audio by content, the language used and the task in place of the prompt's tokens.
    public func canonicalRequest(speech: [String: JSONValue], seed: UInt64) -> JSONValue {
        guard case .object(var o) = canonicalRequest(tokens: [], seed: seed) else { return .null }
        o["tokens"] = nil
        for (key, value) in speech { o[key] = value }
        return .object(o)
    }

    static func readStops(_ r: inout JSONObjectReader) throws -> [String] {
        let path = r.fieldPath("stop")
        let stops: [String]
        switch r.value("stop") {
        case nil, .null?: return []
        case let .string(s)?: stops = [s]
        case let .array(a)?:
            guard a.count <= maxStops else { throw JSONFieldError(path: path, message: "has more than \(maxStops) strings") }
            stops = try a.enumerated().map { i, e in
                guard let s = e.stringValue else { throw JSONFieldError(path: "\(path)[\(i)]", message: "must be a string, not \(e.typeName)") }
                return s
            }
        case let v?: throw JSONFieldError(path: path, message: "must be a string or an array of strings, not \(v.typeName)")
        }
        for (i, s) in stops.enumerated() {
            let p = stops.count == 1 && r.object["stop"]?.stringValue != nil ? path : "\(path)[\(i)]"
            if s.isEmpty { throw JSONFieldError(path: p, message: "must not be empty") }
            if s.utf8.count > maxStopBytes { throw JSONFieldError(path: p, message: "is longer than \(maxStopBytes) bytes") }
        }
        return stops
    }
}

/// One token in a result: its id, its text (U+FFFD for a partial character; exact bytes come
/// from `detokenize`), and its logprob with the best alternatives where asked for.
public struct TokenEntry: Sendable {
    public var token: Int32
    public var text: String
    public var logprob: Float?
    public var top: [(token: Int32, text: String, logprob: Float)]?

    public init(token: Int32, text: String, logprob: Float?, top: [(token: Int32, text: String, logprob: Float)]?) {
        self.token = token
        self.text = text
        self.logprob = logprob
        self.top = top
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["token": JSONValue(token), "text": .string(text), "logprob": logprob.map { JSONValue($0) } ?? .null]
        if let top {
            o["top"] = .array(top.map { ["token": JSONValue($0.token), "text": .string($0.text), "logprob": JSONValue($0.logprob)] })
        }
        return .object(o)
    }
}

/// The parts of a `generate` result (built by the server from the engine's result).
public struct GenerateResult: Sendable {
    public var model: String
    public var text: String
    public var tokens: [Int32]
    public var finishReason: String
    public var stopSequence: String?
    public var logprobs: [TokenEntry]?
    public var promptTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var seed: UInt64
    /// "request" (given with the request), "session" (derived from the session seed) or
    /// "entropy" (drawn by the daemon).
    public var seedSource: String
    /// For a session seed: the session's commitment and this request's index in it.
    public var seedCommitment: String?
    public var seedIndex: UInt64?
    /// Prompt tokens whose keys and values came from the daemon's prefix cache (not prefilled).
    public var cachedPromptTokens = 0
    /// The tool calls in `text`, `[{name, arguments}]`: only with tools, a choice other than
    /// "none", and a chat template whose tool-call format the daemon knows.
    public var toolCalls: [JSONValue]?

    public init(model: String, text: String, tokens: [Int32], finishReason: String, stopSequence: String?,
                logprobs: [TokenEntry]?, promptTokens: Int, prefillSeconds: Double, decodeSeconds: Double,
                seed: UInt64, seedSource: String) {
        self.model = model
        self.text = text
        self.tokens = tokens
        self.finishReason = finishReason
        self.stopSequence = stopSequence
        self.logprobs = logprobs
        self.promptTokens = promptTokens
        self.prefillSeconds = prefillSeconds
        self.decodeSeconds = decodeSeconds
        self.seed = seed
        self.seedSource = seedSource
    }

    public var json: JSONValue {
        let generated = tokens.count
        // The first generated token comes from the prefill's logits; the decode steps make the rest.
        let decodeSteps = max(0, generated - 1)
        var o: [String: JSONValue] = [
            "model": .string(model),
            "text": .string(text),
            "tokens": JSONValue(ints: tokens),
            "finishReason": .string(finishReason),
            "stopSequence": stopSequence.map { .string($0) } ?? .null,
            "usage": ["promptTokens": JSONValue(promptTokens), "completionTokens": JSONValue(generated),
                      "totalTokens": JSONValue(promptTokens + generated)],
            "timings": [
                "prefillMs": .double(prefillSeconds * 1000),
                "decodeMs": .double(decodeSeconds * 1000),
                "prefillTokensPerSecond": prefillSeconds > 0 ? .double(Double(promptTokens - cachedPromptTokens) / prefillSeconds) : .null,
                "cachedPromptTokens": JSONValue(cachedPromptTokens),
                "decodeTokensPerSecond": decodeSeconds > 0 && decodeSteps > 0 ? .double(Double(decodeSteps) / decodeSeconds) : .null,
            ],
            "seed": .int(Int64(bitPattern: seed)),
            "seedSource": .string(seedSource),
        ]
        if let logprobs { o["logprobs"] = .array(logprobs.map(\.json)) }
        if let toolCalls { o["toolCalls"] = .array(toolCalls) }
        if let seedCommitment { o["seedCommitment"] = .string(seedCommitment) }
        if let seedIndex { o["seedIndex"] = .int(Int64(seedIndex)) }
        return .object(o)
    }
}

/// `$/stream` (server → client notification): new text of a streaming `generate`, sent before its
/// result. Concatenated `text` fields equal the result's text; `tokens` concatenated equal its
/// tokens. Text never holds a partial UTF-8 character or a partial stop string.
public struct StreamNotification: Sendable {
    public static let method = "$/stream"
    public var requestID: RPCID
    public var text: String
    public var tokens: [Int32]
    public var logprobs: [TokenEntry]?

    public init(requestID: RPCID, text: String, tokens: [Int32], logprobs: [TokenEntry]?) {
        self.requestID = requestID
        self.text = text
        self.tokens = tokens
        self.logprobs = logprobs
    }

    public var json: JSONValue {
        var p: [String: JSONValue] = ["requestId": requestID.json, "text": .string(text), "tokens": JSONValue(ints: tokens)]
        if let logprobs { p["logprobs"] = .array(logprobs.map(\.json)) }
        return RPCOutgoing.notification(method: Self.method, .object(p))
    }
}
