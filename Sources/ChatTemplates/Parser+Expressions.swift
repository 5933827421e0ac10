// Expressions, with jinja2's grammar and precedence, loosest first:
//   tuple `a, b` > `x if c else y` > `or` > `and` > `not` > comparisons (`==` ... `in`, `not in`,
//   chained as in Python) > `+ -` > `~` > `* / // %` > `**` (left-associative, as in jinja2) >
//   unary `- +` > primary with postfix `.attr`, `[i]`, `[a:b:c]`, `(args)`, then `|filter` and
//   `is test`. Filter and test names are checked here: jinja2 also refuses unknown ones at load.

extension Parser {
    private mutating func make(_ kind: Expr.Kind, at offset: Int) throws -> Expr {
        let e = Expr(kind, at: offset)
        guard e.depth <= Self.maxExpressionDepth else { throw fail("expression nests too deeply", at: offset) }
        return e
    }

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd: return true
        case .op(let o): return o == ")"
        case .name(let n): return extraEnd.contains(n)
        default: return false
        }
    }

    /// Expressions separated by commas: one expression, or a tuple when there is a comma.
    mutating func parseTuple(withCondition: Bool = true, extraEnd: Set<String> = [],
                             parenthesised: Bool = false) throws -> Expr {
        let start = current.offset
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
            if current.isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if items.count == 1 { return items[0] }
            if !parenthesised { throw fail("expected an expression, got '\(current.describe)'") }
        }
        return try make(.tuple(items), at: start)
    }

    /// `a if c else b`; without `else` the result is undefined when `c` is false.
    mutating func parseExpression() throws -> Expr {
        var e = try parseOr()
        while current.isName("if") {
            let at = current.offset
            advance()
            let test = try parseOr()
            var otherwise: Expr?
            if current.isName("else") {
                advance()
                otherwise = try parseExpression()
            }
            e = try make(.conditional(test: test, then: e, otherwise: otherwise), at: at)
        }
        return e
    }

    private mutating func parseOr() throws -> Expr {
        var e = try parseAnd()
        while current.isName("or") {
            let at = current.offset
            advance()
            e = try make(.or(e, try parseAnd()), at: at)
        }
        return e
    }

    private mutating func parseAnd() throws -> Expr {
        var e = try parseNot()
        while current.isName("and") {
            let at = current.offset
            advance()
            e = try make(.and(e, try parseNot()), at: at)
        }
        return e
    }

    private mutating func parseNot() throws -> Expr {
        guard current.isName("not") else { return try parseCompare() }
        let at = current.offset
        try enterNesting()
        defer { nesting -= 1 }
        advance()
        return try make(.not(try parseNot()), at: at)
    }

    private mutating func enterNesting() throws {
        nesting += 1
        if nesting > Self.maxNesting { throw fail("expression nests too deeply") }
    }

    private mutating func parseCompare() throws -> Expr {
        let at = current.offset
        let first = try parseMath1()
        var operations: [(CompareOperator, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = CompareOperator(rawValue: o), op != .contains, op != .notContains {
                advance()
                operations.append((op, try parseMath1()))
            } else if current.isName("in") {
                advance()
                operations.append((.contains, try parseMath1()))
            } else if current.isName("not") && tokens[index + 1].isName("in") {
                advance()
                advance()
                operations.append((.notContains, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : try make(.compare(first, operations), at: at)
    }

    /// One left-associative level of binary operators.
    private mutating func parseBinary(_ operators: [String], next: (inout Parser) throws -> Expr) throws -> Expr {
        var e = try next(&self)
        while case .op(let o) = current.kind, operators.contains(o), let op = BinaryOperator(rawValue: o) {
            let at = current.offset
            advance()
            e = try make(.binary(op, e, try next(&self)), at: at)
        }
        return e
    }

    private mutating func parseMath1() throws -> Expr {
        try parseBinary(["+", "-"]) { try $0.parseConcat() }
    }

    private mutating func parseConcat() throws -> Expr {
        try parseBinary(["~"]) { try $0.parseMath2() }
    }

    private mutating func parseMath2() throws -> Expr {
        try parseBinary(["*", "/", "//", "%"]) { try $0.parsePower() }
    }

    private mutating func parsePower() throws -> Expr {
        try parseBinary(["**"]) { try $0.parseUnary(withFilters: true) }
    }

    private mutating func parseUnary(withFilters: Bool) throws -> Expr {
        try enterNesting()
        defer { nesting -= 1 }
        let at = current.offset
        var e: Expr
        if current.isOp("-") {
            advance()
            e = try make(.negate(try parseUnary(withFilters: false)), at: at)
        } else if current.isOp("+") {
            advance()
            e = try make(.plus(try parseUnary(withFilters: false)), at: at)
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        return withFilters ? try parseFiltersAndTests(e) : e
    }

    private mutating func parsePrimary() throws -> Expr {
        let at = current.offset
        switch current.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return try make(.constant(.bool(true)), at: at)
            case "false", "False": return try make(.constant(.bool(false)), at: at)
            case "none", "None": return try make(.constant(.none), at: at)
            default: return try make(.name(n), at: at)
            }
        case .string(var s):
            advance()
            // Adjacent string literals join, as in Python.
            while case .string(let more) = current.kind {
                s += more
                advance()
            }
            return try make(.constant(.string(s)), at: at)
        case .integer(let i):
            advance()
            return try make(.constant(.int(i)), at: at)
        case .float(let d):
            advance()
            return try make(.constant(.double(d)), at: at)
        case .op("("):
            advance()
            let e = try parseTuple(parenthesised: true)
            try expectOp(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !current.isOp("]") {
                if !items.isEmpty {
                    try expectOp(",")
                    if current.isOp("]") { break }
                }
                items.append(try parseExpression())
            }
            advance()
            return try make(.list(items), at: at)
        case .op("{"):
            advance()
            var entries: [DictEntry] = []
            while !current.isOp("}") {
                if !entries.isEmpty {
                    try expectOp(",")
                    if current.isOp("}") { break }
                }
                let key = try parseExpression()
                try expectOp(":")
                entries.append(DictEntry(key: key, value: try parseExpression()))
            }
            advance()
            return try make(.dict(entries), at: at)
        default:
            throw fail("unexpected '\(current.describe)'")
        }
    }

    private mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            let at = current.offset
            if current.isOp(".") {
                advance()
                switch current.kind {
                case .name(let n):
                    advance()
                    e = try make(.attribute(e, n), at: at)
                case .integer(let i):
                    advance()
                    e = try make(.item(e, try make(.constant(.int(i)), at: at)), at: at)
                default:
                    throw fail("expected name or number after '.'")
                }
            } else if current.isOp("[") {
                advance()
                e = try parseSubscript(e, at: at)
            } else if current.isOp("(") {
                e = try make(.call(e, try parseArguments()), at: at)
            } else {
                return e
            }
        }
    }

    /// After `[`: an index or a slice `start:stop:step` with any part left out.
    private mutating func parseSubscript(_ base: Expr, at: Int) throws -> Expr {
        func part(_ p: inout Parser) throws -> Expr? {
            p.current.isOp(":") || p.current.isOp("]") ? nil : try p.parseExpression()
        }
        let start = try part(&self)
        if let index = start, current.isOp("]") {
            advance()
            return try make(.item(base, index), at: at)
        }
        if current.isOp(",") { throw unsupported("subscripts with several indices") }
        try expectOp(":")
        let stop = try part(&self)
        var step: Expr?
        if current.isOp(":") {
            advance()
            step = try part(&self)
        }
        try expectOp("]")
        return try make(.slice(base, start: start, stop: stop, step: step), at: at)
    }

    /// `(a, b, key=value)`; jinja2's `*args` and `**kwargs` are not supported.
    private mutating func parseArguments() throws -> [Argument] {
        let open = current.offset
        try expectOp("(")
        var arguments: [Argument] = []
        while !current.isOp(")") {
            if !arguments.isEmpty {
                try expectOp(",")
                if current.isOp(")") { break }
            }
            if current.isOp("*") || current.isOp("**") { throw unsupported("*args and **kwargs in calls") }
            if case .name(let n) = current.kind, tokens[index + 1].isOp("=") {
                advance()
                advance()
                arguments.append(Argument(name: n, value: try parseExpression()))
            } else {
                if arguments.contains(where: { $0.name != nil }) {
                    throw fail("positional argument after keyword argument", at: open)
                }
                arguments.append(Argument(name: nil, value: try parseExpression()))
            }
        }
        advance()
        return arguments
    }

    /// A dotted name, as jinja2 allows for filters and tests.
    private mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while current.isOp(".") {
            advance()
            name += "." + (try expectName())
        }
        return name
    }

    /// The filter after `|`.
    mutating func parseFilterCall() throws -> NamedCall {
        let at = current.offset
        let name = try parseDottedName()
        if !Filters.names.contains(name) {
            if Filters.jinjaOnly.contains(name) { throw unsupported("the '\(name)' filter", at: at) }
            throw fail("no filter named '\(name)'", at: at)
        }
        let arguments = current.isOp("(") ? try parseArguments() : []
        return NamedCall(name: name, arguments: arguments, offset: at)
    }

    private mutating func parseFiltersAndTests(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            let at = current.offset
            if current.isOp("|") {
                advance()
                e = try make(.filter(e, try parseFilterCall()), at: at)
            } else if current.isName("is") {
                advance()
                e = try parseTest(e, at: at)
            } else if current.isOp("(") {
                e = try make(.call(e, try parseArguments()), at: at)
            } else {
                return e
            }
        }
    }

    /// `is [not] name`, with arguments in parentheses or one bare argument (`is divisibleby 3`).
    private mutating func parseTest(_ base: Expr, at: Int) throws -> Expr {
        var negated = false
        if current.isName("not") {
            advance()
            negated = true
        }
        let nameAt = current.offset
        let name = try parseDottedName()
        if !Predicates.names.contains(name) {
            if Predicates.jinjaOnly.contains(name) { throw unsupported("the '\(name)' test", at: nameAt) }
            throw fail("no test named '\(name)'", at: nameAt)
        }
        var arguments: [Argument] = []
        if current.isOp("(") {
            arguments = try parseArguments()
        } else if startsBareTestArgument {
            if current.isName("is") { throw fail("tests cannot be chained with 'is'") }
            let argument = try parsePostfix(try parsePrimary())
            arguments = [Argument(name: nil, value: argument)]
        }
        let test = try make(.test(base, NamedCall(name: name, arguments: arguments, offset: nameAt)), at: at)
        return negated ? try make(.not(test), at: at) : test
    }

    private var startsBareTestArgument: Bool {
        switch current.kind {
        case .name(let n): return !["else", "or", "and"].contains(n)
        case .string, .integer, .float: return true
        case .op(let o): return o == "[" || o == "{"
        default: return false
        }
    }
}
