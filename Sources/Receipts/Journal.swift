// The receipt journal: JSON lines, hash-chained, fsynced before an answer is sent. Appends go
// through one writer thread that takes everything queued since its last write, appends it under
// the file lock and fsyncs once (group commit), so a burst of answers costs one fsync per batch,
// not per answer. Records are written in the order they were queued: a `commit` queued when
// `setSeed` arrives is in the file before any receipt that uses its seed.
import Foundation
import Logging
import ReproJSON

/// A queued record; `wait()` returns once it is on disk.
public final class JournalTicket: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<JournalPosition, Error>?
    private var waiters: [CheckedContinuation<JournalPosition, Error>] = []

    func complete(_ r: Result<JournalPosition, Error>) {
        lock.lock()
        result = r
        let w = waiters
        waiters = []
        lock.unlock()
        for c in w { c.resume(with: r) }
    }

    public func wait() async throws -> JournalPosition {
        try await withCheckedThrowingContinuation { c in
            lock.lock()
            if let result {
                lock.unlock()
                c.resume(with: result)
            } else {
                waiters.append(c)
                lock.unlock()
            }
        }
    }
}

public final class Journal: @unchecked Sendable {
    public let path: String
    private let file: JournalFile
    private let logger: Logger
    /// Guards the queue and the writer's state.
    private let condition = NSCondition()
    /// Guards `file`: the writer's appends and the lookups. Queueing never waits for it.
    private let fileLock = NSLock()
    private var queue: [(JournalRecord, JournalTicket)] = []
    private var stopping = false
    private var writerDone = false

    /// `$XDG_STATE_HOME/reprolm/journal.jsonl`, else `~/.local/state/reprolm/journal.jsonl`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
        return state + "/reprolm/journal.jsonl"
    }

    /// Opens (or creates) the journal and checks its whole chain. Throws `JournalError.broken`
    /// when a line before the last fails its check; a torn last line is set aside.
    public init(path: String, logger: Logger = Logger(label: "reprolm.journal")) throws {
        self.path = path
        self.logger = logger
        file = try JournalFile(path: path, logger: logger)
        let t = Thread { [unowned self] in self.writerLoop() }
        t.name = "reprolm-journal"
        t.start()
    }

    /// Lines checked so far (this process's view).
    public var lineCount: Int {
        fileLock.lock()
        defer { fileLock.unlock() }
        return file.lines
    }

    /// Queues a record now (its place in the file is fixed by the order of these calls).
    @discardableResult
    public func enqueue(_ record: JournalRecord) -> JournalTicket {
        let ticket = JournalTicket()
        condition.lock()
        if stopping {
            condition.unlock()
            ticket.complete(.failure(JournalError.closed))
            return ticket
        }
        queue.append((record, ticket))
        condition.signal()
        condition.unlock()
        return ticket
    }

    /// Queues a record and returns once it is on disk.
    public func append(_ record: JournalRecord) async throws -> JournalPosition {
        try await enqueue(record).wait()
    }

    /// A receipt's journal line: `receipt`, `seq`, `prev`, `entry` (nil: no such receipt).
    public func receiptEntry(id: String) throws -> [String: JSONValue]? {
        fileLock.lock()
        defer { fileLock.unlock() }
        if let found = try file.receiptLine(id: id) { return found }
        // Another daemon sharing the file may have written it since our last append.
        try file.locked { try file.catchUp() }
        return try file.receiptLine(id: id)
    }

    /// Writes what is queued, then stops the writer. Later records fail with `.closed`.
    public func close() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !writerDone { condition.wait() }
        condition.unlock()
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                writerDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue = []
            condition.unlock()
            fileLock.lock()
            let result = Result { try file.locked { () throws -> [JournalPosition] in
                try file.catchUp()
                return try file.append(batch.map(\.0))
            } }
            fileLock.unlock()
            switch result {
            case .success(let positions):
                for (i, (_, ticket)) in batch.enumerated() { ticket.complete(.success(positions[i])) }
            case .failure(let error):
                logger.error("journal append failed: \(error)")
                for (_, ticket) in batch { ticket.complete(.failure(error)) }
            }
        }
    }
}
