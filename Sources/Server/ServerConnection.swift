// One client's stream: parses frames, validates envelopes, answers batches, orders requests
// (barriers vs freestanding), tracks requests in flight for `$/cancelRequest`, and closes
// cleanly once its input has ended and its work is done.
import Foundation
import Receipts
import ReproJSON
import RPCProtocol

/// A connection to one client. Frames arrive one at a time from the transport (a single reader
/// thread or event loop); replies go out as soon as each request completes, in any order.
public final class ServerConnection: @unchecked Sendable {
    public let daemon: Daemon
    /// The session's seed (`setSeed`), and the derived seeds handed out so far.
    let seedSession = SeedSession()
    /// Session seeds a router delegated to this connection (`delegatedSeed`).
    let delegatedSessions = DelegatedSessions()
    private let sendBytes: @Sendable ([UInt8]) -> Void
    private let closeSink: @Sendable () -> Void

    private typealias Work = Task<JSONValue?, Never>
    private let lock = NSLock()
    private var requestsByID: [RPCID: Work] = [:]
    private var outstanding: [UUID: Work] = [:]
    private var lastBarrier: Work?
    private var sinceBarrier: [Work] = []
    private var closed = false
    /// Requests of this connection holding a daemon slot (its share, `maxRequestsPerConnection`).
    private var slotsHeld = 0

    init(daemon: Daemon, sendBytes: @escaping @Sendable ([UInt8]) -> Void, closeSink: @escaping @Sendable () -> Void) {
        self.daemon = daemon
        self.sendBytes = sendBytes
        self.closeSink = closeSink
    }

    // MARK: From the transport

    /// One frame's payload.
    public func receive(frame: [UInt8]) {
        let limit = daemon.maxBatchElements
        if let count = JSONArrayCount.elements(frame, upTo: limit), count > limit {
            send(RPCOutgoing.error(id: RPCID(.null), RPCError(.invalidRequest, "Invalid request: a batch of more than \(limit) requests",
                                                              data: ["limit": .int(Int64(limit))])))
            return
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(frame)
        } catch {
            send(RPCOutgoing.error(id: RPCID(.null), .parseError("\(error)")))
            return
        }
        if case .array(let elements) = value {
            guard !elements.isEmpty else {
                send(RPCOutgoing.error(id: RPCID(.null), .invalidRequest("an empty batch")))
                return
            }
            let works = elements.map { dispatch(RPCMessage($0)) }
            track { _ in
                var replies: [JSONValue] = []
                for w in works { if let r = await w?.value { replies.append(r) } }
                if !replies.isEmpty { self.send(.array(replies)) }
                return nil
            }
        } else if let work = dispatch(RPCMessage(value)) {
            track { _ in
                if let reply = await work.value { self.send(reply) }
                return nil
            }
        }
    }

    /// A frame over the size limit was skipped; the stream goes on.
    public func frameTooLarge(limit: Int, announced: Int?) {
        var data: [String: JSONValue] = ["limit": .int(Int64(limit))]
        if let announced { data["announced"] = .int(Int64(announced)) }
        send(RPCOutgoing.error(id: RPCID(.null), RPCError(.invalidRequest, "Invalid request: frame larger than \(limit) bytes", data: .object(data))))
    }

    /// The framing is broken beyond repair; the transport closes the stream after this.
    public func framingFailed(_ reason: String) {
        send(RPCOutgoing.error(id: RPCID(.null), .parseError("framing: \(reason)")))
    }

    /// The transport is at its connection limit: this one is answered, then closed.
    public func tooManyConnections(limit: Int) {
        send(RPCOutgoing.error(id: RPCID(.null), RPCError(.overloaded, "too many connections (\(limit)); retry later",
                                                          data: ["limit": .int(Int64(limit)), "scope": .string("connections")])))
    }

