// SHA-256 of files, remembered across runs. Verifying a 491 MB model on every start would cost
// seconds; keying the digest by (absolute path, size, mtime in nanoseconds) lets a check of an
// unchanged file cost one stat, and any rewrite of the file changes the key.

import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Computes the sha256 of files in streamed chunks, with a persistent cache of earlier results.
///
/// The cache is a text file of lines `sha256<TAB>size<TAB>mtime-ns<TAB>absolute-path`. A line that
/// does not parse is ignored, so a truncated or corrupt cache only costs re-hashing. Updates are
/// written to a temporary file and renamed over the old one, so readers never see half a file.
/// All methods are safe to call from several threads.
public final class FileHasher: @unchecked Sendable {
    /// Bytes read per step; large enough that syscalls do not matter, small enough for smooth progress.
    public static let chunkSize = 4 << 20

    /// Where the cache lives; nil keeps it in memory only.
    public let cacheFile: String?

    private struct Entry: Equatable {
        var size: Int
        var mtimeNanoseconds: Int64
        var sha256: String
    }

    private let lock = NSLock()
    private var entries: [String: Entry]?  // loaded on first use
    private var computed = 0

    public init(cacheFile: String?) {
        self.cacheFile = cacheFile
    }

    /// How many files this instance actually read to the end (cache hits do not count).
    public var hashesComputed: Int {
        lock.lock()
        defer { lock.unlock() }
        return computed
    }

    /// The sha256 of the file at `path` in lowercase hex. `progress` gets (bytes done, total) while
    /// the file is read; it is not called at all when the cached digest is still valid.
    public func sha256(ofFileAt path: String, progress: ((Int, Int) -> Void)? = nil) throws -> String {
        let key = FileSystem.canonicalPath(path)
        let fd = open(key, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ModelStoreError.io(operation: "opening", path: path, reason: FileSystem.errnoString())
        }
        defer { _ = close(fd) }
        guard let before = FileSystem.status(ofDescriptor: fd), before.isRegularFile else {
            throw ModelStoreError.io(operation: "hashing", path: path, reason: "not a regular file")
        }
        if let cached = lookup(key, before) {
            return cached
        }

        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        progress?(0, before.size)
        while true {
            let n = try FileSystem.readSome(fd, into: buffer, path: path)
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            done += n
            progress?(done, before.size)
        }
        let hex = Self.hex(hasher.finalize())

        lock.lock()
        computed += 1
        lock.unlock()
        // A file rewritten while we read it has a digest of neither version: return it (the caller
        // will see a mismatch and retry) but do not remember it.
        if let after = FileSystem.status(ofDescriptor: fd), after == before, done == before.size {
            store(key, Entry(size: before.size, mtimeNanoseconds: before.mtimeNanoseconds, sha256: hex))
        }
        return hex
    }

    /// The sha256 of `bytes`, the contents of the file at `path` already in memory (a model's
    /// mapping), so that the digest is of the very bytes that will be used, whatever happens to
    /// the file meanwhile. `version` is the file's (size, mtime) those bytes are, when the caller
    /// knows the file cannot change while they are read (a read lease holds writers off): the
    /// cache is then consulted and fed under it. nil (bytes read while anyone could write the
    /// file) hashes the bytes and leaves the cache alone.
    public func sha256(ofContents bytes: UnsafeRawBufferPointer, of path: String,
                       version: (size: Int, mtimeNanoseconds: Int64)?,
                       progress: ((Int, Int) -> Void)? = nil) -> String {
        let key = FileSystem.canonicalPath(path)
        let status = version.map { FileSystem.Status(size: $0.size, mtimeNanoseconds: $0.mtimeNanoseconds, isRegularFile: true, isDirectory: false) }
        if let status, status.size == bytes.count, let cached = lookup(key, status) { return cached }
        var hasher = SHA256()
        var done = 0
        progress?(0, bytes.count)
        while done < bytes.count {
            let n = min(Self.chunkSize, bytes.count - done)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[done ..< done + n]))
            done += n
            progress?(done, bytes.count)
        }
        let hex = Self.hex(hasher.finalize())
        lock.lock()
        computed += 1
        lock.unlock()
        if let status, status.size == bytes.count {
            store(key, Entry(size: status.size, mtimeNanoseconds: status.mtimeNanoseconds, sha256: hex))
        }
        return hex
    }

    /// Records a digest computed elsewhere (e.g. while the file was being written), so the next
    /// check of that file is free. Ignored if the file is not there.
    public func record(sha256: String, forFileAt path: String) {
        let key = FileSystem.canonicalPath(path)
        guard let status = FileSystem.status(of: key), status.isRegularFile else { return }
        store(key, Entry(size: status.size, mtimeNanoseconds: status.mtimeNanoseconds, sha256: sha256))
    }

    /// Lowercase hex of a digest or any byte sequence.
    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Cache

    private func lookup(_ key: String, _ status: FileSystem.Status) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let all = loadedEntries()
        guard let entry = all[key], entry.size == status.size,
              entry.mtimeNanoseconds == status.mtimeNanoseconds else { return nil }
        return entry.sha256
    }

    private func store(_ key: String, _ entry: Entry) {
        // Paths with line breaks cannot be written as one line; they simply are not cached.
        guard !key.contains("\n"), !key.contains("\r") else { return }
        lock.lock()
        defer { lock.unlock() }
        var all = loadedEntries()
        guard all[key] != entry else { return }
        all[key] = entry
        entries = all
        persist()
    }

    /// Must be called with the lock held.
    private func loadedEntries() -> [String: Entry] {
        if let entries { return entries }
        let loaded = cacheFile.map(Self.readCache) ?? [:]
        entries = loaded
        return loaded
    }

    private static func readCache(_ path: String) -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var result: [String: Entry] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            // The path is the last field and may itself contain tabs, hence maxSplits.
            let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4,
                  ModelSpec.isSHA256Hex(String(fields[0])),
                  let size = Int(fields[1]), size >= 0,
                  let mtime = Int64(fields[2]),
                  fields[3].hasPrefix("/") else { continue }
            result[String(fields[3])] = Entry(size: size, mtimeNanoseconds: mtime, sha256: String(fields[0]))
        }
        return result
    }

    /// Must be called with the lock held. Merges with what other processes wrote since we loaded,
    /// drops entries whose file is gone or changed, then replaces the file atomically. A failure
    /// only loses the cache, never a result, so it is not reported.
    private func persist() {
        guard let cacheFile, var merged = entries else { return }
        for (key, entry) in Self.readCache(cacheFile) where merged[key] == nil {
            merged[key] = entry
        }
        merged = merged.filter { key, entry in
            guard let status = FileSystem.status(of: key) else { return false }
            return status.size == entry.size && status.mtimeNanoseconds == entry.mtimeNanoseconds
        }
        entries = merged
        var text = ""
        for key in merged.keys.sorted() {
            if let e = merged[key] {
                text += "\(e.sha256)\t\(e.size)\t\(e.mtimeNanoseconds)\t\(key)\n"
            }
        }
        let directory = (cacheFile as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(cacheFile).tmp-\(getpid())-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
        if Foundation.rename(temporary, cacheFile) != 0 {
            FileSystem.removeIfPresent(temporary)
        }
    }
}
