// One thread runs every forward pass of the daemon, so the thread pool is never shared by two
// callers and concurrent requests are batched: each request submits its next step (a prompt
// chunk, or one decode token; for an encoder-decoder model, its target sequences' next tokens)
// and awaits its logits; the scheduler thread takes every step waiting for the same model, up to
// a row budget, and runs them as one forward pass. Batching never changes a result (each row's
// logits are the same bits alone or in any batch; see docs/determinism.md), it only shares the
// weight reads of one pass among all the requests decoding at once.
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
            queue.submit(.step(Step(model: ObjectIdentifier(model), rows: item.tokens.count, job: .decoder(model, item, continuation))))
        }
    }

    /// Runs `items` on the encoder-decoder `model` (batched with other requests' steps on it) and
    /// returns each item's requested rows. No sequence may be in another step at the same time.
    public func step(_ model: any EncoderDecoderModel, _ items: [TargetStep]) async throws -> [[Float]] {
        try await withCheckedThrowingContinuation { continuation in
            queue.submit(.step(Step(model: ObjectIdentifier(model), rows: items.reduce(0) { $0 + $1.tokens.count },
                                    job: .target(model, items, continuation))))
        }
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

/// One request's part of a forward pass, batched with the other steps waiting for the same model.
private struct Step {
    let model: ObjectIdentifier
    let rows: Int
    let job: Job

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
            let batch = takeBatch()
            condition.unlock()
            run(batch)
        }
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
