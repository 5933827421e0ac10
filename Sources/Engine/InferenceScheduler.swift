// One thread runs every forward pass of the daemon, so the thread pool is never shared by two
// callers and concurrent requests are batched: each request submits its next step (a prompt
// chunk, or one decode token) and awaits its logits; the scheduler thread takes every step
// waiting for the same model, up to a row budget, and runs them as one forward pass. Batching
// never changes a result (each row's logits are the same bits alone or in any batch; see
// docs/determinism.md), it only shares the weight reads of one pass among all the requests
// decoding at once.
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
            queue.submit(.step(Step(model: model, item: item, continuation: continuation)))
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

private struct Step {
    let model: DecoderModel
    let item: ForwardItem
    let continuation: CheckedContinuation<[Float], Error>
}

/// What the scheduler thread runs: a decoder step (batched with others of its model) or a task.
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
            case .step(let step): step.continuation.resume(throwing: CancellationError())
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
            let n = step.item.tokens.count
            if step.model === model, taken.isEmpty || rows + n <= maxBatchRows {
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
            let logits = try batch[0].model.forward(batch.map(\.item), pool: pool)
            for (step, rows) in zip(batch, logits) { step.continuation.resume(returning: rows) }
        } catch where batch.count > 1 {
            // Requests validate their steps before submitting, so this is unexpected; run each
            // step alone so one bad step fails only its own request.
            for step in batch { run([step]) }
        } catch {
            batch[0].continuation.resume(throwing: error)
        }
    }
}
