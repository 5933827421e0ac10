// The daemon's SIGINT/SIGTERM on Linux: blocked in the main thread before any other thread exists
// (so in every thread, which inherit the mask), then taken by one thread of our own waiting in
// sigwait. A blocked signal stays pending until that thread takes it, whenever it arrives: during start-up,
// while models load, before the transport exists, while serving or while shutting down. A signal
// that arrives before anyone asked to be told is kept and handed to the first handler.
//
// Why not DispatchSource alone: observing a signal through it needed `signal(sig, SIG_IGN)` first,
// and POSIX discards a pending signal whose action becomes SIG_IGN, so a SIGTERM sent between the
// socket appearing and the handler's installation was lost (1 in 60 under load). Nothing here
// ever ignores the signal; it is simply never unblocked.
#if os(Linux)
import Glibc

final class SignalReader: @unchecked Sendable {
    /// The process's reader, made by `SignalHandling.blockTerminationSignals`.
    static let shared = Locked<SignalReader?>(nil)

    let signals: [Int32]
    private struct State {
        var handlers: [(id: ObjectIdentifier, exitOnRepeat: Bool, body: @Sendable (Int32) -> Void)] = []
        /// Signals read while no handler was installed, oldest first.
        var early: [Int32] = []
        /// Whether a handler has been called (a later signal is then a repeat).
        var fired = false
    }
    private let state = Locked(State())
    private let waitSet: sigset_t

    /// Blocks `signals` in the calling thread and starts the waiting thread (nil if no thread can
    /// be started; the caller then keeps the DispatchSource path).
    init?(signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        self.signals = signals
        waitSet = set
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            Unmanaged<SignalReader>.fromOpaque(raw!).takeRetainedValue().readForever()
            return nil
        }, box.toOpaque())
        guard started == 0 else {
            box.release()
            return nil
        }
        pthread_detach(thread)
        // Something in the runtime unblocks these signals in the main thread later (seen on Linux
        // with Swift 6.3: the main thread's mask was empty while serving), and a thread that does
        // not block a signal takes it with the default action, termination. So a handler too: in
        // whichever thread the kernel picks, it hands the signal on to the waiting thread, where
        // it is blocked, so it waits there for sigwait.
        signalThread = thread
        for sig in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = forwardToSignalThread
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
    }

    /// Adds a handler; if a signal came before it, the handler is called with it at once.
    func add(_ token: AnyObject, exitOnRepeat: Bool, _ body: @escaping @Sendable (Int32) -> Void) {
        let early = state.withLock { s -> Int32? in
            s.handlers.append((ObjectIdentifier(token), exitOnRepeat, body))
            guard !s.fired, let first = s.early.first else { return nil }
            s.fired = true
            s.early.removeFirst()
            return first
        }
        if let early { body(early) }
    }

    func remove(_ token: AnyObject) {
        state.withLock { s in s.handlers.removeAll { $0.id == ObjectIdentifier(token) } }
    }

    private func readForever() {
        var set = waitSet
        while true {
            var sig: Int32 = 0
            guard sigwait(&set, &sig) == 0 else { continue }
            deliver(sig)
        }
    }

    private func deliver(_ sig: Int32) {
        enum Action { case call([@Sendable (Int32) -> Void]), exit, keep }
        let action = state.withLock { s -> Action in
            if s.handlers.isEmpty {
                s.early.append(sig)
                // A second signal before anyone listens: the user insists, as a repeat would.
                return s.early.count > 1 || s.fired ? .exit : .keep
            }
            if s.fired { return s.handlers.contains { $0.exitOnRepeat } ? .exit : .keep }
            s.fired = true
            return .call(s.handlers.map(\.body))
        }
        switch action {
        case .call(let bodies): for body in bodies { body(sig) }
        case .exit: _exit(128 + sig)
        case .keep: break
        }
    }
}
/// The thread in sigwait (set once, before the handler that reads it is installed).
private nonisolated(unsafe) var signalThread = pthread_t()

/// The signal handler: async-signal-safe (one pthread_kill, which is a system call).
private func forwardToSignalThread(_ sig: Int32) {
    pthread_kill(signalThread, sig)
}
#endif
