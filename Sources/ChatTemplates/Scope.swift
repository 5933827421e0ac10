// Variable scopes as jinja2 has them: the render context (messages, add_generation_prompt, the
// special tokens, and the globals such as `namespace` and `raise_exception`), the template's
// top level, and a fresh frame for every iteration of a for loop and every macro call (a loop
// empties one frame per iteration rather than allocating a new one). `set`
// writes to the innermost frame, so it leaks out of an `if` but not out of a loop body, and a
// loop iteration does not see what the previous iteration set (only namespaces carry state).

final class Scope {
    /// Frames hold a handful of variables (a loop's target and `loop`), where a linear search
    /// beats hashing.
    private var variables: [(name: String, value: Value)] = []
    let parent: Scope?

    init(parent: Scope?, variables: [String: Value] = [:]) {
        self.parent = parent
        self.variables = variables.map { ($0.key, $0.value) }
    }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let s = scope {
            if let v = s.variables.first(where: { $0.name == name }) { return v.value }
            scope = s.parent
        }
        return nil
    }

    /// Empties the frame for the next loop iteration, keeping its storage.
    func reset() {
        variables.removeAll(keepingCapacity: true)
    }

    func set(_ name: String, _ value: Value) {
        if let i = variables.firstIndex(where: { $0.name == name }) {
            variables[i].value = value
        } else {
            variables.append((name, value))
        }
    }
}
