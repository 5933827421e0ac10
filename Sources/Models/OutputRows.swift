// Which of a pass's rows each item asked for (LogitRows), decoders and encoder-decoders alike: the
// pass lays the items' tokens out one after another, computes the logits of every wanted row in
// one product, and hands each item its share.

/// The rows of one pass that its items want back.
struct OutputRows {
    /// The rows whose logits are computed, in order.
    private(set) var logitRows: [Int] = []
    /// Each item that asked for logits, with its range of `logitRows`.
    private(set) var logitItems: [(item: Int, range: Range<Int>)] = []
    /// Each item that asked for final hidden states, with its rows.
    private(set) var hiddenItems: [(item: Int, rows: [Int])] = []
    let itemCount: Int

    /// `requests`: per item in pass order, its token count and what it asked for.
    init(_ requests: [(tokens: Int, wanted: LogitRows)]) {
        itemCount = requests.count
        var r = 0
        for (i, request) in requests.enumerated() {
            let n = request.tokens
            switch request.wanted {
            case .none: break
            case .last:
                logitItems.append((i, logitRows.count..<(logitRows.count + 1)))
                logitRows.append(r + n - 1)
            case .all:
                logitItems.append((i, logitRows.count..<(logitRows.count + n)))
                logitRows.append(contentsOf: r..<(r + n))
            case .hiddenLast: hiddenItems.append((i, [r + n - 1]))
            case .hiddenAll: hiddenItems.append((i, Array(r..<(r + n))))
            }
            r += n
        }
    }

    /// Each item's result: `hidden(rows)` for the hidden-state requests, and its rows of
    /// `logits(logitRows)` (a buffer of logitRows.count rows of `vocabulary` floats) for the
    /// others; empty for an item that wanted nothing.
    func results(vocabulary: Int, hidden: ([Int]) -> [Float], logits: ([Int]) throws -> FloatBuffer) rethrows -> [[Float]] {
        var results = [[Float]](repeating: [], count: itemCount)
        for (i, rows) in hiddenItems { results[i] = hidden(rows) }
        guard !logitRows.isEmpty else { return results }
        let out = try logits(logitRows)
        withExtendedLifetime(out) {
            for (i, range) in logitItems {
                results[i] = Array(UnsafeBufferPointer(start: out.p + range.lowerBound * vocabulary, count: range.count * vocabulary))
            }
        }
        return results
    }
}
