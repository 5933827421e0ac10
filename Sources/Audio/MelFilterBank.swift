// Whisper's mel filter bank as faster-whisper 1.2.1 builds it (FeatureExtractor.get_mel_filters,
// librosa's Slaney formula written out in numpy): triangular filters on the Slaney mel scale
// (linear below 1 kHz, logarithmic above), each scaled by 2 / (its width in Hz), computed in Double
// step for step as numpy does and rounded to Float. The golden test checks every weight against
// faster-whisper's bit for bit.
//
// Each filter touches a few neighbouring FFT bins, so a row is kept as its first nonzero bin and
// its run of weights; applying it sums in ascending bin order.

struct MelFilterBank: Sendable {
    struct Row: Sendable {
        /// The first FFT bin with a nonzero weight.
        var firstBin: Int
        var weights: [Float]
    }

    let rows: [Row]
    let binCount: Int

    /// Filters for `melCount` bands over the `nFFT / 2 + 1` bins of an `nFFT`-point DFT at
    /// `sampleRate` Hz, from 0 Hz to the mel of 8 kHz (faster-whisper's fixed upper edge,
    /// 45.245640471924965 mels).
    init(sampleRate: Int, nFFT: Int, melCount: Int) {
        binCount = nFFT / 2 + 1
        // np.fft.rfftfreq(n, d=1/sr): k · (1 / (n·d)).
        let d = 1.0 / Double(sampleRate)
        let binSpacing = 1.0 / (Double(nFFT) * d)
        let binFrequency = (0..<binCount).map { Double($0) * binSpacing }

        // np.linspace(0, max_mel, melCount + 2): i · (max_mel / (count − 1)) + 0, the last point
        // set to max_mel exactly.
        let maxMel = 45.245640471924965
        let pointCount = melCount + 2
        let step = maxMel / Double(pointCount - 1)
        var mels = (0..<pointCount).map { Double($0) * step + 0.0 }
        mels[pointCount - 1] = maxMel

        // Slaney: f = 200/3 · mel below 1 kHz (mel 15), 1000 · e^((mel − 15) · ln(6.4)/27) above.
        let fSp = 200.0 / 3
        let minLogMel = (1000.0 - 0.0) / fSp
        let logStep = AudioMath.log(6.4) / 27.0
        let frequency = mels.map { mel -> Double in
            mel >= minLogMel ? 1000.0 * AudioMath.exp(logStep * (mel - minLogMel)) : 0.0 + fSp * mel
        }

        var rows: [Row] = []
        for i in 0..<melCount {
            let lowerWidth = frequency[i + 1] - frequency[i]
            let upperWidth = frequency[i + 2] - frequency[i + 1]
            let norm = 2.0 / (frequency[i + 2] - frequency[i])
            var weights = [Float](repeating: 0, count: binCount)
            for k in 0..<binCount {
                let lower = -(frequency[i] - binFrequency[k]) / lowerWidth
                let upper = (frequency[i + 2] - binFrequency[k]) / upperWidth
                weights[k] = Float(max(0, min(lower, upper)) * norm)
            }
            let first = weights.firstIndex { $0 != 0 } ?? 0
            let last = weights.lastIndex { $0 != 0 } ?? -1
            rows.append(Row(firstBin: first, weights: last >= first ? Array(weights[first...last]) : []))
        }
        self.rows = rows
    }

    /// The dense weight of `bin` in band `mel` (0 outside the band's run).
    func weight(mel: Int, bin: Int) -> Float {
        let row = rows[mel]
        let i = bin - row.firstBin
        return i >= 0 && i < row.weights.count ? row.weights[i] : 0
    }
}
