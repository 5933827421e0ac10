// Matrix products: output[v][r] = dot(weights row r, input vector v) for every vector v and row r.
// Each output element is one row dot (Kernels.swift, orders 2 and 3) computed by exactly one
// thread; threads split the rows only (whole tiles of 8 for the C kernel sets). So an element's
// bits do not depend on the thread count, on how many vectors are multiplied together, or on
// which other rows are in the call.
import CKernels

/// Matrix products over prepared inputs.
public enum Matmul {
    /// Rows per share of a thread on the reference and float paths.
    static let rowTile = 16
    /// Tiles per share of a thread on the tile paths: whole pairs, since the AVX-512 kernels
    /// multiply two tiles per register from 2 or 4 vectors on, and a share's odd tile runs alone
    /// at half the work per instruction (which tiles share a register never changes a bit).
    static let tilePairs = 2

    /// output[v * weights.rows + r] = Σ_k weights[r][k] * input[v][k], for the vectors prepared
    /// in `input` (which must have been prepared for `weights.format` and `weights.columns`).
    /// The C kernel sets read the matrix's tiles (`QuantizedMatrix.tiled`); the reference set and
    /// the float formats read its rows.
    public static func multiply(_ weights: QuantizedMatrix, _ input: QuantizedActivations,
                                output: UnsafeMutableBufferPointer<Float>, pool: ThreadPool? = nil,
                                kernels: KernelSet = .selected) throws {
        guard input.columns == weights.columns, input.blockSize == weights.format.blockSize else {
            throw KernelError.badShape("input prepared for \(input.columns) columns in blocks of \(input.blockSize); \(weights.format) matrix has \(weights.columns)")
        }
        let vectors = input.vectors, rows = weights.rows
        guard output.count == vectors * rows, let out = output.baseAddress else {
            throw KernelError.sizeMismatch(what: "matmul output", expected: vectors * rows, actual: output.count)
        }
        if let function = kernels.tiles(weights.format) {
            guard let tiles = weights.tiles else { throw KernelError.notTiled(weights.format) }
            runTiles(function, tiles, weights, input, out, pool)
        } else if !floatProduct(weights, UnsafePointer(input.floats), vectors: vectors, out, pool, kernels) {
            runRows(weights, input, out, pool, reference: kernels == .reference)
        }
    }

    /// F32 or F16 weights times `vectors` rows of `weights.columns` floats, read where they are
    /// (no prepared copy) when the kernel set has a loop for the format; otherwise through
    /// `scratch` and `multiply`. The same bits either way.
    public static func multiplyFloats(_ weights: QuantizedMatrix, input: UnsafePointer<Float>, vectors: Int,
                                      output: UnsafeMutablePointer<Float>, pool: ThreadPool? = nil,
                                      scratch: QuantizedActivations, kernels: KernelSet = .selected) throws {
        guard vectors > 0, !floatProduct(weights, input, vectors: vectors, output, pool, kernels) else { return }
        try multiply(weights, input: UnsafeBufferPointer(start: input, count: vectors * weights.columns), vectors: vectors,
                     output: UnsafeMutableBufferPointer(start: output, count: vectors * weights.rows), pool: pool,
                     scratch: scratch, kernels: kernels)
    }

    /// The C set's F32 or F16 product, if it has one for the format (false: it has not).
    static func floatProduct(_ weights: QuantizedMatrix, _ x: UnsafePointer<Float>, vectors: Int,
                             _ out: UnsafeMutablePointer<Float>, _ pool: ThreadPool?, _ kernels: KernelSet) -> Bool {
        if weights.format == .f32, let function = kernels.cSet?.pointee.f32 {
            let w = weights.row(0).assumingMemoryBound(to: Float.self)
            runFloat(weights, x, vectors, out, pool) { function(w, $0, $1, $2, $3, $4, $5, $6) }
        } else if weights.format == .f16, let function = kernels.cSet?.pointee.f16 {
            let w = weights.row(0).assumingMemoryBound(to: UInt16.self)
            runFloat(weights, x, vectors, out, pool) { function(w, $0, $1, $2, $3, $4, $5, $6) }
        } else {
            return false
        }
        return true
    }

