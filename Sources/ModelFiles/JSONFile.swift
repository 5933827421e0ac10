// The small JSON files of a Hugging Face model folder (config.json, tokenizer.json,
// 1_Pooling/config.json, modules.json), read whole and parsed with ReproJSON. The size is checked
// before anything is read, so pointing a loader at a huge file by mistake costs nothing.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ReproJSON

/// A JSON file that cannot be read or parsed.
public enum JSONFileError: Error, Equatable, CustomStringConvertible {
    case openFailed(path: String, errno: Int32)
    case notARegularFile(path: String)
    case tooLarge(path: String, size: Int, limit: Int)
    case readFailed(path: String, errno: Int32)
    case notJSON(path: String, JSONParseError)

    public var description: String {
        switch self {
        case .openFailed(let p, let e): return "cannot open '\(p)': \(errnoText(e))"
        case .notARegularFile(let p): return "'\(p)' is not a regular file"
        case .tooLarge(let p, let s, let l): return "'\(p)' has \(s) bytes, more than the limit of \(l)"
        case .readFailed(let p, let e): return "cannot read '\(p)': \(errnoText(e))"
        case .notJSON(let p, let e): return "'\(p)': \(e)"
        }
    }
}

/// Reads a JSON file of a model folder.
public enum JSONFile {
    /// The parsed contents of `path`, which may hold at most `maxBytes` bytes.
    public static func read(_ path: String, maxBytes: Int) throws -> JSONValue {
        let bytes = try readBytes(path, maxBytes: maxBytes)
        do {
            return try JSONValue.parse(bytes)
        } catch let error as JSONParseError {
            throw JSONFileError.notJSON(path: path, error)
        }
    }

    /// Whether `path` names an existing regular file.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    private static func readBytes(_ path: String, maxBytes: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw JSONFileError.openFailed(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw JSONFileError.openFailed(path: path, errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw JSONFileError.notARegularFile(path: path) }
        let size = Int(st.st_size)
        guard size <= maxBytes else { throw JSONFileError.tooLarge(path: path, size: size, limit: maxBytes) }

        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let n = bytes.withUnsafeMutableBytes { readSome(fd, $0, from: filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw JSONFileError.readFailed(path: path, errno: errno) }
            if n == 0 { break }   // the file shrank while we read it: parse what is there
            filled += n
        }
        return Array(bytes.prefix(filled))
    }
}

/// read(2) into `buffer` from index `start` on (at file scope, where `read` is not JSONFile.read).
private func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, from start: Int) -> Int {
    guard let base = buffer.baseAddress, start < buffer.count else { return 0 }
    return read(fd, base + start, buffer.count - start)
}
