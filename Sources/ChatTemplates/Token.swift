// The tokens the lexer hands the parser, as in jinja2's lexer: text between tags, the tag
// delimiters, and inside tags names, literals and operators. Each token keeps the byte offset
// where it starts, for error locations.

struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// Template text outside tags, already trimmed by whitespace control.
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+ - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }`.
        case op(String)
        case end
    }

    let kind: Kind
    let offset: Int

    /// How jinja2 names the token in its messages ("unexpected 'end of print statement'").
    var describe: String {
        switch kind {
        case .text: return "template data"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let n): return n
        case .string(let s): return "string '\(s.prefix(20))'"
        case .integer(let i): return String(i)
        case .float(let d): return String(d)
        case .op(let o): return o
        case .end: return "end of template"
        }
    }

    func isName(_ n: String) -> Bool { kind == .name(n) }
    func isOp(_ o: String) -> Bool { kind == .op(o) }
}