    /// Several products of the same input (a layer's q, k and v; its gate and up) in one pass of
    /// the pool, so the threads meet once instead of once per matrix: the tiles of all the
    /// matrices form one range split over the threads. Every output element is still one row dot
    /// by one thread, the same bits as `multiply` of each. Matrices the C sets do not tile (or
    /// of another format or width than the first) are multiplied one by one.
    public static func multiply(_ products: [(weights: QuantizedMatrix, output: UnsafeMutableBufferPointer<Float>)],
                                _ input: QuantizedActivations, pool: ThreadPool? = nil,
                                kernels: KernelSet = .selected) throws {
        guard let first = products.first?.weights, products.count > 1, let function = kernels.tiles(first.format),
              products.allSatisfy({ $0.weights.format == first.format && $0.weights.columns == first.columns && $0.weights.tiles != nil })
        else {
            for p in products { try multiply(p.weights, input, output: p.output, pool: pool, kernels: kernels) }
            return
        }
        guard input.columns == first.columns, input.blockSize == first.format.blockSize else {
            throw KernelError.badShape("input prepared for \(input.columns) columns in blocks of \(input.blockSize); \(first.format) matrix has \(first.columns)")
        }
        for p in products where p.output.count != input.vectors * p.weights.rows || p.output.baseAddress == nil {
            throw KernelError.sizeMismatch(what: "matmul output", expected: input.vectors * p.weights.rows, actual: p.output.count)
        }
        runTiles(function, products.map { ($0.weights, $0.output.baseAddress!) }, input, pool)
    }

    // Non-throwing workers: see Dequantize.decode for why throwing functions stay small.

    /// `runTiles` over several matrices of one format and width: thread ranges of the tiles of
    /// all of them, one after another.
    @inline(never)
    static func runTiles(_ function: rl_tiles_fn, _ products: [(QuantizedMatrix, UnsafeMutablePointer<Float>)],
                         _ input: QuantizedActivations, _ pool: ThreadPool?) {
        var view = input.cView
        let blocks = Int64(products[0].0.columns / products[0].0.format.blockSize), vectors = Int64(input.vectors)
        var starts = [0]
        for (w, _) in products { starts.append(starts.last! + w.tiles!.tiles) }
        withUnsafePointer(to: &view) { a in
            let body: (Range<Int>) -> Void = { range in
                for (i, (w, out)) in products.enumerated() {
                    let lo = max(range.lowerBound, starts[i]), hi = min(range.upperBound, starts[i + 1])
                    guard lo < hi, let tiles = w.tiles else { continue }
                    let rows = Int64(w.rows)
                    function(tiles.base.assumingMemoryBound(to: UInt8.self), Int64(tiles.tileBytes), Int64(lo - starts[i]),
                             Int64(hi - starts[i]), blocks, a, vectors, out, rows, rows)
                }
            }
            if let pool, pool.threads > 1 {
                pool.parallelFor(rows: starts.last!, grain: tilePairs, body: body)
            } else {
                body(0..<starts.last!)
            }
        }
    }

    /// The C kernels over whole tiles: each thread takes a range of tiles and every vector.
    @inline(never)
    static func runTiles(_ function: rl_tiles_fn, _ tiles: TileStore, _ weights: QuantizedMatrix,
                         _ input: QuantizedActivations, _ out: UnsafeMutablePointer<Float>, _ pool: ThreadPool?) {
        var view = input.cView
        let blocks = Int64(weights.columns / weights.format.blockSize), tileBytes = Int64(tiles.tileBytes)
        let vectors = Int64(input.vectors), rows = Int64(weights.rows)
        withUnsafePointer(to: &view) { a in
            let body: (Range<Int>) -> Void = { range in
                function(tiles.base.assumingMemoryBound(to: UInt8.self), tileBytes, Int64(range.lowerBound),
                         Int64(range.upperBound), blocks, a, vectors, out, rows, rows)
            }
            if let pool, pool.threads > 1 {
                pool.parallelFor(rows: tiles.tiles, grain: tilePairs, body: body)
            } else {
                body(0..<tiles.tiles)
            }
        }
    }

