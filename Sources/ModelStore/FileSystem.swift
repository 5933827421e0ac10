// Thin POSIX helpers. Foundation's FileManager has no fsync, no O_EXCL create and no
// nanosecond mtime on every platform, and atomic installs need all three.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum FileSystem {
    /// Size, modification time and kind of a path, following symlinks.
    struct Status: Equatable {
        var size: Int
        var mtimeNanoseconds: Int64
        var isRegularFile: Bool
        var isDirectory: Bool
    }

    static func status(of path: String) -> Status? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Status(st)
    }

    static func status(ofDescriptor fd: Int32) -> Status? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Status(st)
    }

    static func isRegularFile(_ path: String) -> Bool { status(of: path)?.isRegularFile ?? false }
    static func isDirectory(_ path: String) -> Bool { status(of: path)?.isDirectory ?? false }

    static func errnoString(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// `mkdir -p`, written with mkdir(2) so a failure reads "Not a directory" rather than an
    /// NSError dump.
    static func createDirectories(_ path: String) throws {
        if isDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path && parent != "/" {
            try createDirectories(parent)
        }
        guard mkdir(path, 0o755) != 0 else { return }
        let code = errno
        if code == EEXIST && isDirectory(path) { return }  // created meanwhile by someone else
        let reason = code == EEXIST ? "it exists and is not a folder" : errnoString(code)
        throw ModelStoreError.io(operation: "creating folder", path: path, reason: reason)
    }

    /// Removes a file or folder tree; a missing path is not an error (cleanup paths call this
    /// on whatever may or may not have been created).
    static func removeIfPresent(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes a folder only if it is empty; used to undo folders a failed pull created.
    static func removeDirectoryIfEmpty(_ path: String) {
        _ = rmdir(path)
    }

    static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw ModelStoreError.io(operation: "renaming to '\(to)'", path: from, reason: errnoString())
        }
    }

    /// Takes every write permission away (0444), so a careless writer (an editor, a script that
    /// opens the file for writing) fails instead of corrupting a verified file under a loaded model.
    static func makeReadOnly(_ path: String) throws {
        guard chmod(path, 0o444) == 0 else {
            throw ModelStoreError.io(operation: "making read-only", path: path, reason: errnoString())
        }
    }

    /// Makes a rename durable: the new directory entry survives a crash only once the folder is synced.
    static func fsyncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    static func openForExclusiveWrite(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ModelStoreError.io(operation: "creating file", path: path, reason: errnoString())
        }
        return fd
    }

    /// Writes every byte, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        guard var pointer = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let n = write(fd, pointer, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                throw ModelStoreError.io(operation: "writing", path: path, reason: errnoString())
            }
            remaining -= n
            pointer += n
        }
    }

    /// Reads up to `buffer.count` bytes, retrying EINTR; 0 means end of file.
    static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        while true {
            let n = read(fd, base, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ModelStoreError.io(operation: "reading", path: path, reason: errnoString())
        }
    }

    static func syncAndClose(_ fd: Int32, path: String) throws {
        let synced = fsync(fd) == 0 ? nil : errnoString()
        _ = close(fd)
        if let synced {
            throw ModelStoreError.io(operation: "syncing", path: path, reason: synced)
        }
    }

    /// The absolute, symlink-free form of a path, so one file has one cache key.
    static func canonicalPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
            ? path : FileManager.default.currentDirectoryPath + "/" + path
        guard let resolved = realpath(absolute, nil) else { return absolute }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether a process with this id still exists, to tell a live pull's temporary files from a
    /// crashed one's.
    static func processExists(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    static func isWritableDirectory(_ path: String) -> Bool {
        access(path, W_OK | X_OK) == 0
    }
}

extension FileSystem.Status {
    init(_ st: stat) {
        #if canImport(Darwin)
        let mtime = st.st_mtimespec
        #else
        let mtime = st.st_mtim
        #endif
        let type = st.st_mode & S_IFMT
        self.init(size: Int(st.st_size),
                  mtimeNanoseconds: Int64(mtime.tv_sec) &* 1_000_000_000 &+ Int64(mtime.tv_nsec),
                  isRegularFile: type == S_IFREG,
                  isDirectory: type == S_IFDIR)
    }
}
