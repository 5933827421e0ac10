// The read-only mmap under every model file reader (GGUF, safetensors). Weights are never copied:
// kernels read them in place, and the page cache shares them between processes that load the same
// model. Each reader turns a `MappingFailure` into its own typed error.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be mapped; errno values are kept for the reader's message.
enum MappingFailure: Error, Equatable {
    case openFailed(errno: Int32)
    case notARegularFile
    case mapFailed(errno: Int32)
}

/// A whole regular file mapped read-only. An empty file maps to an empty buffer (mmap refuses a
/// zero length), which each reader then rejects as truncated.
enum ReadOnlyMapping {
    static func map(path: String) -> Result<UnsafeRawBufferPointer, MappingFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.openFailed(errno: errno)) }
        // The mapping keeps the file alive; the descriptor is not needed once it exists.
        defer { close(fd) }

        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.openFailed(errno: errno)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(.notARegularFile) }
        let size = Int(st.st_size)
        guard size > 0 else { return .success(UnsafeRawBufferPointer(start: nil, count: 0)) }

        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != failed else {
            return .failure(.mapFailed(errno: errno))
        }
        return .success(UnsafeRawBufferPointer(start: base, count: size))
    }

    static func unmap(_ mapping: UnsafeRawBufferPointer) {
        guard let base = mapping.baseAddress, mapping.count > 0 else { return }
        munmap(UnsafeMutableRawPointer(mutating: base), mapping.count)
    }
}

/// An errno value as "No such file or directory (errno 2)", for the readers' messages.
func errnoText(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "errno \(e)" }
    return "\(String(cString: s)) (errno \(e))"
}
