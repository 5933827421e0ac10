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
}
