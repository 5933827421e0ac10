// The one registry of architectures, keyed by `general.architecture`. Adding an architecture:
// one file that builds a DecoderConfig from metadata, and one line here.
import ModelFiles

public enum Architectures {
    static let table: [String: (GGUFFile, String) throws -> DecoderConfig] = [
        "llama": Llama.config,
        "qwen2": Llama.config,
        "gemma3": Gemma3.config,
    ]

    public static var supported: [String] { table.keys.sorted() }

    /// The configuration of a file's architecture, validated.
    public static func config(for file: GGUFFile) throws -> DecoderConfig {
        let arch = file.architecture ?? "(none)"
        guard let make = table[arch] else { throw ModelError.unsupportedArchitecture(arch, supported: supported) }
        let c = try make(file, arch)
        try c.validate()
        return c
    }
}
