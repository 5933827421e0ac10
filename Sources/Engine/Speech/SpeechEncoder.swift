// `encode` with audio: a speech model's encoder states, pooled as Encoder.swift pools a text
// encoder's. The clip is cut into the 30 s windows generate decodes (WhisperWindows.swift), each
// encoded on its own (a window's states are the same bits alone or in a batch), one at a time so a
// long clip never holds more than one window's states besides what it keeps.
//
// Only positions that cover the clip are kept: the encoder has one position per two feature
// frames (its second convolution has stride 2), and a window holding F frames of the clip (the
// rest of its 3000 is zero padding) keeps its first ⌈F / 2⌉ positions, those whose own frame 2p
// (the stride-2 convolution's centre) is one of the clip's. Across windows the kept positions are
// laid end to end in time order. Pooling: mean (the sum over the kept positions in that order, ÷
// their count, as Encoder.pool) or none (every kept position's vector); Whisper's encoder is
// bidirectional and has no [CLS], so neither cls nor last stands for the clip, and both are
// refused by the caller. Normalisation is Encoder's.
import Audio
import Models

public struct SpeechEncoding: Sendable {
    /// `dimensions` floats (mean), or positions × `dimensions` (none).
    public var vector: [Float]
    /// Positions kept per window, in window order.
    public var windowPositions: [Int]
    public var positions: Int { windowPositions.reduce(0, +) }
}

public struct SpeechEncoder: Sendable {
    public let transcriber: Transcriber

    public init(model: LoadedModel, scheduler: InferenceScheduler) throws {
        transcriber = try Transcriber(model: model, scheduler: scheduler)
    }

    /// Floats per vector: the encoder's width (512 for whisper-base).
    public var dimensions: Int { transcriber.whisper.config.width }

    /// Feature frames of the clip in each window of `sampleCount` samples: the clip's
    /// ⌊sampleCount / 160⌋ frames, 3000 per window (WhisperWindows.swift cuts them so).
    public static func windowFrames(sampleCount: Int) -> [Int] {
        let content = sampleCount / WhisperFeatureExtractor.hopLength, size = WhisperFeatureExtractor.windowFrames
        return stride(from: 0, to: content, by: size).map { min(size, content - $0) }
    }

    /// Encoder positions that cover the clip in a window holding `frames` of its frames.
    public static func positions(frames: Int) -> Int { (frames + 1) / 2 }

    /// `pooling`: `.mean` or `.none` (the caller refuses the others).
    public func encode(_ samples: [Float], pooling: Pooling, normalize: Bool) async throws -> SpeechEncoding {
        let model = transcriber.model, whisper = transcriber.whisper, scheduler = transcriber.scheduler
        guard pooling == .mean || pooling == .none else {
            throw EngineError.cannotRun(model: model.name, reason: "a speech encoder pools mean or none, not \(pooling.rawValue)")
        }
        let features = try WhisperFeatureExtractor().spectrogram(samples)
        let frames = Self.windowFrames(sampleCount: samples.count)
        guard !frames.isEmpty, frames.count == WhisperFeatureExtractor.windowCount(of: features) else {
            throw EngineError.cannotRun(model: model.name, reason: "the audio is shorter than one 10 ms hop: there is nothing to encode")
        }
        let d = dimensions
        var kept: [Float] = []
        var sum = [Float](repeating: 0, count: pooling == .mean ? d : 0)
        var windowPositions: [Int] = []
        for (w, size) in frames.enumerated() {
            try Task.checkCancellation()
            let window = WhisperFeatureExtractor.window(w, of: features)
            let states = try await scheduler.exclusive { pool in try whisper.encode([window], pool: pool) }[0]
            let n = min(Self.positions(frames: size), states.rows)
            windowPositions.append(n)
            if pooling == .none {
                kept += states.values[0..<(n * d)]
            } else {
                // Encoder.pool's mean, position after position in time order, across windows.
                for t in 0..<n { for j in 0..<d { sum[j] += states.values[t * d + j] } }
            }
        }
        var vector = pooling == .none ? kept : sum
        if pooling == .mean {
            let count = Float(windowPositions.reduce(0, +))
            for j in 0..<d { vector[j] /= count }
        }
        if normalize { Encoder.normalizeEach(&vector, dimensions: d) }
        return SpeechEncoding(vector: vector, windowPositions: windowPositions)
    }
}
