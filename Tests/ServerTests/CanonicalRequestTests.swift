import ReproJSON
import RPCProtocol
import XCTest

/// A receipt's canonical request is itself valid params, and reading it back gives the same
/// canonical request: what `reproduce` relies on.
final class CanonicalRequestTests: XCTestCase {
    func testGenerateRequestsRoundTrip() throws {
        let cases: [JSONValue] = [
            ["prompt": "x"],
            ["prompt": "x", "temperature": 0, "stop": "\n", "maxTokens": 7, "logprobs": true],
            ["tokens": [1, 2, 3], "temperature": .double(1.25), "topK": 0, "topP": .double(0.5), "minP": 0,
             "repeatPenalty": .double(1.1), "presencePenalty": .double(-0.5), "frequencyPenalty": .double(0.25),
             "penaltyLastN": -1, "seed": .int(JSONValue.maxExactInteger), "topLogprobs": 3, "stop": ["a", "é\u{1}"]],
            ["prompt": "x", "beams": 4, "lengthPenalty": .double(0.7), "stream": true],
        ]
        for params in cases {
            let p = try GenerateParams(params)
            let canonical = p.canonicalRequest(tokens: [5, 6], seed: 99)
            let again = try GenerateParams(canonical)
            XCTAssertEqual(again.canonicalRequest(tokens: [5, 6], seed: 99), canonical)
            XCTAssertEqual(try JSONValue.parse(try canonical.canonicalBytes()).canonicalBytes(), try canonical.canonicalBytes())
            XCTAssertEqual(again.seed, 99)
            XCTAssertNil(canonical["stream"], "stream is how the answer travels, not what it is")
        }
        // An infill records its laid-out prompt as tokens and no suffix: it replays as a token prompt.
        let infill = try GenerateParams(["prompt": "def f():\n    ", "suffix": "\n", "temperature": 0])
        XCTAssertEqual(infill.prompt, .infill(prefix: "def f():\n    ", suffix: "\n", addSpecial: true, parseSpecial: false))
        let recorded = infill.canonicalRequest(tokens: [7, 8, 9], seed: 1)
        XCTAssertNil(recorded["suffix"])
        XCTAssertEqual(try GenerateParams(recorded).prompt, .tokens([7, 8, 9]))
        // Beam search records lengthPenalty and none of the sampling parameters.
        let beam = try GenerateParams(["prompt": "x", "beams": 2]).canonicalRequest(tokens: [1], seed: 0)
        XCTAssertNil(beam["temperature"])
        XCTAssertEqual(beam["lengthPenalty"], .double(1))
    }

    /// A request seed beyond 2^53 − 1 is refused at its path: the daemon would echo it in the
    /// result and the receipt, where JSON clients that hold numbers as doubles round it.
    /// A version 1 receipt's request (maxSeed 2^63 − 1) still reads back for its replay.
    func testSeedsBeyondTwoToTheFiftyThreeAreRefusedExceptInOldReceipts() throws {
        for seed: JSONValue in [.int(JSONValue.maxExactInteger + 1), .int(Int64.max), .double(1e19)] {
            XCTAssertThrowsError(try GenerateParams(["prompt": "x", "seed": seed])) { error in
                let e = error as? JSONFieldError
                XCTAssertEqual(e?.path, "params.seed")
                XCTAssertTrue(e?.message.contains("9007199254740991") ?? false, "\(String(describing: e))")
            }
        }
        XCTAssertEqual(try GenerateParams(["prompt": "x", "seed": .int(JSONValue.maxExactInteger)]).seed, UInt64(JSONValue.maxExactInteger))
        XCTAssertEqual(try GenerateParams(["tokens": [1], "seed": .int(Int64.max)], maxSeed: Int64.max).seed, UInt64(Int64.max))
        for seed: JSONValue in [.int(JSONValue.maxExactInteger + 1), .int(-JSONValue.maxExactInteger - 1), .double(-1e19)] {
            XCTAssertThrowsError(try SetSeedParams(["seed": seed])) { error in
                XCTAssertEqual((error as? JSONFieldError)?.path, "params.seed")
            }
        }
        XCTAssertEqual(try SetSeedParams(["seed": .int(-JSONValue.maxExactInteger)]).seed, .integer(-JSONValue.maxExactInteger))
    }

    func testScoreRequestsRoundTrip() throws {
        let p = try ScoreParams(["tokens": [4, 5, 6, 7], "scoreFrom": 2, "topLogprobs": 1])
        XCTAssertEqual(p.scoreFrom, 2)
        let canonical = p.canonicalRequest(tokens: [4, 5, 6, 7], scoreFrom: 2)
        XCTAssertEqual(try ScoreParams(canonical).canonicalRequest(tokens: [4, 5, 6, 7], scoreFrom: 2), canonical)
        XCTAssertThrowsError(try ScoreParams(["text": "abc", "scoreFrom": 2])) { error in
            XCTAssertEqual((error as? JSONFieldError)?.path, "params.scoreFrom")
        }
    }
}
