// A persistent pool of worker threads for splitting output rows. No thread is created per call:
// workers wait for a new generation number, spinning briefly (dispatch then costs well under a
// microsecond, which matters for decode's hundreds of small matmuls per token) and then sleeping
// on a condition variable so an idle daemon uses no CPU. The caller's thread works too.
// Work is handed out in chunks from an atomic counter, so a busy core does not hold the others
// back; which thread computes which row never changes a result, because each row is computed
// whole by one thread (see Matmul).
//
// Waking, and why no wake-up is lost (one caller at a time):
// - A worker goes to sleep under the mutex: sleepers += 1, then re-reads the generation, and
//   waits only while it is unchanged. The caller publishes: generation += 1, then reads sleepers
//   and broadcasts under the mutex if any. All four are sequentially consistent, so either the
//   caller sees the sleeper (and its broadcast cannot slip in before the worker's wait: the worker
//   holds the mutex from its check to pthread_cond_wait), or the worker sees the new generation.
// - The caller waits only for the workers that joined the job. A worker joins by raising
//   `members` (a count, and a closed bit) while the job is open; the caller, once its own chunks
//   are done (so every chunk has been taken), closes it, and waits for the members to leave: it
//   spins a little and then sleeps on `finished` (waiting = true, then re-reads members), and the
//   member whose leaving empties a closed job reads `waiting` and signals under the mutex. A
//   worker that was not running (preempted by another process on a loaded machine, asleep, or a
//   fresh thread not started yet) finds the job closed, or the next one open, and never holds a
//   dispatch back: the caller does the chunks itself. (The first pool made the caller wait for
//   every worker, so on a shared machine a worker descheduled by another process held a dispatch
//   until its next time slice.) A worker that joins late, as the next job opens, just takes part
//   in that one.
// Two concurrent callers would corrupt the pool (one overwrites the other's job, member count and
// chunk counter, and the closure can be read torn), so parallelFor traps on that.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Persistent worker threads that split a range of output rows.
public final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in each `parallelFor`, the caller's included.
    public let threads: Int

    private let shared: PoolState
    private var workers: [pthread_t] = []
    /// Set while a parallelFor dispatches to the workers: the guard against concurrent callers.
    private let busy = Atomic<Bool>(false)

    /// Starts `threads - 1` workers (at least one thread in total).
    public init(threads: Int) {
        self.threads = max(1, threads)
        shared = PoolState()
        for _ in 1..<self.threads {
            let box = Unmanaged.passRetained(shared)
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                Unmanaged<PoolState>.fromOpaque(raw).takeRetainedValue().workerLoop()
                return nil
            }, box.toOpaque())
            if status == 0 { workers.append(thread) } else { box.release() }
        }
    }

    deinit {
        shared.stop()
        for thread in workers { pthread_join(thread, nil) }
    }

    /// Tells idle workers to sleep now rather than spin for the next job: the caller expects none
    /// for a while (a forward pass has ended, and the requests sample their next tokens on these
    /// cores before the next pass). The next job wakes them.
    public func rest() {
        shared.resting.store(true, ordering: .relaxed)
    }

    /// Calls `body` on disjoint ranges covering 0..<rows, from all threads, and returns when all
    /// are done. Ranges are multiples of `grain` rows (but the last). `body` must only write
    /// outputs of its own rows. Not reentrant: one `parallelFor` at a time per pool.
    public func parallelFor(rows: Int, grain: Int = 1, body: (Range<Int>) -> Void) {
        guard rows > 0 else { return }
        let grain = max(1, grain)
        if workers.isEmpty {
            body(0..<rows)
            return
        }
        // One compare-exchange per call (tens of nanoseconds against microseconds of work): a
        // second caller, from another thread or from inside `body`, would corrupt the job.
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            fatalError("ThreadPool.parallelFor called while another parallelFor on the same pool is running "
                       + "(from another thread, or from inside its body); a pool serves one caller at a time: "
                       + "give each concurrent caller its own pool")
        }
        defer { busy.store(false, ordering: .releasing) }
        if rows <= grain {
            body(0..<rows)
            return
        }
        // About four chunks per thread: small enough to balance, large enough to amortise.
        let chunks = max(1, min((rows + grain - 1) / grain, threads * 4))
        let chunk = ((rows + chunks - 1) / chunks + grain - 1) / grain * grain
        withoutActuallyEscaping(body) { escapable in
            shared.run(escapable, rows: rows, chunk: chunk)
        }
    }
}

