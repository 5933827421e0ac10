// GBNF, llama.cpp's grammar notation (the de facto standard for constrained decoding), parsed
// into a Grammar. The accepted syntax is llama.cpp's (llama-grammar.cpp, read for reference):
//   rule     ::= name "::=" alternates (newline | end)
//   name     = [a-zA-Z0-9-]+
//   item     = "literal" | [class] | [^class] | . | name | ( alternates ) , then any of
//              * + ? {m} {m,} {m,n} {,n}
//   escapes  = \x.. \u.... \U........ \t \r \n \\ \" \[ \] \-
//   # comments run to the end of the line; newlines may appear after "::=", after "|" and inside
//   parentheses, and nowhere else within a rule.
// Repetitions become helper rules the way llama.cpp rewrites them (S{m,n} is m copies of S, then
// n-m nested optional copies; S* is S' ::= S S' | ), so the languages are the same. Unlike
// llama.cpp, a rule defined twice is refused rather than silently replaced, and token references
// (<[id]>, <text>, !<...>) are refused by name: they match tokens, not text, which nothing else
// here does yet.

public enum GBNF {
    /// The largest grammar text accepted.
    public static let maxSourceBytes = 1 << 20

    public static func parse(_ text: String) throws -> Grammar {
        guard text.utf8.count <= maxSourceBytes else {
            throw GrammarError("the grammar is \(text.utf8.count) bytes; at most \(maxSourceBytes) are accepted")
        }
        var parser = GBNFParser(source: Array(text.utf8))
        return try parser.parse()
    }
}

struct GBNFParser {
    let src: [UInt8]
    var pos = 0
    var builder = GrammarBuilder()

    init(source: [UInt8]) { src = source }

    var current: UInt8 { pos < src.count ? src[pos] : 0 }
    func peek(_ offset: Int) -> UInt8 { pos + offset < src.count ? src[pos + offset] : 0 }

