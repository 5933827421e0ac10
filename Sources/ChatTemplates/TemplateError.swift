// The errors of chat templates. A template comes from a model file, so every failure is a value
// the caller can report: a syntax error points at line:column of the template, a construct this
// Jinja subset does not implement says so by name (never a silent misrender), and a failure while
// rendering carries jinja2's own message where jinja2 has one (`raise_exception`, undefined values).

/// A place in a template's source: 1-based line and column (counted in Unicode scalars), after
/// jinja2's newline normalization (`\r\n` and `\r` count as one line break).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// Why a template could not be parsed or rendered.
public enum TemplateError: Error, Equatable, CustomStringConvertible {
    /// The source is not valid Jinja (jinja2's TemplateSyntaxError or TemplateAssertionError).
    case syntax(String, at: SourceLocation)
    /// Valid Jinja that this subset does not implement; the message names the construct.
    case unsupported(String, at: SourceLocation)
    /// The template called `raise_exception(message)`: jinja2 (through Hugging Face) raises
    /// TemplateError with exactly this message, typically to reject a conversation.
    case raised(String)
    /// An operation on an undefined value that jinja2 refuses (its UndefinedError), with jinja2's
    /// message, e.g. `'x' is undefined` or `list object has no element 0`.
    case undefined(String, at: SourceLocation)
    /// Any other failure while rendering (jinja2's TypeError, ZeroDivisionError, a limit reached).
    case runtime(String, at: SourceLocation)

    public var description: String {
        switch self {
        case .syntax(let m, let at): return "template syntax error at \(at): \(m)"
        case .unsupported(let m, let at): return "unsupported: \(m) (template \(at))"
        case .raised(let m): return m
        case .undefined(let m, let at): return "undefined value at template \(at): \(m)"
        case .runtime(let m, let at): return "template error at \(at): \(m)"
        }
    }
}

/// A failure inside a value operation, before the evaluator knows where in the template it is;
/// the evaluator turns it into a `TemplateError` at the expression's location.
enum ValueError: Error {
    case undefined(String)
    case runtime(String)
    case unsupported(String)
    case raised(String)

    func located(at location: SourceLocation) -> TemplateError {
        switch self {
        case .undefined(let m): return .undefined(m, at: location)
        case .runtime(let m): return .runtime(m, at: location)
        case .unsupported(let m): return .unsupported(m, at: location)
        case .raised(let m): return .raised(m)
        }
    }
}
