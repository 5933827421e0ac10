// State shared by every connection: the models, the lifecycle (running, shutting down), and
// the count of requests in flight, which bounds load and lets shutdown wait for work to finish.
import Engine
import Foundation
import Kernels
import Logging
import ReproJSON
import Receipts
import RPCProtocol

/// The daemon behind every connection.
public final class Daemon: @unchecked Sendable {
    public static let version = "0.1.0"
    public static let engineVersion = "reprolm-engine/0.1.0"

    /// The engine as initialize and models/list report it (the kernel set is chosen at start).
    static var engineInfo: EngineInfo {
        EngineInfo(version: engineVersion, kernels: KernelSet.selected.kernelClass,
                   kernelSets: KernelSet.supported.map(\.name))
    }

    public let registry: ModelRegistry
    /// Runs every forward pass, batching concurrent requests' steps.
    public let scheduler: InferenceScheduler
    public let logger: Logger
    /// Where receipts go before their answers (nil: `--no-journal`).
    public let journal: Journal?
    /// Speech requests' audio, kept by content beside the journal (`<journal>.audio/`) so their
    /// receipts replay after a restart (nil with no journal).
    public let audioStore: AudioStore?
    /// Requests running or waiting at once, over all connections; past it, -32004 overloaded.
    public let maxRequestsInFlight: Int
    /// Each connection's share of those: past it that connection gets -32004 while the others
    /// still have room, so one client pipelining without end cannot lock everyone else out.
    public let maxRequestsPerConnection: Int
    /// Elements of one batch frame; a larger batch is refused whole, before it is parsed.
    public let maxBatchElements: Int
    /// `generate` may carry `delegatedSeed` (a router's session seed and index,
    /// DelegatedSeeds.swift): only for a daemon whose one client is such a router.
    public let acceptsDelegatedSeeds: Bool
    /// Called once to end the process with an exit code (the executable flushes and exits).
    let onExit: @Sendable (Int32) -> Void

    private let lock = NSLock()
    private var shuttingDown = false
    /// The counters `stats` reports.
    let stats = DaemonStats()
    private var inFlight = 0
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var connections: [ObjectIdentifier: WeakConnection] = [:]
    private var exited = false

    private struct WeakConnection { weak var connection: ServerConnection? }

    /// `threads`: the forward pass's thread pool (default: every core).
    public init(registry: ModelRegistry, journal: Journal?, logger: Logger = Logger(label: "reprolm.server"),
                maxRequestsInFlight: Int = 256, maxRequestsPerConnection: Int = 64, maxBatchElements: Int = 64,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, acceptsDelegatedSeeds: Bool = false,
                onExit: @escaping @Sendable (Int32) -> Void) {
        self.registry = registry
        self.journal = journal
        audioStore = journal.map { AudioStore(besideJournal: $0.path) }
        scheduler = InferenceScheduler(threads: threads)
        self.logger = logger
        self.maxRequestsInFlight = maxRequestsInFlight
        self.maxRequestsPerConnection = min(maxRequestsPerConnection, maxRequestsInFlight)
        self.maxBatchElements = maxBatchElements
        self.acceptsDelegatedSeeds = acceptsDelegatedSeeds
        self.onExit = onExit
    }

    /// A new connection (a socket client, or the stdio stream). `send` writes one framed payload;
    /// `close` ends the connection once its work is done.
    public func makeConnection(send: @escaping @Sendable ([UInt8]) -> Void, close: @escaping @Sendable () -> Void) -> ServerConnection {
        let c = ServerConnection(daemon: self, sendBytes: send, closeSink: close)
        lock.lock()
        connections[ObjectIdentifier(c)] = WeakConnection(connection: c)
        lock.unlock()
        return c
    }

    func forget(_ c: ServerConnection) {
        lock.lock()
        connections[ObjectIdentifier(c)] = nil
        lock.unlock()
    }

    public var isShuttingDown: Bool {
        lock.lock()
        defer { lock.unlock() }
        return shuttingDown
    }

    /// Takes a slot for one request of a connection that holds `connectionHolds` already, or
    /// says why not.
    func acquireSlot(connectionHolds: Int) throws {
        lock.lock()
        defer { lock.unlock() }
        if shuttingDown { throw RPCError(.shuttingDown, "the daemon is shutting down") }
        if inFlight >= maxRequestsInFlight {
            throw RPCError(.overloaded, "too many requests in flight (\(maxRequestsInFlight)); retry later",
                           data: ["limit": .int(Int64(maxRequestsInFlight)), "scope": .string("daemon")])
        }
        if connectionHolds >= maxRequestsPerConnection {
            throw RPCError(.overloaded, "too many requests in flight on this connection (\(maxRequestsPerConnection)); read the answers, then retry",
                           data: ["limit": .int(Int64(maxRequestsPerConnection)), "scope": .string("connection")])
        }
        inFlight += 1
    }

    /// Requests holding a slot now.
    var requestsInFlight: Int {
        lock.lock()
        defer { lock.unlock() }
        return inFlight
    }

    func releaseSlot() {
        lock.lock()
        inFlight -= 1
        let waiters = inFlight == 0 ? drainWaiters : []
        if inFlight == 0 { drainWaiters = [] }
        lock.unlock()
        for w in waiters { w.resume() }
    }

    /// Makes an answer's receipt and writes it to the journal; only once it is on disk does the
    /// answer (with its receipt) go back. If the journal cannot take it, the answer is withheld:
    /// nothing is acknowledged that the journal does not hold.
    public func seal(_ answer: Answer) async throws -> JSONValue {
        let receipt = try answer.makeReceipt()
        if let journal {
            do { _ = try await journal.append(.receipt(receipt)) } catch {
                throw RPCError.internalError("the receipt could not be written to the journal (\(error)); the answer is withheld")
            }
        }
        return Answer.json(answer.result, receipt: receipt)
    }

    /// Refuses new requests from now on (-32005); those in flight continue.
    public func beginShutdown() {
        lock.lock()
        shuttingDown = true
        lock.unlock()
    }

    /// Returns once no request is in flight.
    public func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if inFlight == 0 {
                lock.unlock()
                c.resume()
            } else {
                drainWaiters.append(c)
                lock.unlock()
            }
        }
    }

    /// SIGINT/SIGTERM: refuse new work, cancel what runs (each request still gets its answer:
    /// a cancelled generation returns what it has), wait for the answers, then end.
    public func terminate() async {
        beginShutdown()
        lock.lock()
        let live = connections.values.compactMap(\.connection)
        lock.unlock()
        for c in live { c.cancelAll() }
        await drain()
        for c in live { await c.waitForOutstandingWork() }
    }

    /// The process is ending: reveal the seeds of the sessions still open, then write out the
    /// journal's queue and close it.
    public func closeJournal() {
        lock.lock()
        let live = connections.values.compactMap(\.connection)
        lock.unlock()
        for c in live { c.endSeedSession() }
        journal?.close()
    }

    /// Ends the process once (the `exit` notification, or the end of stdio input).
    func exit(code: Int32) {
        lock.lock()
        let first = !exited
        exited = true
        lock.unlock()
        if first { onExit(code) }
    }
}
