// The keepAlive param: numbers and duration strings to seconds, and what is refused.
import ReproJSON
import RPCProtocol
import XCTest

final class KeepAliveTests: XCTestCase {
    private func seconds(_ value: JSONValue) throws -> Double? {
        try GenerateParams(["prompt": "a", "keepAlive": value]).keepAlive
    }

    func testNumbersAndDurations() throws {
        XCTAssertEqual(try seconds(.int(30)), 30)
        XCTAssertEqual(try seconds(.double(0.5)), 0.5)
        XCTAssertEqual(try seconds(.int(0)), 0)
        XCTAssertEqual(try seconds(.int(-1)), .infinity)
        XCTAssertEqual(try seconds("-1"), .infinity)
        XCTAssertEqual(try seconds("300"), 300)
        XCTAssertEqual(try seconds("90s"), 90)
        XCTAssertEqual(try seconds("5m"), 300)
        XCTAssertEqual(try seconds("1h30m"), 5400)
        XCTAssertEqual(try seconds("250ms"), 0.25)
        XCTAssertEqual(try seconds("0s"), 0)
        XCTAssertNil(try GenerateParams(["prompt": "a"]).keepAlive)
        XCTAssertNil(try GenerateParams(["prompt": "a", "keepAlive": .null]).keepAlive)
        XCTAssertEqual(KeepAlive.seconds("5m"), 300)
        XCTAssertNil(KeepAlive.seconds("five minutes"))
    }

    func testRefusedWithThePath() {
        for bad: JSONValue in ["", "-", "soon", "5 m", "1x", "m", "1.2.3s", .bool(true), .array([]), .object([:])] {
            XCTAssertThrowsError(try seconds(bad), "\(bad)") { error in
                XCTAssertEqual((error as? JSONFieldError)?.path, "params.keepAlive", "\(bad)")
            }
        }
    }
}
