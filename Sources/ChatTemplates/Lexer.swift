// Splits a template into tokens the way jinja2's lexer does with Hugging Face's settings
// (trim_blocks=True, lstrip_blocks=True): text runs, `{{ }}`, `{% %}`, and comments `{# #}`,
// which are dropped. Whitespace control happens here, because it depends only on the source:
//   - `{%-`, `{{-`, `{#-` strip all whitespace (newlines too) before the tag;
//     `-%}`, `-}}`, `-#}` strip all whitespace after it.
//   - lstrip_blocks: whitespace between the start of a line and `{%` or `{#` is dropped (never
//     before `{{`); `{%+` keeps it.
//   - trim_blocks: the first newline after `%}` or `#}` is dropped (never after `}}`); `+%}` keeps it.
// Inside a tag, end delimiters only count when every bracket opened in the tag is closed, so
// `{{ {'a': {'b': 1}}}}` ends at the last `}}`, as in jinja2.

struct Lexer {
    let source: TemplateSource
    var bytes: [UInt8] { source.bytes }
    var pos = 0
    private(set) var tokens: [Token] = []
    /// Whether `pos` is at the start of a line: at the beginning, or after a tag whose closing
    /// match ended with a newline. lstrip_blocks applies to text without a newline only then.
    private var lineStarting = true

