// `reprolm grammar`: the constraint compiler without a model or daemon. Checks a GBNF grammar,
// prints the GBNF a JSON Schema becomes, or (--batch) answers JSON lines on stdin, which is how
// Tests/grammar runs llama.cpp's grammar suites against it.
import ArgumentParser
import Engine
import Foundation
import Grammar
import ModelStore
import ReproJSON

struct GrammarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grammar",
        abstract: "Check a GBNF grammar, or print the GBNF of a JSON Schema (--schema); --batch reads JSON lines.",
        discussion: """
        --batch: each stdin line is {"gbnf": TEXT} or {"schema": SCHEMA} (or {"format": "json"}), optionally with \
        "strings": [TEXT...]; each answer line is {"ok": true, "gbnf": TEXT, "matches": [{"prefix": B, "complete": B}...]} \
        or {"ok": false, "error": MESSAGE}. With "model": NAME and "prefixes": [[TOKEN...]...] the answer also has \
        "allowed": the token ids allowed after each prefix of tokens (null where the prefix itself is not allowed). \
        {"model": NAME, "vocabulary": true} answers the constraint's view of the vocabulary: "pieces" (hex, null for \
        tokens never allowed as text) and "end" (end-of-generation ids).
        """)

    @Flag(name: .long, help: "FILE is a JSON Schema: print its GBNF.")
    var schema = false

    @Flag(name: .long, help: "Answer JSON lines from stdin (see below).")
    var batch = false

    @Argument(help: "A GBNF file (or a JSON Schema file with --schema).")
    var file: String?

    func run() async throws {
        if batch {
            bootstrapLogging(level: "warning")
            let registry = ModelRegistry(store: ModelStore())
            while let line = readLine(strippingNewline: true) {
                let answer = await Self.answer(line, registry)
                FileHandle.standardOutput.write(Data((try answer.canonicalBytes()) + [0x0A]))
            }
            return
        }
        guard let file else { throw ValidationError("give a file, or --batch") }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        do {
            if schema {
                let gbnf = try JSONSchemaGrammar.gbnf(for: try JSONValue.parse(text), path: "schema")
                _ = try GBNF.parse(gbnf)
                print(gbnf, terminator: "")
            } else {
                let g = try GBNF.parse(text)
                print("ok: \(g.rules.count) rules, \(g.symbols.count) symbols")
            }
        } catch {
            FileHandle.standardError.write(Data("reprolm grammar: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    static func answer(_ line: String, _ registry: ModelRegistry) async -> JSONValue {
        do {
            let request = try JSONValue.parse(line)
            guard let o = request.objectValue else { throw ValidationError("each line must be a JSON object") }
            var vocabulary: ConstraintVocabulary? = nil
            if let name = o["model"]?.stringValue {
                guard let v = try await registry.load(name).constraintVocabulary else { throw ValidationError("\(name) has no GGUF vocabulary") }
                vocabulary = v
            }
            if o["vocabulary"]?.boolValue == true, let vocabulary {
                let hex = vocabulary.pieces.map { piece -> JSONValue in
                    guard let piece else { return .null }
                    return .string(FileHasher.hex(piece))
                }
                return .object(["ok": .bool(true), "pieces": .array(hex), "end": .array(vocabulary.endTokens.sorted().map { .int(Int64($0)) })])
            }
            let gbnf: String
            if let text = o["gbnf"]?.stringValue {
                gbnf = text
            } else if let s = o["schema"] {
                gbnf = try JSONSchemaGrammar.gbnf(for: s, path: "schema")
            } else if o["format"]?.stringValue == "json" {
                gbnf = JSONSchemaGrammar.anyJSON()
            } else {
                throw ValidationError("a line needs gbnf, schema or format")
            }
            let grammar = try GBNF.parse(gbnf)
            let matches = (o["strings"]?.arrayValue ?? []).map { s -> JSONValue in
                var m = GrammarMatcher(grammar)
                let prefix = m.accept(Array((s.stringValue ?? "").utf8))
                return .object(["prefix": .bool(prefix), "complete": .bool(prefix && m.isComplete)])
            }
            var answer: [String: JSONValue] = ["ok": .bool(true), "gbnf": .string(gbnf), "matches": .array(matches)]
            if let vocabulary, let prefixes = o["prefixes"]?.arrayValue {
                answer["allowed"] = .array(prefixes.map { prefix -> JSONValue in
                    var c = TokenConstraint(grammar: grammar, vocabulary: vocabulary)
                    for t in prefix.arrayValue ?? [] {
                        let token = Int32(truncatingIfNeeded: t.int64Value ?? -1)
                        guard c.allows(token) else { return .null }
                        c.accept(token)
                    }
                    return .array(c.allowedTokens().sorted().map { .int(Int64($0)) })
                })
            }
            return .object(answer)
        } catch {
            return .object(["ok": .bool(false), "error": .string("\(error)")])
        }
    }
}
