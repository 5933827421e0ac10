// The operations both Whisper passes share, over whole row-major buffers: linear layers, LayerNorm,
// and attention rows split over the pool. Each is per row (a row's result never depends on the
// other rows or on the thread count) and every reduction is a Kernels function with a fixed order.
import Kernels

struct WhisperOps {
    let pool: ThreadPool?
    let kernels: KernelSet
    let activations = QuantizedActivations()

    /// out = W·x + b for `rows` rows of x (no bias when `b` is empty).
    func linear(_ l: WhisperLinear, _ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) throws {
        let w = l.weight
        try activations.prepare(UnsafeBufferPointer(start: x, count: rows * w.columns), vectors: rows, columns: w.columns,
                                for: w.format, kernels: kernels)
        try Matmul.multiply(w, activations, output: UnsafeMutableBufferPointer(start: out, count: rows * w.rows),
                            pool: pool, kernels: kernels)
        guard !l.bias.isEmpty else { return }
        l.bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { Elementwise.add(out + r * w.rows, b.baseAddress!, count: w.rows) }
        }
    }

    /// out = LayerNorm(x) row by row (out may be x).
    func layerNorm(_ n: WhisperNorm, _ x: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        n.gamma.withUnsafeBufferPointer { g in
            n.beta.withUnsafeBufferPointer { b in
                for r in 0..<rows {
                    Norms.layerNorm(x + r * width, weight: g.baseAddress!, bias: b.baseAddress!, count: width,
                                    epsilon: WhisperConfig.layerNormEpsilon, output: out + r * width)
                }
            }
        }
    }

    /// Attention of `rows` query rows; `source(r)` gives row r's keys, values and last visible
    /// position. Each (row, head) is computed whole by one thread: whole rows per thread when
    /// there are rows enough to share, else the heads of the few rows are split over the threads.
    func attend(rows: Int, queries q: UnsafePointer<Float>, shape: AttentionShape, longest: Int,
                output: UnsafeMutablePointer<Float>,
                source: @escaping (Int) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>, position: Int)) {
        let heads = shape.heads, width = heads * shape.headDimension, kernels = kernels
        let threads = pool?.threads ?? 1
        let byRows = rows >= 2 * threads
        let work = byRows ? rows : rows * heads
        let body: (Range<Int>) -> Void = { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Attention.scratchCount(position: longest - 1, heads: heads))
            defer { scratch.deallocate() }
            var i = range.lowerBound
            while i < range.upperBound {
                let r = byRows ? i : i / heads
                let first = byRows ? 0 : i % heads
                let last = byRows ? heads : min(heads, first + range.upperBound - i)
                let s = source(r)
                Attention.attend(query: q + r * width, keys: s.keys, values: s.values, position: s.position, shape: shape,
                                 heads: first..<last, output: output + r * width, scratch: scratch, kernels: kernels)
                i += byRows ? 1 : last - first
            }
        }
        if let pool, threads > 1, work > 1 { pool.parallelFor(rows: work, body: body) } else { body(0..<work) }
    }
}
