// Which models stay loaded, and the memory budget.
//
// A request holds its model with a lease while it runs; a model is never unloaded while a lease
// holds it. A model named by a request but not loaded is loaded on demand (catalogue name or
// path, as models/load). Once idle, a model stays loaded for its keep-alive (seconds; infinity
// for models loaded explicitly or at start-up, `--keep-alive` for on-demand loads; a request or
// models/load may set it, as Ollama's keep_alive does), then is unloaded.
//
// With `--memory-budget`, what is charged stays within the budget: the loaded models' weights
// (their file sizes), loads in progress, each running request's KV reservation (the cache its
// sequences can grow to: prompt plus maxTokens, in the doublings a cache grows by; for a
// transcription, its working memory: WhisperModel.workingBytes) and the prefix caches. A request or load that needs room first takes it from the prefix caches, then from idle
// models, least recently used first; when the room is held by running requests it waits (first
// come, first served) until they finish. What can never fit (a model larger than the budget, or a
// request whose KV cache plus its model's weights exceed it) is refused at once with the numbers.
// Charging reservations rather than measuring pages is what makes this safe: the daemon never
// asks the system for more than the budget, so it is never killed for memory mid-request.
import Foundation
import Models

/// A model held by a running request: it is not unloaded until the lease is released.
public final class ModelLease: @unchecked Sendable {
    public let model: LoadedModel
    let registry: ModelRegistry
    /// KV bytes charged to this lease (guarded by the registry's lock).
    var kvBytes = 0
    var released = false

    init(model: LoadedModel, registry: ModelRegistry) {
        self.model = model
        self.registry = registry
    }

    /// Charges (waiting for room under the memory budget) the KV cache `sequences` sequences of
    /// up to `positions` positions can grow to; refused when it can never fit.
    public func reserveKV(positions: Int, sequences: Int = 1) async throws {
        try await registry.reserveKV(self, positions: positions, sequences: sequences)
    }

    /// Charges (waiting for room under the memory budget) `bytes` of working memory a request
    /// holds while it runs (a transcription's encoder pass, cross-attention memory and caches);
    /// refused when it can never fit. `what` names it in the refusal.
    public func reserveWorkingMemory(_ bytes: Int, for what: String) async throws {
        try await registry.reserveWorkingMemory(self, bytes: bytes, what: what)
    }

    /// Gives the model (and any KV reservation) back; idempotent.
    public func release() { registry.release(self) }

    deinit { registry.release(self) }
}

/// A model's use: guarded by its registry's lock.
final class ModelUsage {
    var leases = 0
    var kvReserved = 0
    var lastUsed: Date? = nil
    /// Seconds the model stays loaded once idle; infinity: until unloaded.
    var keepAlive = Double.infinity
    var expiry: Task<Void, Never>? = nil
}

/// What `models/list` shows of a loaded model's residency.
public struct ModelResidency: Sendable {
    public var residentBytes: Int
    /// The prefix cache's bytes plus the running requests' KV reservations.
    public var kvBytes: Int
    public var activeRequests: Int
    public var lastUsed: Date?
    /// When it will be unloaded if still idle (nil: never, or it is in use).
    public var unloadsAt: Date?
}

/// A request or load waiting for room under the budget.
struct MemoryWaiter {
    let id: UInt64
    /// Counted in `waitedForRoom` (once, when it first could not be admitted).
    var counted = false
    let bytes: Int
    /// A request's KV reservation (its lease holds its model while it waits), not a load.
    let holdsModel: Bool
    let charge: () -> Void
    let continuation: CheckedContinuation<Void, Error>
}

extension ModelRegistry {
    /// The model `name` names (the default when nil), loading it on demand, held until the
    /// lease is released. `keepAlive` (seconds) becomes the model's keep-alive.
    public func acquire(_ name: String?, keepAlive: Double? = nil,
                        progress: @escaping @Sendable (LoadProgress) -> Void = { _ in }) async throws -> ModelLease {
        while true {
            let model: LoadedModel
            var onDemand = false
            if let name, !isLoaded(name) {
                model = try await load(name, keepAlive: nil, progress: progress)
                onDemand = true
            } else {
                model = try resolve(name)
            }
            // The keep-alive is set once the lease holds the model (a keep-alive of 0 would
            // unload it at once otherwise). Unloaded between its load and here (a budget made
            // room): load it again.
            if pin(model, keepAlive: keepAlive ?? (onDemand ? defaultKeepAlive : nil)) { return ModelLease(model: model, registry: self) }
        }
    }

    /// A lease on a model already loaded (`reproduce` finds its model by sha256); nil when it is
    /// not loaded any more.
    public func lease(_ model: LoadedModel) -> ModelLease? {
        pin(model, keepAlive: nil) ? ModelLease(model: model, registry: self) : nil
    }

