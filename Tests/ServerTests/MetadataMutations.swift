// The mutations MetadataMutationTests applies: which keys, and which values.
import ModelFiles
import TestSupport

enum MetadataMutations {
    /// Keys every decoder architecture's loader reads or could read (dimensions, counts, RoPE,
    /// experts), present in the real file or not: an absent one is added.
    static let architectureKeys = [
        "block_count", "context_length", "embedding_length", "feed_forward_length",
        "attention.head_count", "attention.head_count_kv", "attention.key_length", "attention.value_length",
        "attention.layer_norm_rms_epsilon", "attention.sliding_window",
        "rope.freq_base", "rope.dimension_count", "vocab_size", "expert_count", "expert_used_count",
    ]

    /// The architecture's keys, then every other numeric or boolean key of the real file
    /// (token ids, tokenizer flags, general.file_type, ...).
    static func keys(of tiny: TinyDecoderFile) -> [String] {
        let arch = architectureKeys.map { "\(tiny.architecture).\($0)" }
        let scalars = tiny.entries.filter { entry in
            switch entry.value {
            case .string, .array: return false
            default: return !arch.contains(entry.key)
            }
        }.map(\.key)
        return arch + scalars
    }

    /// Each GGUF type's extremes (0, 1, -1, max, min, 2^31, 2^32, 2^40, 2^62 where the type has
    /// them; NaN, ±inf, the largest and smallest floats), then values of the wrong type.
    static let values: [GGUFValue] = {
        var v: [GGUFValue] = []
        v += [0, 1, .max].map { GGUFValue.uint8($0) }
        v += [0, 1, -1, .max, .min].map { GGUFValue.int8($0) }
        v += [0, 1, .max].map { GGUFValue.uint16($0) }
        v += [0, 1, -1, .max, .min].map { GGUFValue.int16($0) }
        v += [0, 1, 1 << 31, .max].map { GGUFValue.uint32($0) }
        v += [0, 1, -1, .max, .min].map { GGUFValue.int32($0) }
        v += [0, 1, 1 << 31, 1 << 32, 1 << 40, 1 << 62, 1 << 63, .max].map { GGUFValue.uint64($0) }
        v += [0, 1, -1, 1 << 31, 1 << 32, 1 << 40, 1 << 62, .max, .min].map { GGUFValue.int64($0) }
        let floats: [Double] = [0, -0.0, 1, -1, 0.5, 0x1p31, 0x1p62, .nan, .infinity, -.infinity]
        v += (floats + [Double(Float.greatestFiniteMagnitude), -Double(Float.greatestFiniteMagnitude),
                        Double(Float.leastNonzeroMagnitude)]).map { GGUFValue.float32(Float($0)) }
        v += (floats + [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e300])
            .map { GGUFValue.float64($0) }
        v += [.string("1"), .string(""), .array([.uint32(1)]), .array([]), .bool(true), .bool(false)]
        return v
    }()

    /// Vocabulary arrays that disagree with each other or with the model.
    static func vocabularyMutations(of tiny: TinyDecoderFile) -> [(String, (inout TinyDecoderFile) -> Void)] {
        let arrays = ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"]
        var out: [(String, (inout TinyDecoderFile) -> Void)] = []
        for key in arrays {
            out.append(("\(key) removed", { $0[key] = nil }))
            out.append(("\(key) empty", { $0[key] = .array([]) }))
            out.append(("\(key) as u32", { $0[key] = .uint32(7) }))
            out.append(("\(key) one short", { f in f[key] = f[key]?.arrayValue.map { .array(Array($0.dropLast())) } }))
            out.append(("\(key) one long", { f in f[key] = f[key]?.arrayValue.map { .array($0 + [$0[0]]) } }))
            out.append(("\(key) doubled", { f in f[key] = f[key]?.arrayValue.map { .array($0 + $0) } }))
            out.append(("\(key) of strings", { f in f[key] = f[key]?.arrayValue.map { .array($0.map { _ in .string("x") }) } }))
            out.append(("\(key) of i64 max", { f in f[key] = f[key]?.arrayValue.map { .array($0.map { _ in .int64(.max) }) } }))
            out.append(("\(key) of NaN", { f in f[key] = f[key]?.arrayValue.map { .array($0.map { _ in .float32(.nan) }) } }))
            out.append(("\(key) of arrays", { f in f[key] = f[key]?.arrayValue.map { .array($0.map { _ in .array([.uint8(1)]) }) } }))
        }
        out.append(("tokens of empty strings", { f in f["tokenizer.ggml.tokens"] = f["tokenizer.ggml.tokens"]?.arrayValue.map { .array($0.map { _ in .string("") }) } }))
        out.append(("merges of spaces", { f in f["tokenizer.ggml.merges"] = .array(Array(repeating: .string(" "), count: 50) + [.string("a b c"), .string("  ")]) }))
        return out
    }
}
