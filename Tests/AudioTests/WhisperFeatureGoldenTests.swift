// Our WAV decoding, features and windows against faster-whisper 1.2.1 (the golden file) on every
// espeak-ng clip: decoded samples bit for bit (sha256), the filter bank and Hann window bit for
// bit, features within 1e-4 absolute (numpy computes its FFT and mel product in float32; we in
// double, so the difference is numpy's rounding: measured max 2.4e-7 on these clips), windows
// (count, lengths, zero padding, min/max/mean, samples) as transcribe cuts them.

@testable import Audio
import Crypto
import Foundation
import XCTest

final class WhisperFeatureGoldenTests: XCTestCase {
    static let tolerance: Float = 1e-4

    private func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    private func sha256(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }
    private func sha256(samples: [Float]) -> String {
        sha256(samples.flatMap { s in (0..<4).map { UInt8(truncatingIfNeeded: s.bitPattern >> (8 * $0)) } })
    }

    func testHannWindowAndFilterBankAreNumpysBitForBit() throws {
        let golden = try WhisperGolden.load()
        let extractor = WhisperFeatureExtractor()
        XCTAssertEqual(extractor.hann.count, 400)
        XCTAssertEqual(extractor.hann.map(\.bitPattern), golden.hann.map(\.bitPattern))
        XCTAssertEqual(extractor.filters.rows.count, 80)
        XCTAssertEqual(golden.melRows.count, 80)
        for (mel, row) in golden.melRows.enumerated() {
            let ours = extractor.filters.rows[mel]
            XCTAssertEqual(ours.firstBin, row.firstBin, "mel \(mel)")
            XCTAssertEqual(ours.weights.map(\.bitPattern), row.weights.map(\.bitPattern), "mel \(mel)")
        }
    }

    func testSyntheticEdgesMatchFeatureExtractor() throws {
        let golden = try WhisperGolden.load()
        XCTAssertGreaterThanOrEqual(golden.synthetic.count, 10)
        let extractor = WhisperFeatureExtractor()
        var worst: Float = 0
        for s in golden.synthetic {
            let features = try extractor.spectrogram(s.samples)
            XCTAssertEqual(features.frameCount, s.featureFrames, "\(s.kind) of \(s.samples.count)")
            XCTAssertEqual(features.values.count, s.features.count, "\(s.kind) of \(s.samples.count)")
            guard features.values.count == s.features.count else { continue }
            for (a, b) in zip(features.values, s.features) { worst = max(worst, abs(a - b)) }
            if s.kind == "silence" { XCTAssertEqual(Set(features.values), [-1.5]) }
        }
        XCTAssertLessThanOrEqual(worst, Self.tolerance)
        print("synthetic signals: max |ours − faster-whisper| = \(worst)")
    }

    func testClipsDecodeFeaturizeAndWindowAsFasterWhisper() throws {
        let golden = try WhisperGolden.load()
        XCTAssertGreaterThanOrEqual(golden.clips.count, 12)
        let extractor = WhisperFeatureExtractor()
        var worstFeature: Float = 0, worstWindow: Float = 0, worstMean = 0.0, compared = 0
        var multiWindow = 0
        for clip in golden.clips {
            let bytes = try WhisperGolden.clipBytes(clip.name + ".wav")
            guard sha256(bytes) == clip.wavSHA256 else {
                XCTFail("\(clip.name).wav differs from the golden clip: run scripts/make_whisper_clips.py (it says why)")
                continue
            }
            let wav = try WAVFile(bytes: bytes)
            XCTAssertEqual(wav.encoding, .pcm16)
            XCTAssertEqual(wav.samples.count, clip.samples, clip.name)
            XCTAssertEqual(sha256(samples: wav.samples), clip.decodedSHA256, "\(clip.name): decode_audio's samples")

            // The same audio as 32-bit float, written by sox: the same samples.
            let floatBytes = try WhisperGolden.clipBytes(clip.name + "-f32.wav")
            XCTAssertEqual(sha256(floatBytes), clip.wavF32SHA256, "\(clip.name)-f32.wav")
            let floatWAV = try WAVFile(bytes: floatBytes)
            XCTAssertEqual(floatWAV.encoding, .float32)
            XCTAssertEqual(floatWAV.samples, wav.samples, "\(clip.name)-f32.wav")
            XCTAssertEqual(sha256(samples: floatWAV.samples), clip.decodedF32SHA256, "\(clip.name)-f32.wav decoded")

            let features = try extractor.spectrogram(wav.samples)
            XCTAssertEqual(features.melCount, 80)
            XCTAssertEqual(features.frameCount, clip.featureFrames, clip.name)
            XCTAssertEqual(features.frameCount - 1, clip.contentFrames, clip.name)
            for (index, value) in clip.featuresSample.entries {
                let error = abs(features.values[index] - value)
                worstFeature = max(worstFeature, error)
                compared += 1
                XCTAssertLessThanOrEqual(error, Self.tolerance, "\(clip.name) feature \(index): \(features.values[index]) vs \(value)")
            }

            let windows = WhisperFeatureExtractor.windows(of: features)
            XCTAssertEqual(windows.count, clip.windows.count, clip.name)
            XCTAssertEqual(windows.count, WhisperFeatureExtractor.windowCount(sampleCount: wav.samples.count), clip.name)
            XCTAssertEqual(try extractor.windows(wav.samples), windows, clip.name)
            XCTAssertEqual(WhisperFeatureExtractor.windowCount(of: features), windows.count, clip.name)
            if windows.count > 1 { multiWindow += 1 }
            for (w, (window, ref)) in zip(windows, clip.windows).enumerated() {
                let label = "\(clip.name) window \(w)"
                XCTAssertEqual(window.count, 80 * 3000, label)
                XCTAssertEqual(ref.seek, w * 3000, label)
                let frames = min(3000, clip.contentFrames - ref.seek)
                XCTAssertEqual(frames, ref.frames, label)
                // Frames past the content are zeros (pad_or_trim), in every mel row.
                for mel in 0..<80 {
                    XCTAssertTrue(window[(mel * 3000 + frames)..<(mel * 3000 + 3000)].allSatisfy { $0 == 0 }, label)
                }
                var low = Float.infinity, high = -Float.infinity, sum = 0.0
                for v in window { low = min(low, v); high = max(high, v); sum += Double(v) }
                XCTAssertEqual(low, ref.min, accuracy: Self.tolerance, label)
                XCTAssertEqual(high, ref.max, accuracy: Self.tolerance, label)
                worstMean = max(worstMean, abs(sum / Double(window.count) - ref.mean))
                XCTAssertEqual(sum / Double(window.count), ref.mean, accuracy: 1e-5, label)
                for (index, value) in ref.sample.entries {
                    let error = abs(window[index] - value)
                    worstWindow = max(worstWindow, error)
                    compared += 1
                    if value == 0 && index % 3000 >= frames { XCTAssertEqual(window[index], 0, label) }
                    XCTAssertLessThanOrEqual(error, Self.tolerance, "\(label) value \(index)")
                }
            }
            // Every reference segment belongs to a window we cut.
            for segment in clip.segments { XCTAssertLessThan(segment.window, windows.count, clip.name) }
        }
        XCTAssertGreaterThanOrEqual(multiWindow, 1, "no clip spans two windows")
        print("faster-whisper golden: \(golden.clips.count) clips, \(compared) values; max |ours − reference|: "
              + "features \(worstFeature), windows \(worstWindow), window means \(worstMean)")
    }
}
