// Writes GBNF text: named rules (each distinct body defined once), escaped literals, and the
// JSON building blocks the schema converter (JSONSchemaGrammar.swift) and `format: "json"` use.

struct GBNFWriter {
    private(set) var rules: [(name: String, body: String)] = []
    private var byBody: [String: String] = [:]
    private var names: Set<String> = []

    /// The text of the grammar, `root` first.
    var text: String {
        let ordered = rules.filter { $0.name == "root" } + rules.filter { $0.name != "root" }
        return ordered.map { "\($0.name) ::= \($0.body)" }.joined(separator: "\n") + "\n"
    }

    /// A rule name from `hint`: only [a-zA-Z0-9-], unique.
    mutating func reserve(_ hint: String) -> String {
        var base = String(hint.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
        if base.isEmpty { base = "rule" }
        var name = base, n = 1
        while names.contains(name) { n += 1; name = "\(base)-\(n)" }
        names.insert(name)
        return name
    }

    /// Defines a reserved name.
    mutating func define(_ name: String, _ body: String) {
        rules.append((name, body))
        byBody[body] = byBody[body] ?? name
    }

    /// A rule with this body: an existing one if the body was seen, else a new one named `hint`.
    mutating func rule(_ hint: String, _ body: String) -> String {
        if let name = byBody[body] { return name }
        let name = reserve(hint)
        define(name, body)
        return name
    }

    /// The same text without the whitespace after it: after the outermost value only an end of
    /// generation may come, so a model cannot pad its answer (and stops as soon as it is whole).
    /// `body` is a rule body; each of its alternatives loses a last `space`, and a rule it
    /// consists of gets a copy that does the same.
    mutating func withoutTrailingSpace(_ body: String, depth: Int = 0) -> String {
        let space = jsonPrimitive("space")
        let alternatives = Self.splitAlternatives(body).map { alt -> String in
            var a = alt.trimmingSpaces()
            if a.hasSuffix(" \(space)") { return String(a.dropLast(space.count + 1)) }
            // A single rule name: strip inside a copy of that rule.
            if depth < 8, !a.contains(" "), let named = rules.first(where: { $0.name == a }) {
                let stripped = withoutTrailingSpace(named.body, depth: depth + 1)
                a = self.rule(a + "-end", stripped)
            }
            return a
        }
        return alternatives.joined(separator: " | ")
    }

    /// The top-level alternatives of a rule body (outside quotes, classes and parentheses).
    static func splitAlternatives(_ body: String) -> [String] {
        var parts: [String] = [], current = "", depth = 0, inQuote = false, inClass = false, escaped = false
        for ch in body {
            if escaped { current.append(ch); escaped = false; continue }
            if ch == "\\" && (inQuote || inClass) { current.append(ch); escaped = true; continue }
            if inQuote { if ch == "\"" { inQuote = false }; current.append(ch); continue }
            if inClass { if ch == "]" { inClass = false }; current.append(ch); continue }
            switch ch {
            case "\"": inQuote = true
            case "[": inClass = true
            case "(": depth += 1
            case ")": depth -= 1
            case "|" where depth == 0:
                parts.append(current)
                current = ""
                continue
            default: break
            }
            current.append(ch)
        }
        parts.append(current)
        return parts
    }

    /// `s` as a GBNF string literal.
    static func literal(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    out += "\\x" + String(u.value, radix: 16, uppercase: true).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    // MARK: JSON building blocks (RFC 8259), each followed by optional whitespace.

    /// Whitespace between tokens, bounded so a model cannot spend its whole budget on it.
    static let space = #"| " " | "\n"{1,2} [ \t]{0,20}"#

    mutating func jsonPrimitive(_ kind: String) -> String {
        switch kind {
        case "space": return rule("space", Self.space)
        case "char": return rule("char", #"[^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" [0-9a-fA-F]{4})"#)
        case "string": return rule("string", "\"\\\"\" \(jsonPrimitive("char"))* \"\\\"\" \(jsonPrimitive("space"))")
        case "integral-part": return rule("integral-part", "[0] | [1-9] [0-9]{0,15}")
        case "number":
            return rule("number", "\"-\"? \(jsonPrimitive("integral-part")) (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,16})? \(jsonPrimitive("space"))")
        case "integer": return rule("integer", "\"-\"? \(jsonPrimitive("integral-part")) \(jsonPrimitive("space"))")
        case "boolean": return rule("boolean", "(\"true\" | \"false\") \(jsonPrimitive("space"))")
        case "null": return rule("null", "\"null\" \(jsonPrimitive("space"))")
        default: // "value": any JSON value; object and array refer back to it.
            if let name = rules.first(where: { $0.name == "value" })?.name { return name }
            let value = reserve("value"), object = reserve("object"), array = reserve("array")
            let s = jsonPrimitive("space"), str = jsonPrimitive("string")
            define(object, "\"{\" \(s) (\(str) \":\" \(s) \(value) (\",\" \(s) \(str) \":\" \(s) \(value))*)? \"}\" \(s)")
            define(array, "\"[\" \(s) (\(value) (\",\" \(s) \(value))*)? \"]\" \(s)")
            define(value, "\(object) | \(array) | \(str) | \(jsonPrimitive("number")) | \(jsonPrimitive("boolean")) | \(jsonPrimitive("null"))")
            return value
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
