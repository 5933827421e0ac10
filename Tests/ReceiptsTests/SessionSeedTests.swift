import Foundation
import Receipts
import ReproJSON
import XCTest

/// The worked example of protocol/README.md ("Seeds"); Tests/conformance/test_receipts.py checks the
/// same figures with Python's hashlib.
final class SessionSeedTests: XCTestCase {
    func testIntegerSeedWorkedExample() {
        let seed = SessionSeed.integer(42)
        XCTAssertEqual(Digest.hex(seed.field), "690000000000000008000000000000002a")
        XCTAssertEqual(seed.commitment, "9f771b813506b3e2d30c9b41cb8f2ac085c32f7650bc737ff33ce296a3fc1ea9")
        XCTAssertEqual((0..<3).map { seed.derivedSeed(index: $0, scheme: .v2) }, [3272029804031466, 2544199846411249, 7019587185491046])
        // Scheme 1 (receipts version 1), kept for verifying old journals: the same digests, 63 bits.
        XCTAssertEqual((0..<3).map { seed.derivedSeed(index: $0, scheme: .v1) }, [804912763475979754, 6974116423015939057, 6438159855070559334])
    }

    /// Every seed the daemon makes is exact in a double (I-JSON), so a client in JavaScript or
    /// Lua gets back the seed that was used: scheme 1's were not (Neovim read 5.9516081134233e+17).
    func testDerivedAndDrawnSeedsAreExactInADouble() {
        XCTAssertEqual(SeedScheme.current, .v2)
        XCTAssertEqual(Receipt.version, 2)
        let limit = UInt64(JSONValue.maxExactInteger)
        for seed in [SessionSeed.integer(42), .integer(-1), .string("correct horse battery staple"), .fromEntropy()] {
            for i in UInt64(0)..<64 {
                let s = seed.derivedSeed(index: i, scheme: .current)
                XCTAssertLessThanOrEqual(s, limit)
                XCTAssertEqual(UInt64(Double(s)), s)
            }
        }
        // 256 draws from 0...2^63-1 would all but surely include one above 2^53.
        for _ in 0..<256 { XCTAssertLessThanOrEqual(SeedUse.drawEntropy().value, limit) }
    }

    func testStringSeedWorkedExample() {
        let seed = SessionSeed.string("correct horse battery staple")
        XCTAssertEqual(seed.commitment, "caf9ed39866b6b0d6ddd5542dbfc509590343767b4cd214ece52d63c8d7f3abb")
        XCTAssertEqual((0..<3).map { seed.derivedSeed(index: $0, scheme: .v2) }, [3295027152669362, 1046419009845386, 4280201783501016])
    }

    func testIntegerAndItsDigitsAreDifferentSeeds() {
        XCTAssertNotEqual(SessionSeed.integer(42).commitment, SessionSeed.string("42").commitment)
        XCTAssertNotEqual(SessionSeed.integer(-1).commitment, SessionSeed.integer(Int64.max).commitment)
    }

    func testSessionHandsOutIndicesInOrderAndRevealsOnReplace() {
        let session = SeedSession()
        XCTAssertNil(session.nextSeed())
        let (c, prev) = session.set(.integer(42), fromEntropy: false)
        XCTAssertNil(prev)
        XCTAssertEqual(c, SessionSeed.integer(42).commitment)
        XCTAssertEqual(session.nextSeed(), .session(3272029804031466, commitment: c, index: 0))
        XCTAssertEqual(session.nextSeed(), .session(2544199846411249, commitment: c, index: 1))
        let (_, revealed) = session.set(.fromEntropy(), fromEntropy: true)
        XCTAssertEqual(revealed, SeedReveal(seed: .integer(42), commitment: c, requests: 2, fromEntropy: false))
        XCTAssertEqual(session.end()?.fromEntropy, true)
        XCTAssertNil(session.end())
    }

    func testEntropySeedsAre256BitHex() {
        guard case .string(let s) = SessionSeed.fromEntropy() else { return XCTFail() }
        XCTAssertEqual(s.count, 64)
        XCTAssertNotEqual(SessionSeed.fromEntropy(), SessionSeed.fromEntropy())
    }

    func testFloatBitPatterns() {
        XCTAssertEqual(Digest.bits(Float(-1)), "bf800000")
        XCTAssertEqual(Digest.bits(Float(0)), "00000000")
        XCTAssertEqual(Digest.bits(Double(-0.5)), "bfe0000000000000")
        XCTAssertEqual(Digest.float(bits: "bf800000"), -1)
        XCTAssertNil(Digest.float(bits: "+f800000"))
        XCTAssertNil(Digest.float(bits: "BF800000"))
    }
}

final class ReceiptTimestampTests: XCTestCase {
    func testTimestampsAreRFC3339UTCWithMilliseconds() {
        XCTAssertEqual(Receipt.timestamp(Date(timeIntervalSince1970: 1_795_752_720.123_9)), "2026-11-27T04:12:00.123Z")
        XCTAssertEqual(Receipt.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
    }
}
