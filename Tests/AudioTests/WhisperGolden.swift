// Reads Tests/AudioTests/Golden/whisper-clips.json (scripts/make_whisper_golden.py: faster-whisper
// 1.2.1's decode_audio, FeatureExtractor and transcribe windows on espeak-ng clips) and finds the
// clips in the cache folder scripts/make_whisper_clips.py fills.

import Foundation
import ReproJSON
import TestSupport
import XCTest

/// Values at flat indices start, start + stride, ... of a mel-major matrix.
struct StridedSample {
    var start: Int, stride: Int, values: [Float]

    init(_ json: JSONValue?) throws {
        guard let json, let s = json["start"]?.int64Value, let d = json["stride"]?.int64Value,
              let v = json["values"]?.arrayValue else { throw GoldenError.malformed("strided sample") }
        start = Int(s); stride = Int(d)
        values = try v.map { try float($0) }
    }

    /// (flat index, reference value) pairs.
    var entries: [(index: Int, value: Float)] { values.enumerated().map { (start + $0.offset * stride, $0.element) } }
}

struct GoldenWindow {
    var seek: Int, frames: Int, min: Float, max: Float, mean: Double, sample: StridedSample
}

struct GoldenClip {
    var name: String
    var wavSHA256: String, wavF32SHA256: String
    var samples: Int
    var decodedSHA256: String, decodedF32SHA256: String
    var featureFrames: Int, contentFrames: Int
    var featuresSample: StridedSample
    var windows: [GoldenWindow]
    /// Per window, the reference token ids (empty when faster-whisper skipped it as no speech).
    var segments: [(window: Int, tokens: [Int])]
}

struct GoldenSynthetic {
    var kind: String
    var samples: [Float]
    var featureFrames: Int
    var features: [Float]
}

struct WhisperGolden {
    var hann: [Float]
    var melRows: [(firstBin: Int, weights: [Float])]
    var clips: [GoldenClip]
    var synthetic: [GoldenSynthetic]

    static func load() throws -> WhisperGolden {
        guard let url = Bundle.module.url(forResource: "whisper-clips", withExtension: "json", subdirectory: "Golden") else {
            throw GoldenError.malformed("Golden/whisper-clips.json is not in the test bundle")
        }
        let doc = try JSONValue.parse(Array(try Data(contentsOf: url)))
        func int(_ v: JSONValue?) throws -> Int {
            guard let i = v?.int64Value else { throw GoldenError.malformed("integer expected") }
            return Int(i)
        }
        func string(_ v: JSONValue?) throws -> String {
            guard let s = v?.stringValue else { throw GoldenError.malformed("string expected") }
            return s
        }
        func floats(_ v: JSONValue?) throws -> [Float] {
            guard let a = v?.arrayValue else { throw GoldenError.malformed("array expected") }
            return try a.map { try float($0) }
        }
        var golden = WhisperGolden(hann: try floats(doc["hann_window"]), melRows: [], clips: [], synthetic: [])
        for row in doc["mel_filters"]?.arrayValue ?? [] {
            golden.melRows.append((try int(row["first_bin"]), try floats(row["weights"])))
        }
        for c in doc["clips"]?.arrayValue ?? [] {
            var windows: [GoldenWindow] = []
            for w in c["windows"]?.arrayValue ?? [] {
                guard let mean = w["mean"]?.doubleValue else { throw GoldenError.malformed("window mean") }
                windows.append(GoldenWindow(seek: try int(w["seek"]), frames: try int(w["frames"]), min: try float(w["min"]),
                                            max: try float(w["max"]), mean: mean, sample: try StridedSample(w["sample"])))
            }
            var segments: [(Int, [Int])] = []
            for s in c["segments"]?.arrayValue ?? [] {
                segments.append((try int(s["window"]), try (s["tokens"]?.arrayValue ?? []).map { try int($0) }))
            }
            golden.clips.append(GoldenClip(
                name: try string(c["name"]), wavSHA256: try string(c["wav"]?["sha256"]),
                wavF32SHA256: try string(c["wav_f32"]?["sha256"]), samples: try int(c["samples"]),
                decodedSHA256: try string(c["decoded_sha256"]), decodedF32SHA256: try string(c["decoded_f32_sha256"]),
                featureFrames: try int(c["feature_frames"]), contentFrames: try int(c["content_frames"]),
                featuresSample: try StridedSample(c["features_sample"]), windows: windows, segments: segments))
        }
        for s in doc["synthetic"]?.arrayValue ?? [] {
            let count = try int(s["samples"])
            let samples: [Float]
            if let ints = s["pcm16"]?.arrayValue {
                samples = try ints.map { Float(try int($0)) / 32768 }
            } else {
                samples = [Float](repeating: 0, count: count)
            }
            golden.synthetic.append(GoldenSynthetic(kind: try string(s["kind"]), samples: samples,
                                                    featureFrames: try int(s["feature_frames"]), features: try floats(s["features"])))
        }
        return golden
    }

    /// The folder scripts/make_whisper_clips.py fills.
    static var clipFolder: String { TestModels.cacheRoot + "/whisper-clips" }

    /// A clip's bytes, or XCTSkip when the clips have not been made.
    static func clipBytes(_ file: String) throws -> [UInt8] {
        let path = clipFolder + "/" + file
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XCTSkip("\(path) is missing: run scripts/make_whisper_clips.py")
        }
        return Array(data)
    }
}

enum GoldenError: Error { case malformed(String) }

/// A JSON number as the Float it was written from (the golden file holds float32 values exactly).
func float(_ v: JSONValue?) throws -> Float {
    guard let d = v?.doubleValue else { throw GoldenError.malformed("number expected") }
    return Float(d)
}
