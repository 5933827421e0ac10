// Reading the golden files written by scripts/make_chat_template_golden.py, and comparing a
// rendering with what jinja2 produced: the same bytes, or the same kind of error (with the same
// message where jinja2's message is part of the contract: raise_exception and undefined values).

@testable import ChatTemplates
import Foundation
import ReproJSON
import XCTest

struct GoldenError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// What jinja2 gave for one rendering.
enum Expected {
    case output(String)
    case error(type: String, message: String)

    init(_ json: JSONValue) throws {
        if let out = json["output"]?.stringValue {
            self = .output(out)
        } else if let e = json["error"], let type = e["type"]?.stringValue, let message = e["message"]?.stringValue {
            self = .error(type: type, message: message)
        } else {
            throw GoldenError("a case with neither output nor error")
        }
    }

    /// nil when `result` agrees with jinja2, else what differs.
    func mismatch(_ result: Result<String, Error>) -> String? {
        switch (self, result) {
        case (.output(let want), .success(let got)):
            return Array(want.utf8) == Array(got.utf8) ? nil : "output differs\n want: \(want.debugDescription)\n  got: \(got.debugDescription)"
        case (.output(let want), .failure(let error)):
            return "expected \(want.debugDescription), got error \(error)"
        case (.error(let type, let message), .success(let got)):
            return "expected \(type): \(message), got output \(got.debugDescription)"
        case (.error(let type, let message), .failure(let error)):
            guard let error = error as? TemplateError else { return "not a TemplateError: \(error)" }
            switch (type, error) {
            case ("TemplateError", .raised(let m)), ("UndefinedError", .undefined(let m, _)):
                return m == message ? nil : "message differs\n want: \(message)\n  got: \(m)"
            case ("TemplateSyntaxError", .syntax), ("TemplateAssertionError", .syntax):
                return nil
            case ("TemplateError", _), ("UndefinedError", _), ("TemplateSyntaxError", _), ("TemplateAssertionError", _):
                return "expected \(type): \(message), got \(error)"
            default:
                // TypeError, ValueError, ZeroDivisionError, SecurityError...: a runtime error.
                if case .runtime = error { return nil }
                return "expected \(type): \(message), got \(error)"
            }
        }
    }
}

enum GoldenFiles {
    static func load(_ name: String) throws -> JSONValue {
        guard let url = Bundle.module.url(forResource: "Golden/\(name)", withExtension: "json") else {
            throw GoldenError("Golden/\(name).json is missing from the test bundle")
        }
        return try JSONValue.parse([UInt8](try Data(contentsOf: url)))
    }

    /// A JSON value as the template value jinja2 saw (the script gives dicts in sorted key order).
    static func value(_ json: JSONValue) -> Value {
        switch json {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(value))
        case .object(let o):
            var d = Dict()
            for key in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                d.set(.string(key), value(o[key]!))
            }
            return .dict(d)
        }
    }

    static func messages(_ json: JSONValue?) throws -> [ChatMessage] {
        guard let list = json?.arrayValue else { throw GoldenError("messages must be a list") }
        return try list.map {
            guard let role = $0["role"]?.stringValue, let content = $0["content"]?.stringValue else {
                throw GoldenError("a message without role or content")
            }
            return ChatMessage(role: role, content: content)
        }
    }
}

extension Result where Failure == Error {
    init(catching body: () throws -> Success) {
        do { self = .success(try body()) } catch { self = .failure(error) }
    }
}
