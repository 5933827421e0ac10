// Where the daemon's socket lives and how it is created without a window for other users.
//
// The socket file is created by bind(2) under umask 0177, so it is born 0600: there is no moment
// at which another user could connect (a chmod after bind would leave one). The socket is made and
// bound here, synchronously, and handed to NIO with `withBoundSocket`, so the umask change covers
// exactly one system call on this thread. The directory must be this user's and writable by no
// one else, and no directory on the way may be another user's symbolic link: otherwise another
// user could listen at the path first and clients would talk to them. An existing file at the path
// is probed first, if it is this user's: a socket that answers belongs to a live daemon and is
// left alone; one that refuses is stale and removed; anything that is not a socket is never deleted.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a Unix socket could not be bound.
public enum UnixSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// sockaddr_un holds 104 bytes on macOS (108 on Linux) including the final NUL.
    case pathTooLong(path: String, bytes: Int, limit: Int)
    case invalidPath(path: String, reason: String)
    /// Something answered on the existing socket: never steal a live daemon's socket.
    case alreadyListening(path: String)
    /// A non-socket file is in the way; it is not removed.
    case notASocket(path: String)
    /// The socket's directory belongs to another user, who could swap the socket under us.
    case insecureDirectory(path: String, ownerUID: UInt32)
    /// Other users may write in the socket's directory (mode `mode`): they could put their own
    /// socket at the path first, and clients would talk to it.
    case sharedDirectory(path: String, mode: UInt32)
    /// A directory on the way is a symbolic link owned by another user, who could point it anywhere.
    case foreignSymlink(path: String, ownerUID: UInt32)
    /// The socket already at the path belongs to another user: neither probed nor removed.
    case foreignSocket(path: String, ownerUID: UInt32)
    case systemCall(name: String, errno: Int32, path: String)

    public var description: String {
        switch self {
        case let .pathTooLong(path, bytes, limit):
            return "socket path is \(bytes) bytes, over the limit of \(limit): \(path)"
        case let .invalidPath(path, reason):
            return "invalid socket path \(path): \(reason)"
        case let .alreadyListening(path):
            return "another reprolm daemon is listening on \(path)"
        case let .notASocket(path):
            return "\(path) exists and is not a socket; not removing it"
        case let .insecureDirectory(path, owner):
            return "directory \(path) is owned by uid \(owner), not by this user; refusing to put the socket there"
        case let .sharedDirectory(path, mode):
            return "directory \(path) is writable by other users (mode \(String(mode & 0o7777, radix: 8))), who could take the socket's place; use a directory of your own (a bare --socket uses one)"
        case let .foreignSymlink(path, owner):
            return "\(path) is a symbolic link owned by uid \(owner), not by this user; refusing to follow it"
        case let .foreignSocket(path, owner):
            return "the socket \(path) belongs to uid \(owner), not to this user; not touching it"
        case let .systemCall(name, err, path):
            return "\(name) failed for \(path): \(POSIX.describe(errno: err))"
        }
    }
}

/// Device and inode of the socket file we created, so shutdown removes ours and nobody else's.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

enum SocketPath {
    /// sun_path is 104 bytes on macOS, 108 on Linux; 103 + NUL fits both.
    static let maxBytes = 103

    static func defaultPath(runtimeDirectory: String?, uid: UInt32) -> String {
        if var dir = runtimeDirectory, dir.hasPrefix("/") {
            while dir.count > 1, dir.hasSuffix("/") { dir.removeLast() }
            return dir + "/reprolm.sock"
        }
        return "/tmp/reprolm-\(uid)/reprolm.sock"
    }

