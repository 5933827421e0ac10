// The scheduler batches encoder-decoder steps of concurrent requests on the same model into one
// pass and hands each request back its own rows; steps on another model run in their own pass.
import Foundation
import XCTest
@testable import Engine
import Kernels
@testable import Models

/// Records the items of every step call; an item's logits are its tokens (as floats) then the
/// batch's size, so a request can see which pass it ran in.
private final class RecordingModel: EncoderDecoderModel, @unchecked Sendable {
    typealias Source = [Float]
    private let lock = NSLock()
    private var passes: [[Int32]] = []
    var batches: [[Int32]] { lock.withLock { passes } }

    var targetVocabulary: Int { 1 }
    var maxTargetPositions: Int { 16 }
    func encode(_ sources: [[Float]], pool: ThreadPool?) throws -> [EncoderStates] { [] }
    func startSequences(on states: [EncoderStates], pool: ThreadPool?) throws -> [TargetSequence] { [] }
    func step(_ items: [TargetStep], pool: ThreadPool?) throws -> [[Float]] {
        lock.withLock { passes.append(items.flatMap(\.tokens)) }
        return items.map { $0.tokens.map(Float.init) + [Float(items.count)] }
    }
}

final class SchedulerTargetBatchingTests: XCTestCase {
    func sequence() -> TargetSequence {
        TargetSequence(memory: CrossAttentionMemory(layers: 1, positions: 1, width: 1, heads: 1),
                       cache: SequenceState(layers: 1, kvDim: 1, contextLength: 16))
    }

    func testConcurrentStepsOnOneModelShareAPassAndGetTheirOwnRows() async throws {
        let scheduler = InferenceScheduler(threads: 1)
        let model = RecordingModel(), other = RecordingModel()
        // Hold the scheduler thread so every step below is waiting when it is free again.
        let release = DispatchSemaphore(value: 0), holding = DispatchSemaphore(value: 0)
        let hold = Task { try await scheduler.exclusive { _ in holding.signal(); release.wait() } }
        holding.wait()
        let requests: [(model: RecordingModel, tokens: [Int32])] = [(model, [1]), (model, [2, 3]), (other, [9]), (model, [4])]
        let tasks = requests.map { r in
            let items = r.tokens.map { TargetStep(sequence: sequence(), tokens: [$0], logits: .last) }
            return Task { try await scheduler.step(r.model, items) }
        }
        // The steps are queued once the scheduler holds them; give the tasks time to submit.
        try await Task.sleep(nanoseconds: 200_000_000)
        release.signal()
        try await hold.value
        var answers: [[[Float]]] = []
        for t in tasks { answers.append(try await t.value) }
        XCTAssertEqual(model.batches.map { $0.sorted() }, [[1, 2, 3, 4]])  // in whichever order the tasks submitted
        XCTAssertEqual(other.batches, [[9]])
        XCTAssertEqual(answers[0], [[1, 4]])
        XCTAssertEqual(answers[1], [[2, 4], [3, 4]])
        XCTAssertEqual(answers[2], [[9, 1]])
        XCTAssertEqual(answers[3], [[4, 4]])
    }
}
