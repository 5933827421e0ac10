import XCTest
@testable import ModelStore

final class PullProgressTests: XCTestCase {
    func reports(total: Int) -> [PullProgress] {
        [PullProgress(model: "m", phase: .downloading(package: "p==1", index: 1, count: 1))]
            + stride(from: 0, through: total, by: total / 1000).map {
                PullProgress(model: "m", phase: .extracting(file: "f.gguf"), bytesDone: $0, bytesTotal: total)
            }
            + [PullProgress(model: "m", phase: .done(path: "/x/f.gguf"))]
    }

    func testPlainOutputPrintsPhasesAndTenPercentSteps() {
        var out = ""
        let renderer = PullProgressRenderer(isTTY: false) { out += $0 }
        for report in reports(total: 10_000_000) { renderer.render(report) }
        let lines = out.split(separator: "\n")
        // downloading, 0%, 10%, ..., 100%: no carriage returns, no flood.
        XCTAssertEqual(lines.count, 12, out)
        XCTAssertFalse(out.contains("\r"))
        XCTAssertEqual(lines.first, "m: downloading p==1 (1/1)")
        XCTAssertEqual(lines.last, "m: extracting f.gguf 100% (10.0 / 10.0 MB)")
    }

    func testPlainOutputOfASmallFileIsOneLine() {
        var out = ""
        let renderer = PullProgressRenderer(isTTY: false) { out += $0 }
        for report in reports(total: 100_000) { renderer.render(report) }
        XCTAssertEqual(out.split(separator: "\n").count, 2, out)
    }

    func testTerminalOutputRedrawsInPlace() {
        var out = ""
        let renderer = PullProgressRenderer(isTTY: true) { out += $0 }
        for report in reports(total: 1_000_000) { renderer.render(report) }
        XCTAssertTrue(out.contains("\r\u{1B}[K"))
        XCTAssertTrue(out.hasSuffix("\n"), "done must end the line")
        XCTAssertLessThan(out.split(separator: "\r").count, 100, "redraws are throttled")
        XCTAssertTrue(out.contains("100%"))
    }

    func testLines() {
        XCTAssertEqual(PullProgress(model: "m", phase: .verifying(file: "a"), bytesDone: 5_000_000, bytesTotal: 10_000_000).line,
                       "m: verifying a 50% (5.0 / 10.0 MB)")
        XCTAssertEqual(PullProgress(model: "m", phase: .downloading(package: "p==1", index: 2, count: 4), bytesDone: 1_250_000).line,
                       "m: downloading p==1 (2/4) 1.3 MB")
        XCTAssertEqual(PullProgress(model: "m", phase: .extracting(file: "e"), bytesDone: 0, bytesTotal: 0).fraction, 1)
    }
}
