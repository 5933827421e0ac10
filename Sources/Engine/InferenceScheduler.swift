// One thread runs every forward pass of the daemon, so the thread pool is never shared by two
// callers and concurrent requests are batched: each request submits its next step (a prompt
// chunk, or one decode token; for an encoder-decoder model, its target sequences' next tokens)
// and awaits its logits; the scheduler thread takes every step waiting for the same model, up to
// a row budget, and runs them as one forward pass. Batching never changes a result (each row's
// logits are the same bits alone or in any batch; see docs/determinism.md), it only shares the
// weight reads of one pass among all the requests decoding at once.
//
// Regrouping: a decoding request gets its logits, samples, and sends its next token a few tens of
// microseconds later. Were the next pass to start at once with whatever had come back, concurrent
// streams would split into ragged passes (one stream, then the other seven, ...), each paying the
// whole weight read. So after a pass of decode tokens, the next pass of that model waits for its
// decoding streams to return, for at most a quarter of the last pass's time; a request that stops
// decoding says so (`stopsDecoding`), and nothing waits for it.
import Foundation
import Kernels
import Models

/// Batches forward-pass steps of concurrent requests onto one thread and one thread pool.
public final class InferenceScheduler: @unchecked Sendable {
    /// The pool every matrix product runs on (sized by `--threads`).
    public var pool: ThreadPool { queue.pool }
    /// Most token rows in one forward pass; a step larger than this runs alone.
    public var maxBatchRows: Int { queue.maxBatchRows }

    /// The scheduler thread holds the queue, not the scheduler, so dropping the scheduler stops
    /// the thread (after the steps already queued) without freeing what it is using.
    private let queue: StepQueue

    public init(threads: Int, maxBatchRows: Int = 512) {
        queue = StepQueue(pool: ThreadPool(threads: threads), maxBatchRows: max(1, maxBatchRows))
        let q = queue
        let t = Thread { q.loop() }
        t.name = "reprolm-forward"
        t.qualityOfService = .userInitiated
        t.start()
    }

    deinit { queue.stop() }

    /// Runs `item` on `model` (batched with whatever else is waiting) and returns its logits.
    /// The item's sequence must not be in another step at the same time.
    public func forward(_ model: DecoderModel, _ item: ForwardItem) async throws -> [Float] {
        try await withCheckedThrowingContinuation { continuation in
            queue.submit(.step(Step(model: ObjectIdentifier(model), rows: item.tokens.count, job: .decoder(model, item, continuation),
                                    stream: item.tokens.count == 1 && item.logits == .last ? ObjectIdentifier(item.sequence) : nil)))
        }
    }

    /// Runs `items` on the encoder-decoder `model` (batched with other requests' steps on it) and
    /// returns each item's requested rows. No sequence may be in another step at the same time.
    public func step(_ model: any EncoderDecoderModel, _ items: [TargetStep]) async throws -> [[Float]] {
        try await withCheckedThrowingContinuation { continuation in
            queue.submit(.step(Step(model: ObjectIdentifier(model), rows: items.reduce(0) { $0 + $1.tokens.count },
                                    job: .target(model, items, continuation), stream: nil)))
        }
    }

    /// Forward passes run so far and their rows; decode passes (every step one token) apart, whose
    /// rows per pass is how many streams shared each weight read.
    public var passCounts: PassCounts { queue.counts }

    /// Tells the scheduler that `sequence` sends no more decode steps (its request finished,
    /// failed or was cancelled), so the next pass does not wait for it.
    public func stopsDecoding(_ sequence: SequenceState) {
        queue.forget(ObjectIdentifier(sequence))
    }

    /// Runs `body` on the scheduler thread with the pool, between forward passes, alone: for
    /// work that is not a decoder step (an encoder's pass over a batch of inputs).
    public func exclusive<T: Sendable>(_ body: @escaping @Sendable (ThreadPool) throws -> T) async throws -> T {
        let pool = queue.pool
        return try await withCheckedThrowingContinuation { continuation in
            queue.submit(.task({ continuation.resume(with: Result { try body(pool) }) },
                               cancel: { continuation.resume(throwing: CancellationError()) }))
        }
    }
}

/// What `InferenceScheduler.passCounts` reports.
public struct PassCounts: Sendable, Equatable {
    public var passes = 0, rows = 0
    public var decodePasses = 0, decodeRows = 0
}

/// One request's part of a forward pass, batched with the other steps waiting for the same model.
private struct Step {
    let model: ObjectIdentifier
    let rows: Int
    let job: Job
    /// The sequence of a decode step (one token, wanting its logits): a decoding stream, expected
    /// back after its pass. Scoring and encoding steps want other rows and are not waited for.
    let stream: ObjectIdentifier?

    enum Job {
        case decoder(DecoderModel, ForwardItem, CheckedContinuation<[Float], Error>)
        case target(any EncoderDecoderModel, [TargetStep], CheckedContinuation<[[Float]], Error>)
    }

    func fail(_ error: Error) {
        switch job {
        case .decoder(_, _, let c): c.resume(throwing: error)
        case .target(_, _, let c): c.resume(throwing: error)
        }
    }
}

/// What the scheduler thread runs: a step (batched with others of its model) or a task.
private enum Work {
    case step(Step)
    case task(() -> Void, cancel: () -> Void)
}

