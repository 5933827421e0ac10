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
        try Matmul.multiplyFloats(w, input: x, vectors: rows, output: out, pool: pool, scratch: activations, kernels: kernels)
        guard !l.bias.isEmpty else { return }
        l.bias.withUnsafeBufferPointer { b in
            split(rows) { range in
                for r in range { Elementwise.add(out + r * w.rows, b.baseAddress!, count: w.rows) }
            }
        }
    }

    /// out = LayerNorm(x) row by row (out may be x).
    func layerNorm(_ n: WhisperNorm, _ x: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        n.gamma.withUnsafeBufferPointer { g in
            n.beta.withUnsafeBufferPointer { b in
                split(rows) { range in
                    for r in range {
                        Norms.layerNorm(x + r * width, weight: g.baseAddress!, bias: b.baseAddress!, count: width,
                                        epsilon: WhisperConfig.layerNormEpsilon, output: out + r * width)
                    }
                }
            }
        }
    }

    /// x += y over `rows` rows of `width` (residual connections).
    func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, width: Int) {
        split(rows) { range in Elementwise.add(x + range.lowerBound * width, y + range.lowerBound * width, count: range.count * width) }
    }

    /// x = GELU(x) (erf form) over `rows` rows of `width`.
    /// The feed-forward sub-layer and its residual, encoder and decoder alike:
    /// x += down(GELU(up(layerNorm(x)))), through the scratch rows `normed` (width floats each),
    /// `hidden` (the feed-forward width) and `out` (width).
    func feedForward(_ norm: WhisperNorm, up: WhisperLinear, down: WhisperLinear, _ x: UnsafeMutablePointer<Float>, rows: Int,
                     width: Int, hiddenWidth: Int, normed: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                     out: UnsafeMutablePointer<Float>) throws {
        layerNorm(norm, x, rows: rows, width: width, into: normed)
        try linear(up, normed, rows: rows, into: hidden)
        geluErf(hidden, rows: rows, width: hiddenWidth)
        try linear(down, hidden, rows: rows, into: out)
        add(x, out, rows: rows, width: width)
    }

    func geluErf(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let kernels = kernels
        split(rows) { range in Elementwise.geluErf(x + range.lowerBound * width, count: range.count * width, kernels: kernels) }
    }

    /// Element-wise and per-row work over rows 0..<rows, split over the pool when there are rows
    /// enough to share (a row's result never depends on the split).
    func split(_ rows: Int, _ body: (Range<Int>) -> Void) {
        if let pool, pool.threads > 1, rows >= 64 {
            pool.parallelFor(rows: rows, grain: 16, body: body)
        } else {
            body(0..<rows)
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

    /// Bidirectional attention within windows (the encoder's): `windows` windows of `positions`
    /// rows each, every row attending to every position of its own window. Each (row, head) is
    /// `Attention.attend` at position `positions - 1` exactly (SharedKeyAttention); only the
    /// schedule differs. A row's layout puts a head's keys `width` floats apart, which maps them to
    /// few cache sets, and one row at a time reads every head's keys and values (6 MB per row for
    /// whisper-base) from far caches. So each head's keys and values are first copied to their own
    /// position-major buffers (`packed.keys`, `packed.values`: windows × heads × positions ×
    /// headDimension; `packed.transposed`: the keys as SharedKeyAttention.transposeKeys lays them
    /// out), and blocks of `queryBlock` rows of one head are attended together: each block of keys
    /// and values is read once per block, and a head's keys and values stay in the core's own
    /// cache across its blocks.
    func attendWindows(windows n: Int, positions p: Int, queries q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                       values: UnsafePointer<Float>, shape: AttentionShape, packed: PackedHeads,
                       output: UnsafeMutablePointer<Float>) throws {
        let heads = shape.heads, dim = shape.headDimension, width = heads * dim, kernels = kernels
        let block = Self.queryBlock, blocks = (p + block - 1) / block
        let transposedCount = SharedKeyAttention.transposedCount(positions: p, dim: dim)
        // The geometry of a block of `count` rows of one head (the last block may be short).
        let shapes = try (0...block).map { count in
            try AttentionShape(heads: max(1, count), kvHeads: 1, headDimension: dim, scale: shape.scale)
        }
        packHeads(windows: n, positions: p, heads: heads, keys: keys, values: values, into: packed)
        let body: (Range<Int>) -> Void = { range in
            let rows = UnsafeMutablePointer<Float>.allocate(capacity: 2 * block * dim)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: SharedKeyAttention.scratchCount(positions: p, count: block))
            defer { rows.deallocate(); scratch.deallocate() }
            let blockQueries = rows, blockOutput = rows + block * dim
            for item in range {
                let head = item / blocks, first = (item % blocks) * block, count = min(block, p - first)
                let window = head / heads, h = head % heads
                for i in 0..<count {
                    (blockQueries + i * dim).update(from: q + (window * p + first + i) * width + h * dim, count: dim)
                }
                SharedKeyAttention.attend(queries: blockQueries, rows: shapes[count], keys: packed.keys.p + head * p * dim,
                                          transposed: packed.transposed.p + head * transposedCount,
                                          values: packed.values.p + head * p * dim, positions: p, output: blockOutput,
                                          scratch: scratch, kernels: kernels)
                for i in 0..<count {
                    (output + (window * p + first + i) * width + h * dim).update(from: blockOutput + i * dim, count: dim)
                }
            }
        }
        if let pool, pool.threads > 1 { pool.parallelFor(rows: n * heads * blocks, body: body) } else { body(0..<(n * heads * blocks)) }
    }

    /// Copies each head of `windows` windows of `positions` rows of keys and values (rows of
    /// heads × dim floats) to `packed` (see PackedHeads), the heads split over the pool.
    func packHeads(windows n: Int, positions p: Int, heads: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                   into packed: PackedHeads) {
        let dim = packed.dim, width = heads * dim
        let transposedCount = SharedKeyAttention.transposedCount(positions: p, dim: dim)
        let body: (Range<Int>) -> Void = { range in
            for item in range {
                let window = item / heads, h = item % heads
                let k = packed.keys.p + item * p * dim, v = packed.values.p + item * p * dim
                for t in 0..<p {
                    let source = (window * p + t) * width + h * dim
                    (k + t * dim).update(from: keys + source, count: dim)
                    (v + t * dim).update(from: values + source, count: dim)
                }
                SharedKeyAttention.transposeKeys(k, stride: dim, positions: p, dim: dim,
                                                 into: packed.transposed.p + item * transposedCount)
            }
        }
        if let pool, pool.threads > 1 { pool.parallelFor(rows: n * heads, body: body) } else { body(0..<(n * heads)) }
    }

    /// Cross-attention of `rows` query rows over their sources' packed keys and values
    /// (`memory(r)`: row r's heads of one layer, `positions(r)` of them). Each (row, head) is
    /// `Attention.attend` over all the source's positions exactly (SharedKeyAttention with one
    /// row), computed whole by one thread; the (row, head) pairs are split over the pool.
    func attendMemory(rows: Int, queries q: UnsafePointer<Float>, shape: AttentionShape, longest: Int,
                      output: UnsafeMutablePointer<Float>, memory: @escaping (Int) -> (PackedHeads, Int)) throws {
        let heads = shape.heads, dim = shape.headDimension, width = heads * dim, kernels = kernels
        let one = try AttentionShape(heads: 1, kvHeads: 1, headDimension: dim, scale: shape.scale)
        let body: (Range<Int>) -> Void = { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: SharedKeyAttention.scratchCount(positions: longest, count: 1))
            defer { scratch.deallocate() }
            for item in range {
                let r = item / heads, h = item % heads
                let (packed, n) = memory(r)
                SharedKeyAttention.attend(queries: q + r * width + h * dim, rows: one, keys: packed.keys.p + h * n * dim,
                                          transposed: packed.transposed.p + h * SharedKeyAttention.transposedCount(positions: n, dim: dim),
                                          values: packed.values.p + h * n * dim, positions: n,
                                          output: output + r * width + h * dim, scratch: scratch, kernels: kernels)
            }
        }
        if let pool, pool.threads > 1, rows * heads > 1 { pool.parallelFor(rows: rows * heads, body: body) } else { body(0..<(rows * heads)) }
    }

    /// Query rows attended together by `attendWindows`.
    static let queryBlock = 8
}

/// Each head's keys and values of a batch of encoder windows, copied out for `attendWindows` and
/// `attendMemory`: keys and values windows × heads × positions × dim floats, and the keys again
/// as SharedKeyAttention.transposeKeys lays them out, per window and head.
final class PackedHeads {
    let keys, values, transposed: FloatBuffer
    let dim: Int
    init(windows: Int, heads: Int, positions: Int, dim: Int) {
        self.dim = dim
        keys = FloatBuffer(windows * heads * positions * dim)
        values = FloatBuffer(windows * heads * positions * dim)
        transposed = FloatBuffer(windows * heads * SharedKeyAttention.transposedCount(positions: positions, dim: dim))
    }
}
