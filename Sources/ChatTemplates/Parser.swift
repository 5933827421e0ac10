// Statements: the template body and the tags this subset implements (`if`/`elif`/`else`,
// `for` with a filter and `else`, `set` in its three forms, `macro`, `break`/`continue`).
// Tags jinja2 knows but this subset does not are refused here by name, so an unsupported template
// fails when it is loaded, not halfway through a conversation. Nesting is bounded (statements and
// expressions alike), so hostile templates cannot exhaust the stack.

struct Parser {
    /// Deepest nesting of statements plus parenthesised or unary expressions.
    static let maxNesting = 100
    /// Deepest expression tree, also for left-leaning chains such as `a ~ b ~ c ~ ...`.
    static let maxExpressionDepth = 200

    let tokens: [Token]
    let source: TemplateSource
    var index = 0
    var nesting = 0
    /// Enclosing `for` bodies, for `break` and `continue`.
    var loopDepth = 0

    /// Tags of jinja2 (and its common extensions, and Hugging Face's `generation`) left out.
    private static let unsupportedTags: Set<String> = [
        "block", "extends", "include", "import", "from", "call", "filter", "with", "autoescape",
        "do", "trans", "pluralize", "debug", "generation",
    ]

    private static let closingTags: Set<String> = ["elif", "else", "endif", "endfor", "endset", "endmacro"]

    static func parse(_ source: TemplateSource) throws -> [Node] {
        var parser = Parser(tokens: try Lexer.tokenize(source), source: source)
        let (nodes, _) = try parser.parseBody(until: [])
        return nodes
    }

    private init(tokens: [Token], source: TemplateSource) {
        self.tokens = tokens
        self.source = source
    }

    var current: Token { tokens[index] }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    func fail(_ message: String, at offset: Int? = nil) -> TemplateError {
        .syntax(message, at: source.location(of: offset ?? current.offset))
    }

    func unsupported(_ what: String, at offset: Int? = nil) -> TemplateError {
        .unsupported(what, at: source.location(of: offset ?? current.offset))
    }

    mutating func expectOp(_ o: String) throws {
        guard current.isOp(o) else { throw fail("expected '\(o)', got '\(current.describe)'") }
        advance()
    }

    mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw fail("expected a name, got '\(current.describe)'") }
        advance()
        return n
    }

    mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else {
            throw fail("expected end of statement block, got '\(current.describe)'")
        }
        advance()
    }

    /// Parses until one of `endTags` opens a block; returns that tag (consumed up to its name)
    /// or nil at the end of the template. `opener` is the tag that needs closing, for the error
    /// when the template ends first.
    mutating func parseBody(until endTags: Set<String>, opener: (tag: String, offset: Int)? = nil) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while true {
            switch current.kind {
            case .text(let s):
                nodes.append(.text(s, offset: current.offset))
                advance()
            case .variableBegin:
                advance()
                let e = try parseTuple()
                guard current.kind == .variableEnd else {
                    throw fail("expected end of print statement, got '\(current.describe)'")
                }
                advance()
                nodes.append(.output(e))
            case .blockBegin:
                let open = current.offset
                advance()
                guard case .name(let tag) = current.kind else { throw fail("expected a tag name, got '\(current.describe)'") }
                if endTags.contains(tag) {
                    advance()
                    return (nodes, tag)
                }
                nodes.append(try parseStatement(tag, openedAt: open))
            case .end:
                if let opener {
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw fail("'\(opener.tag)' is never closed (expected \(expected))", at: opener.offset)
                }
                return (nodes, nil)
            default:
                throw fail("unexpected '\(current.describe)'")
            }
        }
    }

    private mutating func parseStatement(_ tag: String, openedAt open: Int) throws -> Node {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxNesting else { throw fail("statements nest too deeply") }
        let tagOffset = current.offset
        switch tag {
        case "if":
            advance()
            return try parseIf(at: open)
        case "for":
            advance()
            return try parseFor(at: open)
        case "set":
            advance()
            return try parseSet(at: open)
        case "macro":
            advance()
            return try parseMacro(at: open)
        case "break", "continue":
            advance()
            guard loopDepth > 0 else { throw fail("'\(tag)' outside a loop", at: tagOffset) }
            try expectBlockEnd()
            return tag == "break" ? .breakLoop : .continueLoop
        default:
            if Self.unsupportedTags.contains(tag) { throw unsupported("the {% \(tag) %} tag", at: tagOffset) }
            if Self.closingTags.contains(tag) { throw fail("'\(tag)' without an open block it could close", at: tagOffset) }
            throw fail("unknown tag '\(tag)'", at: tagOffset)
        }
    }

    private mutating func parseIf(at open: Int) throws -> Node {
        var branches: [Branch] = []
        var condition = try parseTuple(withCondition: false)
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"], opener: ("if", open))
            branches.append(Branch(condition: condition, body: body))
            switch end {
            case "elif":
                condition = try parseTuple(withCondition: false)
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try parseBody(until: ["endif"], opener: ("if", open))
                try expectBlockEnd()
                return .conditional(branches, otherwise: otherwise)
            default:
                try expectBlockEnd()
                return .conditional(branches, otherwise: [])
            }
        }
    }

    private mutating func parseFor(at open: Int) throws -> Node {
        let target = try parseAssignTarget(namespaceAllowed: false)
        guard current.isName("in") else { throw fail("expected 'in', got '\(current.describe)'") }
        advance()
        let iterable = try parseTuple(withCondition: false, extraEnd: ["recursive"])
        var condition: Expr?
        if current.isName("if") {
            advance()
            condition = try parseExpression()
        }
        if current.isName("recursive") { throw unsupported("recursive for loops") }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try parseBody(until: ["endfor", "else"], opener: ("for", open))
        loopDepth -= 1
        var otherwise: [Node] = []
        if end == "else" {
            try expectBlockEnd()
            (otherwise, _) = try parseBody(until: ["endfor"], opener: ("for", open))
        }
        try expectBlockEnd()
        return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body,
                                otherwise: otherwise, offset: open))
    }

    private mutating func parseSet(at open: Int) throws -> Node {
        let target = try parseAssignTarget(namespaceAllowed: true)
        if current.isOp("=") {
            advance()
            let value = try parseTuple()
            try expectBlockEnd()
            return .assign(target, value, offset: open)
        }
        var filters: [NamedCall] = []
        while current.isOp("|") {
            advance()
            filters.append(try parseFilterCall())
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"], opener: ("set", open))
        try expectBlockEnd()
        return .assignBlock(target, filters: filters, body: body, offset: open)
    }

    /// `name`, `a, b` or `(a, b)`, and with `set` also `ns.attr`.
    private mutating func parseAssignTarget(namespaceAllowed: Bool) throws -> AssignTarget {
        let start = current.offset
        if namespaceAllowed, case .name(let ns) = current.kind, tokens[index + 1].isOp(".") {
            advance()
            advance()
            return .namespaceAttribute(ns, try expectName())
        }
        let parenthesised = current.isOp("(")
        if parenthesised { advance() }
        var names: [String] = []
        var isTuple = parenthesised
        while true {
            guard case .name(let n) = current.kind, !["in", "true", "false", "none", "True", "False", "None"].contains(n) else {
                throw fail("can't assign to '\(current.describe)'")
            }
            names.append(n)
            advance()
            guard current.isOp(",") else { break }
            isTuple = true
            advance()
            if current.isOp("=") || current.isName("in") || current.isOp(")") { break }
        }
        if parenthesised { try expectOp(")") }
        guard isTuple else { return .name(names[0]) }
        guard !names.isEmpty else { throw fail("can't assign to an empty tuple", at: start) }
        return .names(names)
    }

    private mutating func parseMacro(at open: Int) throws -> Node {
        let name = try expectName()
        try expectOp("(")
        var parameters: [(name: String, defaultValue: Expr?)] = []
        while !current.isOp(")") {
            if !parameters.isEmpty {
                try expectOp(",")
                if current.isOp(")") { break }
            }
            let parameter = try expectName()
            var defaultValue: Expr?
            if current.isOp("=") {
                advance()
                defaultValue = try parseExpression()
            } else if parameters.contains(where: { $0.defaultValue != nil }) {
                throw fail("non-default argument follows default argument")
            }
            parameters.append((parameter, defaultValue))
        }
        advance()
        try expectBlockEnd()
        let outerLoops = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endmacro"], opener: ("macro", open))
        loopDepth = outerLoops
        try expectBlockEnd()
        return .macro(MacroDefinition(name: name, parameters: parameters, body: body))
    }
}
