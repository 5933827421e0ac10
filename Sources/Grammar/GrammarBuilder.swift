// Collects rules while a grammar is parsed, then checks and flattens them (Grammar.swift):
// every used rule defined, a `root`, no left recursion (which would make the matcher's expansion
// loop forever, so llama.cpp refuses it too).

struct GrammarBuilder {
    private(set) var names: [String] = []
    private var ids: [String: Int32] = [:]
    private var bodies: [[[GrammarSymbol]]?] = []
    private var sets: [CodepointSet] = []
    private var setIDs: [CodepointSet: Int32] = [:]
    /// Symbols defined so far (each alternative counts its closing `.end`).
    private(set) var symbolCount = 0

    mutating func id(of name: String) -> Int32 {
        if let id = ids[name] { return id }
        let id = Int32(names.count)
        names.append(name)
        ids[name] = id
        bodies.append(nil)
        return id
    }

    /// A new rule for a group or repetition inside `base`. Its name holds '_', which no rule of
    /// the text can (names are [a-zA-Z0-9-]+), so it never collides.
    mutating func fresh(base: String) -> Int32 { id(of: "\(base)_\(names.count)") }

    mutating func set(_ s: CodepointSet) -> Int32 {
        if let id = setIDs[s] { return id }
        let id = Int32(sets.count)
        sets.append(s)
        setIDs[s] = id
        return id
    }

    /// Defines rule `id`; false if it already has a definition.
    mutating func define(_ id: Int32, _ alternatives: [[GrammarSymbol]]) -> Bool {
        guard bodies[Int(id)] == nil else { return false }
        bodies[Int(id)] = alternatives
        symbolCount += alternatives.reduce(0) { $0 + $1.count + 1 }
        return true
    }

    /// Rewrites the item seq[from...] as `min` to `max` (nil: unbounded) copies of itself.
    mutating func repeatItem(in seq: inout [GrammarSymbol], from: Int, min: Int, max: Int?, ruleName: String) throws {
        let item = Array(seq[from...])
        let copies = Swift.max(min, max ?? 1)
        guard item.count * copies <= Grammar.maxSymbols, symbolCount + item.count * copies <= Grammar.maxSymbols else {
            throw GrammarError("the grammar expands to more than \(Grammar.maxSymbols) symbols")
        }
        if min == 0 {
            seq.removeSubrange(from...)
        } else {
            for _ in 1..<min { seq += item }
        }
        if max == nil {
            // S' ::= S S' |
            let r = fresh(base: ruleName)
            _ = define(r, [item + [.rule(r)], []])
            seq.append(.rule(r))
        } else if let max, max > min {
            // S'(1) ::= S | ;  S'(i) ::= S S'(i-1) |
            var last: Int32 = -1
            for i in 0..<(max - min) {
                let r = fresh(base: ruleName)
                _ = define(r, [item + (i > 0 ? [.rule(last)] : []), []])
                last = r
            }
            seq.append(.rule(last))
        }
    }

    /// How a rule is named in an error: a generated rule by the rule it was written in.
    private func display(_ id: Int) -> String {
        let name = names[id]
        if let cut = name.firstIndex(of: "_") { return "'\(name[..<cut])' (in a group or repetition)" }
        return "'\(name)'"
    }

    func build(root: String) throws -> Grammar {
        guard let rootID = ids[root], bodies[Int(rootID)] != nil else {
            throw GrammarError("the grammar has no '\(root)' rule")
        }
        for (id, body) in bodies.enumerated() where body == nil {
            throw GrammarError("the rule '\(names[id])' is used but never defined")
        }
        let rules = bodies.map { $0! }
        try checkLeftRecursion(rules)
        var symbols: [GrammarSymbol] = []
        symbols.reserveCapacity(symbolCount)
        var compiled: [Grammar.Rule] = []
        for (id, alternatives) in rules.enumerated() {
            var starts: [Int32] = []
            for alt in alternatives {
                starts.append(Int32(symbols.count))
                symbols += alt
                symbols.append(.end)
            }
            compiled.append(Grammar.Rule(name: names[id], alternatives: starts))
        }
        return Grammar(symbols: symbols, sets: sets, rules: compiled, root: rootID)
    }

    /// A rule is left-recursive if it can reach itself as the first symbol of an alternative,
    /// possibly after rules that can match nothing.
    private func checkLeftRecursion(_ rules: [[[GrammarSymbol]]]) throws {
        var nullable = [Bool](repeating: false, count: rules.count)
        var changed = true
        while changed {
            changed = false
            for (id, alternatives) in rules.enumerated() where !nullable[id] {
                let canBeEmpty = alternatives.contains { alt in
                    alt.allSatisfy { if case let .rule(r) = $0 { return nullable[Int(r)] } else { return false } }
                }
                if canBeEmpty { nullable[id] = true; changed = true }
            }
        }
        var leading = [[Int]](repeating: [], count: rules.count)
        for (id, alternatives) in rules.enumerated() {
            for alt in alternatives {
                for symbol in alt {
                    guard case let .rule(r) = symbol else { break }
                    leading[id].append(Int(r))
                    if !nullable[Int(r)] { break }
                }
            }
        }
        // Depth-first search for a cycle (0 unseen, 1 on the path, 2 done), iterative so a deep
        // grammar cannot exhaust the stack.
        var state = [UInt8](repeating: 0, count: rules.count)
        for start in 0..<rules.count where state[start] == 0 {
            var path: [(rule: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let (rule, next) = path.last {
                if next < leading[rule].count {
                    path[path.count - 1].next += 1
                    let r = leading[rule][next]
                    if state[r] == 1 { throw GrammarError("the rule \(display(r)) is left-recursive") }
                    if state[r] == 0 { state[r] = 1; path.append((r, 0)) }
                } else {
                    state[rule] = 2
                    path.removeLast()
                }
            }
        }
    }
}