    /// Validates the path, prepares its directory, clears a stale socket and returns a socket
    /// bound (not yet listening) at `path`, created with mode 0600.
    static func bindSocket(at path: String) throws -> (fd: Int32, identity: FileIdentity?) {
        let bytes = Array(path.utf8)
        guard bytes.count <= maxBytes else {
            throw UnixSocketError.pathTooLong(path: path, bytes: bytes.count, limit: maxBytes)
        }
        guard !bytes.isEmpty else { throw UnixSocketError.invalidPath(path: path, reason: "empty") }
        guard !bytes.contains(0) else { throw UnixSocketError.invalidPath(path: path, reason: "contains NUL") }
        guard bytes.last != UInt8(ascii: "/") else {
            throw UnixSocketError.invalidPath(path: path, reason: "names a directory")
        }

        try prepareDirectory(parent(of: path))
        try clearStaleSocket(at: path)

        let fd = try makeSocket(path: path)
        let oldMask = umask(0o177)
        let rc = withSocketAddress(bytes) { address, length in bind(fd, address, length) }
        let err = errno
        umask(oldMask)
        guard rc == 0 else {
            POSIX.closeDescriptor(fd)
            if err == EADDRINUSE { throw UnixSocketError.alreadyListening(path: path) }
            throw UnixSocketError.systemCall(name: "bind", errno: err, path: path)
        }
        // Already 0600 from the umask; this only guards against a file system that ignores it.
        _ = chmod(path, 0o600)
        return (fd, FileIdentity(path: path))
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Creates missing directories with mode 0700, refusing on the way a symbolic link owned by
    /// another user (not root: root could do anything anyway); then the socket's own directory must
    /// belong to this user (or root) and be writable by nobody else, so no other user can put a
    /// socket of their own at the path before the daemon or after it (a shared directory such as
    /// /tmp is refused; the default path is a private directory inside it).
    static func prepareDirectory(_ directory: String) throws {
        let me = UInt32(getuid())
        var prefix = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            var link = stat()
            if lstat(prefix, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK,
               UInt32(link.st_uid) != me, link.st_uid != 0 {
                throw UnixSocketError.foreignSymlink(path: prefix, ownerUID: UInt32(link.st_uid))
            }
            if mkdir(prefix, 0o700) != 0 {
                let err = errno
                var existing = stat()
                // EEXIST, or EACCES on an existing directory we cannot write in (/run/user): fine.
                if err != EEXIST && stat(prefix, &existing) != 0 {
                    throw UnixSocketError.systemCall(name: "mkdir", errno: err, path: prefix)
                }
            }
        }
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw UnixSocketError.systemCall(name: "stat", errno: errno, path: directory)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw UnixSocketError.invalidPath(path: directory, reason: "parent is not a directory")
        }
        let owner = UInt32(info.st_uid)
        if owner != me && owner != 0 {
            throw UnixSocketError.insecureDirectory(path: directory, ownerUID: owner)
        }
        if UInt32(info.st_mode) & 0o022 != 0 {
            throw UnixSocketError.sharedDirectory(path: directory, mode: UInt32(info.st_mode))
        }
    }

    /// Leaves the path free, or throws if a live daemon or a non-socket file holds it.
    static func clearStaleSocket(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let err = errno
            if err == ENOENT { return }
            throw UnixSocketError.systemCall(name: "lstat", errno: err, path: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { throw UnixSocketError.notASocket(path: path) }
        guard UInt32(info.st_uid) == UInt32(getuid()) else {
            throw UnixSocketError.foreignSocket(path: path, ownerUID: UInt32(info.st_uid))
        }

        let probe = try makeSocket(path: path)
        defer { POSIX.closeDescriptor(probe) }
        // Non-blocking: a live daemon with a full backlog answers EAGAIN instead of hanging us.
        _ = fcntl(probe, F_SETFL, fcntl(probe, F_GETFL, 0) | O_NONBLOCK)
        let rc = withSocketAddress(Array(path.utf8)) { address, length in connect(probe, address, length) }
        let err = errno
        if rc == 0 || err == EAGAIN || err == EINPROGRESS {
            throw UnixSocketError.alreadyListening(path: path)
        }
        switch err {
        case ECONNREFUSED:
            // Nobody listens: a daemon died without cleaning up.
            if unlink(path) != 0 && errno != ENOENT {
                throw UnixSocketError.systemCall(name: "unlink", errno: errno, path: path)
            }
        case ENOENT:
            return  // removed meanwhile
        default:
            throw UnixSocketError.systemCall(name: "connect", errno: err, path: path)
        }
    }

    static func makeSocket(path: String) throws -> Int32 {
        #if os(Linux)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #endif
        guard fd >= 0 else { throw UnixSocketError.systemCall(name: "socket", errno: errno, path: path) }
        return fd
    }

    /// Calls `body` with a sockaddr_un for `pathBytes` (already checked to fit).
    static func withSocketAddress<R>(_ pathBytes: [UInt8],
                                     _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let count = min(pathBytes.count, raw.count - 1)
            for i in 0..<count { raw[i] = pathBytes[i] }
            raw[count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// Removes the socket file if it is still the one we created.
    static func removeSocketFile(at path: String, identity: FileIdentity?) {
        guard let identity, FileIdentity(path: path) == identity else { return }
        _ = unlink(path)
    }
}
