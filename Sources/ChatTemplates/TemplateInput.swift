// Data handed to a template from outside: a message's members beyond role and content (tool
// calls, a tool's name), and tool definitions. transformers hands jinja2 the Python values a
// JSON decoder gives (None, bool, int, float, str, list, dict), so this is JSON-shaped; dicts keep
// the order given, because the template iterates them and `tojson` prints them in that order.

/// A JSON-shaped value for a template's variables.
public indirect enum TemplateInput: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateInput])
    /// A dict whose keys come in this order.
    case dict([TemplateInputMember])

    /// The template value, as jinja2 would see the Python value.
    var value: Value {
        switch self {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let items): return .list(items.map(\.value))
        case .dict(let members):
            var d = Dict()
            for m in members { d.set(.string(m.key), m.value.value) }
            return .dict(d)
        }
    }
}

/// One key and value of a `TemplateInput.dict`.
public struct TemplateInputMember: Sendable, Equatable {
    public var key: String
    public var value: TemplateInput

    public init(_ key: String, _ value: TemplateInput) {
        self.key = key
        self.value = value
    }
}
