// Turns `generate`'s constraint parameter into a Grammar, every refusal a -32602 at the path of
// what is wrong (a GBNF error with its line and column; a schema keyword with its JSON path).
import Grammar
import ReproJSON
import RPCProtocol

enum ConstraintCompiler {
    /// `format: "json"` is the same grammar every time.
    static let anyJSON: Grammar = try! GBNF.parse(JSONSchemaGrammar.anyJSON())

    static func grammar(_ constraint: OutputConstraint) throws -> Grammar {
        switch constraint {
        case .json:
            return anyJSON
        case let .jsonSchema(schema):
            let text: String
            do {
                text = try JSONSchemaGrammar.gbnf(for: schema, path: constraint.path)
            } catch let e as JSONSchemaError {
                throw JSONFieldError(path: e.path, message: e.message)
            }
            do {
                return try GBNF.parse(text)
            } catch let e as GrammarError {
                // A recursive $ref that can recur before any text (left recursion), or a schema
                // whose grammar outgrows the limits.
                throw JSONFieldError(path: constraint.path, message: "cannot be turned into a grammar: \(e.message)")
            }
        case let .grammar(text):
            do {
                return try GBNF.parse(text)
            } catch let e as GrammarError {
                throw JSONFieldError(path: constraint.path, message: e.description)
            }
        }
    }
}
