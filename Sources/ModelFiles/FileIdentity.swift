// Which file a path named, and in which version: what a loaded model remembers of its file so
// that a later request naming the same path can tell whether the path still names those bytes.
// A rename over the path changes device or inode; a write changes size, mtime and ctime.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct FileIdentity: Sendable, Equatable, CustomStringConvertible {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int
    public let mtimeNanoseconds: Int64
    /// Status change time: moves with every write too, and with chmod, rename and link counts.
    public let ctimeNanoseconds: Int64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int(st.st_size)
        #if canImport(Darwin)
        mtimeNanoseconds = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        ctimeNanoseconds = Int64(st.st_ctimespec.tv_sec) * 1_000_000_000 + Int64(st.st_ctimespec.tv_nsec)
        #else
        mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNanoseconds = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        #endif
    }

    /// The identity of what `path` names now (following symlinks); nil if it names nothing.
    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        self.init(st)
    }

    init?(descriptor fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        self.init(st)
    }

    public var description: String { "device \(device) inode \(inode), \(size) bytes, mtime \(mtimeNanoseconds) ns" }
}
