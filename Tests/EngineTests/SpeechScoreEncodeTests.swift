// SpeechScorer and SpeechEncoder on whisper-base, with a synthetic signal (the arithmetic, not the
// speech, is under test; the conformance suite checks real clips against CTranslate2):
//   - score's teacher-forced logprobs, computed in chunks of Scorer.chunk rows, are bit for bit the
//     log-softmax of the raw logits the Transcriber's one-token steps give for the same tokens,
//     across a chunk boundary;
//   - the result's layout (prompt unscored, transcript and <|endoftext|> scored) and its refusals;
//   - encode keeps ⌈frames / 2⌉ positions per window, and its mean is Encoder.pool's mean of the
//     positions pooling none returns, bit for bit, normalised as Encoder normalises.
import Models
import Sampling
import XCTest
@testable import Engine

final class SpeechScoreEncodeTests: XCTestCase {
    /// `seconds` of a sum of two tones with a slow amplitude swing, in [-0.5, 0.5].
    static func signal(seconds: Double) -> [Float] {
        (0..<Int(seconds * 16_000)).map { i in
            let t = Double(i) / 16_000
            return Float(0.3 * sin(2 * .pi * 220 * t) * (0.6 + 0.4 * sin(2 * .pi * 0.7 * t)) + 0.2 * sin(2 * .pi * 1_375 * t))
        }
    }

    func testTeacherForcedChunksEqualOneTokenSteps() async throws {
        let model = try await EngineFixtures.model("whisper-base")
        let scorer = try SpeechScorer(model: model, scheduler: InferenceScheduler(threads: 2))
        let transcriber = scorer.transcriber
        let states = try await transcriber.encode(Self.signal(seconds: 6))[0]
        let prompt = try transcriber.prompt(language: "en", translate: false)
        // 100 text tokens: the fed rows (103) cross the 64-row chunk boundary.
        let transcript = (0..<100).map { Int32(200 + ($0 * 37) % 5_000) }
        let sequence = prompt + transcript + [transcriber.speech.specials.endOfText]
        let chunked = try await scorer.logprobs(of: sequence, on: states, firstScored: prompt.count, top: 3)
        XCTAssertEqual(chunked.count, transcript.count + 1)

        let (target, first) = try await transcriber.start(states, prompt: prompt, logits: .last)
        var logits = first
        for (i, token) in sequence[prompt.count...].enumerated() {
            let expected = logits.withUnsafeBufferPointer { z in
                let n = LogSoftmax(z)
                return (n.logprob(ofLogit: z[Int(token)]), n.top(3, of: z))
            }
            XCTAssertEqual(chunked[i].logprob.bitPattern, expected.0.bitPattern, "position \(i)")
            XCTAssertEqual(chunked[i].top.map(\.token), expected.1.map(\.token), "position \(i)")
            XCTAssertEqual(chunked[i].top.map(\.logprob.bitPattern), expected.1.map(\.logprob.bitPattern), "position \(i)")
            if i < transcript.count { logits = try await transcriber.step([(target, token)])[0] }
        }
    }