    static func tokenize(_ source: TemplateSource) throws -> [Token] {
        var lexer = Lexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    private init(source: TemplateSource) {
        self.source = source
    }

    private enum TagKind { case variable, block, comment }

    private mutating func run() throws {
        while pos < bytes.count {
            guard let (start, kind) = nextTagStart() else {
                emitText(pos..<bytes.count)
                break
            }
            let signAt = start + 2
            let sign: UInt8? = signAt < bytes.count && (bytes[signAt] == UInt8(ascii: "-") || bytes[signAt] == UInt8(ascii: "+"))
                ? bytes[signAt] : nil
            var textEnd = start
            if sign == UInt8(ascii: "-") {
                textEnd = UTF8Scanning.trailingSpaceStart(bytes, from: pos, to: start)
            } else if sign == nil && kind != .variable {
                textEnd = lstripped(pos..<start)
            }
            emitText(pos..<textEnd)
            pos = signAt + (sign == nil ? 0 : 1)
            switch kind {
            case .comment:
                try skipComment(openedAt: start)
            case .block:
                try rejectRaw(openedAt: start)
                tokens.append(Token(kind: .blockBegin, offset: start))
                try lexTagBody(block: true, openedAt: start)
            case .variable:
                tokens.append(Token(kind: .variableBegin, offset: start))
                try lexTagBody(block: false, openedAt: start)
            }
        }
        tokens.append(Token(kind: .end, offset: bytes.count))
    }

    /// The next `{{`, `{%` or `{#` at or after `pos`.
    private func nextTagStart() -> (Int, TagKind)? {
        var i = pos
        let n = bytes.count
        while i + 1 < n {
            if bytes[i] == UInt8(ascii: "{") {
                switch bytes[i + 1] {
                case UInt8(ascii: "{"): return (i, .variable)
                case UInt8(ascii: "%"): return (i, .block)
                case UInt8(ascii: "#"): return (i, .comment)
                default: break
                }
            }
            i += 1
        }
        return nil
    }

    /// lstrip_blocks: the end of `range` with the whitespace-only tail of its last line removed,
    /// when that tail starts a line.
    private func lstripped(_ range: Range<Int>) -> Int {
        var lineStart = range.upperBound
        while lineStart > range.lowerBound && bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
        guard lineStart > range.lowerBound || lineStarting else { return range.upperBound }
        guard UTF8Scanning.skipSpace(bytes, from: lineStart) >= range.upperBound else { return range.upperBound }
        return lineStart
    }

    private mutating func emitText(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        tokens.append(Token(kind: .text(source.text(range)), offset: range.lowerBound))
    }

    /// Skips to the end of a comment: the first `+#}`, `-#}` or `#}`.
    private mutating func skipComment(openedAt start: Int) throws {
        var i = pos
        while i + 1 < bytes.count {
            let b = bytes[i]
            if (b == UInt8(ascii: "-") || b == UInt8(ascii: "+")) && i + 2 < bytes.count
                && bytes[i + 1] == UInt8(ascii: "#") && bytes[i + 2] == UInt8(ascii: "}") {
                pos = i + 3
                finishTag(stripAfter: b == UInt8(ascii: "-"), keep: b == UInt8(ascii: "+"), trims: true)
                return
            }
            if b == UInt8(ascii: "#") && bytes[i + 1] == UInt8(ascii: "}") {
                pos = i + 2
                finishTag(stripAfter: false, keep: false, trims: true)
                return
            }
            i += 1
        }
        throw TemplateError.syntax("missing end of comment tag", at: source.location(of: start))
    }

    /// After a closing delimiter at `pos`: `-` strips all following whitespace; otherwise
    /// trim_blocks drops one newline after blocks and comments unless `+` asked to keep it.
    private mutating func finishTag(stripAfter: Bool, keep: Bool, trims: Bool) {
        if stripAfter {
            let end = UTF8Scanning.skipSpace(bytes, from: pos)
            lineStarting = end > pos ? bytes[UTF8Scanning.previousScalarStart(before: end, in: bytes)] == 0x0A : false
            pos = end
        } else if trims && !keep && pos < bytes.count && bytes[pos] == 0x0A {
            pos += 1
            lineStarting = true
        } else {
            lineStarting = false
        }
    }

    /// `{% raw %}` would need its own lexing state; say so rather than misread its body.
    private func rejectRaw(openedAt start: Int) throws {
        let i = UTF8Scanning.skipSpace(bytes, from: pos)
        guard i + 3 <= bytes.count, bytes[i..<i + 3].elementsEqual("raw".utf8) else { return }
        if i + 3 == bytes.count || !Self.isNameByte(bytes[i + 3]) {
            throw TemplateError.unsupported("the {% raw %} block", at: source.location(of: start))
        }
    }

    /// Tokens up to the closing `}}` or `%}`.
    private mutating func lexTagBody(block: Bool, openedAt start: Int) throws {
        var brackets: [UInt8] = []
        let closer = block ? UInt8(ascii: "%") : UInt8(ascii: "}")
        while true {
            guard pos < bytes.count else {
                let what = block ? "'%}'" : "'}}'"
                throw TemplateError.syntax("tag is never closed (expected \(what))", at: source.location(of: start))
            }
            if brackets.isEmpty, let close = closingDelimiter(closer) {
                tokens.append(Token(kind: block ? .blockEnd : .variableEnd, offset: pos))
                pos += close.length
                finishTag(stripAfter: close.strip, keep: close.keep, trims: block)
                return
            }
            let (scalar, length) = UTF8Scanning.scalar(at: pos, in: bytes)
            if UTF8Scanning.isSpace(scalar) {
                pos += length
                continue
            }
            let token = try lexToken()
            if case .op(let o) = token.kind {
                try balance(o, at: token.offset, brackets: &brackets)
            }
            tokens.append(token)
        }
    }

    /// `-%}` / `+%}` / `%}` (or `-}}` / `}}`) at `pos`, with its length.
    private func closingDelimiter(_ closer: UInt8) -> (length: Int, strip: Bool, keep: Bool)? {
        func closes(at i: Int) -> Bool {
            i + 1 < bytes.count && bytes[i] == closer && bytes[i + 1] == UInt8(ascii: "}")
        }
        let b = bytes[pos]
        if b == UInt8(ascii: "-") && closes(at: pos + 1) { return (3, true, false) }
        if b == UInt8(ascii: "+") && closer == UInt8(ascii: "%") && closes(at: pos + 1) { return (3, false, true) }
        if closes(at: pos) { return (2, false, false) }
        return nil
    }

    /// Tracks the brackets open in a tag; `brackets` holds the closer each one expects.
    private func balance(_ o: String, at offset: Int, brackets: inout [UInt8]) throws {
        let open: [String: UInt8] = ["(": UInt8(ascii: ")"), "[": UInt8(ascii: "]"), "{": UInt8(ascii: "}")]
        if let close = open[o] {
            brackets.append(close)
        } else if o == ")" || o == "]" || o == "}" {
            guard let expected = brackets.popLast() else {
                throw TemplateError.syntax("unexpected '\(o)'", at: source.location(of: offset))
            }
            if Array(o.utf8)[0] != expected {
                throw TemplateError.syntax("unexpected '\(o)', expected '\(Character(Unicode.Scalar(expected)))'",
                                           at: source.location(of: offset))
            }
        }
    }

    func syntaxError(_ message: String, at offset: Int) -> TemplateError {
        .syntax(message, at: source.location(of: offset))
    }
}
