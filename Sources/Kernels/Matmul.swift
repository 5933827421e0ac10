// Matrix products: output[v][r] = dot(weights row r, input vector v) for every vector v and row r.
// Each output element is one row dot (Kernels.swift, orders 2 and 3) computed by exactly one
// thread; threads split the rows only. So an element's bits do not depend on the thread count,
// on how many vectors are multiplied together, or on which other rows are in the call.
//
// Cache use: rows are walked in tiles of `rowTile`; for each tile every vector is multiplied
// before moving on, so a tile's weights (a few KB) are read from memory once per call and reused
// from L1 for all vectors (prefill, or several sequences' decode steps batched together).

/// Matrix products over prepared inputs.
public enum Matmul {
    /// Rows per cache tile (and the smallest share of rows a thread takes).
    static let rowTile = 16

    /// output[v * weights.rows + r] = Σ_k weights[r][k] * input[v][k], for the vectors prepared
    /// in `input` (which must have been prepared for `weights.format` and `weights.columns`).
    public static func multiply(_ weights: QuantizedMatrix, _ input: QuantizedActivations,
                                output: UnsafeMutableBufferPointer<Float>, pool: ThreadPool? = nil,
                                path: KernelPath = .vectorized) throws {
        guard input.columns == weights.columns, input.blockSize == weights.format.blockSize else {
            throw KernelError.badShape("input prepared for \(input.columns) columns in blocks of \(input.blockSize); \(weights.format) matrix has \(weights.columns)")
        }
        let vectors = input.vectors, rows = weights.rows
        guard output.count == vectors * rows, let out = output.baseAddress else {
            throw KernelError.sizeMismatch(what: "matmul output", expected: vectors * rows, actual: output.count)
        }
        run(weights, input, out, pool, path)
    }

    // Non-throwing worker: see Dequantize.decode for why throwing functions stay small.
    @inline(never)
    static func run(_ weights: QuantizedMatrix, _ input: QuantizedActivations, _ out: UnsafeMutablePointer<Float>,
                    _ pool: ThreadPool?, _ path: KernelPath) {
        let vectors = input.vectors, rows = weights.rows
        // The views are read once here: reading the activations' class properties inside the loops
        // costs a dynamic exclusivity check per access.
        let views = (0..<vectors).map { input.view($0) }
        let body: (Range<Int>) -> Void
        if path == .vectorized, vectors == 1, let group = RowGroup.function(for: weights.format) {
            // Decode: groups of rows against the one vector (RowGroup.swift), the rest one by one.
            let dot = RowDot.function(for: weights.format, path: path)
            let view = views[0], columns = weights.columns, stride = weights.rowBytes
            let blocks = columns / weights.format.blockSize, n = RowGroup.rows
            body = { range in
                // The group's rows are a quarter of the range apart, so each of the n weight streams
                // runs on through consecutive rows, sequential in memory as the one-row dot's is
                // (groups of adjacent rows restart n short streams every group, which the hardware
                // prefetchers do not follow: twice slower on 576-column rows).
                let q = range.count / n, lo = range.lowerBound
                for i in 0..<q { group(weights.row(lo + i), q * stride, blocks, view, out + lo + i, q) }
                for r in (lo + n * q)..<range.upperBound { out[r] = dot(weights.row(r), columns, view) }
            }
        } else if path == .vectorized, Panel.supports(weights.format),
           vectors >= panelVectors || Panel.fasterAlone(weights.format) {
            body = { range in panelRows(weights, views, out, range) }
        } else {
            let dot = RowDot.function(for: weights.format, path: path)
            let columns = weights.columns
            body = { range in
                var tileStart = range.lowerBound
                while tileStart < range.upperBound {
                    let tileEnd = min(tileStart + rowTile, range.upperBound)
                    for v in 0..<vectors {
                        let view = views[v]
                        let o = out + v * rows
                        for r in tileStart..<tileEnd { o[r] = dot(weights.row(r), columns, view) }
                    }
                    tileStart = tileEnd
                }
            }
        }
        if let pool, pool.threads > 1 {
            pool.parallelFor(rows: rows, grain: rowTile, body: body)
        } else {
            body(0..<rows)
        }
    }

    /// From this many vectors on, rows are unpacked once into a panel (Panel.swift) and every
    /// vector's dot reads the panel: decoding once per row beats decoding once per (row, vector).
    static let panelVectors = 2

    /// Panel bytes per tile: small enough to stay in L2 next to the activations.
    static let panelBytes = 96 << 10

    /// The rows `range` of the product through panels: a tile of rows is unpacked, then every
    /// vector (read from L1 across the tile's rows) is multiplied with it.
    static func panelRows(_ weights: QuantizedMatrix, _ views: [ActivationView], _ out: UnsafeMutablePointer<Float>,
                          _ range: Range<Int>) {
        let columns = weights.columns, rows = weights.rows
        let blocks = columns / weights.format.blockSize
        // One vector: unpack row by row, so the row is still in L1 when the dot reads it back.
        let tile = views.count == 1 ? 1 : max(1, min(rowTile, panelBytes / (2 * columns)))
        let scratch = PanelScratch(rows: tile, columns: columns)
        defer { scratch.free() }
        let dot = Panel.dot(for: weights.format), dot4 = Panel.dot4(for: weights.format)
        var tileStart = range.lowerBound
        while tileStart < range.upperBound {
            let count = min(tile, range.upperBound - tileStart)
            for i in 0..<count {
                Panel.unpack(weights.format, weights.row(tileStart + i), columns: columns, into: scratch.row(i))
            }
            var v = 0
            if let dot4 {
                views.withUnsafeBufferPointer { vp in
                    while v + 4 <= vp.count {
                        let o = out + v * rows + tileStart
                        for i in 0..<count { dot4(scratch.row(i), blocks, vp.baseAddress! + v, o + i, rows) }
                        v += 4
                    }
                }
            }
            while v < views.count {
                let o = out + v * rows + tileStart, view = views[v]
                for i in 0..<count { o[i] = dot(scratch.row(i), blocks, view) }
                v += 1
            }
            tileStart += count
        }
    }

    /// Prepares `input` (`vectors` rows of `weights.columns` floats) into `scratch` and multiplies.
    /// Pass the same scratch across calls to avoid reallocating.
    public static func multiply(_ weights: QuantizedMatrix, input: UnsafeBufferPointer<Float>, vectors: Int,
                                output: UnsafeMutableBufferPointer<Float>, pool: ThreadPool? = nil,
                                scratch: QuantizedActivations = QuantizedActivations(),
                                path: KernelPath = .vectorized) throws {
        try scratch.prepare(input, vectors: vectors, columns: weights.columns, for: weights.format)
        try multiply(weights, scratch, output: output, pool: pool, path: path)
    }
}
