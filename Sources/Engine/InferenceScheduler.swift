// One thread runs every forward pass of the daemon, so the thread pool is never shared by two
// callers and concurrent requests are batched: each request submits its next step (a prompt
// chunk, or one decode token) and awaits its logits; the scheduler thread takes every step
// waiting for the same model, up to a row budget, and runs them as one forward pass. Batching
// never changes a result (DESIGN.md: each row's logits are the same bits alone or in any batch),
// it only shares the weight reads of one pass among all the requests decoding at once.
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
            queue.submit(Step(model: model, item: item, continuation: continuation))
        }
    }
}

private struct Step {
    let model: DecoderModel
    let item: ForwardItem
    let continuation: CheckedContinuation<[Float], Error>
}

private final class StepQueue: @unchecked Sendable {
    let pool: ThreadPool
    let maxBatchRows: Int
    private let condition = NSCondition()
    private var waiting: [Step] = []
    private var stopping = false

    init(pool: ThreadPool, maxBatchRows: Int) {
        self.pool = pool
        self.maxBatchRows = maxBatchRows
    }

    func submit(_ step: Step) {
        condition.lock()
        if stopping {
            condition.unlock()
            step.continuation.resume(throwing: CancellationError())
            return
        }
        waiting.append(step)
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
            let batch = takeBatch()
            condition.unlock()
            run(batch)
        }
    }

    /// The oldest step and every later one for the same model that fits the row budget, in
    /// arrival order. Called with the lock held.
    private func takeBatch() -> [Step] {
        let model = waiting[0].model
        var rows = 0
        var taken: [Step] = []
        var left: [Step] = []
        for step in waiting {
            let n = step.item.tokens.count
            if step.model === model, taken.isEmpty || rows + n <= maxBatchRows {
                taken.append(step)
                rows += n
            } else {
                left.append(step)
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
