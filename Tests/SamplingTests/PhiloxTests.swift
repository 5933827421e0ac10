import Sampling
import XCTest

final class PhiloxTests: XCTestCase {
    /// Known-answer vectors of Random123 (kat_vectors, philox4x32 with 10 rounds).
    func testKnownAnswerVectors() {
        func check(_ c: (UInt32, UInt32, UInt32, UInt32), _ k: (UInt32, UInt32), _ e: [UInt32]) {
            let r = Philox4x32.block(counter: c, key: k)
            XCTAssertEqual([r.0, r.1, r.2, r.3], e)
        }
        check((0, 0, 0, 0), (0, 0), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        check((0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), (0xffff_ffff, 0xffff_ffff),
              [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        check((0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), (0xa409_3822, 0x299f_31d0),
              [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    func testUniformIsAPureFunctionOfSeedAndStep() {
        let rng = CounterRNG(seed: 42)
        let forward = (0..<100).map { rng.uniform(step: UInt64($0)) }
        let backward = (0..<100).reversed().map { rng.uniform(step: UInt64($0)) }.reversed()
        XCTAssertEqual(forward, Array(backward))
        XCTAssertTrue(forward.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertNotEqual(forward, (0..<100).map { CounterRNG(seed: 43).uniform(step: UInt64($0)) })
    }

    func testUniformLooksUniform() {
        let rng = CounterRNG(seed: 7)
        var buckets = [Int](repeating: 0, count: 10)
        for s in 0..<100_000 { buckets[min(9, Int(rng.uniform(step: UInt64(s)) * 10))] += 1 }
        for b in buckets { XCTAssertEqual(Double(b), 10_000, accuracy: 500) }
    }
}
