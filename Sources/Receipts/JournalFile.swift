// The journal file on disk: opened for appending, locked with flock(2) for the length of each
// append so that several daemons can share one journal (each editor may start its own stdio
// daemon), and read back to where the chain ends before every append. A torn last line (a crash
// in the middle of a write) is copied to a side file and cut off, with a warning; a bad line
// anywhere before the last makes the journal refuse appends (see `JournalError.broken`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import ReproJSON

public enum JournalError: Error, CustomStringConvertible {
    case io(String, path: String, errno: Int32)
    /// A line before the last fails its check: the chain cannot be extended.
    case broken(path: String, line: Int, reason: String)
    case closed

    public var description: String {
        switch self {
        case let .io(what, path, e):
            return "journal \(path): \(what) failed: \(String(cString: strerror(e))) (errno \(e))"
        case let .broken(path, line, reason):
            return "journal \(path) is broken at line \(line): \(reason). Check it with `reprolm verify \(path)`; "
                + "move it away to start a new journal"
        case .closed:
            return "the journal is closed"
        }
    }
}

/// Where a line sits in the journal.
public struct JournalPosition: Sendable, Equatable {
    public let seq: Int64
    public let entry: String
    /// 1-based line number.
    public let line: Int
}

/// The file and what is known of its chain. Not thread-safe: `Journal` serializes every call.
final class JournalFile {
    let path: String
    private let fd: Int32
    private let logger: Logger
    /// Bytes of complete, checked lines.
    private(set) var end: Int = 0
    private(set) var lines = 0
    private(set) var nextSeq: Int64 = 0
    private(set) var head = JournalChain.genesis
    /// Receipt id -> (offset, length without the newline).
    private(set) var receipts: [String: (offset: Int, length: Int)] = [:]

    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        let existed = access(path, F_OK) == 0
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError.io("open", path: path, errno: errno) }
        if !existed { Self.syncDirectory(dir.isEmpty ? "." : dir) }
        try locked { try catchUp() }
    }

    deinit { close(fd) }

    /// Runs `body` holding the file's exclusive lock.
    func locked<T>(_ body: () throws -> T) throws -> T {
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw JournalError.io("flock", path: path, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Reads and checks whatever other processes appended since our last look. Call it locked.
    func catchUp() throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw JournalError.io("fstat", path: path, errno: errno) }
        let size = Int(st.st_size)
        if size == end { return }
        if size < end { throw JournalError.broken(path: path, line: lines, reason: "the file is shorter than the lines already read") }
        let bytes = try read(from: end, count: size - end)
        var start = 0
        while start < bytes.count {
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else {
                try setAside(bytes[start...], reason: "no newline at its end (a write cut short)")
                return
            }
            let lineNumber = lines + 1
            do {
                let (object, entry) = try JournalChain.check(bytes[start..<nl], seq: nextSeq, prev: head)
                if object["type"]?.stringValue == "receipt", let id = object["receipt"]?["id"]?.stringValue {
                    receipts[id] = (end, nl - start)
                }
                head = entry
                nextSeq += 1
                lines = lineNumber
                end += nl - start + 1
            } catch {
                // Only the last line can be the remains of a crash; anything after it means the
                // chain itself was damaged.
                if nl + 1 == bytes.count {
                    try setAside(bytes[start...], reason: "\(error)")
                    return
                }
                throw JournalError.broken(path: path, line: lineNumber, reason: "\(error)")
            }
            start = nl + 1
        }
    }

    /// Appends lines for `records`; returns their positions. Call it locked, after `catchUp`.
    func append(_ records: [JournalRecord]) throws -> [JournalPosition] {
        var out: [UInt8] = []
        var positions: [JournalPosition] = []
        var newReceipts: [(String, Int, Int)] = []
        var seq = nextSeq, prev = head
        for (k, record) in records.enumerated() {
            let (line, entry) = try JournalChain.line(record, seq: seq, prev: prev)
            if case .receipt(let r) = record, let id = r["id"]?.stringValue { newReceipts.append((id, end + out.count, line.count)) }
            out += line
            out.append(0x0A)
            positions.append(JournalPosition(seq: seq, entry: entry, line: lines + k + 1))
            seq += 1
            prev = entry
        }
        do {
            try writeAll(out, to: fd)
            guard fsync(fd) == 0 else { throw JournalError.io("fsync", path: path, errno: errno) }
        } catch {
            // Leave no partial line behind for the next append to trip over.
            _ = ftruncate(fd, off_t(end))
            throw error
        }
        end += out.count
        lines += records.count
        nextSeq = seq
        head = prev
        for (id, offset, length) in newReceipts { receipts[id] = (offset, length) }
        return positions
    }

    /// The journal line of a receipt, parsed.
    func receiptLine(id: String) throws -> [String: JSONValue]? {
        guard let (offset, length) = receipts[id] else { return nil }
        let bytes = try read(from: offset, count: length)
        return try JSONValue.parse(bytes).objectValue
    }

    private func read(from offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw JournalError.io("read", path: path, errno: n == 0 ? EIO : errno) }
            done += n
        }
        return bytes
    }

    /// Writes all of `bytes` to `target` (the journal, or a side file named `what` in errors).
    private func writeAll(_ bytes: [UInt8], to target: Int32, what: String = "write") throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(target, $0.baseAddress! + done, bytes.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw JournalError.io(what, path: path, errno: errno) }
            done += n
        }
    }

    /// Copies a torn tail to `<journal>.torn-<time>-<pid>` and cuts it off the journal.
    private func setAside(_ tail: ArraySlice<UInt8>, reason: String) throws {
        let side = "\(path).torn-\(Int(Date().timeIntervalSince1970 * 1000))-\(getpid())"
        let sfd = open(side, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard sfd >= 0 else { throw JournalError.io("open \(side)", path: path, errno: errno) }
        defer { close(sfd) }
        let bytes = Array(tail)
        try writeAll(bytes, to: sfd, what: "write \(side)")
        guard fsync(sfd) == 0 else { throw JournalError.io("fsync \(side)", path: path, errno: errno) }
        guard ftruncate(fd, off_t(end)) == 0 else { throw JournalError.io("ftruncate", path: path, errno: errno) }
        guard fsync(fd) == 0 else { throw JournalError.io("fsync", path: path, errno: errno) }
        logger.warning("journal \(path): line \(lines + 1) (\(bytes.count) bytes) is torn: \(reason); set aside in \(side)")
    }

    private static func syncDirectory(_ dir: String) {
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}