    /// Whether any request or reply of this connection is still pending.
    public var hasWorkInFlight: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !outstanding.isEmpty
    }

    /// End of input: answer what is in flight, then close.
    public func inputEnded() {
        Task {
            await self.waitForOutstandingWork()
            self.close()
        }
    }

    // MARK: Sending

    /// Sends one message. A value JSON cannot carry (NaN) becomes an internal error for its id.
    public func send(_ message: JSONValue) {
        lock.lock()
        let isClosed = closed
        lock.unlock()
        if isClosed { return }
        do {
            sendBytes(try message.serialized())
        } catch {
            let id = message["id"].map(RPCID.init) ?? RPCID(.null)
            if let fallback = try? RPCOutgoing.error(id: id, .internalError("\(error)")).serialized() { sendBytes(fallback) }
        }
    }

    func close() {
        lock.lock()
        let first = !closed
        closed = true
        lock.unlock()
        guard first else { return }
        closeSink()
        endSeedSession()
        daemon.forget(self)
    }

    /// The session is over: its seed is revealed in the journal (the client that set it knows it;
    /// a seed drawn by `setSeed {}` would otherwise be lost with the session).
    /// Delegated session seeds the connection used are revealed likewise (DelegatedSeeds.swift).
    func endSeedSession() {
        if let reveal = seedSession.end() { daemon.journal?.enqueue(.reveal(reveal)) }
        for reveal in delegatedSessions.end() { daemon.journal?.enqueue(.reveal(reveal)) }
    }

    // MARK: Dispatch

    /// Starts one message's work; returns the task whose value is the reply (nil: no reply).
    private func dispatch(_ message: RPCMessage) -> Work? {
        switch message {
        case let .invalid(id, error):
            return Task { RPCOutgoing.error(id: id, error) }
        case let .response(id):
            daemon.logger.debug("ignoring a response to id \(id): reprolm sends no requests")
            return nil
        case let .notification(method, params):
            guard let entry = MethodTable.byName[method] else {
                daemon.logger.debug("ignoring unknown notification \(method)")
                return nil
            }
            let ctx = RequestContext(daemon: daemon, connection: self, id: RPCID(.null), isNotification: true)
            switch entry.kind {
            case .notification(let handle):
                do { try handle(self, params) } catch {
                    daemon.logger.debug("notification \(method) failed: \(error)")
                }
            case .request(let ordering, let handle):
                // A request sent as a notification still runs (a load must happen), unanswered.
                var params = params
                let seed: SeedUse?
                do { seed = try seedUse(method, &params) } catch {
                    daemon.logger.debug("notification \(method) refused: \(error)")
                    return nil
                }
                let p = params
                _ = schedule(id: nil, ordering: ordering, sessionSeed: seed) { ctx in try await handle(ctx, p) }
            case .immediate(let handle):
                if case .later(let rest)? = try? handle(ctx, params) {
                    track { _ in _ = try? await rest(); return nil }
                }
            }
            return nil
        case let .request(id, method, params):
            guard let entry = MethodTable.byName[method] else {
                return Task { RPCOutgoing.error(id: id, .methodNotFound(method)) }
            }
            // Counted for `stats` when answered, by method and outcome.
            let work = dispatchRequest(entry, id, method, params)
            let stats = daemon.stats
            return Task {
                let reply = await work.value
                stats.answered(method, reply)
                return reply
            }
        }
    }

    /// Starts a request's work (the method is in the table).
    private func dispatchRequest(_ entry: MethodEntry, _ id: RPCID, _ method: String, _ params: JSONValue?) -> Work {
        switch entry.kind {
        case .notification:
            return Task { RPCOutgoing.error(id: id, .invalidRequest("\(method) is a notification and takes no id")) }
        case .immediate(let handle):
            let ctx = RequestContext(daemon: daemon, connection: self, id: id, isNotification: false)
            do {
                switch try handle(ctx, params) {
                case .value(let v):
                    return Task { RPCOutgoing.result(id: id, v) }
                case .later(let rest):
                    return Task {
                        do { return RPCOutgoing.result(id: id, try await rest()) } catch {
                            return RPCOutgoing.error(id: id, ErrorMapping.rpcError(error))
                        }
                    }
                }
            } catch {
                return Task { RPCOutgoing.error(id: id, ErrorMapping.rpcError(error)) }
            }
        case .request(let ordering, let handle):
            var params = params
            let seed: SeedUse?
            do { seed = try seedUse(method, &params) } catch {
                return Task { RPCOutgoing.error(id: id, ErrorMapping.rpcError(error)) }
            }
            let p = params
            return schedule(id: id, ordering: ordering, sessionSeed: seed) { ctx in try await handle(ctx, p) }
        }
    }

    /// The next derived session seed, for a request that takes one and brings no `seed` of its
    /// own. Taken here, as frames arrive in the client's order, so the i-th such request of the
    /// session gets seed i however the requests are then scheduled. A request that later fails
    /// still used its index (indices may have gaps; each receipt records its own).
    ///
    /// A router's replica (`--accept-delegated-seeds`) is handed the session seed and index in
    /// `delegatedSeed` instead (DelegatedSeeds.swift): the member is taken out of `params`, and
    /// the connection's own session takes no index.
    private func seedUse(_ method: String, _ params: inout JSONValue?) throws -> SeedUse? {
        guard MethodTable.takesSessionSeed.contains(method), case .object(let o)? = params else { return nil }
        if let delegated = try DelegatedSeed.take(from: &params, accepted: daemon.acceptsDelegatedSeeds) {
            let (commitment, isNew) = delegatedSessions.record(delegated)
            // Queued now, in arrival order: in the journal before the receipt that uses it.
            if isNew { daemon.journal?.enqueue(.commit(commitment: commitment, fromEntropy: delegated.fromEntropy)) }
            return delegated.use
        }
        if let s = o["seed"], !s.isNull { return nil }
        return seedSession.nextSeed()
    }

    /// Queues a request behind the barriers it depends on and registers it for cancellation.
    private func schedule(id: RPCID?, ordering: RequestOrdering, sessionSeed: SeedUse? = nil,
                          _ body: @escaping @Sendable (RequestContext) async throws -> JSONValue) -> Work {
        let replyID = id ?? RPCID(.null)
        lock.lock()
        defer { lock.unlock() }
        do {
            try daemon.acquireSlot(connectionHolds: slotsHeld)
        } catch {
            return Task { id.map { RPCOutgoing.error(id: $0, ErrorMapping.rpcError(error)) } }
        }
        slotsHeld += 1
        // A null id cannot be told apart from another null id, so it is not tracked for
        // cancellation (and two may be in flight at once).
        let trackedID = id.flatMap { $0.json.isNull ? nil : $0 }
        if let id = trackedID, requestsByID[id] != nil {
            daemon.releaseSlot()
            slotsHeld -= 1
            return Task { RPCOutgoing.error(id: id, .invalidRequest("id \(id) is already in use by a request in flight")) }
        }
        let dependencies: [Work] = ordering == .barrier ? sinceBarrier + [lastBarrier].compactMap { $0 } : [lastBarrier].compactMap { $0 }
        var ctx = RequestContext(daemon: daemon, connection: self, id: replyID, isNotification: id == nil)
        ctx.sessionSeed = sessionSeed
        let key = UUID()
        let work = Work {
            defer {
                self.daemon.releaseSlot()
                self.lock.lock()
                self.slotsHeld -= 1
                if let id = trackedID { self.requestsByID[id] = nil }
                self.outstanding[key] = nil
                self.lock.unlock()
            }
            for d in dependencies { _ = await d.value }
            let reply: JSONValue
            do {
                try Task.checkCancellation()
                reply = RPCOutgoing.result(id: replyID, try await body(ctx))
            } catch {
                reply = RPCOutgoing.error(id: replyID, ErrorMapping.rpcError(error))
            }
            return id == nil ? nil : reply
        }
        if let id = trackedID { requestsByID[id] = work }
        outstanding[key] = work
        if ordering == .barrier {
            lastBarrier = work
            sinceBarrier = []
        } else {
            sinceBarrier.append(work)
        }
        return work
    }

    /// Runs a piece of connection work that must finish before the connection closes.
    private func track(_ body: @escaping @Sendable (ServerConnection) async -> JSONValue?) {
        lock.lock()
        defer { lock.unlock() }
        let key = UUID()
        let work = Work {
            let r = await body(self)
            self.lock.lock()
            self.outstanding[key] = nil
            self.lock.unlock()
            return r
        }
        outstanding[key] = work
    }

    // MARK: Cancellation and draining

    /// `$/cancelRequest`: cancels the request if it is still in flight; unknown ids are ignored
    /// (the request may have finished already, which is not an error).
    func cancel(_ id: RPCID) {
        lock.lock()
        let work = requestsByID[id]
        lock.unlock()
        work?.cancel()
    }

    /// The client vanished (its socket closed before its answers were sent): cancel its requests,
    /// as `$/cancelRequest` would, so a long generation does not run on for nobody.
    public func peerGone() {
        cancelAll()
    }

    func cancelAll() {
        lock.lock()
        let all = Array(requestsByID.values)
        lock.unlock()
        for w in all { w.cancel() }
    }

    /// The connection's work and pending replies as of now (for `shutdown` and `exit`, whose
    /// answers must follow every answer of the frames before them).
    func outstandingSnapshot() -> [Task<JSONValue?, Never>] {
        lock.lock()
        defer { lock.unlock() }
        return Array(outstanding.values)
    }

    /// Waits until every request and pending reply of this connection is done.
    func waitForOutstandingWork() async {
        while true {
            lock.lock()
            let pending = Array(outstanding.values)
            lock.unlock()
            if pending.isEmpty { return }
            for w in pending { _ = await w.value }
        }
    }
}
