// Where tests find the real models: the same cache `reprolm pull` fills.
import Foundation

public enum TestModels {
    /// `$REPROLM_CACHE_DIR`, else `$XDG_CACHE_HOME/reprolm`, else `~/.cache/reprolm`.
    public static var cacheRoot: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["REPROLM_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], x.hasPrefix("/") { return x + "/reprolm" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.cache/reprolm"
    }

    public static let files: [String: String] = [
        "smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "gemma3-270m": "gemma-3-270m-q4_k_m.gguf",
        "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ]

    /// The GGUF path of a catalogue model, or nil when it has not been pulled.
    public static func path(_ name: String) -> String? {
        guard let file = files[name] else { return nil }
        let p = "\(cacheRoot)/models/\(name)/\(file)"
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// The folder of a Hugging Face style model (config.json, model.safetensors, tokenizer.json,
    /// ...), or nil when it has not been pulled. `minilm-l6` is all-MiniLM-L6-v2.
    public static func folder(_ name: String) -> String? {
        let dir = "\(cacheRoot)/models/\(name)"
        return FileManager.default.fileExists(atPath: "\(dir)/config.json") ? dir : nil
    }
}
