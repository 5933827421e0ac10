// Whisper's encoder over a batch of windows (CTranslate2 src/layers/whisper.cc, WhisperEncoder):
//   conv1 (mels → width, kernel 3, padding 1) + GELU, conv2 (width → width, kernel 3, stride 2,
//   padding 1) + GELU, + the stored sinusoidal positions, pre-norm layers
//   (x += Wo·attn(LN(x)); x += W2·GELU(W1·LN(x))) with bidirectional attention, a final LayerNorm.
// GELU is the exact erf form (Math.geluErf, the project's own erf); LayerNorm eps 1e-5.
//
// Each convolution is an im2col and one matrix product: output frame t's column holds
// input[c][t·stride + k − 1] at c·3 + k (zero outside the window), the order of the file's
// [out, in, 3] weights read row-major, so an output element is one fixed-order dot of the weight
// row with its column. The windows of a batch are laid end to end; every operation is per row, and
// attention reads the row's own window only, so a window's states are the same bits alone or in
// any batch, for any thread count.
import Kernels

struct WhisperEncoderPass {
    let weights: WhisperWeights
    let config: WhisperConfig
    let ops: WhisperOps

    /// The encoder states of each window (mel-major: melBins × inputFrames floats).
    func run(_ windows: [[Float]]) throws -> [EncoderStates] {
        let c = config, n = windows.count, frames = c.inputFrames, p = c.encoderPositions, w = c.width
        let k = WhisperConfig.convolutionWidth

        // conv1 + GELU: frames × width per window.
        let columns1 = FloatBuffer(n * frames * c.melBins * k)
        for (i, window) in windows.enumerated() {
            window.withUnsafeBufferPointer { wb in
                ops.split(frames) { im2colMelMajor(wb.baseAddress!, frames: $0, into: columns1.p + i * frames * c.melBins * k) }
            }
        }
        let h1 = FloatBuffer(n * frames * w)
        try ops.linear(weights.conv1, columns1.p, rows: n * frames, into: h1.p)
        ops.geluErf(h1.p, rows: n * frames, width: w)

        // conv2 (stride 2) + GELU: positions × width per window, then the positions.
        let columns2 = FloatBuffer(n * p * w * k)
        for i in 0..<n { ops.split(p) { im2colTimeMajor(h1.p + i * frames * w, columns: $0, into: columns2.p + i * p * w * k) } }
        let x = FloatBuffer(n * p * w)
        try ops.linear(weights.conv2, columns2.p, rows: n * p, into: x.p)
        ops.geluErf(x.p, rows: n * p, width: w)
        for i in 0..<n { Elementwise.add(x.p + i * p * w, weights.encoderPositions.p, count: p * w) }

        let s = EncoderScratch(windows: n, positions: p, width: w, heads: c.encoderHeads, feedForward: c.feedForward)
        let shape = try AttentionShape(heads: c.encoderHeads, kvHeads: c.encoderHeads, headDimension: c.encoderHeadDimension,
                                       scale: 1 / Float(c.encoderHeadDimension).squareRoot())
        for layer in weights.encoderLayers { try block(layer, x, s, shape, windows: n) }
        ops.layerNorm(weights.encoderNorm, x.p, rows: n * p, width: w, into: x.p)
        return try withExtendedLifetime(x) {
            try (0..<n).map { i in
                try EncoderStates(rows: p, width: w, values: Array(UnsafeBufferPointer(start: x.p + i * p * w, count: p * w)))
            }
        }
    }

    private func block(_ l: WhisperWeights.EncoderLayer, _ x: FloatBuffer, _ s: EncoderScratch, _ shape: AttentionShape,
                       windows n: Int) throws {
        let rows = n * config.encoderPositions, w = config.width, p = config.encoderPositions
        ops.layerNorm(l.attentionNorm, x.p, rows: rows, width: w, into: s.h.p)
        try ops.linear(l.query, s.h.p, rows: rows, into: s.q.p)
        try ops.linear(l.key, s.h.p, rows: rows, into: s.k.p)
        try ops.linear(l.value, s.h.p, rows: rows, into: s.v.p)
        try ops.attendWindows(windows: n, positions: p, queries: s.q.p, keys: s.k.p, values: s.v.p, shape: shape,
                              packed: s.packed, output: s.att.p)
        try ops.linear(l.attentionOutput, s.att.p, rows: rows, into: s.o.p)
        ops.add(x.p, s.o.p, rows: rows, width: w)
        try ops.feedForward(l.ffnNorm, up: l.up, down: l.down, x.p, rows: rows, width: w, hiddenWidth: config.feedForward,
                            normed: s.h.p, hidden: s.up.p, out: s.o.p)
    }

    /// conv1's columns t in `range` from a mel-major window: column t, entry m·3 + k = window[m][t + k − 1].
    private func im2colMelMajor(_ window: UnsafePointer<Float>, frames range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let frames = config.inputFrames, mels = config.melBins, k = WhisperConfig.convolutionWidth
        for t in range {
            let column = out + t * mels * k
            for m in 0..<mels {
                for j in 0..<k {
                    let source = t + j - 1
                    column[m * k + j] = source >= 0 && source < frames ? window[m * frames + source] : 0
                }
            }
        }
    }

    /// conv2's columns t in `range` from conv1's time-major output: column t, entry c·3 + k = h[2t + k − 1][c].
    private func im2colTimeMajor(_ h: UnsafePointer<Float>, columns range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let frames = config.inputFrames, w = config.width, k = WhisperConfig.convolutionWidth
        for t in range {
            let column = out + t * w * k
            for j in 0..<k {
                let source = 2 * t + j - 1
                if source >= 0 && source < frames {
                    let row = h + source * w
                    for c in 0..<w { column[c * k + j] = row[c] }
                } else {
                    for c in 0..<w { column[c * k + j] = 0 }
                }
            }
        }
    }
}

/// Per-pass buffers of the encoder layers.
private final class EncoderScratch {
    let h, q, k, v, att, o, up: FloatBuffer
    /// Attention's per-head copies of k and v (WhisperOps.attendWindows).
    let packed: PackedHeads
    init(windows: Int, positions: Int, width: Int, heads: Int, feedForward: Int) {
        let rows = windows * positions
        packed = PackedHeads(windows: windows, heads: heads, positions: positions, dim: width / heads)
        h = FloatBuffer(rows * width)
        q = FloatBuffer(rows * width)
        k = FloatBuffer(rows * width)
        v = FloatBuffer(rows * width)
        att = FloatBuffer(rows * width)
        o = FloatBuffer(rows * width)
        up = FloatBuffer(rows * feedForward)
    }
}
