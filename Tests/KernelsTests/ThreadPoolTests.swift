// The pool covers every row exactly once, for any thread count, repeatedly (dispatch reuse).
import XCTest
@testable import Kernels

final class ThreadPoolTests: XCTestCase {
    func testEveryRowOnceAcrossManyDispatches() {
        for threads in [1, 2, 4] {
            let pool = ThreadPool(threads: threads)
            for rows in [1, 5, 16, 17, 1000, 4867] {
                let counts = UnsafeMutablePointer<Int>.allocate(capacity: rows)
                counts.initialize(repeating: 0, count: rows)
                for _ in 0..<20 {
                    pool.parallelFor(rows: rows, grain: 4) { range in
                        for r in range { counts[r] += 1 }
                    }
                }
                for r in 0..<rows { XCTAssertEqual(counts[r], 20, "threads \(threads), rows \(rows), row \(r)") }
                counts.deallocate()
            }
        }
    }

    func testPoolStopsWhenReleased() {
        for _ in 0..<20 {
            let pool = ThreadPool(threads: 3)
            pool.parallelFor(rows: 100) { _ in }
        }
    }

    /// Thousands of tiny jobs from one thread, with pauses long enough for the workers to go to
    /// sleep (and the caller to sleep waiting for them), and fresh pools dispatching before their
    /// workers have started: every job completes, every row once.
    func testStressTinyJobsWithSleeps() {
        for threads in [2, 3] {
            let pool = ThreadPool(threads: threads)
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
            defer { counts.deallocate() }
            counts.initialize(repeating: 0, count: 64)
            var expected = [Int](repeating: 0, count: 64)
            for i in 0..<4000 {
                let rows = 2 + i % 63
                pool.parallelFor(rows: rows, grain: 1) { range in
                    for r in range { counts[r] += 1 }
                    // Now and then a slow row, so the caller finishes first and waits.
                    if i % 97 == 0 { usleep(200) }
                }
                for r in 0..<rows { expected[r] += 1 }
                // Long enough (> the workers' spin) that they go to sleep and must be woken.
                if i % 8 == 0 { usleep(UInt32(300 + (i % 5) * 250)) }
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: 64)), expected, "\(threads) threads")
        }
        for _ in 0..<200 {
            let pool = ThreadPool(threads: 3)
            var hits = [Int](repeating: 0, count: 40)
            hits.withUnsafeMutableBufferPointer { h in
                pool.parallelFor(rows: 40) { range in for r in range { h[r] += 1 } }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: 40))
        }
    }
}
