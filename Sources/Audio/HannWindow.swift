// The periodic Hann window faster-whisper uses: np.hanning(n + 1)[:-1] cast to float32, where
// np.hanning(M)[i] = 0.5 + 0.5·cos(π·(2i − (M − 1)) / (M − 1)). Computed in Double with
// AudioMath's cos of the same angle, then rounded to Float; the golden test checks every value
// against numpy's bit for bit.

enum HannWindow {
    /// The `n` periodic Hann weights (n ≥ 1).
    static func periodic(_ n: Int) -> [Float] {
        precondition(n >= 1)
        return (0..<n).map { i in
            // π·(2i − n)/n is 2π·(2i − n)/(2n) of a turn.
            Float(0.5 + 0.5 * AudioMath.cosSin(turns: 2 * i - n, of: 2 * n).cos)
        }
    }
}
