// Variable scopes as jinja2 has them: the render context (messages, add_generation_prompt, the
// special tokens, and the globals such as `namespace` and `raise_exception`), the template's
// top level, and a fresh frame for every iteration of a for loop and every macro call (a loop
// empties one frame per iteration rather than allocating a new one). `set`
// writes to the innermost frame, so it leaks out of an `if` but not out of a loop body, and a
// loop iteration does not see what the previous iteration set (only namespaces carry state).

final class Scope {
    /// Frames usually hold a handful of variables (a loop's target and `loop`), where a linear
    /// search beats hashing; past `indexedFrom` variables an index keeps lookups constant-time,
    /// so a template of many thousand `set`s is not quadratic.
    private var variables: [(name: String, value: Value)] = []
    private var index: [String: Int] = [:]
    private static let indexedFrom = 16
    let parent: Scope?

    init(parent: Scope?, variables: [String: Value] = [:]) {
        self.parent = parent
        for (name, value) in variables { set(name, value) }
    }

    private func position(of name: String) -> Int? {
        if variables.count >= Self.indexedFrom { return index[name] }
        return variables.firstIndex { $0.name == name }
    }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let s = scope {
            if let i = s.position(of: name) { return s.variables[i].value }
            scope = s.parent
        }
        return nil
    }

    /// Empties the frame for the next loop iteration, keeping its storage.
    func reset() {
        variables.removeAll(keepingCapacity: true)
        index.removeAll(keepingCapacity: true)
    }

    func set(_ name: String, _ value: Value) {
        if let i = position(of: name) {
            variables[i].value = value
            return
        }
        variables.append((name, value))
        if variables.count == Self.indexedFrom {
            for (i, v) in variables.enumerated() { index[v.name] = i }
        } else if variables.count > Self.indexedFrom {
            index[name] = variables.count - 1
        }
    }
}
