// Turns `generate`'s constraint parameter into a Grammar, every refusal a -32602 at the path of
// what is wrong (a GBNF error with its line and column; a schema keyword with its JSON path).
import ChatTemplates
import Grammar
import ReproJSON
import RPCProtocol

public enum ConstraintCompiler {
    /// `format: "json"` is the same grammar every time.
    static let anyJSON: Grammar = try! GBNF.parse(JSONSchemaGrammar.anyJSON())

    public static func grammar(_ constraint: OutputConstraint) throws -> Grammar {
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

extension ConstraintCompiler {
    /// The grammar of a forced call (toolChoice "required" or naming a function); nil when the
    /// choice forces nothing. A parameters schema the converter refuses is -32602 at its path
    /// inside the tool (`params.tools[1].function.parameters.properties.x.pattern`).
    static func toolCallGrammar(_ use: ToolUse, format: ToolCallFormat?) throws -> Grammar? {
        guard let forced = use.choice.constrained(use.tools) else { return nil }
        // ToolCalls.format refuses a forced call where the format is unknown.
        guard let format else { preconditionFailure("a forced tool call without a known format") }
        let (open, close) = ToolCalls.delimiters(format)
        let tools = forced.map { tool in
            ToolCallGrammar.Tool(name: tool.name, parameters: tool.parameters,
                                 path: "params.tools[\(use.tools.firstIndex(of: tool)!)].function.parameters")
        }
        let text: String
        do {
            text = try ToolCallGrammar.gbnf(tools: tools, open: open, close: close)
        } catch let e as JSONSchemaError {
            throw JSONFieldError(path: e.path, message: e.message)
        }
        do {
            return try GBNF.parse(text)
        } catch let e as GrammarError {
            throw JSONFieldError(path: "params.toolChoice", message: "cannot be turned into a grammar with these tools: \(e.message)")
        }
    }
}
