// Model bytes in memory of the daemon's own, which no one else can truncate or rewrite: the
// fallback when a file cannot be leased (read in at open), and what a leased mapping becomes
// when its file is about to change (MappedFile.detach).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum PrivateMemory {
    /// Reads `count` bytes of `fd` from offset 0 into fresh anonymous memory. A file that shrinks
    /// while it is read gives the bytes that were there (a shorter buffer): whatever the caller
    /// then does (parse, hash) it does on these bytes, so they are the truth about the model.
    static func read(_ fd: Int32, count: Int) -> Result<UnsafeRawBufferPointer, MappingFailure> {
        guard count > 0 else { return .success(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        guard let base = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != failed else {
            return .failure(.mapFailed(errno: errno))
        }
        var done = 0
        while done < count {
            let n = pread(fd, base + done, min(count - done, 8 << 20), off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let e = errno
                munmap(base, count)
                return .failure(.readFailed(errno: e))
            }
            if n == 0 { break }
            done += n
        }
        // Read-only from now on, as a mapping of the file would be.
        mprotect(base, count, PROT_READ)
        return .success(UnsafeRawBufferPointer(start: base, count: done))
    }

    /// Puts a private copy of `mapping`'s bytes in place of its pages, at the same addresses, so
    /// pointers into it stay valid. The copy goes through a memfd, mapped over the old range with
    /// MAP_FIXED in one step: a thread reading during the swap sees the file's page or the copy's,
    /// the same bytes either way (a fresh anonymous mapping would show zeros until filled).
    /// False if it could not be done (no memfd_create, no memory); the mapping is then unchanged.
    static func replaceWithCopy(_ mapping: UnsafeRawBufferPointer) -> Bool {
        guard let base = mapping.baseAddress, mapping.count > 0 else { return true }
        guard let memfdCreate else { return false }
        let fd = memfdCreate("reprolm-model-copy", 1 /* MFD_CLOEXEC */)
        guard fd >= 0 else { return false }
        defer { close(fd) }  // the mapping keeps the memfd's pages
        guard ftruncate(fd, off_t(mapping.count)) == 0 else { return false }
        var done = 0
        while done < mapping.count {
            let n = pwrite(fd, base + done, min(mapping.count - done, 8 << 20), off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        let target = UnsafeMutableRawPointer(mutating: base)
        let placed = mmap(target, mapping.count, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0)
        return placed == target
    }

    /// memfd_create(2), looked up at run time: the Glibc module Swift imports does not declare it.
    private typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    private static let memfdCreate: MemfdCreate? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "memfd_create") else { return nil }
        return unsafeBitCast(symbol, to: MemfdCreate.self)
    }()
}
