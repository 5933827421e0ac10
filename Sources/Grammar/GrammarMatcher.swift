// Runs a Grammar over text as it is generated: which bytes may come next. The state is the set
// of parse stacks llama.cpp's grammar sampler keeps (each stack is a list of positions in
// Grammar.symbols, its top a terminal to match next, the rest what follows once the top's rules
// end; an empty stack means the text so far is a complete sentence), plus the bytes of a UTF-8
// character a token left unfinished. Bytes are decoded strictly (no overlong forms, surrogates
// or values past U+10FFFF); an unfinished character is allowed when some code point it could
// still become is allowed.

public struct GrammarMatcher: Sendable {
    public let grammar: Grammar
    /// Distinct stacks (in no particular order: nothing depends on it).
    public private(set) var stacks: [[Int32]]
    /// Leading bytes of a character still to be completed.
    public private(set) var pending: [UInt8] = []

    /// Expansions of the stacks while matching one piece are bounded: a grammar can be written
    /// whose stack sets grow with every character (heavily ambiguous repetitions); past this the
    /// piece is refused rather than the daemon stalled.
    public static let maxStacks = 4096

    public init(_ grammar: Grammar) {
        self.grammar = grammar
        var out = Set<[Int32]>()
        for alt in grammar.rules[Int(grammar.root)].alternatives {
            Self.expand(grammar, grammar.symbols[Int(alt)] == .end ? [] : [alt], into: &out)
        }
        stacks = Array(out)
    }

    /// The text so far is a complete sentence of the grammar.
    public var isComplete: Bool { pending.isEmpty && stacks.contains { $0.isEmpty } }

    /// Some character may still follow.
    public var canContinue: Bool { stacks.contains { !$0.isEmpty } }

    /// Whether `bytes` may follow the text so far.
    public func allows<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        advanced(by: bytes) != nil
    }

    /// Appends `bytes` to the text; false (and nothing changed) if they may not follow it.
    @discardableResult
    public mutating func accept<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        guard let next = advanced(by: bytes) else { return false }
        self = next
        return true
    }

    /// The state after `bytes`, or nil.
    func advanced<C: Collection>(by bytes: C) -> GrammarMatcher? where C.Element == UInt8 {
        var next = self
        for b in bytes {
            if next.pending.isEmpty {
                switch b {
                case 0x00...0x7F:
                    guard next.step(UInt32(b)) else { return nil }
                    continue
                case 0xC2...0xF4:
                    next.pending = [b]
                default:
                    return nil
                }
            } else {
                guard UTF8Rules.continues(next.pending, with: b) else { return nil }
                next.pending.append(b)
            }
            if next.pending.count == UTF8Rules.length(next.pending[0]) {
                let cp = UTF8Rules.decode(next.pending)
                next.pending = []
                guard next.step(cp) else { return nil }
            }
        }
        if !next.pending.isEmpty {
            let (lo, hi) = UTF8Rules.possible(next.pending)
            guard next.stacks.contains(where: { stack in
                guard let top = stack.last, case let .chars(s) = grammar.symbols[Int(top)] else { return false }
                return grammar.sets[Int(s)].overlaps(lo, hi)
            }) else { return nil }
        }
        return next
    }

    /// Matches one code point; false if no stack takes it.
    private mutating func step(_ cp: UInt32) -> Bool {
        var out = Set<[Int32]>()
        for stack in stacks {
            guard let top = stack.last, case let .chars(s) = grammar.symbols[Int(top)], grammar.sets[Int(s)].contains(cp) else { continue }
            var rest = stack
            rest.removeLast()
            if grammar.symbols[Int(top) + 1] != .end { rest.append(top + 1) }
            Self.expand(grammar, rest, into: &out)
            if out.count > Self.maxStacks { return false }
        }
        guard !out.isEmpty else { return false }
        stacks = Array(out)
        return true
    }

    /// Adds to `out` every stack `stack` becomes once rules at its top are replaced by their
    /// alternatives, until each top is a terminal (or the stack is empty). Terminates because
    /// the grammar has no left recursion; where rules can come back to themselves in last
    /// position (which pushes nothing), the stacks already expanded are skipped.
    static func expand(_ g: Grammar, _ stack: [Int32], into out: inout Set<[Int32]>) {
        if g.expandsInCycles {
            var seen = Set<[Int32]>()
            expand(g, stack, into: &out, seen: &seen)
        } else {
            expand(g, stack, into: &out, seen: nil)
        }
    }

    private static func expand(_ g: Grammar, _ stack: [Int32], into out: inout Set<[Int32]>, seen: UnsafeMutablePointer<Set<[Int32]>>?) {
        guard let top = stack.last, case let .rule(r) = g.symbols[Int(top)] else { out.insert(stack); return }
        if let seen, !seen.pointee.insert(stack).inserted { return }
        var base = stack
        base.removeLast()
        if g.symbols[Int(top) + 1] != .end { base.append(top + 1) }
        for alt in g.rules[Int(r)].alternatives {
            if g.symbols[Int(alt)] == .end {
                expand(g, base, into: &out, seen: seen)
            } else {
                var s = base
                s.append(alt)
                expand(g, s, into: &out, seen: seen)
            }
        }
    }

}

/// Well-formed UTF-8 (Unicode Table 3-7).
enum UTF8Rules {
    static func length(_ lead: UInt8) -> Int { lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4 }

    /// Whether `b` may follow the partial character `partial`.
    static func continues(_ partial: [UInt8], with b: UInt8) -> Bool {
        guard partial.count < length(partial[0]) else { return false }
        if partial.count == 1 {
            switch partial[0] {
            case 0xE0: return (0xA0...0xBF).contains(b)
            case 0xED: return (0x80...0x9F).contains(b)
            case 0xF0: return (0x90...0xBF).contains(b)
            case 0xF4: return (0x80...0x8F).contains(b)
            default: break
            }
        }
        return (0x80...0xBF).contains(b)
    }

    static func decode(_ bytes: [UInt8]) -> UInt32 {
        let n = bytes.count
        var cp = UInt32(n == 1 ? bytes[0] : bytes[0] & (0xFF >> (n + 1)))
        for b in bytes.dropFirst() { cp = cp << 6 | UInt32(b & 0x3F) }
        return cp
    }

    /// The code points a valid partial character can still become.
    static func possible(_ partial: [UInt8]) -> (UInt32, UInt32) {
        let n = length(partial[0]), missing = n - partial.count
        var v = UInt32(partial[0] & (0xFF >> (n + 1)))
        for b in partial.dropFirst() { v = v << 6 | UInt32(b & 0x3F) }
        var lo = v << (6 * UInt32(missing)), hi = lo | ((1 << (6 * UInt32(missing))) - 1)
        if partial.count == 1 {
            switch partial[0] {
            case 0xE0: lo = 0x800
            case 0xED: hi = 0xD7FF
            case 0xF0: lo = 0x10000
            case 0xF4: hi = 0x10FFFF
            default: break
            }
        }
        return (lo, hi)
    }
}
