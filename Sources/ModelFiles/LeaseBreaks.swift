// Read leases on model files, and hearing that one is being broken.
//
// `fcntl(fd, F_SETLEASE, F_RDLCK)` asks the kernel to hold anyone who opens the file for writing
// or truncates it, and to send us the signal set with F_SETSIG (its si_fd names the descriptor);
// the writer waits until we give the lease up, or /proc/sys/fs/lease-break-time (45 s by default)
// has passed. Leases need the file's owner or CAP_LEASE, and no one may have it open for writing.
//
// The signal is process-directed, so any thread that does not block it may take it. Rather than
// block it everywhere before threads exist (the daemon's SIGINT/SIGTERM scheme, SignalReader.swift
// in RPCTransport, which also needs the tests' processes to do the same), a handler installed
// for every thread does the one async-signal-safe thing, writing si_fd to a pipe, and a thread
// of our own reads the pipe and detaches the file (MappedFile.detach). A real-time signal queues:
// two files broken at once are two signals, not one.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

#if os(Linux)
enum LeaseBreaks {
    // Linux's fcntl commands, which the Glibc module Swift imports does not declare.
    private static let setSignal: Int32 = 10  // F_SETSIG
    private static let setLease: Int32 = 1024  // F_SETLEASE
    private static let getLease: Int32 = 1025  // F_GETLEASE

    /// The lease-break signal: a real-time one no library of ours uses.
    static let signal = __libc_current_sigrtmin() + 4

    /// Takes a read lease on `fd`; nil on success, else errno (EACCES: not the owner and no
    /// CAP_LEASE; EAGAIN: open for writing somewhere; EINVAL: the filesystem has no leases).
    static func take(_ fd: Int32) -> Int32? {
        guard installed else { return ENOSYS }
        guard fcntl(fd, setSignal, signal) == 0, fcntl(fd, setLease, Int32(F_RDLCK)) == 0 else { return errno }
        return nil
    }

    /// Gives the lease up: a writer held by it proceeds.
    static func give(_ fd: Int32) {
        _ = fcntl(fd, setLease, Int32(F_UNLCK))
    }

    /// Whether a writer is waiting on `fd`'s lease (during a break F_GETLEASE reports the type the
    /// lease is being broken to, no longer F_RDLCK).
    static func isBreaking(_ fd: Int32) -> Bool {
        fcntl(fd, getLease) != Int32(F_RDLCK)
    }

    // MARK: which file a descriptor is

    private static let lock = NSLock()
    private nonisolated(unsafe) static var watched: [Int32: Weak] = [:]
    private struct Weak { weak var file: MappedFile? }

    static func watch(_ fd: Int32, _ file: MappedFile) {
        lock.withLock { watched[fd] = Weak(file: file) }
    }

    /// Called before the descriptor is closed, so a reused number never finds the old file.
    static func forget(_ fd: Int32) {
        _ = lock.withLock { watched.removeValue(forKey: fd) }
    }

    private static func file(for fd: Int32) -> MappedFile? {
        lock.withLock { watched[fd]?.file }
    }

    // MARK: the signal

    /// Installs the handler and starts the thread that reads what it writes; false if it could
    /// not (no lease is then taken: files are read into private memory instead).
    private static let installed: Bool = {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // A full pipe must not block a thread inside the handler; 16k pending breaks will not happen.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        breakPipeWriteEnd = ends[1]
        let readEnd = ends[0]
        let reader = Thread { readBreaks(from: readEnd) }
        reader.name = "reprolm.lease-breaks"
        reader.start()
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = leaseBreakHandler
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_SIGINFO | SA_RESTART
        return sigaction(signal, &action, nil) == 0
    }()

    private static func readBreaks(from pipeReadEnd: Int32) {
        var fd: Int32 = -1
        while true {
            let n = read(pipeReadEnd, &fd, MemoryLayout<Int32>.size)
            if n < 0 && errno == EINTR { continue }
            guard n == MemoryLayout<Int32>.size else { return }
            // A descriptor closed (and maybe reused) since the signal was sent is not ours to break.
            guard let file = file(for: fd), isBreaking(fd) else { continue }
            file.detach()
        }
    }
}

/// Where the handler writes; set once, before the handler is installed.
private nonisolated(unsafe) var breakPipeWriteEnd: Int32 = -1

/// The signal handler: async-signal-safe (one write(2); errno kept for the interrupted thread).
private func leaseBreakHandler(_ sig: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    guard let info else { return }
    let saved = errno
    var fd = info.pointee._sifields._sigpoll.si_fd
    _ = write(breakPipeWriteEnd, &fd, MemoryLayout<Int32>.size)
    errno = saved
}
#else
/// Elsewhere there are no leases: every file is read into private memory.
enum LeaseBreaks {
    static func take(_ fd: Int32) -> Int32? { ENOSYS }
    static func give(_ fd: Int32) {}
    static func isBreaking(_ fd: Int32) -> Bool { false }
    static func watch(_ fd: Int32, _ file: MappedFile) {}
    static func forget(_ fd: Int32) {}
}
#endif
