// The one method table. Adding a method: a params/result file in RPCProtocol/Methods, a handler
// in Server/Handlers, and one line here (with a ReplayRule in Server/Replays if its answers carry
// receipts). `initialize` reports this table as the capabilities.
import ReproJSON
import RPCProtocol

/// How a request orders against the other requests of its connection.
public enum RequestOrdering: Sendable {
    /// Runs concurrently with other freestanding requests (tokenize, generate...), but after
    /// every earlier barrier of its connection.
    case freestanding
    /// Changes state later requests depend on (models/load, models/unload): waits for every
    /// earlier request of its connection, and every later request waits for it.
    case barrier
}

/// What an immediate handler answers: a value now, or work whose value is the answer.
public enum ImmediateReply: Sendable {
    case value(JSONValue)
    case later(@Sendable () async throws -> JSONValue)
}

/// One entry of the method table.
public struct MethodEntry: Sendable {
    public enum Kind: Sendable {
        case request(RequestOrdering, @Sendable (RequestContext, JSONValue?) async throws -> JSONValue)
        /// Handled at once, on arrival, outside request ordering.
        case notification(@Sendable (ServerConnection, JSONValue?) throws -> Void)
        /// A request handled synchronously on arrival, before the next frame is dispatched
        /// (shutdown must take effect at once and must not queue behind the work it ends); it may
        /// leave an asynchronous remainder.
        case immediate(@Sendable (RequestContext, JSONValue?) throws -> ImmediateReply)
    }
    public let name: String
    public let kind: Kind
    /// How its receipts are replayed (nil: its answers carry none).
    let replay: ReplayRule?

    init(name: String, kind: Kind, replay: ReplayRule? = nil) {
        self.name = name
        self.kind = kind
        self.replay = replay
    }
}

public enum MethodTable {
    public static let entries: [MethodEntry] = [
        MethodEntry(name: "initialize", kind: .immediate(LifecycleHandlers.initialize)),
        MethodEntry(name: ShutdownParams.method, kind: .immediate(LifecycleHandlers.shutdown)),
        MethodEntry(name: ExitParams.method, kind: .notification(LifecycleHandlers.exit)),
        MethodEntry(name: CancelRequestParams.method, kind: .notification(LifecycleHandlers.cancelRequest)),
        MethodEntry(name: ModelsListParams.method, kind: .request(.freestanding, ModelHandlers.list)),
        MethodEntry(name: ModelsLoadParams.method, kind: .request(.barrier, ModelHandlers.load)),
        MethodEntry(name: ModelsUnloadParams.method, kind: .request(.barrier, ModelHandlers.unload)),
        MethodEntry(name: TokenizeParams.method, kind: .request(.freestanding, TokenizerHandlers.tokenize)),
        MethodEntry(name: DetokenizeParams.method, kind: .request(.freestanding, TokenizerHandlers.detokenize)),
        MethodEntry(name: GenerateParams.method, kind: .request(.freestanding, GenerationHandlers.generate), replay: GenerateReplay.rule),
        MethodEntry(name: ScoreParams.method, kind: .request(.freestanding, GenerationHandlers.score), replay: ScoreReplay.rule),
        MethodEntry(name: EncodeParams.method, kind: .request(.freestanding, EncodeHandlers.encode), replay: EncodeReplay.rule),
        // Immediate: the session seed changes in arrival order, before the next request is read.
        MethodEntry(name: SetSeedParams.method, kind: .immediate(SeedHandlers.setSeed)),
        MethodEntry(name: ReproduceParams.method, kind: .request(.freestanding, ReceiptHandlers.reproduce)),
        MethodEntry(name: ReceiptsGetParams.method, kind: .request(.freestanding, ReceiptHandlers.get)),
        MethodEntry(name: StatsParams.method, kind: .request(.freestanding, StatsHandlers.stats)),
    ]

    /// Methods whose requests without `seed` take the session's next derived seed on arrival.
    static let takesSessionSeed: Set<String> = [GenerateParams.method]

    static let byName: [String: MethodEntry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })

    public static var names: [String] { entries.map(\.name) }
}