/// The state the caller and the workers share; workers keep it (not the pool) alive, so
/// dropping the pool stops them.
private final class PoolState: @unchecked Sendable {
    let generation = Atomic<Int>(0)
    /// The workers inside the current job, plus `closed` once the caller has closed it.
    let members = Atomic<Int>(0)
    static let closed = 1 << 40
    let nextChunk = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    /// Set by `ThreadPool.rest` until the next job: idle workers sleep at once instead of spinning.
    let resting = Atomic<Bool>(false)
    /// The caller is (about to be) asleep on `finished`, waiting for the members to leave.
    let waiting = Atomic<Bool>(false)
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    // The job of the current generation, written before the job is opened.
    var body: ((Range<Int>) -> Void)?
    var rows = 0
    var chunk = 1

    /// Iterations a worker spins before sleeping (some tens of microseconds).
    static let spinLimit = 100_000
    /// Iterations the caller spins, once its own chunks are done, before sleeping.
    static let callerSpinLimit = 20_000

    init() {
        members.store(Self.closed, ordering: .relaxed)
        mutex.initialize(to: pthread_mutex_t())
        condition.initialize(to: pthread_cond_t())
        finished.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        pthread_cond_init(finished, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_cond_destroy(finished)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
        finished.deallocate()
    }

    func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        broadcast()
    }

    func run(_ job: @escaping (Range<Int>) -> Void, rows: Int, chunk: Int) {
        resting.store(false, ordering: .relaxed)
        body = job
        self.rows = rows
        self.chunk = chunk
        nextChunk.store(0, ordering: .relaxed)
        members.store(0, ordering: .sequentiallyConsistent)   // open: the job above is visible to joiners
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { broadcast() }
        runChunks()
        // Every chunk is taken: close the job, then wait for the members still computing theirs.
        if members.add(Self.closed, ordering: .sequentiallyConsistent).newValue != Self.closed {
            var spins = 0
            while members.load(ordering: .acquiring) != Self.closed {
                spins += 1
                if spins >= Self.callerSpinLimit { sleepUntilFinished(); break }
            }
        }
        body = nil
    }

    private func sleepUntilFinished() {
        pthread_mutex_lock(mutex)
        waiting.store(true, ordering: .sequentiallyConsistent)
        while members.load(ordering: .sequentiallyConsistent) != Self.closed { pthread_cond_wait(finished, mutex) }
        waiting.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
    }

    /// Joins the job if it is open.
    private func join() -> Bool {
        var m = members.load(ordering: .sequentiallyConsistent)
        while m & Self.closed == 0 {
            let (exchanged, original) = members.compareExchange(expected: m, desired: m + 1, ordering: .sequentiallyConsistent)
            if exchanged { return true }
            m = original
        }
        return false
    }

    func runChunks() {
        guard let body else { return }
        while true {
            let start = nextChunk.add(chunk, ordering: .relaxed).oldValue
            if start >= rows { return }
            body(start..<min(start + chunk, rows))
        }
    }

    func workerLoop() {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinLimit && !resting.load(ordering: .relaxed) { continue }
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(condition, mutex) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            guard join() else { continue }
            runChunks()
            // The member that empties a closed job wakes the caller if it went to sleep (the same
            // store-then-read pairing as above: the caller sets waiting, then re-reads members).
            if members.subtract(1, ordering: .sequentiallyConsistent).newValue == Self.closed,
               waiting.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(finished)
                pthread_mutex_unlock(mutex)
            }
        }
    }
}
