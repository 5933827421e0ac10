// A compiled context-free grammar over Unicode code points, the form every constraint of
// `generate` (GBNF `grammar`, `jsonSchema`, `format: "json"`) is turned into. GBNF.swift parses
// the text; GrammarMatcher.swift runs it.
//
// Layout: every alternative of every rule is a run of symbols in one flat array, closed by
// `.end`. A position in that array is what a matcher's stacks hold, so a stack is a list of
// small integers and "the next symbol" is position + 1.

/// A set of code points as sorted, disjoint, non-adjacent closed ranges (negation already
/// applied), so membership and overlap are binary searches.
public struct CodepointSet: Sendable, Hashable {
    public let ranges: [ClosedRange<UInt32>]

    public static let maxCodepoint: UInt32 = 0x10FFFF
    public static let all = CodepointSet(normalizing: [0...maxCodepoint])

    /// Sorts and merges `ranges`; with `negated`, the complement within 0...0x10FFFF.
    public init(normalizing ranges: [ClosedRange<UInt32>], negated: Bool = false) {
        var merged: [ClosedRange<UInt32>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let r = r.lowerBound...min(r.upperBound, Self.maxCodepoint)
            if let last = merged.last, r.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else if r.lowerBound <= Self.maxCodepoint {
                merged.append(r)
            }
        }
        guard negated else { self.ranges = merged; return }
        var complement: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in merged {
            if r.lowerBound > next { complement.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
        }
        if next <= Self.maxCodepoint { complement.append(next...Self.maxCodepoint) }
        self.ranges = complement
    }

    /// The index of the first range whose upper bound is ≥ c.
    private func firstReaching(_ c: UInt32) -> Int {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].upperBound < c { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public func contains(_ c: UInt32) -> Bool {
        let i = firstReaching(c)
        return i < ranges.count && ranges[i].lowerBound <= c
    }

    /// Whether some code point in lo...hi is in the set.
    public func overlaps(_ lo: UInt32, _ hi: UInt32) -> Bool {
        let i = firstReaching(lo)
        return i < ranges.count && ranges[i].lowerBound <= hi
    }
}

/// One symbol of an alternative.
public enum GrammarSymbol: Sendable, Hashable {
    /// One code point from a set (an index into `Grammar.sets`).
    case chars(Int32)
    /// A rule (an index into `Grammar.rules`).
    case rule(Int32)
    /// Closes an alternative.
    case end
}

/// A parsed, checked grammar: every referenced rule is defined and none is left-recursive.
public struct Grammar: Sendable {
    public struct Rule: Sendable {
        public let name: String
        /// Start positions in `symbols` of the rule's alternatives (an empty alternative starts at
        /// its `.end`).
        public let alternatives: [Int32]
    }

    public let symbols: [GrammarSymbol]
    public let sets: [CodepointSet]
    public let rules: [Rule]
    public let root: Int32
    /// Rules can reach themselves in last position through rules that match nothing, so
    /// expanding a stack can come back to the same stack (GrammarBuilder.checkLeftRecursion).
    public let expandsInCycles: Bool

    /// Limits that keep a hostile grammar from costing more than its text: symbols after the
    /// expansion of repetitions, and the repetition bound (llama.cpp's MAX_REPETITION_THRESHOLD).
    public static let maxSymbols = 1 << 20
    public static let maxRepetition = 2000

    init(symbols: [GrammarSymbol], sets: [CodepointSet], rules: [Rule], root: Int32, expandsInCycles: Bool) {
        self.symbols = symbols
        self.sets = sets
        self.rules = rules
        self.root = root
        self.expandsInCycles = expandsInCycles
    }
}

/// Why a grammar was refused: the message, and where in the source (1-based line and column,
/// counted in characters) when it comes from the text.
public struct GrammarError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let line: Int?
    public let column: Int?

    public init(_ message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let line, let column else { return message }
        return "\(message) (line \(line), column \(column))"
    }
}