    func error(_ message: String, at position: Int? = nil) -> GrammarError {
        let at = min(position ?? pos, src.count)
        var line = 1, column = 1, i = 0
        while i < at {
            if src[i] == UInt8(ascii: "\n") { line += 1; column = 1 }
            else if src[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return GrammarError(message, line: line, column: column)
    }

    static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-")
    }
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    mutating func parse() throws -> Grammar {
        skipSpace(newlines: true)
        while pos < src.count { try parseRule() }
        return try builder.build(root: "root")
    }

    mutating func skipSpace(newlines: Bool) {
        while pos < src.count {
            let c = src[pos]
            if c == UInt8(ascii: "#") {
                while pos < src.count, src[pos] != UInt8(ascii: "\n"), src[pos] != UInt8(ascii: "\r") { pos += 1 }
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || (newlines && (c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r"))) {
                pos += 1
            } else {
                return
            }
        }
    }

    mutating func parseName() throws -> String {
        let start = pos
        while pos < src.count, Self.isWordByte(src[pos]) { pos += 1 }
        if pos == start { throw error("expected a rule name") }
        return String(decoding: src[start..<pos], as: UTF8.self)
    }

    mutating func parseRule() throws {
        let start = pos
        let name = try parseName()
        skipSpace(newlines: false)
        guard current == UInt8(ascii: ":"), peek(1) == UInt8(ascii: ":"), peek(2) == UInt8(ascii: "=") else {
            throw error("expected '::=' after the rule name '\(name)'")
        }
        pos += 3
        skipSpace(newlines: true)
        let id = builder.id(of: name)
        let alternatives = try parseAlternates(ruleName: name, nested: false)
        guard builder.define(id, alternatives) else { throw error("the rule '\(name)' is defined twice", at: start) }
        if current == UInt8(ascii: "\r") {
            pos += peek(1) == UInt8(ascii: "\n") ? 2 : 1
        } else if current == UInt8(ascii: "\n") {
            pos += 1
        } else if pos < src.count {
            throw error("expected the end of the line after the rule '\(name)'")
        }
        skipSpace(newlines: true)
    }

    mutating func parseAlternates(ruleName: String, nested: Bool) throws -> [[GrammarSymbol]] {
        var alternatives = [try parseSequence(ruleName: ruleName, nested: nested)]
        while current == UInt8(ascii: "|") {
            pos += 1
            skipSpace(newlines: true)
            alternatives.append(try parseSequence(ruleName: ruleName, nested: nested))
        }
        return alternatives
    }

    mutating func parseSequence(ruleName: String, nested: Bool) throws -> [GrammarSymbol] {
        var seq: [GrammarSymbol] = []
        var lastStart = 0
        func repeatLast(_ min: Int, _ max: Int?, at start: Int) throws {
            guard lastStart < seq.count else { throw error("a repetition needs an item before it", at: start) }
            try builder.repeatItem(in: &seq, from: lastStart, min: min, max: max, ruleName: ruleName)
        }
        while pos < src.count {
            let c = current, start = pos
            if c == UInt8(ascii: "\"") {
                pos += 1
                lastStart = seq.count
                while current != UInt8(ascii: "\"") {
                    if pos >= src.count { throw error("unterminated string literal", at: start) }
                    let cp = try parseChar()
                    seq.append(.chars(builder.set(CodepointSet(normalizing: [cp...cp]))))
                }
                pos += 1
            } else if c == UInt8(ascii: "[") {
                pos += 1
                var negated = false
                if current == UInt8(ascii: "^") { negated = true; pos += 1 }
                var ranges: [ClosedRange<UInt32>] = []
                while current != UInt8(ascii: "]") {
                    if pos >= src.count { throw error("unterminated character class", at: start) }
                    let lo = try parseChar()
                    if current == UInt8(ascii: "-"), peek(1) != UInt8(ascii: "]") {
                        pos += 1
                        if pos >= src.count { throw error("unterminated character class", at: start) }
                        let hi = try parseChar()
                        if hi >= lo { ranges.append(lo...hi) }  // an inverted range matches nothing, as in llama.cpp
                    } else {
                        ranges.append(lo...lo)
                    }
                }
                pos += 1
                lastStart = seq.count
                seq.append(.chars(builder.set(CodepointSet(normalizing: ranges, negated: negated))))
            } else if c == UInt8(ascii: "<") || c == UInt8(ascii: "!") {
                throw error("token references (<[id]>, <text>, !<...>) are not supported: write the text the token stands for")
            } else if Self.isWordByte(c) {
                let name = try parseName()
                lastStart = seq.count
                seq.append(.rule(builder.id(of: name)))
            } else if c == UInt8(ascii: "(") {
                pos += 1
                skipSpace(newlines: true)
                let sub = builder.fresh(base: ruleName)
                let alternatives = try parseAlternates(ruleName: ruleName, nested: true)
                guard current == UInt8(ascii: ")") else { throw error("expected ')' to close the group opened", at: start) }
                pos += 1
                _ = builder.define(sub, alternatives)
                lastStart = seq.count
                seq.append(.rule(sub))
            } else if c == UInt8(ascii: ".") {
                pos += 1
                lastStart = seq.count
                seq.append(.chars(builder.set(.all)))
            } else if c == UInt8(ascii: "*") {
                pos += 1
                try repeatLast(0, nil, at: start)
            } else if c == UInt8(ascii: "+") {
                pos += 1
                try repeatLast(1, nil, at: start)
            } else if c == UInt8(ascii: "?") {
                pos += 1
                try repeatLast(0, 1, at: start)
            } else if c == UInt8(ascii: "{") {
                pos += 1
                skipSpace(newlines: nested)
                let (min, max) = try parseBraces(start: start, nested: nested)
                try repeatLast(min, max, at: start)
            } else {
                break
            }
            skipSpace(newlines: nested)
            if builder.symbolCount > Grammar.maxSymbols {
                throw error("the grammar expands to more than \(Grammar.maxSymbols) symbols")
            }
        }
        return seq
    }

    /// `{m}`, `{m,}`, `{m,n}` after the `{`; nil max: unbounded.
    mutating func parseBraces(start: Int, nested: Bool) throws -> (Int, Int?) {
        func integer() throws -> Int {
            let s = pos
            while pos < src.count, Self.isDigit(src[pos]) { pos += 1 }
            if pos == s { throw error("expected an integer in the repetition") }
            // More digits than any accepted bound: refuse rather than overflow.
            guard pos - s <= 9, let n = Int(String(decoding: src[s..<pos], as: UTF8.self)) else {
                throw error("repetition count out of range", at: s)
            }
            return n
        }
        let min = try integer()
        skipSpace(newlines: nested)
        var max: Int? = min
        if current == UInt8(ascii: ",") {
            pos += 1
            skipSpace(newlines: nested)
            max = nil
            if Self.isDigit(current) {
                max = try integer()
                skipSpace(newlines: nested)
            }
        }
        guard current == UInt8(ascii: "}") else { throw error("expected '}' to close the repetition", at: start) }
        pos += 1
        if min > Grammar.maxRepetition { throw error("repetition count \(min) exceeds \(Grammar.maxRepetition)", at: start) }
        if let m = max, m < min { throw error("repetition {\(min),\(m)} has its maximum below its minimum", at: start) }
        // As llama.cpp: an upper bound past the threshold means no bound.
        if let m = max, m > Grammar.maxRepetition { max = nil }
        return (min, max)
    }

    /// One character of a literal or class, escapes resolved.
    mutating func parseChar() throws -> UInt32 {
        let start = pos
        if current == UInt8(ascii: "\\") {
            let e = peek(1)
            pos += 2
            switch e {
            case UInt8(ascii: "x"): return try hex(2, start)
            case UInt8(ascii: "u"): return try hex(4, start)
            case UInt8(ascii: "U"): return try hex(8, start)
            case UInt8(ascii: "t"): return 9
            case UInt8(ascii: "r"): return 13
            case UInt8(ascii: "n"): return 10
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "-"):
                return UInt32(e)
            default:
                throw error("unknown escape", at: start)
            }
        }
        // One UTF-8 character (the source is valid UTF-8: it came from a String).
        let b0 = src[pos]
        let length = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
        var cp = UInt32(length == 1 ? b0 : b0 & (0xFF >> (length + 1)))
        for i in 1..<length where pos + i < src.count { cp = cp << 6 | UInt32(src[pos + i] & 0x3F) }
        pos += length
        return cp
    }

    mutating func hex(_ digits: Int, _ start: Int) throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<digits {
            let c = current
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw error("expected \(digits) hex digits", at: start)
            }
            v = v << 4 | d
            pos += 1
        }
        guard v <= CodepointSet.maxCodepoint else { throw error("code point \(v) is beyond U+10FFFF", at: start) }
        return v
    }
}
