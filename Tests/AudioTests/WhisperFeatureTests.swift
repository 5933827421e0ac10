// The features' determinism, edges and speed, on synthetic audio.

@testable import Audio
import Foundation
import XCTest

final class WhisperFeatureTests: XCTestCase {
    /// A deterministic speech-like test signal: a few drifting tones and noise.
    static func signal(_ count: Int, seed: UInt64 = 1) -> [Float] {
        var state = seed
        return (0..<count).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Float(Int64(bitPattern: state) >> 40) / Float(1 << 24)
            let t = Float(i) / 16_000
            return 0.3 * Float(Foundation.sin(Double(2 * Float.pi * (220 + 30 * t) * t))) + 0.02 * noise
        }
    }

    func testSameBitsEveryTimeAndOnAnyThread() throws {
        let extractor = WhisperFeatureExtractor()
        let samples = Self.signal(3 * 16_000 + 77)
        let first = try extractor.spectrogram(samples)
        XCTAssertEqual(try extractor.spectrogram(samples).values.map(\.bitPattern), first.values.map(\.bitPattern))
        let results = UnsafeMutableBufferPointer<[UInt32]>.allocate(capacity: 4)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            results[i] = ((try? extractor.spectrogram(samples))?.values ?? []).map(\.bitPattern)
        }
        for r in results { XCTAssertEqual(r, first.values.map(\.bitPattern)) }
    }

    /// transcribe.py: content_frames = frames − 1 = samples / 160; windows at seek = 0, 3000, ...
    /// while seek < content_frames.
    func testWindowCountsAndLengthsAtTheEdges() throws {
        let extractor = WhisperFeatureExtractor()
        let cases: [(samples: Int, windows: Int, lastFrames: Int)] = [
            (0, 0, 0), (1, 0, 0), (159, 0, 0), (160, 1, 1), (161, 1, 1), (319, 1, 1), (320, 1, 2),
            (480_000 - 1, 1, 2999), (480_000, 1, 3000), (480_159, 1, 3000), (480_160, 2, 1), (960_000 + 160 * 5, 3, 5),
        ]
        for c in cases {
            XCTAssertEqual(WhisperFeatureExtractor.windowCount(sampleCount: c.samples), c.windows, "\(c.samples) samples")
            let samples = Self.signal(c.samples, seed: UInt64(c.samples) + 3)
            let features = try extractor.spectrogram(samples)
            XCTAssertEqual(features.frameCount, c.samples / 160 + 1)
            let windows = WhisperFeatureExtractor.windows(of: features)
            XCTAssertEqual(windows.count, c.windows, "\(c.samples) samples")
            XCTAssertEqual(WhisperFeatureExtractor.windowCount(of: features), c.windows, "\(c.samples) samples")
            guard let last = windows.last else { continue }
            let seek = 3000 * (windows.count - 1)
            for mel in [0, 39, 79] {
                let row = last[(mel * 3000)..<(mel * 3000 + 3000)]
                XCTAssertTrue(row.dropFirst(c.lastFrames).allSatisfy { $0 == 0 }, "\(c.samples) samples: padding")
                // The window's frames are the spectrogram's, moved.
                for f in 0..<c.lastFrames { XCTAssertEqual(row[mel * 3000 + f], features[mel, seek + f]) }
            }
        }
    }

    func testNonFiniteSamplesAreRefused() {
        let extractor = WhisperFeatureExtractor()
        for bad in [Float.nan, .infinity, -.infinity] {
            var samples = Self.signal(500)
            samples[321] = bad
            XCTAssertThrowsError(try extractor.spectrogram(samples)) { error in
                XCTAssertEqual(error as? AudioError, .nonFiniteSample(index: 321))
            }
            XCTAssertThrowsError(try extractor.windows(samples))
        }
    }

    /// Loud full-scale samples neither overflow nor lose the clamp at largest − 8.
    func testFullScaleAudio() throws {
        let samples = (0..<8_000).map { i -> Float in i % 2 == 0 ? 1 : -1 }
        let features = try WhisperFeatureExtractor().spectrogram(samples)
        let largest = features.values.max()!
        XCTAssertTrue(features.values.allSatisfy { $0.isFinite && $0 >= largest - 2 })
    }

    func testThirtySecondsTakeWellUnderATenthOfASecond() throws {
        let extractor = WhisperFeatureExtractor()
        let samples = Self.signal(30 * 16_000)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try extractor.windows(samples)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        print("30 s of audio to windows: \(best * 1000) ms (best of 3, one thread)")
        XCTAssertLessThan(best, 0.1)
    }
}