    func testScoreLayoutAndRefusals() async throws {
        let model = try await EngineFixtures.model("whisper-base")
        let scorer = try SpeechScorer(model: model, scheduler: InferenceScheduler(threads: 2))
        let samples = Self.signal(seconds: 3)
        var request = SpeechScoreRequest(samples: samples, language: "de", transcript: [400, 401, 402])
        request.topLogprobs = 2
        let result = try await scorer.score(request)
        let specials = scorer.transcriber.speech.specials
        XCTAssertEqual(result.score.tokens.map(\.token),
                       [specials.startOfTranscript, specials.languages["de"]!, specials.transcribe, specials.noTimestamps,
                        400, 401, 402, specials.endOfText])
        XCTAssertEqual(result.score.tokens.prefix(4).map(\.logprob), [nil, nil, nil, nil])
        XCTAssertEqual(result.score.count, 4)
        XCTAssertEqual(result.score.sum, result.score.tokens.compactMap(\.logprob).reduce(0.0) { $0 + Double($1) })
        XCTAssertEqual(result.language, "de")
        XCTAssertFalse(result.detected)
        XCTAssertTrue(result.score.tokens.dropFirst(4).allSatisfy { $0.top.count == 2 })

        // Detected: the language generate would detect.
        let detected = try await scorer.score(SpeechScoreRequest(samples: samples, language: nil, transcript: [400]))
        let states = try await scorer.transcriber.encode(samples)[0]
        let expected = try await scorer.transcriber.detectLanguage(states)
        XCTAssertEqual(detected.language, expected)
        XCTAssertTrue(detected.detected)

        XCTAssertEqual(scorer.maxTranscriptTokens, 444)
        XCTAssertNil(SpeechScorer.windowProblem(sampleCount: 160))
        XCTAssertNil(SpeechScorer.windowProblem(sampleCount: 480_159))  // 3000 frames: one window
        XCTAssertNotNil(SpeechScorer.windowProblem(sampleCount: 159))
        XCTAssertNotNil(SpeechScorer.windowProblem(sampleCount: 480_160))  // 3001 frames: two
        do {
            _ = try await scorer.score(SpeechScoreRequest(samples: samples, language: "en", transcript: Array(repeating: 400, count: 445)))
            XCTFail("a transcript past the decoder's positions was scored")
        } catch EngineError.contextOverflow(let prompt, _, let limit) {
            XCTAssertEqual([prompt, limit], [449, 448])
        }
        do {
            _ = try await scorer.score(SpeechScoreRequest(samples: samples, language: "en", transcript: [specials.endOfText]))
            XCTFail("a special token was scored as text")
        } catch EngineError.tokenOutOfRange(let index, _, _) {
            XCTAssertEqual(index, 0)
        }
    }

    func testEncodeKeepsThePositionsThatCoverTheClip() async throws {
        XCTAssertEqual(SpeechEncoder.windowFrames(sampleCount: 159), [])
        XCTAssertEqual(SpeechEncoder.windowFrames(sampleCount: 64_319), [401])
        XCTAssertEqual(SpeechEncoder.windowFrames(sampleCount: 560_000), [3000, 500])
        XCTAssertEqual([1, 2, 3, 401, 3000].map(SpeechEncoder.positions(frames:)), [1, 1, 2, 201, 1500])

        let model = try await EngineFixtures.model("whisper-base")
        let encoder = try SpeechEncoder(model: model, scheduler: InferenceScheduler(threads: 2))
        let samples = Self.signal(seconds: 30.5)  // 3050 frames: 1500 positions, then 25
        let every = try await encoder.encode(samples, pooling: .none, normalize: false)
        XCTAssertEqual(every.windowPositions, [1500, 25])
        XCTAssertEqual(every.vector.count, 1525 * 512)
        let mean = try await encoder.encode(samples, pooling: .mean, normalize: false)
        let pooled = Encoder.pool(every.vector, tokens: 1525, dimensions: 512, .mean, normalize: false)
        XCTAssertEqual(mean.vector.map(\.bitPattern), pooled.map(\.bitPattern))
        let unit = try await encoder.encode(samples, pooling: .mean, normalize: true)
        XCTAssertEqual(unit.vector.map(\.bitPattern),
                       Encoder.pool(every.vector, tokens: 1525, dimensions: 512, .mean, normalize: true).map(\.bitPattern))
        // The first window's states are the same bits as the Transcriber's (generate's) encoding.
        let states = try await encoder.transcriber.encode(samples)
        XCTAssertEqual(Array(states[0].values.prefix(1500 * 512)).map(\.bitPattern),
                       Array(every.vector.prefix(1500 * 512)).map(\.bitPattern))
    }
}
