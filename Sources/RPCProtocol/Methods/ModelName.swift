// How every method reads a `model` (or `alias`) field: a catalogue name, an alias or a file path.
// A NUL cannot be part of a path (the system call would stop at it, so ".../a.gguf\u0000/x"
// would open a.gguf and be listed under the longer name), so it is refused here, once.
import ReproJSON

extension JSONObjectReader {
    /// The model field `key`, if present: a string of at most `maxBytes` bytes without NUL.
    mutating func optionalModelName(_ key: String, maxBytes: Int = 4096) throws -> String? {
        guard let name = try optionalString(key, maxBytes: maxBytes) else { return nil }
        if name.utf8.contains(0) { throw JSONFieldError(path: fieldPath(key), message: "must not contain a NUL character") }
        return name
    }

    /// The model field `key`, required.
    mutating func modelName(_ key: String, maxBytes: Int = 4096) throws -> String {
        guard let name = try optionalModelName(key, maxBytes: maxBytes) else {
            throw JSONFieldError(path: fieldPath(key), message: "is required")
        }
        return name
    }
}
