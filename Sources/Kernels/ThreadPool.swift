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
// - The caller, once its own chunks are done, spins a little and then sleeps the same way on
//   `finished` (waiting = true, then re-reads pending), and the worker that brings pending to 0
//   reads `waiting` and signals under the mutex. Sleeping rather than spinning matters on a
//   loaded machine: a worker preempted mid-chunk can then be moved to the caller's idle core.
// The stall once seen in CI (generation 1, pending 1, both workers of a fresh pool asleep) is
// exactly what the first version did to a worker thread that started late: it took its first
// `seen` from the current generation, so when the pool's first job had already been published
// it treated job 1 as old news, never ran it, never decremented pending, and went to sleep;
// tests that create a pool and dispatch at once on a loaded machine hit it. Workers now start
// from generation 0 (fixed in 78f529d; the stress test covers fresh pools). The other way to
// corrupt the pool is two concurrent callers (one overwrites the other's job, pending and chunk
// counter, and the closure can be read torn), so parallelFor now traps on that. The caller's wait
// keeps a safety net: asleep, it wakes every few milliseconds, and if some worker slept through
// the current job it re-broadcasts and counts a rescue (`rescues`; the stress test wants 0).

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

    /// Times a waiting caller's safety-net broadcast found a worker that had missed its job
    /// (expected to stay 0; see the comment at the top of this file).
    public var rescues: Int { shared.rescues.load(ordering: .relaxed) }

    /// Starts `threads - 1` workers (at least one thread in total).
    public init(threads: Int) {
        self.threads = max(1, threads)
        shared = PoolState(workers: self.threads - 1)
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
            shared.run(escapable, rows: rows, chunk: chunk, helpers: workers.count)
        }
    }
}

/// The state the caller and the workers share; workers keep it (not the pool) alive, so
/// dropping the pool stops them.
private final class PoolState: @unchecked Sendable {
    let generation = Atomic<Int>(0)
    let pending = Atomic<Int>(0)
    let nextChunk = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    /// The caller is (about to be) asleep on `finished`, waiting for pending to reach 0.
    let waiting = Atomic<Bool>(false)
    let rescues = Atomic<Int>(0)
    let nextWorkerIndex = Atomic<Int>(0)
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Per worker, under `mutex`: the generation it went to sleep having seen, or -1 when awake.
    let asleepAt: UnsafeMutablePointer<Int>
    let workerCount: Int

    // The job of the current generation, written before the generation is published.
    var body: ((Range<Int>) -> Void)?
    var rows = 0
    var chunk = 1

    /// Iterations a worker spins before sleeping (some tens of microseconds).
    static let spinLimit = 100_000
    /// Iterations the caller spins, once its own chunks are done, before sleeping.
    static let callerSpinLimit = 20_000
    /// Safety net: a sleeping caller wakes this often to check for a worker that missed its job.
    static let rescueNanoseconds = 5_000_000

    init(workers: Int) {
        workerCount = workers
        asleepAt = .allocate(capacity: max(1, workers))
        asleepAt.initialize(repeating: -1, count: max(1, workers))
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
        asleepAt.deallocate()
    }

    func broadcast() {
        pthread_mutex_lock(mutex)
        wakeAllLocked()
        pthread_mutex_unlock(mutex)
    }

    /// Under `mutex`: wakes every sleeping worker. Each is marked awake at once (it may take a
    /// while to be scheduled), so that `missedJob` only sees workers that went to sleep later.
    private func wakeAllLocked() {
        for i in 0..<workerCount { asleepAt[i] = -1 }
        pthread_cond_broadcast(condition)
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        broadcast()
    }

    func run(_ job: @escaping (Range<Int>) -> Void, rows: Int, chunk: Int, helpers: Int) {
        body = job
        self.rows = rows
        self.chunk = chunk
        nextChunk.store(0, ordering: .relaxed)
        pending.store(helpers, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { broadcast() }
        runChunks()
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins >= Self.callerSpinLimit { sleepUntilFinished(); break }
        }
        body = nil
    }

    private func sleepUntilFinished() {
        pthread_mutex_lock(mutex)
        waiting.store(true, ordering: .sequentiallyConsistent)
        while pending.load(ordering: .sequentiallyConsistent) > 0 {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            deadline.tv_nsec += Self.rescueNanoseconds
            if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
            if pthread_cond_timedwait(finished, mutex, &deadline) == ETIMEDOUT, missedJob() {
                rescues.add(1, ordering: .relaxed)
                wakeAllLocked()
            }
        }
        waiting.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
    }

    /// Under `mutex`: whether a worker sleeps having seen an older generation than the current
    /// job's, that is, slept through a wake-up (a worker that did its part sleeps having seen the
    /// current generation, which is fine).
    private func missedJob() -> Bool {
        let g = generation.load(ordering: .sequentiallyConsistent)
        for i in 0..<workerCount where asleepAt[i] >= 0 && asleepAt[i] < g { return true }
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
        let index = nextWorkerIndex.add(1, ordering: .relaxed).oldValue
        // Generation 0 is the state before any job: a worker that starts late must still take
        // part in job 1, or the caller would wait for it forever.
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinLimit { continue }
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen {
                    if index < workerCount { asleepAt[index] = seen }
                    pthread_cond_wait(condition, mutex)
                }
                if index < workerCount { asleepAt[index] = -1 }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            runChunks()
            // The last one out wakes the caller if it went to sleep (the same store-then-read
            // pairing as above: the caller sets waiting, then re-reads pending).
            if pending.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
               waiting.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(finished)
                pthread_mutex_unlock(mutex)
            }
        }
    }
}