    /// Counts a lease on `model` if it is still loaded.
    private func pin(_ model: LoadedModel, keepAlive: Double?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard models.contains(where: { $0 === model }) else { return false }
        let usage = model.usage
        usage.leases += 1
        usage.lastUsed = Date()
        if let keepAlive { usage.keepAlive = keepAlive }
        usage.expiry?.cancel()
        usage.expiry = nil
        return true
    }

    private func isLoaded(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return lookupLocked(name) != nil
    }

    /// See ModelLease.reserveKV.
    func reserveKV(_ lease: ModelLease, positions: Int, sequences: Int = 1) async throws {
        guard let c = lease.model.decoder?.config, positions > 0 else { return }
        let capacity = SequenceState.capacity(toHold: min(positions, c.contextLength), contextLength: c.contextLength)
        let bytes = max(1, sequences) * SequenceState.bytes(layers: c.layers, kvDim: c.kvDim, capacity: capacity)
        try await reserveWorkingMemory(lease, bytes: bytes, what: "a KV cache for \(positions) positions × \(max(1, sequences))")
    }

    /// See ModelLease.reserveWorkingMemory (a KV cache is charged the same way).
    func reserveWorkingMemory(_ lease: ModelLease, bytes: Int, what: String) async throws {
        guard bytes > 0 else { return }
        let model = lease.model
        try await admit(bytes, floor: bytes + model.residentBytes, holdsModel: true,
                        what: "\(what) on \(model.name) (weights \(mib(model.residentBytes)))") {
            lease.kvBytes += bytes
            model.usage.kvReserved += bytes
            self.kvReservedBytes += bytes
        }
    }

    func release(_ lease: ModelLease) {
        lock.lock()
        guard !lease.released else { lock.unlock(); return }
        lease.released = true
        let usage = lease.model.usage
        usage.leases -= 1
        usage.kvReserved -= lease.kvBytes
        kvReservedBytes -= lease.kvBytes
        usage.lastUsed = Date()
        let unloaded = usage.leases == 0 ? scheduleExpiryLocked(lease.model) : nil
        lock.unlock()
        if let unloaded { logger.info("unloaded \(unloaded.name) (keep-alive 0)") }
        settle()
    }

    /// Sets a loaded model's keep-alive (models/load); an idle model's countdown starts again.
    func setKeepAlive(_ seconds: Double, of model: LoadedModel) {
        lock.lock()
        model.usage.keepAlive = seconds
        let unloaded = model.usage.leases == 0 ? scheduleExpiryLocked(model) : nil
        lock.unlock()
        if let unloaded { logger.info("unloaded \(unloaded.name) (keep-alive 0)") }
        settle()
    }

