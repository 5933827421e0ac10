// The bytes of a model file for as long as a model uses them, kept such that nothing done to the
// file afterwards can crash the daemon or change them. Under every file reader (GGUF, safetensors);
// each reader turns a `MappingFailure` into its own typed error.
//
// A plain mmap is only as stable as the file: truncate it and the next read of a page past the
// new end is SIGBUS; rewrite it in place and the weights change under a model whose receipts name
// the old sha256. So a file is mapped only under a read lease (LeaseBreaks.swift): a writer's
// open-for-write or truncate is then held by the kernel while we are told, and we `detach`: copy
// the still intact bytes into private memory at the same addresses, tell the owner (the registry
// unloads the model, so the next request naming the path loads the new file), and give the lease
// up, so the writer proceeds. Requests already running finish on the copy, on the very bytes
// their receipts name. A file that cannot be leased is read into private memory at open instead:
// nothing mapped, nothing to SIGBUS on; what was read is what is hashed and used.
//
// Weights are otherwise never copied: kernels read them in place (or from tiles repacked at
// load), and the page cache shares them between processes that load the same model.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be opened; errno values are kept for the reader's message.
enum MappingFailure: Error, Equatable {
    case openFailed(errno: Int32)
    case notARegularFile
    case mapFailed(errno: Int32)
    case readFailed(errno: Int32)
    case changedWhileRead
}

public final class MappedFile: @unchecked Sendable {
    /// Where the bytes live.
    public enum Backing: Sendable, Equatable {
        /// The file itself, mapped under a read lease.
        case leasedMapping
        /// Private memory, read at open because no lease could be taken (the reason).
        case privateCopy(reason: String)
        /// Private memory that replaced the leased mapping when a writer came.
        case detached
    }

    public let path: String
    /// The file's bytes (valid as long as this object; the addresses never change).
    public let bytes: UnsafeRawBufferPointer
    /// The file the bytes were taken from, as it was then.
    public let identity: FileIdentity

    private let lock = NSLock()
    // Guarded by `lock`.
    private var state: Backing
    private var descriptor: Int32
    private var onDetach: [@Sendable () -> Void] = []

    private init(path: String, bytes: UnsafeRawBufferPointer, identity: FileIdentity, backing: Backing, descriptor: Int32) {
        self.path = path
        self.bytes = bytes
        self.identity = identity
        self.state = backing
        self.descriptor = descriptor
    }

    public var backing: Backing { lock.withLock { state } }

    /// Whether the bytes are the file's, held unchanged by the lease (a digest of them then holds
    /// for the file's (path, size, mtime) and may be cached under it).
    public var isLeased: Bool { backing == .leasedMapping }

    /// Opens `path`, leased and mapped if possible, else read into private memory. An empty file
    /// gives an empty buffer (mmap refuses a zero length), which each reader rejects as truncated.
    static func open(path: String) -> Result<MappedFile, MappingFailure> {
        let fd = openReadOnly(path)
        guard fd >= 0 else { return .failure(.openFailed(errno: errno)) }
        guard var identity = FileIdentity(descriptor: fd) else {
            let e = errno
            close(fd)
            return .failure(.openFailed(errno: e))
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .failure(.notARegularFile)
        }
        let refused = LeaseBreaks.take(fd)
        guard refused == nil else {
            defer { close(fd) }
            return PrivateMemory.read(fd, count: identity.size).flatMap { bytes in
                // Written to while read (an EAGAIN refusal means a writer has it open): the copy
                // may be torn, old bytes and new, a model no one wrote. Refused, not guessed at.
                guard FileIdentity(descriptor: fd) == identity, bytes.count == identity.size else {
                    if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), identity.size) }
                    return .failure(.changedWhileRead)
                }
                return .success(MappedFile(path: path, bytes: bytes, identity: identity,
                                           backing: .privateCopy(reason: "no read lease: \(errnoText(refused ?? 0))"),
                                           descriptor: -1))
            }
        }
        // The version the lease holds: a writer may have come between open and the lease.
        identity = FileIdentity(descriptor: fd) ?? identity
        var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        if identity.size > 0 {
            let failed = UnsafeMutableRawPointer(bitPattern: -1)
            guard let base = mmap(nil, identity.size, PROT_READ, MAP_PRIVATE, fd, 0), base != failed else {
                let e = errno
                close(fd)
                return .failure(.mapFailed(errno: e))
            }
            bytes = UnsafeRawBufferPointer(start: base, count: identity.size)
        }
        let file = MappedFile(path: path, bytes: bytes, identity: identity, backing: .leasedMapping, descriptor: fd)
        LeaseBreaks.watch(fd, file)
        // A break signalled before `watch` found no file to detach: look for one now.
        if LeaseBreaks.isBreaking(fd) { file.detach() }
        return .success(file)
    }

    /// Calls `body` once when the file is detached because a writer came (at once if it already
    /// was), before the writer is let go. Never called for a private copy made at open.
    public func whenDetached(_ body: @escaping @Sendable () -> Void) {
        let now: Bool = lock.withLock {
            guard state == .leasedMapping else { return state == .detached }
            onDetach.append(body)
            return false
        }
        if now { body() }
    }

    /// Replaces the mapping by a private copy of the same bytes, tells whoever asked, and gives
    /// the lease up. If no copy can be made the lease is kept: the writer then waits until this
    /// file is closed (the last model using it is gone) or the kernel's lease-break time is up.
    func detach() {
        let detached: (handlers: [@Sendable () -> Void], fd: Int32)? = lock.withLock {
            guard state == .leasedMapping else { return nil }
            let copied = PrivateMemory.replaceWithCopy(bytes)
            let handlers = onDetach
            onDetach = []
            guard copied else { return (handlers, -1) }
            state = .detached
            let fd = descriptor
            descriptor = -1
            return (handlers, fd)
        }
        guard let detached else { return }
        for body in detached.handlers { body() }
        guard detached.fd >= 0 else { return }
        LeaseBreaks.forget(detached.fd)
        LeaseBreaks.give(detached.fd)
        close(detached.fd)
    }

    /// Lets the kernel drop the whole pages inside `range` (a part of `bytes` copied elsewhere,
    /// such as weights repacked into tiles); a later read pages them back in from the file. Only
    /// for the leased file: private memory given back would read as zeros, so it is kept.
    func releasePages(_ range: UnsafeRawBufferPointer) {
        guard let base = range.baseAddress, range.count > 0, let mapped = bytes.baseAddress,
              base >= mapped, base + range.count <= mapped + bytes.count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + range.count) / page * page
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        // Under the lock, so that `detach` never copies a range while it is being dropped.
        lock.withLock {
            guard state == .leasedMapping else { return }
            _ = madvise(p, end - start, Int32(MADV_DONTNEED))
        }
    }

    deinit {
        if descriptor >= 0 {
            LeaseBreaks.forget(descriptor)
            close(descriptor)  // also gives the lease up
        }
        if let base = bytes.baseAddress, bytes.count > 0 {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}

private func openReadOnly(_ path: String) -> Int32 { open(path, O_RDONLY | O_CLOEXEC) }

/// An errno value as "No such file or directory (errno 2)", for the readers' messages.
func errnoText(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "errno \(e)" }
    return "\(String(cString: s)) (errno \(e))"
}