private final class StepQueue: @unchecked Sendable {
    let pool: ThreadPool
    let maxBatchRows: Int
    private let condition = NSCondition()
    private var waiting: [Work] = []
    private var stopping = false
    /// The decoding streams of each model (streams of its recent decode passes that have not
    /// stopped), which its next pass waits for until the model's deadline (uptime nanoseconds).
    private var decoding: [ObjectIdentifier: (streams: Set<ObjectIdentifier>, deadline: UInt64)] = [:]
    private var passCounts = PassCounts()

    var counts: PassCounts {
        condition.lock()
        defer { condition.unlock() }
        return passCounts
    }

    init(pool: ThreadPool, maxBatchRows: Int) {
        self.pool = pool
        self.maxBatchRows = maxBatchRows
    }

    func submit(_ work: Work) {
        condition.lock()
        if stopping {
            condition.unlock()
            switch work {
            case .step(let step): step.fail(CancellationError())
            case .task(_, let cancel): cancel()
            }
            return
        }
        waiting.append(work)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty && !stopping { condition.wait() }
            if waiting.isEmpty && stopping {
                condition.unlock()
                return
            }
            if case .task(let task, _) = waiting[0] {
                waiting.removeFirst()
                condition.unlock()
                task()
                continue
            }
            awaitDecodingStreams()
            let batch = takeBatch()
            condition.unlock()
            let started = DispatchTime.now().uptimeNanoseconds
            run(batch)
            pool.rest()
            let ended = DispatchTime.now().uptimeNanoseconds
            let streams = Set(batch.compactMap(\.stream))
            let rows = batch.reduce(0) { $0 + $1.rows }
            let wait = min(max((ended - started) / 4, Self.shortestRegroupWait), Self.longestRegroupWait)
            condition.lock()
            if !streams.isEmpty {
                decoding[batch[0].model] = ((decoding[batch[0].model]?.streams ?? []).union(streams), ended + wait)
            }
            passCounts.passes += 1
            passCounts.rows += rows
            if streams.count == batch.count {
                passCounts.decodePasses += 1
                passCounts.decodeRows += rows
            }
            condition.unlock()
        }
    }

    /// The bounds of the next pass's wait for the last pass's streams (nanoseconds): a quarter of
    /// the last pass, but at least what a stream takes to sample and send its next token on a
    /// busy machine (a small model's pass can be shorter than that) and at most 5 ms.
    static let shortestRegroupWait: UInt64 = 300_000
    static let longestRegroupWait: UInt64 = 5_000_000

    /// Waits (lock held), when the first waiting step is for a model with decoding streams, until
    /// each of them has its next step waiting or the model's deadline passes; a stream not back by
    /// then is no longer waited for (it rejoins when its step comes). All of a model's streams are
    /// waited for, not only the last pass's, so streams that fell into separate passes (arriving
    /// at different times) merge again. Anything else waiting (another model's step, a task)
    /// waits with them: at most the deadline.
    private func awaitDecodingStreams() {
        guard case .step(let first) = waiting[0], let deadline = decoding[first.model]?.deadline else { return }
        var back: Set<ObjectIdentifier> = []
        while !stopping, let streams = decoding[first.model]?.streams {
            back = Set(waiting.compactMap { work in
                if case .step(let s) = work, s.model == first.model, let id = s.stream { return id }
                return nil
            })
            let now = DispatchTime.now().uptimeNanoseconds
            guard !streams.isSubset(of: back), now < deadline else { break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
        }
        decoding[first.model]?.streams.formIntersection(back)
        if decoding[first.model]?.streams.isEmpty == true { decoding[first.model] = nil }
    }

    /// A stream that will not return: the next pass stops waiting for it.
    func forget(_ stream: ObjectIdentifier) {
        condition.lock()
        for model in decoding.keys where decoding[model]?.streams.remove(stream) != nil { condition.signal() }
        condition.unlock()
    }

    /// The oldest step (first in the queue) and every later one for the same model that fits
    /// the row budget, in arrival order; tasks stay queued. Called with the lock held.
    private func takeBatch() -> [Step] {
        guard case .step(let first) = waiting[0] else { return [] }
        let model = first.model
        var rows = 0
        var taken: [Step] = []
        var left: [Work] = []
        for work in waiting {
            guard case .step(let step) = work else {
                left.append(work)
                continue
            }
            let n = step.rows
            if step.model == model, taken.isEmpty || rows + n <= maxBatchRows {
                taken.append(step)
                rows += n
            } else {
                left.append(work)
            }
        }
        waiting = left
        return taken
    }

    private func run(_ batch: [Step]) {
        do {
            switch batch[0].job {
            case .decoder(let model, _, _):
                let jobs = batch.compactMap { if case let .decoder(_, item, c) = $0.job { (item, c) } else { nil } }
                let logits = try model.forward(jobs.map(\.0), pool: pool)
                for ((_, c), rows) in zip(jobs, logits) { c.resume(returning: rows) }
            case .target(let model, _, _):
                let jobs = batch.compactMap { if case let .target(_, items, c) = $0.job { (items, c) } else { nil } }
                var rows = try model.step(jobs.flatMap(\.0), pool: pool)[...]
                for (items, c) in jobs {
                    c.resume(returning: Array(rows.prefix(items.count)))
                    rows = rows.dropFirst(items.count)
                }
            }
        } catch where batch.count > 1 {
            // Requests validate their steps before submitting, so this is unexpected; run each
            // step alone so one bad step fails only its own request.
            for step in batch { run([step]) }
        } catch {
            batch[0].fail(error)
        }
    }
}
