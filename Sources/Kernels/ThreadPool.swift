// A persistent pool of worker threads for splitting output rows. No thread is created per call:
// workers wait for a new generation number, spinning briefly (dispatch then costs well under a
// microsecond, which matters for decode's hundreds of small matmuls per token) and then sleeping
// on a condition variable so an idle daemon uses no CPU. The caller's thread works too.
// Work is handed out in chunks from an atomic counter, so a busy core does not hold the others
// back; which thread computes which row never changes a result, because each row is computed
// whole by one thread (see Matmul).

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

    /// Calls `body` on disjoint ranges covering 0..<rows, from all threads, and returns when all
    /// are done. Ranges are multiples of `grain` rows (but the last). `body` must only write
    /// outputs of its own rows. Not reentrant: one `parallelFor` at a time per pool.
    public func parallelFor(rows: Int, grain: Int = 1, body: (Range<Int>) -> Void) {
        guard rows > 0 else { return }
        let grain = max(1, grain)
        if workers.isEmpty || rows <= grain {
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
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    // The job of the current generation, written before the generation is published.
    var body: ((Range<Int>) -> Void)?
    var rows = 0
    var chunk = 1

    /// Iterations a worker spins before sleeping (some tens of microseconds).
    static let spinLimit = 100_000

    init() {
        mutex.initialize(to: pthread_mutex_t())
        condition.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func wake() {
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    func run(_ job: @escaping (Range<Int>) -> Void, rows: Int, chunk: Int, helpers: Int) {
        body = job
        self.rows = rows
        self.chunk = chunk
        nextChunk.store(0, ordering: .relaxed)
        pending.store(helpers, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        wake()
        runChunks()
        // A worker has been seen asleep through a new generation (pending stuck at 1 with every
        // worker in pthread_cond_wait, in a CI run under load). Until that wake-up race is
        // understood, the caller re-broadcasts while it waits: a worker that missed the job
        // re-checks the generation and joins; one that is done goes back to sleep.
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins % Self.rebroadcastSpins == 0 { broadcast() }
        }
        body = nil
    }

    /// Caller spins between re-broadcasts while waiting for workers (about a millisecond).
    static let rebroadcastSpins = 200_000

    func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
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
                    pthread_cond_wait(condition, mutex)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            runChunks()
            pending.subtract(1, ordering: .releasing)
        }
    }
}
