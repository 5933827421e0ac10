// Small POSIX helpers shared by the transports: a mutex-protected box, whole-buffer writes and a
// dedicated thread. Own code rather than NIOConcurrencyHelpers or Foundation because this target
// depends on NIOCore, NIOPosix and Logging only, and the Synchronization module's Mutex needs
// macOS 15 while the package supports macOS 13.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a pthread mutex. Not reentrant: never call back into code that may take the
/// same lock from inside `withLock`.
final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

enum WriteOutcome: Equatable {
    case written
    /// The reader has gone (EPIPE): the normal way for a client to end a stdio session.
    case brokenPipe
    case failed(errno: Int32)
}

enum POSIX {
    /// Writes every byte, retrying partial writes and EINTR, and waiting out EAGAIN in case the
    /// descriptor was inherited non-blocking.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        guard var cursor = bytes.baseAddress else { return .written }
        var remaining = bytes.count
        while remaining > 0 {
            let n = write(fd, cursor, remaining)
            if n > 0 {
                cursor += n
                remaining -= n
                continue
            }
            let err = n < 0 ? errno : EIO
            switch err {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                waitUntilReady(fd, events: Int16(POLLOUT))
            case EPIPE:
                return .brokenPipe
            default:
                return .failed(errno: err)
            }
        }
        return .written
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> WriteOutcome {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Blocks until `fd` is ready; used only when a descriptor turns out to be non-blocking.
    static func waitUntilReady(_ fd: Int32, events: Int16) {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        _ = poll(&pfd, 1, -1)
    }

    /// Runs `body` on a new detached thread; false if the thread could not be created.
    static func spawnThread(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(ThreadBody(body))
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let rc = pthread_create(&thread, nil, { raw in
            #if canImport(Darwin)
            let unmanaged = Unmanaged<ThreadBody>.fromOpaque(raw)
            #else
            guard let raw else { return nil }
            let unmanaged = Unmanaged<ThreadBody>.fromOpaque(raw)
            #endif
            unmanaged.takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return false
        }
        #if canImport(Darwin)
        if let thread { pthread_detach(thread) }
        #else
        pthread_detach(thread)
        #endif
        return true
    }

    /// close(2), named apart so that types with their own `close()` can call it.
    static func closeDescriptor(_ fd: Int32) {
        _ = close(fd)
    }

    /// `strerror` as a Swift string, for error messages.
    static func describe(errno err: Int32) -> String {
        guard let text = strerror(err) else { return "errno \(err)" }
        return String(cString: text) + " (errno \(err))"
    }
}

private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
