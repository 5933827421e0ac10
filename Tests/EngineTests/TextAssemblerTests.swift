// Stop strings and streaming: text never shows a partial stop string or a broken character, and
// the streamed deltas always add up to the final text.
import XCTest
@testable import Engine

final class TextAssemblerTests: XCTestCase {
    func run(_ pieces: [[UInt8]], stops: [String]) -> (deltas: [String], text: String, stopped: Bool) {
        var a = TextAssembler(stops: stops)
        var deltas: [String] = []
        var stopped = false
        for p in pieces {
            if a.append(p) { stopped = true; break }
            deltas.append(a.takeDelta(final: false))
        }
        deltas.append(a.takeDelta(final: true))
        return (deltas, a.text, stopped)
    }

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testAStopStringAcrossTokensCutsTheText() {
        let r = run(["Hel", "lo wo", "rld"].map(bytes), stops: ["o w"])
        XCTAssertTrue(r.stopped)
        XCTAssertEqual(r.text, "Hell")
        XCTAssertEqual(r.deltas.joined(), "Hell")
    }

    func testAPartialStopStringIsHeldBackThenReleased() {
        let held = run(["a", "<", "/", "s", ">", "tail"].map(bytes), stops: ["</s>"])
        XCTAssertEqual(held.deltas.filter { !$0.isEmpty }, ["a"])
        XCTAssertEqual(held.text, "a")
        let released = run(["a", "<", "/", "b"].map(bytes), stops: ["</s>"])
        XCTAssertFalse(released.stopped)
        XCTAssertEqual(released.deltas, ["a", "", "", "</b", ""])
    }

    func testTheEarliestOfSeveralStopsWins() {
        let r = run(["xx END yy STOP"].map(bytes), stops: ["STOP", "END"])
        XCTAssertEqual(r.text, "xx ")
    }

    func testCharactersSplitAcrossTokensAreNotBroken() {
        let r = run([[0xF0, 0x9F], [0xA6, 0x99], bytes("!")], stops: [])
        XCTAssertEqual(r.deltas, ["", "🦙", "!", ""])
        // An invalid byte is released (as U+FFFD) rather than held forever.
        let bad = run([[0xFF], bytes("a")], stops: [])
        XCTAssertEqual(bad.deltas.joined(), "\u{FFFD}a")
    }

    func testRandomPiecesAlwaysAddUp() {
        var state: UInt64 = 42
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % n
        }
        let alphabet: [[UInt8]] = ["a", "b", "<", "/", "s", ">", "é", "🦙", " "].map { Array($0.utf8) } + [[0xC3], [0xA9], [0xF0, 0x9F]]
        let stops = ["</s>", "bb", "é🦙"]
        for _ in 0..<2000 {
            let pieces = (0..<next(12)).map { _ in (0..<(1 + next(3))).flatMap { _ in alphabet[next(alphabet.count)] } }
            let r = run(pieces, stops: stops)
            XCTAssertEqual(r.deltas.joined(), r.text, "\(pieces)")
            for stop in stops {
                XCTAssertFalse(r.text.contains(stop), "\(pieces)")
                for d in r.deltas { XCTAssertFalse(d.contains(stop)) }
            }
        }
    }
}