    /// Starts an idle model's keep-alive countdown; a keep-alive of 0 unloads it now (returned).
    private func scheduleExpiryLocked(_ model: LoadedModel) -> LoadedModel? {
        let usage = model.usage
        usage.expiry?.cancel()
        usage.expiry = nil
        guard usage.keepAlive.isFinite, models.contains(where: { $0 === model }) else { return nil }
        if usage.keepAlive <= 0 {
            unloadLocked(model)
            return model
        }
        // A keep-alive of centuries is a wait of a century (nanoseconds must fit 64 bits).
        let seconds = min(usage.keepAlive, 3e9)
        usage.expiry = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            guard !Task.isCancelled else { return }
            self?.expire(model)
        }
        return nil
    }

    private func expire(_ model: LoadedModel) {
        lock.lock()
        let usage = model.usage
        let due = (usage.lastUsed ?? .distantPast).addingTimeInterval(usage.keepAlive) <= Date().addingTimeInterval(0.001)
        let unload = usage.leases == 0 && due && models.contains(where: { $0 === model })
        if unload { unloadLocked(model) }
        lock.unlock()
        if unload {
            logger.info("unloaded \(model.name) (idle for its keep-alive of \(usage.keepAlive) s)")
            settle()
        }
    }

    /// Removes a model and its aliases (the lock held).
    func unloadLocked(_ model: LoadedModel) {
        models.removeAll { $0 === model }
        aliases = aliases.filter { $0.value != model.name }
        model.usage.expiry?.cancel()
        model.usage.expiry = nil
    }

    // MARK: the budget

    /// Bytes charged now: weights, loads in progress, KV reservations, prefix caches.
    func chargedBytesLocked() -> Int {
        models.reduce(pendingLoadBytes + kvReservedBytes) { $0 + $1.residentBytes + ($1.prefixCache?.bytes ?? 0) }
    }

    /// The budget, what is charged against it (nil budget: unbounded), the requests and loads
    /// waiting for room now, and how many have had to wait so far.
    public var memory: (budgetBytes: Int?, chargedBytes: Int, waiting: Int, waited: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (memoryBudgetBytes, chargedBytesLocked(), waiters.count, waitedForRoom)
    }

    /// Waits until `bytes` fit, then runs `charge` (under the lock). `floor`: the least the
    /// budget must hold for this ever to fit; above it the request is refused at once.
    /// `holdsModel`: the caller holds a lease while it waits (see `settle`).
    func admit(_ bytes: Int, floor: Int, holdsModel: Bool = false, what: String, charge: @escaping () -> Void) async throws {
        guard let budget = memoryBudgetBytes else { return lock.withLock(charge) }
        if floor > budget { throw EngineError.exceedsMemoryBudget(what: what, neededBytes: floor, budgetBytes: budget) }
        let id: UInt64 = lock.withLock { nextWaiterID += 1; return nextWaiterID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                lock.lock()
                if Task.isCancelled {
                    lock.unlock()
                    c.resume(throwing: CancellationError())
                    return
                }
                waiters.append(MemoryWaiter(id: id, bytes: bytes, holdsModel: holdsModel, charge: charge, continuation: c))
                lock.unlock()
                settle()
            }
        } onCancel: {
            lock.lock()
            let i = waiters.firstIndex { $0.id == id }
            let waiter = i.map { waiters.remove(at: $0) }
            lock.unlock()
            waiter?.continuation.resume(throwing: CancellationError())
            settle()
        }
    }

    /// Admits waiters in arrival order while they fit (making room as needed), then, with none
    /// waiting, trims the prefix caches back under the budget (a finished request's cache may
    /// have pushed them over).
    ///
    /// Requests wait for KV room holding their models, so two requests on two models could each
    /// wait for the other's model to go. When the first waiter does not fit while no request
    /// runs and no load is under way (nothing will free room), it is refused as overloaded
    /// (-32004: retry), which lets its model go.
    func settle() {
        guard let budget = memoryBudgetBytes else { return }
        var admitted: [MemoryWaiter] = []
        var refused: [(MemoryWaiter, Int)] = []
        var unloaded: [LoadedModel] = []
        lock.lock()
        while let waiter = waiters.first {
            if makeRoomLocked(waiter.bytes, budget: budget, unloaded: &unloaded) {
                waiters.removeFirst()
                waiter.charge()
                admitted.append(waiter)
            } else if waiter.holdsModel, kvReservedBytes == 0, pendingLoadBytes == 0 {
                waiters.removeFirst()
                refused.append((waiter, chargedBytesLocked()))
            } else {
                break
            }
        }
        if waiters.isEmpty { _ = makeRoomLocked(0, budget: budget, unloaded: &unloaded, modelsToo: false) }
        for i in waiters.indices where !waiters[i].counted {
            waiters[i].counted = true
            waitedForRoom += 1
            logger.debug("waiting for \(mib(waiters[i].bytes)) under the memory budget")
        }
        lock.unlock()
        for m in unloaded { logger.info("unloaded \(m.name) to make room under the memory budget") }
        for w in admitted { w.continuation.resume() }
        for (w, charged) in refused {
            w.continuation.resume(throwing: EngineError.memoryBudgetHeld(neededBytes: w.bytes, chargedBytes: charged, budgetBytes: budget))
        }
    }

    /// Frees room for `bytes` more: prefix cache entries first, then idle models, least recently
    /// used first; true when they then fit. Frees nothing when even that would not be enough.
    private func makeRoomLocked(_ bytes: Int, budget: Int, unloaded: inout [LoadedModel], modelsToo: Bool = true) -> Bool {
        var over = chargedBytesLocked() + bytes - budget
        if over <= 0 { return true }
        let byAge = models.sorted { ($0.usage.lastUsed ?? .distantPast) < ($1.usage.lastUsed ?? .distantPast) }
        let idle = modelsToo ? byAge.filter { $0.usage.leases == 0 } : []
        let freeable = models.reduce(0) { $0 + ($1.prefixCache?.bytes ?? 0) } + idle.reduce(0) { $0 + $1.residentBytes }
        if freeable < over && modelsToo { return false }
        for m in byAge where over > 0 {
            over -= m.prefixCache?.trim(bytes: over) ?? 0
        }
        for m in idle where over > 0 {
            unloadLocked(m)
            unloaded.append(m)
            over -= m.residentBytes
        }
        return over <= 0
    }

    /// A loaded model's residency, for models/list.
    public func residency(of model: LoadedModel) -> ModelResidency {
        lock.lock()
        defer { lock.unlock() }
        let u = model.usage
        let idle = u.leases == 0 && models.contains { $0 === model }
        return ModelResidency(residentBytes: model.residentBytes, kvBytes: (model.prefixCache?.bytes ?? 0) + u.kvReserved,
                              activeRequests: u.leases, lastUsed: u.lastUsed,
                              unloadsAt: idle && u.keepAlive.isFinite ? (u.lastUsed ?? Date()).addingTimeInterval(min(u.keepAlive, 3e9)) : nil)
    }
}
