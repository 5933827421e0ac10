// JSON Schema to GBNF: a grammar whose every sentence is a JSON text valid against the schema.
// The grammar is narrower than the schema where that is simpler and still valid: object members
// come in a fixed order (required ones in `required` order, then the optional ones by name, then
// any additional ones), a schema without `additionalProperties` that lists `properties` gets no
// others, numbers have at most 16 digits per part, whitespace is bounded.
//
// Supported: type (one or a list), enum, const, object (properties, required,
// additionalProperties), array (items, prefixItems, minItems, maxItems), string (minLength,
// maxLength, format date/time/date-time/uuid), integer and number (minimum, maximum,
// exclusiveMinimum, exclusiveMaximum; on numbers integer bounds), boolean, null, anyOf, oneOf, $ref to #/$defs/… or
// #/definitions/…. Keywords that would need more are refused by name, with the path of the
// schema that holds them; annotations (title, description, default, examples, ...) and unknown
// keywords are ignored, as JSON Schema itself ignores them.
import ReproJSON

/// A schema the converter refuses: where (a JSON path below the parameter) and why.
public struct JSONSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

public enum JSONSchemaGrammar {
    /// GBNF for any JSON value (`format: "json"`).
    public static func anyJSON() -> String {
        var w = GBNFWriter()
        let root = w.reserve("root")
        w.define(root, w.withoutTrailingSpace(w.jsonPrimitive("value")))
        return w.text
    }

    /// GBNF for the JSON texts valid against `schema`; errors are reported under `path`.
    public static func gbnf(for schema: JSONValue, path: String) throws -> String {
        var c = Converter(root: schema, rootPath: path)
        let root = c.writer.reserve("root")
        let body = try c.visit(schema, path: path, hint: "root")
        c.writer.define(root, c.writer.withoutTrailingSpace(body))
        return c.writer.text
    }

    /// Keywords whose constraint the grammar cannot express (yet); a schema using one is refused.
    static let unsupported: Set<String> = [
        "allOf", "not", "if", "then", "else", "pattern", "patternProperties", "propertyNames", "minProperties",
        "maxProperties", "dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties",
        "unevaluatedItems", "contains", "minContains", "maxContains", "uniqueItems", "multipleOf", "$dynamicRef",
        "$recursiveRef", "contentSchema",
    ]
}

/// Turns one schema into rules of `writer`; several converters may take turns on one writer
/// (ToolCallGrammar.swift puts every tool's arguments in one grammar).
struct Converter {
    let root: JSONValue
    let rootPath: String
    var writer: GBNFWriter
    /// Rule names of the $refs converted (or being converted: recursion refers to the name).
    var refs: [String: String] = [:]

    init(root: JSONValue, rootPath: String, writer: GBNFWriter = GBNFWriter()) {
        self.root = root
        self.rootPath = rootPath
        self.writer = writer
    }

    func fail(_ path: String, _ message: String) -> JSONSchemaError { JSONSchemaError(path: path, message: message) }

    mutating func visit(_ schema: JSONValue, path: String, hint: String) throws -> String {
        if case .bool(true) = schema { return writer.jsonPrimitive("value") }
        if case .bool(false) = schema { throw fail(path, "the schema false matches nothing") }
        guard let o = schema.objectValue else { throw fail(path, "a schema must be an object or a boolean, not \(schema.typeName)") }
        for key in o.keys.sorted() where JSONSchemaGrammar.unsupported.contains(key) {
            throw fail("\(path).\(key)", "'\(key)' is not supported")
        }
        if let ref = o["$ref"] { return try reference(ref, path: "\(path).$ref") }
        if let c = o["const"] { return try literal(c, path: "\(path).const") }
        if let e = o["enum"] {
            guard let values = e.arrayValue, !values.isEmpty else { throw fail("\(path).enum", "must be a non-empty array") }
            let alternatives = try values.enumerated().map { i, v in try literal(v, path: "\(path).enum[\(i)]") }
            return writer.rule("\(hint)-enum", alternatives.joined(separator: " | "))
        }
        for key in ["anyOf", "oneOf"] {
            guard let list = o[key] else { continue }
            guard let branches = list.arrayValue, !branches.isEmpty else { throw fail("\(path).\(key)", "must be a non-empty array") }
            let alternatives = try branches.enumerated().map { i, b in try visit(b, path: "\(path).\(key)[\(i)]", hint: "\(hint)-\(i)") }
            return writer.rule("\(hint)-\(key)", alternatives.joined(separator: " | "))
        }
        switch o["type"] {
        case let .string(t)?:
            return try typed(t, o, path: path, hint: hint)
        case let .array(list)?:
            guard !list.isEmpty else { throw fail("\(path).type", "must not be an empty list") }
            let alternatives = try list.enumerated().map { i, t -> String in
                guard let name = t.stringValue else { throw fail("\(path).type[\(i)]", "must be a string") }
                return try typed(name, o, path: path, hint: "\(hint)-\(name)")
            }
            return writer.rule(hint, alternatives.joined(separator: " | "))
        case nil:
            if o["properties"] != nil || o["additionalProperties"] != nil || o["required"] != nil { return try typed("object", o, path: path, hint: hint) }
            if o["items"] != nil || o["prefixItems"] != nil || o["minItems"] != nil || o["maxItems"] != nil { return try typed("array", o, path: path, hint: hint) }
            if o["minLength"] != nil || o["maxLength"] != nil || o["format"] != nil { return try typed("string", o, path: path, hint: hint) }
            if o["minimum"] != nil || o["maximum"] != nil || o["exclusiveMinimum"] != nil || o["exclusiveMaximum"] != nil {
                throw fail(path, "bounds without a type: say \"type\": \"integer\" (or \"number\")")
            }
            return writer.jsonPrimitive("value")
        case let t?:
            throw fail("\(path).type", "must be a string or a list of strings, not \(t.typeName)")
        }
    }

