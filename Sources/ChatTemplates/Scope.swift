// Variable scopes as jinja2 has them: the render context (messages, add_generation_prompt, the
// special tokens, and the globals such as `namespace` and `raise_exception`), the template's
// top level, and a fresh frame for every iteration of a for loop and every macro call. `set`
// writes to the innermost frame, so it leaks out of an `if` but not out of a loop body, and a
// loop iteration does not see what the previous iteration set (only namespaces carry state).

final class Scope {
    private var variables: [String: Value]
    let parent: Scope?

    init(parent: Scope?, variables: [String: Value] = [:]) {
        self.parent = parent
        self.variables = variables
    }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let s = scope {
            if let v = s.variables[name] { return v }
            scope = s.parent
        }
        return nil
    }

    func set(_ name: String, _ value: Value) {
        variables[name] = value
    }
}
