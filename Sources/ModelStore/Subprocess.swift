// Running python (for pip and for reading wheels) without ever letting its output reach our
// stdout, which belongs to the JSON-RPC protocol. Every child gets pipes for stdout and stderr
// and /dev/null for stdin, so nothing can prompt and nothing can leak.

import Foundation
import Logging

/// Keeps the last lines a child printed, for error messages, and forwards each line to the log.
final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private let logger: Logger
    private let label: String
    private var lines: [String] = []
    private var partial = Data()

    init(limit: Int = 15, logger: Logger, label: String) {
        self.limit = limit
        self.logger = logger
        self.label = label
    }

    func append(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        partial.append(data)
        while let newline = partial.firstIndex(of: 0x0A) {
            let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
            partial.removeSubrange(partial.startIndex...newline)
            add(line)
        }
    }

    var lastLines: [String] {
        lock.lock()
        defer { lock.unlock() }
        var result = lines
        if !partial.isEmpty { result.append(String(decoding: partial, as: UTF8.self)) }
        return Array(result.suffix(limit))
    }

    private func add(_ raw: String) {
        // pip redraws with carriage returns; only the last state of a line is worth keeping.
        let line = raw.split(separator: "\r").last.map(String.init) ?? ""
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        logger.debug("\(label): \(line)")
        lines.append(line)
        if lines.count > limit { lines.removeFirst(lines.count - limit) }
    }
}

/// A started child process whose stdout and stderr are pipes read by us.
struct Child {
    let process: Process
    let stdout: FileHandle
    let stderr: FileHandle

    /// Starts `python` with `arguments`. A bare name is looked up on PATH through /usr/bin/env,
    /// because Foundation's Process wants a full path.
    static func start(python: String, arguments: [String], environment: [String: String]? = nil) throws -> Child {
        let process = Process()
        if python.contains("/") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python] + arguments
        }
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ModelStoreError.launchFailed(executable: python, reason: "\(error)")
        }
        return Child(process: process, stdout: out.fileHandleForReading, stderr: err.fileHandleForReading)
    }

    /// Reads `handle` to its end on a background thread, feeding `tail`; `group` is left when done.
    static func drain(_ handle: FileHandle, into tail: OutputTail, group: DispatchGroup) {
        group.enter()
        DispatchQueue.global().async {
            // read(upToCount:) throws instead of trapping on a read error; either way we stop.
            while let data = (try? handle.read(upToCount: 64 << 10)) ?? nil, !data.isEmpty {
                tail.append(data)
            }
            group.leave()
        }
    }

    /// The exit code, with death by signal reported as 128 + signal like a shell does.
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        let status = process.terminationStatus
        return process.terminationReason == .uncaughtSignal ? 128 + status : status
    }
}
