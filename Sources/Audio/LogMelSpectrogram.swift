// Whisper's log-mel features exactly as faster-whisper 1.2.1's FeatureExtractor computes them
// (feature_extractor.py, called with its default padding=160):
//   1. 160 zero samples appended, then 200 samples of reflection padding on each side
//      (np.pad mode "reflect": the mirror image without repeating the edge sample);
//   2. frames of 400 samples every 160, each multiplied by the periodic Hann window in Float
//      (numpy multiplies float32 by float32);
//   3. the power spectrum of each frame (201 bins); the last frame is dropped
//      (`stft[..., :-1]`), leaving samples/160 + 1 frames;
//   4. 80 Slaney mel bands, log10 of each clamped below at 1e-10, rounded to Float;
//   5. every value raised to at least (largest value − 8), then (x + 4) / 4, in Float.
// Steps 2–4 run in Double (numpy's float32 FFT and matrix product are accurate to about 1e-7 of
// the result; the golden test bounds the difference), steps 1, 2's product and 5 in Float as
// numpy does. The order of every sum depends only on the shapes, and the maximum is exact, so the
// result does not depend on how frames are split among threads (they are not, today).

/// Log-mel features: `melCount` rows of `frameCount` values, mel-major.
public struct LogMelSpectrogram: Sendable, Equatable {
    public let melCount: Int
    public let frameCount: Int
    /// values[mel · frameCount + frame].
    public let values: [Float]

    public subscript(mel: Int, frame: Int) -> Float { values[mel * frameCount + frame] }
}

/// Whisper's audio front end: the log-mel spectrogram and the 30-second windows the encoder takes.
/// Build one and reuse it; it holds the DFT plan, the window and the filter bank (a few KB).
public struct WhisperFeatureExtractor: Sendable {
    public static let sampleRate = 16_000
    public static let melCount = 80
    public static let fftLength = 400
    public static let hopLength = 160
    /// Frames in one encoder window: 30 s.
    public static let windowFrames = 3_000

    let spectrum: RealPowerSpectrum
    let hann: [Float]
    let filters: MelFilterBank

    public init() {
        // 400 = 2⁴·5², so its half-length transform (200) always factors.
        spectrum = RealPowerSpectrum(frameLength: Self.fftLength)!
        hann = HannWindow.periodic(Self.fftLength)
        filters = MelFilterBank(sampleRate: Self.sampleRate, nFFT: Self.fftLength, melCount: Self.melCount)
    }

    /// The features of 16 kHz mono `samples` (samples.count / 160 + 1 frames). Throws
    /// `AudioError.nonFiniteSample` for NaN or infinite samples.
    public func spectrogram(_ samples: [Float]) throws -> LogMelSpectrogram {
        if let bad = samples.firstIndex(where: { !$0.isFinite }) { throw AudioError.nonFiniteSample(index: bad) }
        let n = Self.fftLength, hop = Self.hopLength, mels = Self.melCount
        let padded = Self.reflectPadded(samples, trailingZeros: hop, reflect: n / 2)
        // The STFT has 1 + (count + 160) / 160 frames; the extractor drops the last.
        let frames = (samples.count + hop) / hop
        var logs = [Float](repeating: 0, count: mels * frames)

        let workspace = RealPowerSpectrum.Workspace(spectrum)
        let frame = UnsafeMutablePointer<Double>.allocate(capacity: n)
        let power = UnsafeMutablePointer<Double>.allocate(capacity: spectrum.binCount)
        defer { frame.deallocate(); power.deallocate() }
        padded.withUnsafeBufferPointer { signal in
            logs.withUnsafeMutableBufferPointer { out in
                for f in 0..<frames {
                    let start = f * hop
                    for t in 0..<n { frame[t] = Double(signal[start + t] * hann[t]) }
                    spectrum.power(of: frame, into: power, workspace: workspace)
                    for (m, row) in filters.rows.enumerated() {
                        var sum = 0.0
                        for (i, w) in row.weights.enumerated() { sum += Double(w) * power[row.firstBin + i] }
                        out[m * frames + f] = Float(AudioMath.log10(max(sum, 1e-10)))
                    }
                }
            }
        }

        // max − 8 and (x + 4) / 4 in Float, as numpy does on the float32 logs.
        var largest = -Float.infinity
        for v in logs where v > largest { largest = v }
        let floor = largest - 8
        for i in logs.indices { logs[i] = (max(logs[i], floor) + 4) / 4 }
        return LogMelSpectrogram(melCount: mels, frameCount: frames, values: logs)
    }

    /// `samples` followed by `trailingZeros` zeros, then mirrored by `reflect` samples at each end
    /// as np.pad(mode="reflect") does: index −i reads i, index L−1+i reads L−1−i, and so on back
    /// and forth when the padding is longer than the signal (numpy pads such signals in rounds,
    /// which comes to the same periodic mirror image).
    static func reflectPadded(_ samples: [Float], trailingZeros: Int, reflect: Int) -> [Float] {
        let length = samples.count + trailingZeros
        precondition(length >= 2, "reflection needs two samples")
        let period = 2 * (length - 1)
        var out = [Float](repeating: 0, count: length + 2 * reflect)
        out.withUnsafeMutableBufferPointer { o in
            samples.withUnsafeBufferPointer { s in
                func source(_ i: Int) -> Float {
                    var j = i % period
                    if j < 0 { j += period }
                    if j >= length { j = period - j }
                    return j < s.count ? s[j] : 0
                }
                for i in -reflect..<0 { o[reflect + i] = source(i) }
                for i in 0..<s.count { o[reflect + i] = s[i] }
                // samples.count ..< length stay zero.
                for i in length..<(length + reflect) { o[reflect + i] = source(i) }
            }
        }
        return out
    }
}
