// Whisper's timestamp rules and segment split on hand-made token sequences: the branches the golden
// clips (Tests/conformance/test_whisper_decoding.py, against faster-whisper) may not reach, such as a
// window without a timestamp pair, a window cut off mid-segment, and the rule that forces a
// timestamp when the timestamps together outweigh every text token.
import XCTest
@testable import Engine

final class WhisperTimestampTests: XCTestCase {
    // A toy vocabulary: text 0..<10, <|endoftext|> 10, <|notimestamps|> 11, timestamps 12...21.
    let eot: Int32 = 10, noTimestamps: Int32 = 11, first: Int32 = 12, last: Int32 = 21
    var rules: WhisperLogitRules {
        WhisperLogitRules(suppress: [3], suppressBegin: [4],
                          timestamps: .init(endOfText: eot, noTimestamps: noTimestamps, first: first, last: last,
                                            latestInitial: first + 2))
    }
    var splitter: TimestampSplit {
        TimestampSplit(firstTimestamp: first, text: { tokens in tokens.filter { $0 < 10 }.map(String.init).joined() })
    }

    func allowed(after generated: [Int32], logits: [Float] = [Float](repeating: 0, count: 22)) -> [Int32] {
        var z = logits
        rules.apply(&z, generated: generated)
        return z.indices.filter { z[$0] > -.infinity }.map { Int32($0) }
    }

    func testTheFirstTokenIsAnEarlyTimestamp() {
        XCTAssertEqual(allowed(after: []), [12, 13, 14])
    }

    func testTimestampsComeInPairsAndNeverGoBack() {
        // Text and <|endoftext|> likely enough that no timestamp is forced.
        var likelyText = [Float](repeating: 0, count: 22)
        likelyText[5] = 5
        likelyText[10] = 5
        // After <|t2|> text: text, <|endoftext|>, or a timestamp later than t2.
        XCTAssertEqual(allowed(after: [14, 5], logits: likelyText), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20, 21])
        // After text and a timestamp: that timestamp or later, or <|endoftext|>; no text.
        XCTAssertEqual(allowed(after: [12, 5, 16], logits: likelyText), [10, 16, 17, 18, 19, 20, 21])
        // Uniform logits: the timestamps together outweigh <|endoftext|>, so one is forced.
        XCTAssertEqual(allowed(after: [12, 5, 16]), [16, 17, 18, 19, 20, 21])
        // After two timestamps: no timestamp.
        XCTAssertEqual(allowed(after: [12, 5, 16, 16]), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10])
        // After the first token alone (a timestamp, its own penultimate): no timestamp.
        XCTAssertEqual(allowed(after: [12]), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10])
    }

    func testTimestampsThatOutweighEveryTextTokenForceOne() {
        var logits = [Float](repeating: 0, count: 22)
        logits[5] = 2  // the best text token: e^2 ≈ 7.4 against eight timestamps of e^0.5 ≈ 1.65 each (13.2)
        for t in 14...21 { logits[t] = 0.5 }
        XCTAssertEqual(allowed(after: [13, 5], logits: logits), Array(14...21))
        logits[5] = 3  // e^3 ≈ 20 outweighs them: text stays possible
        XCTAssertTrue(allowed(after: [13, 5], logits: logits).contains(5))
    }

    func testWithoutTimestampsOnlySuppressionApplies() {
        var z = [Float](repeating: 0, count: 22)
        WhisperLogitRules(suppress: [3], suppressBegin: [4], timestamps: nil).apply(&z, generated: [])
        XCTAssertEqual(z.indices.filter { z[$0] == -.infinity }, [3, 4])
    }

    func testPairsCutSegmentsAndTheNextWindowStartsAtTheLastPair() {
        // <0> 1 2 <4><4> 3 <9><9> 5 6: the tail "56" is unfinished, so the next window starts at <9>.
        let tokens: [Int32] = [12, 1, 2, 16, 16, 3, 21, 21, 5, 6]
        let (segments, next) = splitter.split(tokens, seek: 100, frames: 3000)
        XCTAssertEqual(segments.map(\.text), ["12", "3"])
        XCTAssertEqual(segments.map(\.start), [1.0, 1.0 + 4 * 0.02])
        XCTAssertEqual(segments.map(\.end), [1.0 + 4 * 0.02, 1.0 + 9 * 0.02])
        XCTAssertEqual(next, 100 + 9 * 2)
    }

    func testASingleTimestampEndingClosesTheLastSegmentAndMovesAWholeWindow() {
        let (segments, next) = splitter.split([12, 1, 14, 14, 2, 17], seek: 0, frames: 2500)
        XCTAssertEqual(segments.map(\.tokens), [[12, 1, 14], [14, 2, 17]])
        XCTAssertEqual(next, 2500)
    }

    func testAWindowWithoutPairsIsOneSegmentToItsLastTimestamp() {
        let (segments, next) = splitter.split([12, 1, 2, 15], seek: 300, frames: 800)
        XCTAssertEqual(segments.count, 1)
        XCTAssertEqual(segments[0].start, 3.0)
        XCTAssertEqual(segments[0].end, 3.0 + 3 * 0.02)
        XCTAssertEqual(next, 1100)
        // No timestamp after <|0.00|>: the segment runs to the window's end.
        let (whole, _) = splitter.split([12, 1, 2], seek: 300, frames: 800)
        XCTAssertEqual(whole[0].end, 3.0 + 800 * 0.01)
    }

    func testEmptyAndZeroLengthSegmentsAreNotReported() {
        // The pairs <1><1> twice make two segments of one timestamp each (start == end): dropped.
        let (segments, _) = splitter.split([13, 13, 13, 1, 15, 15], seek: 0, frames: 3000)
        XCTAssertEqual(segments.map(\.tokens), [[13, 1, 15]])
    }
}
