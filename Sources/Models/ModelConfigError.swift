// Errors of reading a Hugging Face model folder's configuration files (config.json,
// modules.json, 1_Pooling/config.json, sentence_bert_config.json). A field error names the file
// and the field's path ("config.json.hidden_size: is required").

import ModelFiles
import ReproJSON

/// A configuration file that cannot be read, or describes a model reprolm does not run.
public enum ModelConfigError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be read or is not JSON.
    case file(JSONFileError)
    /// A field is missing, of the wrong type, or out of range.
    case field(JSONFieldError)
    /// A value the model code does not implement, with the ones it does.
    case unsupported(field: String, value: String, supported: [String])
    /// Values that contradict each other.
    case inconsistent(String)

    public var description: String {
        switch self {
        case .file(let e): return e.description
        case .field(let e): return e.description
        case let .unsupported(field, value, supported):
            return "\(field) '\(value)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case .inconsistent(let why): return "inconsistent configuration: \(why)"
        }
    }
}

/// Reads the JSON file at `path` and runs `body` on it, turning file and field errors into
/// ModelConfigErrors. Field paths start with `name` ("config.json", "1_Pooling/config.json").
func readConfig<T>(_ path: String, name: String, _ body: (JSONValue, String) throws -> T) throws -> T {
    let json: JSONValue
    do {
        // Configuration files are a few kilobytes.
        json = try JSONFile.read(path, maxBytes: 1 << 20)
    } catch let error as JSONFileError {
        throw ModelConfigError.file(error)
    }
    do {
        return try body(json, name)
    } catch let error as JSONFieldError {
        throw ModelConfigError.field(error)
    }
}
