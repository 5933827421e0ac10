// `generate`'s constraint on the text it generates: `format: "json"` (any JSON value),
// `jsonSchema` (a JSON Schema) or `grammar` (GBNF). At most one; read here, compiled by the
// server (Sources/Grammar), recorded as given in the receipt's canonical request.
import ReproJSON

public enum OutputConstraint: Sendable, Equatable {
    case json
    case jsonSchema(JSONValue)
    case grammar(String)

    public static let keys = ["format", "jsonSchema", "grammar"]
    public static let maxGrammarBytes = 1 << 20

    /// The parameter a problem with the constraint is reported at.
    public var path: String {
        switch self {
        case .json: return "params.format"
        case .jsonSchema: return "params.jsonSchema"
        case .grammar: return "params.grammar"
        }
    }

    /// The field as the canonical request records it.
    public var canonicalField: (key: String, value: JSONValue) {
        switch self {
        case .json: return ("format", .string("json"))
        case let .jsonSchema(schema): return ("jsonSchema", schema)
        case let .grammar(text): return ("grammar", .string(text))
        }
    }

    /// Reads the one constraint given, if any.
    static func read(_ r: inout JSONObjectReader) throws -> OutputConstraint? {
        let given = keys.filter { r.contains($0) }
        if given.count > 1 {
            throw JSONFieldError(path: r.fieldPath(given[1]), message: "cannot be given together with \(given[0])")
        }
        if let format = r.value("format") {
            guard format.stringValue == "json" else {
                throw JSONFieldError(path: r.fieldPath("format"), message: "must be \"json\" (for a schema, use jsonSchema)")
            }
            return .json
        }
        if let schema = r.value("jsonSchema") {
            switch schema {
            case .object, .bool: return .jsonSchema(schema)
            default: throw JSONFieldError(path: r.fieldPath("jsonSchema"), message: "must be a JSON Schema (an object or a boolean), not \(schema.typeName)")
            }
        }
        if let text = try r.optionalString("grammar", maxBytes: maxGrammarBytes) { return .grammar(text) }
        return nil
    }
}
