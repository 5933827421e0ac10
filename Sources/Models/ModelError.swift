// Errors of model construction and the forward pass. A corrupt or unsupported model file is
// caught here, when the model is built, so the forward pass never meets a bad shape.

/// Why a model could not be built or run.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case unsupportedArchitecture(String, supported: [String])
    case missingTensor(String)
    case badTensorShape(name: String, expected: [Int], actual: [Int])
    case unsupportedTensorType(name: String, type: String)
    case badHyperparameter(String)
    /// A metadata value out of its bounds, of the wrong type, or missing (HyperparameterBounds).
    case badMetadata(key: String, value: String, expected: String)
    /// A request that does not fit the model's context.
    case contextOverflow(needed: Int, limit: Int)
    case tokenOutOfRange(token: Int32, vocabulary: Int)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(a, s): return "architecture '\(a)' is not supported (supported: \(s.joined(separator: ", ")))"
        case let .missingTensor(n): return "tensor '\(n)' is missing"
        case let .badTensorShape(n, e, a): return "tensor '\(n)' has shape \(a), expected \(e)"
        case let .unsupportedTensorType(n, t): return "tensor '\(n)' has unsupported type \(t)"
        case let .badHyperparameter(m): return "bad hyperparameter: \(m)"
        case let .badMetadata(k, v, e): return "GGUF metadata key '\(k)' is \(v); expected \(e)"
        case let .contextOverflow(n, l): return "\(n) positions do not fit the context of \(l)"
        case let .tokenOutOfRange(t, v): return "token \(t) is outside the vocabulary (\(v))"
        }
    }
}
