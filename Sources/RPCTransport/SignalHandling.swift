// Signals, so that the executable can finish in-flight work and exit instead of dying mid-answer.
//
// The daemon's SIGINT and SIGTERM are taken by a thread of its own on Linux
// (SignalReader.swift: a thread in sigwait, set up by `blockTerminationSignals` before any
// thread exists). Elsewhere,
// and for signals not blocked that way (the tests' SIGUSR1), they are observed through
// DispatchSource. Either way the handler runs on an ordinary thread: no async-signal-safety
// constraints on what it does. The first signal calls the handler
// once; a second one (the user pressing Ctrl-C again while a long generation drains) exits at once
// with status 128 + signal, the shell's convention. SIGPIPE is ignored so that a vanished reader
// shows up as EPIPE on write.
//
// Linux facts that shape the DispatchSource path (swift-corelibs-libdispatch, event_epoll.c): a signal source is a
// signalfd, and when the source is *registered* (asynchronously, after resume) libdispatch installs
// its own sigaction handler that forwards the signal to its manager thread. So:
//   - `signal(sig, SIG_IGN)` comes first, so the default action (terminate) cannot win the race
//     before registration; but it is done only the first time a signal is observed, because a later
//     SIG_IGN would replace libdispatch's handler, which it installs only once per signal;
//   - `onTermination` waits for registration before returning: until then an arriving signal is
//     ignored, and a caller that returns from set-up must be able to count on being notified;
//   - the forced exit is `_exit`, not restore-and-re-raise: once libdispatch's handler has run, the
//     signal is blocked in every thread and a re-raised one would only come back to the source.
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
    /// Signals already set to SIG_IGN once (see the top of this file for why only once).
    private static let ignoredOnce = Locked<Set<Int32>>([])

    /// SIG_IGN the first time only; false if the signal had been handled before.
    fileprivate static func ignoreFirstTime(_ sig: Int32) {
        let first = ignoredOnce.withLock { $0.insert(sig).inserted }
        if first { signal(sig, SIG_IGN) }
    }

    /// Blocks `signals` in the calling thread, and so in every thread it creates later. Call it
    /// first thing in `main`, before any thread exists: a sigwait thread (or the signalfd behind
    /// DispatchSource) only receives a signal reliably when no thread has it unblocked; otherwise
    /// the kernel may deliver it to some thread's handler instead, and the daemon never hears of it.
    ///
    /// On Linux this also starts the daemon's own signal thread (SignalReader.swift), and every
    /// later `onTermination` for these signals goes through it: no signal is then lost, whenever
    /// it arrives, and one that arrives before any handler is installed is handed to the first.
    public static func blockTerminationSignals(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        #if os(Linux)
        if SignalReader.shared.withLock({ $0 }) == nil, let reader = SignalReader(signals: signals) {
            SignalReader.shared.withLock { $0 = reader }
            return
        }
        #endif
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Ignores SIGPIPE process-wide; writes to a closed pipe or socket then fail with EPIPE.
    public static func ignoreSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Calls `handler` once, on a private queue, with the first of `signals` to arrive. A repeat
    /// of any of them ends the process at once with status 128 + signal if `exitOnRepeat`. Also
    /// ignores SIGPIPE. Returns once the signals are observed (a short wait on Linux); it stays
    /// installed until `cancel()`.
    @discardableResult
    public static func onTermination(signals: [Int32] = [SIGINT, SIGTERM],
                                     exitOnRepeat: Bool = true,
                                     _ handler: @escaping @Sendable (Int32) -> Void) -> TerminationSignals {
        ignoreSIGPIPE()
        let token = TerminationSignals(signals: signals, exitOnRepeat: exitOnRepeat, handler: handler)
        installed.withLock { $0[ObjectIdentifier(token)] = token }
        return token
    }

    /// Suspends until the first of `signals` arrives and returns it (a repeat then exits, as in
    /// `onTermination`).
    public static func waitForTermination(signals: [Int32] = [SIGINT, SIGTERM],
                                          exitOnRepeat: Bool = true) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            onTermination(signals: signals, exitOnRepeat: exitOnRepeat) { signal in
                continuation.resume(returning: signal)
            }
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
    #if os(Linux)
    /// The process's signal thread, when it observes these signals (then `sources` is empty).
    private var reader: SignalReader?
    #endif
    // Confined to `queue`.
    private var fired = false

    fileprivate init(signals: [Int32], exitOnRepeat: Bool, handler: @escaping @Sendable (Int32) -> Void) {
        #if os(Linux)
        if let reader = SignalReader.shared.withLock({ $0 }), Set(signals).isSubset(of: reader.signals) {
            self.reader = reader
            sources = []
            reader.add(self, exitOnRepeat: exitOnRepeat, handler)
            return
        }
        #endif
        var made: [DispatchSourceSignal] = []
        for sig in signals {
            SignalHandling.ignoreFirstTime(sig)
            made.append(DispatchSource.makeSignalSource(signal: sig, queue: queue))
        }
        sources = made
        let registered = DispatchSemaphore(value: 0)
        for (sig, source) in zip(signals, sources) {
            source.setRegistrationHandler { registered.signal() }
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if !self.fired {
                    self.fired = true
                    handler(sig)
                } else if exitOnRepeat {
                    _exit(128 + sig)
                }
            }
            source.resume()
        }
        // Bounded: registration is a few system calls on libdispatch's manager thread.
        for _ in sources { _ = registered.wait(timeout: .now() + .seconds(2)) }
    }

    /// Stops observing. The signals stay ignored (not back to the default action): on Linux the
    /// disposition belongs to libdispatch once a source has been registered.
    public func cancel() {
        #if os(Linux)
        reader?.remove(self)
        #endif
        for source in sources { source.cancel() }
        SignalHandling.forget(self)
    }
}