    /// A JSON literal (const, enum member), as its canonical text.
    mutating func literal(_ value: JSONValue, path: String) throws -> String {
        "\(GBNFWriter.literal(try literalText(value, path: path))) \(writer.jsonPrimitive("space"))"
    }

    /// The canonical JSON text of a value (a member name, a const).
    func literalText(_ value: JSONValue, path: String) throws -> String {
        guard let bytes = try? value.canonicalBytes() else { throw fail(path, "has no JSON form") }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func reference(_ ref: JSONValue, path: String) throws -> String {
        guard let target = ref.stringValue else { throw fail(path, "must be a string") }
        if let name = refs[target] { return name }
        var parts = target.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == "#", parts[1] == "$defs" || parts[1] == "definitions" else {
            throw fail(path, "only references to #/$defs/<name> or #/definitions/<name> are supported, not '\(target)'")
        }
        parts[2] = Self.unescapePointer(parts[2])
        guard let schema = root.objectValue?[parts[1]]?.objectValue?[parts[2]] else {
            throw fail(path, "'\(target)' does not exist in the schema")
        }
        let name = writer.reserve("ref-\(parts[2])")
        refs[target] = name
        let body = try visit(schema, path: "\(rootPath).\(parts[1]).\(parts[2])", hint: name)
        writer.define(name, body)
        return name
    }

    /// A JSON Pointer token: ~1 is '/', ~0 is '~' (RFC 6901).
    static func unescapePointer(_ token: String) -> String {
        var out = "", tilde = false
        for ch in token {
            if tilde { out.append(ch == "1" ? "/" : ch == "0" ? "~" : ch); tilde = false }
            else if ch == "~" { tilde = true } else { out.append(ch) }
        }
        return tilde ? out + "~" : out
    }

    mutating func typed(_ type: String, _ o: [String: JSONValue], path: String, hint: String) throws -> String {
        switch type {
        case "object": return try object(o, path: path, hint: hint)
        case "array": return try array(o, path: path, hint: hint)
        case "string": return try string(o, path: path, hint: hint)
        case "integer": return try integer(o, path: path, hint: hint)
        case "number": return try number(o, path: path, hint: hint)
        case "boolean", "null": return writer.jsonPrimitive(type)
        default: throw fail("\(path).type", "unknown type '\(type)'")
        }
    }

    mutating func object(_ o: [String: JSONValue], path: String, hint: String) throws -> String {
        let properties = o["properties"]?.objectValue ?? [:]
        if let p = o["properties"], p.objectValue == nil { throw fail("\(path).properties", "must be an object") }
        var required: [String] = []
        if let r = o["required"] {
            guard let list = r.arrayValue else { throw fail("\(path).required", "must be an array of strings") }
            for (i, name) in list.enumerated() {
                guard let s = name.stringValue else { throw fail("\(path).required[\(i)]", "must be a string") }
                if !required.contains(s) { required.append(s) }
            }
        }
        let optional = properties.keys.filter { !required.contains($0) }.sorted()
        let s = writer.jsonPrimitive("space")
        func member(_ name: String) throws -> String {
            let value = try properties[name].map { try visit($0, path: "\(path).properties.\(name)", hint: "\(hint)-\(name)") }
                ?? writer.jsonPrimitive("value")  // required but not described: any value
            let key = try literalText(.string(name), path: "\(path).properties.\(name)")
            return writer.rule("\(hint)-\(name)-kv", "\(GBNFWriter.literal(key)) \(s) \":\" \(s) \(value)")
        }
        // Additional members: any name, with a value of the given schema (true, or absent when
        // no properties are listed: any value).
        var additional: String? = nil
        switch o["additionalProperties"] {
        case .bool(false)?: break
        case nil where !properties.isEmpty: break
        case nil, .bool(true)?:
            let key = additionalKey(excluding: Array(properties.keys), hint: hint)
            additional = writer.rule("\(hint)-additional-kv", "\(key) \":\" \(s) \(writer.jsonPrimitive("value"))")
        case let schema?:
            let value = try visit(schema, path: "\(path).additionalProperties", hint: "\(hint)-additional")
            let key = additionalKey(excluding: Array(properties.keys), hint: hint)
            additional = writer.rule("\(hint)-additional-kv", "\(key) \":\" \(s) \(value)")
        }
        let requiredMembers = try required.map(member)
        let optionalMembers = try optional.map(member)
        let more = additional.map { " (\",\" \(s) \($0))*" } ?? ""
        var body: String
        if !requiredMembers.isEmpty {
            body = requiredMembers.joined(separator: " \",\" \(s) ")
            for m in optionalMembers { body += " (\",\" \(s) \(m))?" }
            body += more
        } else {
            // Nothing required: whichever member comes first has no comma before it. tail(i) is
            // the optional members from i on, each with its comma, then the additional ones.
            var tails: [String] = []
            var next = more.isEmpty ? "" : writer.rule("\(hint)-tail", String(more.dropFirst()))
            tails.append(next)
            for m in optionalMembers.reversed() {
                next = writer.rule("\(hint)-tail", "(\",\" \(s) \(m))? \(next)".trimmingSpaces())
                tails.append(next)
            }
            tails.reverse()  // tails[i]: from optional member i on; tails[count]: additional only
            var firsts: [String] = []
            for (i, m) in optionalMembers.enumerated() { firsts.append("\(m) \(tails[i + 1])".trimmingSpaces()) }
            if let additional { firsts.append("\(additional) \(tails[optionalMembers.count])".trimmingSpaces()) }
            body = firsts.isEmpty ? "" : "(\(firsts.joined(separator: " | ")))?"
        }
        return writer.rule("\(hint)-object", "\"{\" \(s) \(body) \"}\" \(s)")
    }

    /// The key of an additional member: any JSON string when no property is listed; else a
    /// string of plain characters (no escapes, so no other spelling of a listed name exists)
    /// that is none of the listed names. A trie of the names: at each node the string may end
    /// unless a name ends there, go on with a character no name continues with (then anything),
    /// or follow a name one more character.
    mutating func additionalKey(excluding names: [String], hint: String) -> String {
        if names.isEmpty { return writer.jsonPrimitive("string") }
        let plain = writer.rule("plain-char", #"[^"\\\x7F\x00-\x1F]"#)
        let space = writer.jsonPrimitive("space")
        func escape(_ u: Unicode.Scalar) -> String {
            u.value <= 0xFFFF ? "\\u" + String(u.value, radix: 16).leftPadded(to: 4) : "\\U" + String(u.value, radix: 16).leftPadded(to: 8)
        }
        let words = names.map { Array($0.unicodeScalars) }
        func node(_ prefix: [Unicode.Scalar]) -> String {
            let below = words.filter { $0.count > prefix.count && Array($0.prefix(prefix.count)) == prefix }
            let endsHere = words.contains { $0 == prefix }
            // Only characters a plain key can hold: a name with '"', '\\' or a control character
            // cannot be spelled without escapes, so it needs no excluding.
            let firsts: Set<Unicode.Scalar> = Set(below.map { $0[prefix.count] })
            let next: [Unicode.Scalar] = firsts.filter(Self.isPlain).sorted { $0.value < $1.value }
            var alternatives: [String] = []
            if !endsHere { alternatives.append("\"\\\"\" \(space)") }
            let others = next.map(escape).joined()
            alternatives.append("[^\"\\\\\\x7F\\x00-\\x1F\(others)] \(plain)* \"\\\"\" \(space)")
            for c in next { alternatives.append("\"\(GBNFWriter.literal(String(c)).dropFirst().dropLast())\" \(node(prefix + [c]))") }
            return writer.rule("\(hint)-key", alternatives.joined(separator: " | "))
        }
        return writer.rule("\(hint)-additional-key", "\"\\\"\" \(node([]))")
    }

    static func isPlain(_ u: Unicode.Scalar) -> Bool { u != "\"" && u != "\\" && u.value >= 0x20 && u.value != 0x7F }

    mutating func array(_ o: [String: JSONValue], path: String, hint: String) throws -> String {
        let s = writer.jsonPrimitive("space")
        let minItems = try count(o, "minItems", path: path) ?? 0
        let maxItems = try count(o, "maxItems", path: path)
        if let maxItems, maxItems < minItems { throw fail("\(path).maxItems", "is below minItems") }
        var prefix: [String] = []
        if let p = o["prefixItems"] {
            guard let list = p.arrayValue else { throw fail("\(path).prefixItems", "must be an array of schemas") }
            prefix = try list.enumerated().map { i, item in try visit(item, path: "\(path).prefixItems[\(i)]", hint: "\(hint)-\(i)") }
        }
        var item: String? = writer.jsonPrimitive("value")
        if let list = o["items"]?.arrayValue {
            // Draft 4-2019: `items` as a list is the tuple prefix, `additionalItems` the rest.
            guard prefix.isEmpty else { throw fail("\(path).items", "cannot be a list together with prefixItems") }
            prefix = try list.enumerated().map { i, s in try visit(s, path: "\(path).items[\(i)]", hint: "\(hint)-\(i)") }
            if let more = o["additionalItems"] {
                if case .bool(false) = more { item = nil } else { item = try visit(more, path: "\(path).additionalItems", hint: "\(hint)-item") }
            }
        } else if let i = o["items"] {
            if case .bool(false) = i { item = nil } else { item = try visit(i, path: "\(path).items", hint: "\(hint)-item") }
        }
        if !prefix.isEmpty {
            guard minItems <= prefix.count || item != nil else { throw fail("\(path).minItems", "is more than the items allowed") }
            // Tuples: the prefix items in order (as many as minItems requires), then more items.
            if minItems > prefix.count || (maxItems ?? Int.max) < prefix.count {
                throw fail(path, "minItems/maxItems together with prefixItems are supported only when they allow the whole prefix")
            }
            var body = prefix.joined(separator: " \",\" \(s) ")
            if let item {
                let extra = maxItems.map { $0 - prefix.count }
                body += extra == 0 ? "" : extra.map { " (\",\" \(s) \(item)){0,\($0)}" } ?? " (\",\" \(s) \(item))*"
            }
            return writer.rule("\(hint)-tuple", "\"[\" \(s) \(body) \"]\" \(s)")
        }
        guard let item else {
            guard minItems == 0 else { throw fail("\(path).minItems", "is more than the items allowed") }
            return writer.rule("\(hint)-empty-array", "\"[\" \(s) \"]\" \(s)")
        }
        if maxItems == 0 { return writer.rule("\(hint)-empty-array", "\"[\" \(s) \"]\" \(s)") }
        let rest: String
        switch (minItems, maxItems) {
        case (0, nil), (1, nil): rest = "(\",\" \(s) \(item))*"
        case let (lo, nil): rest = "(\",\" \(s) \(item)){\(lo - 1),}"
        case let (lo, hi?): rest = "(\",\" \(s) \(item)){\(max(0, lo - 1)),\(hi - 1)}"
        }
        let list = "\(item) \(rest)"
        return writer.rule("\(hint)-array", minItems == 0 ? "\"[\" \(s) (\(list))? \"]\" \(s)" : "\"[\" \(s) \(list) \"]\" \(s)")
    }

    func count(_ o: [String: JSONValue], _ key: String, path: String) throws -> Int? {
        guard let v = o[key] else { return nil }
        guard let n = v.int64Value, n >= 0 else { throw fail("\(path).\(key)", "must be a non-negative integer") }
        guard n <= Int64(Grammar.maxRepetition) else { throw fail("\(path).\(key)", "is more than \(Grammar.maxRepetition)") }
        return Int(n)
    }

    mutating func string(_ o: [String: JSONValue], path: String, hint: String) throws -> String {
        let s = writer.jsonPrimitive("space")
        if let format = o["format"] {
            guard let f = format.stringValue, let body = Self.formats[f] else {
                throw fail("\(path).format", "format '\(format.stringValue ?? format.typeName)' is not supported (date, time, date-time and uuid are)")
            }
            if o["minLength"] != nil || o["maxLength"] != nil { throw fail(path, "minLength/maxLength together with format are not supported") }
            return writer.rule("\(hint)-\(f)", "\"\\\"\" \(body) \"\\\"\" \(s)")
        }
        let lo = try count(o, "minLength", path: path) ?? 0
        let hi = try count(o, "maxLength", path: path)
        if let hi, hi < lo { throw fail("\(path).maxLength", "is below minLength") }
        if lo == 0 && hi == nil { return writer.jsonPrimitive("string") }
        let c = writer.jsonPrimitive("char")
        let chars = hi.map { "\(c){\(lo),\($0)}" } ?? "\(c){\(lo),}"
        return writer.rule("\(hint)-string", "\"\\\"\" \(chars) \"\\\"\" \(s)")
    }

    static let formats: [String: String] = {
        let date = #"[0-9]{4} "-" ("0" [1-9] | "1" [0-2]) "-" ("0" [1-9] | [1-2] [0-9] | "3" [0-1])"#
        let time = #"([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,9})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])"#
        let hex = "[0-9a-fA-F]"
        return [
            "date": date,
            "time": time,
            "date-time": "\(date) \"T\" \(time)",
            "uuid": "\(hex){8} \"-\" \(hex){4} \"-\" \(hex){4} \"-\" \(hex){4} \"-\" \(hex){12}",
        ]
    }()

    /// A number within bounds: the bounds must be integers (as JSON Schemas for prices, ages and
    /// scores write them); the numbers are written without an exponent (NumberRangeGrammar).
    mutating func number(_ o: [String: JSONValue], path: String, hint: String) throws -> String {
        func bound(_ key: String, exclusive: Bool) throws -> NumberRangeGrammar.Bound? {
            guard let v = o[key] else { return nil }
            if case .bool = v { throw fail("\(path).\(key)", "the boolean form (JSON Schema draft 4) is not supported; give the bound as a number") }
            guard let d = v.doubleValue, d.isFinite, abs(d) < 1e15 else { throw fail("\(path).\(key)", "must be a number below 10^15 in magnitude") }
            guard d.rounded() == d else { throw fail("\(path).\(key)", "'\(key)' on a number is supported for integer bounds only, not \(d)") }
            return NumberRangeGrammar.Bound(value: Int64(d), exclusive: exclusive)
        }
        // The tighter of each pair (an exclusive bound wins a tie).
        func tighter(_ a: NumberRangeGrammar.Bound?, _ b: NumberRangeGrammar.Bound?, lower: Bool) -> NumberRangeGrammar.Bound? {
            guard let a else { return b }
            guard let b else { return a }
            if a.value != b.value { return (a.value > b.value) == lower ? a : b }
            return a.exclusive ? a : b
        }
        let lo = tighter(try bound("minimum", exclusive: false), try bound("exclusiveMinimum", exclusive: true), lower: true)
        let hi = tighter(try bound("maximum", exclusive: false), try bound("exclusiveMaximum", exclusive: true), lower: false)
        if lo == nil && hi == nil { return writer.jsonPrimitive("number") }
        guard let expression = NumberRangeGrammar.expression(lo: lo, hi: hi) else { throw fail(path, "no number lies within the bounds") }
        return writer.rule("\(hint)-number", "(\(expression)) \(writer.jsonPrimitive("space"))")
    }

    mutating func integer(_ o: [String: JSONValue], path: String, hint: String) throws -> String {
        func bound(_ key: String, exclusive: Bool, lower: Bool) throws -> Int64? {
            guard let v = o[key] else { return nil }
            // Draft 4 wrote exclusiveMinimum as a boolean beside minimum.
            if case .bool = v { throw fail("\(path).\(key)", "the boolean form (JSON Schema draft 4) is not supported; give the bound as a number") }
            guard let d = v.doubleValue, d.isFinite, abs(d) < 1e15 else { throw fail("\(path).\(key)", "must be a number below 10^15 in magnitude") }
            // The integers strictly/loosely beyond a real bound.
            if lower { return Int64(exclusive ? (d.rounded(.down) + 1) : d.rounded(.up)) }
            return Int64(exclusive ? (d.rounded(.up) - 1) : d.rounded(.down))
        }
        let lows = [try bound("minimum", exclusive: false, lower: true), try bound("exclusiveMinimum", exclusive: true, lower: true)].compactMap { $0 }
        let highs = [try bound("maximum", exclusive: false, lower: false), try bound("exclusiveMaximum", exclusive: true, lower: false)].compactMap { $0 }
        if lows.isEmpty && highs.isEmpty { return writer.jsonPrimitive("integer") }
        guard let expression = IntegerRangeGrammar.expression(lo: lows.max(), hi: highs.min()) else {
            throw fail(path, "no integer lies within the bounds")
        }
        return writer.rule("\(hint)-integer", "(\(expression)) \(writer.jsonPrimitive("space"))")
    }
}
