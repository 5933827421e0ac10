// Helpers compiled into every fuzz target (Fuzz/Targets/*.swift): input as bytes, a scratch
// directory for the readers that take a path, splitting an input into parts, and property checks.
#if canImport(Glibc)
import Glibc
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let posixWrite = Darwin.write
#endif

enum Fuzz {
    /// The input as an array (a copy: the code under test may keep it).
    static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A private directory for this process (on tmpfs when there is one, so fsync costs nothing),
    /// emptied after every input by `cleanScratch()` and removed at exit.
    static let scratch: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/reprolm-fuzz.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            fatalError("fuzz harness: mkdtemp failed (errno \(errno))")
        }
        let path = String(cString: made)
        scratchForExit = path
        atexit {
            if let dir = scratchForExit { Fuzz.removeTree(dir) }
        }
        return path
    }()

    /// Writes `bytes` to `name` inside the scratch directory (creating subdirectories); returns the path.
    @discardableResult
    static func write<C: Collection>(_ bytes: C, to name: String) -> String where C.Element == UInt8 {
        let path = scratch + "/" + name
        var dir = ""
        for part in name.split(separator: "/").dropLast() {
            dir += "/" + part
            _ = mkdir(scratch + dir, 0o700)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fatalError("fuzz harness: cannot create \(path) (errno \(errno))") }
        let array = Array(bytes)
        var done = 0
        while done < array.count {
            let n = array.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + done, array.count - done) }
            guard n > 0 else { fatalError("fuzz harness: write to \(path) failed (errno \(errno))") }
            done += n
        }
        close(fd)
        return path
    }

    /// Empties the scratch directory (call at the end of every input).
    static func cleanScratch() {
        removeTree(scratch, keepRoot: true)
    }

    static func removeTree(_ path: String, keepRoot: Bool = false) {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let child = path + "/" + name
                var st = stat()
                if lstat(child, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                    removeTree(child)
                } else {
                    unlink(child)
                }
            }
            closedir(dir)
        }
        if !keepRoot { rmdir(path) }
    }

    /// Splits at every occurrence of `separator` (the parts exclude it).
    static func split(_ bytes: [UInt8], on separator: [UInt8]) -> [[UInt8]] {
        precondition(!separator.isEmpty)
        var parts: [[UInt8]] = []
        var start = 0, i = 0
        while i + separator.count <= bytes.count {
            if bytes[i..<(i + separator.count)].elementsEqual(separator) {
                parts.append(Array(bytes[start..<i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(Array(bytes[start...]))
        return parts
    }

    /// With FUZZ_TRACE set, says how far an input got (to check that seeds reach deep code).
    static let tracing = getenv("FUZZ_TRACE") != nil
    static func trace(_ message: @autoclosure () -> String) {
        if tracing { fputs("fuzz-trace: \(message())\n", stderr) }
    }

    /// A property the code promises: a violation is a finding, reported as a crash.
    static func require(_ ok: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
        if !ok { fatalError("fuzz property violated: \(message())", file: file, line: line) }
    }
}

/// Read by the atexit handler, which cannot capture context.
nonisolated(unsafe) private var scratchForExit: String?
