// Signals, so that the executable can finish in-flight work and exit instead of dying mid-answer.
//
// SIGINT and SIGTERM are ignored at the C level and observed through DispatchSource, which runs
// the handler on an ordinary queue: no async-signal-safety constraints on what it does. The first
// signal calls the handler once; a second one (the user pressing Ctrl-C again while a long
// generation drains) restores the default action and re-raises, so the process ends at once with
// the conventional status. SIGPIPE is ignored so that a vanished reader shows up as EPIPE on write.

import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide signal set-up for the daemon.
public enum SignalHandling {
    /// Installed handlers stay referenced here: a DispatchSource that is released stops firing.
    private static let installed = Locked<[ObjectIdentifier: TerminationSignals]>([:])

    /// Ignores SIGPIPE process-wide; writes to a closed pipe or socket then fail with EPIPE.
    public static func ignoreSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Calls `handler` once, on a private queue, with the first of `signals` to arrive. A repeat
    /// of any of them kills the process with that signal if `exitOnRepeat`. Also ignores SIGPIPE.
    /// Keep the returned value to `cancel()` later; it stays installed until then.
    @discardableResult
    public static func onTermination(signals: [Int32] = [SIGINT, SIGTERM],
                                     exitOnRepeat: Bool = true,
                                     _ handler: @escaping @Sendable (Int32) -> Void) -> TerminationSignals {
        ignoreSIGPIPE()
        let token = TerminationSignals(signals: signals, exitOnRepeat: exitOnRepeat, handler: handler)
        installed.withLock { $0[ObjectIdentifier(token)] = token }
        return token
    }

    /// Suspends until the first of `signals` arrives and returns it.
    public static func waitForTermination(signals: [Int32] = [SIGINT, SIGTERM]) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            onTermination(signals: signals) { signal in continuation.resume(returning: signal) }
        }
    }

    fileprivate static func forget(_ token: TerminationSignals) {
        _ = installed.withLock { $0.removeValue(forKey: ObjectIdentifier(token)) }
    }
}

/// Installed SIGINT/SIGTERM (or other) handlers; see `SignalHandling.onTermination`.
public final class TerminationSignals: @unchecked Sendable {
    private let queue = DispatchQueue(label: "reprolm.signals")
    private let sources: [DispatchSourceSignal]
    private let signals: [Int32]
    // Confined to `queue`.
    private var fired = false

    fileprivate init(signals: [Int32], exitOnRepeat: Bool, handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        var made: [DispatchSourceSignal] = []
        for sig in signals {
            // Ignore first: the default action (terminate) would otherwise win the race with the source.
            signal(sig, SIG_IGN)
            made.append(DispatchSource.makeSignalSource(signal: sig, queue: queue))
        }
        sources = made
        for (sig, source) in zip(signals, sources) {
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if !self.fired {
                    self.fired = true
                    handler(sig)
                } else if exitOnRepeat {
                    signal(sig, SIG_DFL)
                    kill(getpid(), sig)
                }
            }
            source.resume()
        }
    }

    /// Stops observing; the signals go back to their default action.
    public func cancel() {
        for source in sources { source.cancel() }
        for sig in signals { signal(sig, SIG_DFL) }
        SignalHandling.forget(self)
    }
}
