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
        let tailCycles = try checkLeftRecursion(rules)
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
        return Grammar(symbols: symbols, sets: sets, rules: compiled, root: rootID, expandsInCycles: tailCycles)
    }

    /// A rule is left-recursive if it can reach itself as the first symbol of an alternative,
    /// possibly after rules that can match nothing, with something left to match after it: each
    /// turn of such a cycle pushes that rest onto the stack, so expanding it never ends. A cycle
    /// where every step is the last symbol of its alternative (`( [x]* )*` makes one) pushes
    /// nothing; it is allowed, and the matcher then expands with a visited set (llama.cpp
    /// accepts that grammar too). Returns whether such a cycle exists.
    private func checkLeftRecursion(_ rules: [[[GrammarSymbol]]]) throws -> Bool {
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
        // Edges to the rules an alternative can start with; `tail`: nothing follows it there.
        var leading = [[(rule: Int, tail: Bool)]](repeating: [], count: rules.count)
        for (id, alternatives) in rules.enumerated() {
            for alt in alternatives {
                for (i, symbol) in alt.enumerated() {
                    guard case let .rule(r) = symbol else { break }
                    leading[id].append((Int(r), i == alt.count - 1))
                    if !nullable[Int(r)] { break }
                }
            }
        }
        let component = Self.stronglyConnectedComponents(leading.map { $0.map(\.rule) })
        var tailCycle = false
        for (u, edges) in leading.enumerated() {
            for (v, tail) in edges where component[u] == component[v] {
                if !tail { throw GrammarError("the rule \(display(v)) is left-recursive") }
                tailCycle = true
            }
        }
        return tailCycle
    }

    /// Tarjan's algorithm, iterative (a deep grammar must not exhaust the stack): the component
    /// number of every node.
    static func stronglyConnectedComponents(_ edges: [[Int]]) -> [Int] {
        let n = edges.count
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n), component = [Int](repeating: -1, count: n)
        var stack: [Int] = [], counter = 0, components = 0
        for start in 0..<n where index[start] < 0 {
            var frames: [(node: Int, next: Int)] = [(start, 0)]
            index[start] = counter; low[start] = counter; counter += 1
            stack.append(start); onStack[start] = true
            while let (u, next) = frames.last {
                if next < edges[u].count {
                    frames[frames.count - 1].next += 1
                    let v = edges[u][next]
                    if index[v] < 0 {
                        index[v] = counter; low[v] = counter; counter += 1
                        stack.append(v); onStack[v] = true
                        frames.append((v, 0))
                    } else if onStack[v] {
                        low[u] = min(low[u], index[v])
                    }
                } else {
                    frames.removeLast()
                    if let parent = frames.last { low[parent.node] = min(low[parent.node], low[u]) }
                    if low[u] == index[u] {
                        while let w = stack.popLast() {
                            onStack[w] = false
                            component[w] = components
                            if w == u { break }
                        }
                        components += 1
                    }
                }
            }
        }
        return component
    }
}