    /// The C sets' F32 and F16 products (`function`: columns, first row, end row, input, vectors,
    /// output, output stride): each thread takes a range of rows and every vector.
    @inline(never)
    static func runFloat(_ weights: QuantizedMatrix, _ x: UnsafePointer<Float>, _ vectors: Int, _ out: UnsafeMutablePointer<Float>,
                         _ pool: ThreadPool?,
                         _ function: @escaping (Int64, Int64, Int64, UnsafePointer<Float>, Int64, UnsafeMutablePointer<Float>, Int64) -> Void) {
        let columns = Int64(weights.columns), vectors = Int64(vectors), rows = weights.rows
        let body: (Range<Int>) -> Void = { range in
            function(columns, Int64(range.lowerBound), Int64(range.upperBound), x, vectors, out, Int64(rows))
        }
        if let pool, pool.threads > 1 {
            pool.parallelFor(rows: rows, grain: rowTile, body: body)
        } else {
            body(0..<rows)
        }
    }

    /// One row dot per output element: the reference path, and the float formats a C set has no
    /// loop for (BF16; every float format on the portable set).
    @inline(never)
    static func runRows(_ weights: QuantizedMatrix, _ input: QuantizedActivations, _ out: UnsafeMutablePointer<Float>,
                        _ pool: ThreadPool?, reference: Bool) {
        let vectors = input.vectors, rows = weights.rows, columns = weights.columns, format = weights.format
        // The views are read once here: reading the activations' class properties inside the loops
        // costs a dynamic exclusivity check per access.
        let views = (0..<vectors).map { input.view($0) }
        let blocks = columns / format.blockSize
        let dot: (UnsafeRawPointer, ActivationView) -> Float
        switch (format.quantizesActivations, reference) {
        case (true, _): dot = { ReferenceDot.dot(format, $0, blocks: blocks, $1) }
        case (false, true): dot = { FloatWeights.dotReference(format, $0, $1.floats, columns) }
        case (false, false): dot = { FloatWeights.dot(format, $0, $1.floats, columns) }
        }
        let body: (Range<Int>) -> Void = { range in
            // Rows in cache tiles: a tile's weights are read from memory once for all vectors.
            var tileStart = range.lowerBound
            while tileStart < range.upperBound {
                let tileEnd = min(tileStart + rowTile, range.upperBound)
                for v in 0..<vectors {
                    let view = views[v], o = out + v * rows
                    for r in tileStart..<tileEnd { o[r] = dot(weights.row(r), view) }
                }
                tileStart = tileEnd
            }
        }
        if let pool, pool.threads > 1 {
            pool.parallelFor(rows: rows, grain: rowTile, body: body)
        } else {
            body(0..<rows)
        }
    }

    /// Prepares `input` (`vectors` rows of `weights.columns` floats) into `scratch` and multiplies.
    /// Pass the same scratch across calls to avoid reallocating.
    public static func multiply(_ weights: QuantizedMatrix, input: UnsafeBufferPointer<Float>, vectors: Int,
                                output: UnsafeMutableBufferPointer<Float>, pool: ThreadPool? = nil,
                                scratch: QuantizedActivations = QuantizedActivations(),
                                kernels: KernelSet = .selected) throws {
        try scratch.prepare(input, vectors: vectors, columns: weights.columns, for: weights.format, kernels: kernels)
        try multiply(weights, scratch, output: output, pool: pool, kernels: kernels)
    }
}
