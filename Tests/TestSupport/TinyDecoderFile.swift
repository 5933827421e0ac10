// A small stand-in for a real GGUF decoder: the real file's metadata (every key, in its order,
// with its type) with tiny dimensions, a short vocabulary and F32 tensors of the shapes those
// dimensions give. Loading one and running a token takes milliseconds instead of the seconds a
// 100-500 MB model needs, so tests can load thousands of mutated variants of it.

import Foundation
import ModelFiles

public struct TinyDecoderFile {
    /// The tiny dimensions. head_dim is embedding / heads, as llama derives it, and also Gemma's
    /// key_length and value_length, so every architecture's shapes agree.
    public static let layers = 2, embedding = 32, heads = 2, kvHeads = 1, headDim = 16, feedForward = 48
    public static let contextLength = 64, slidingWindow = 8
    /// Tokens kept from the real vocabulary (its first ones: the special and byte tokens).
    public static let vocabulary = 384
    /// Merges kept from a BPE vocabulary.
    static let merges = 256

    public let architecture: String
    /// The metadata, in the real file's order.
    public var entries: [(key: String, value: GGUFValue)]
    /// Global tensors and every layer's, named as in the real file.
    public let tensors: [(name: String, shape: [Int])]

    /// Shrinks the real model at `path`.
    public init(realModel path: String) throws {
        let real = try GGUFFile(path: path)
        guard let arch = real.architecture else { throw CocoaError(.fileReadCorruptFile) }
        architecture = arch
        entries = real.metadata.orderedKeys.map { key in (key, Self.shrink(key, real.metadata[key]!, arch: arch)) }

        // The real file says which tensors exist (biases, a separate output, Gemma's extra norms);
        // the tiny dimensions say their shapes.
        let perLayer = real.tensors.compactMap { t -> String? in
            t.name.hasPrefix("blk.0.") ? String(t.name.dropFirst("blk.0.".count)) : nil
        }
        var list: [(String, [Int])] = []
        for t in real.tensors where !t.name.hasPrefix("blk.") { list.append((t.name, Self.shape(of: t.name))) }
        for layer in 0..<Self.layers {
            for suffix in perLayer { list.append(("blk.\(layer).\(suffix)", Self.shape(of: suffix))) }
        }
        tensors = list
    }

    /// The value of `key`, or nil.
    public subscript(key: String) -> GGUFValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    /// The file's bytes.
    public var bytes: [UInt8] {
        var w = GGUFWriter()
        for (key, value) in entries { w.add(key, value) }
        for (name, shape) in tensors { w.addTensor(name, shape: shape, type: .f32, data: Self.weights(name, shape)) }
        return w.bytes
    }

    // MARK: Shrinking

    /// The tiny value of a real key, in the key's own type; keys without a dimension are kept.
    static func shrink(_ key: String, _ value: GGUFValue, arch: String) -> GGUFValue {
        let dims: [String: Int] = [
            "block_count": layers, "embedding_length": embedding, "feed_forward_length": feedForward,
            "attention.head_count": heads, "attention.head_count_kv": kvHeads,
            "attention.key_length": headDim, "attention.value_length": headDim, "rope.dimension_count": headDim,
            "context_length": contextLength, "attention.sliding_window": slidingWindow, "vocab_size": vocabulary,
        ]
        if key.hasPrefix(arch + "."), let n = dims[String(key.dropFirst(arch.count + 1))] { return sameType(value, n) }
        switch key {
        case "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type":
            return .array(Array((value.arrayValue ?? []).prefix(vocabulary)))
        case "tokenizer.ggml.merges":
            return .array(Array((value.arrayValue ?? []).prefix(merges)))
        default:
            // Special token ids past the short vocabulary move to its last token.
            if key.hasPrefix("tokenizer.ggml."), key.hasSuffix("_token_id"), let id = value.intValue, id >= vocabulary {
                return sameType(value, vocabulary - 1)
            }
            return value
        }
    }

    /// `n` in the integer type of `value`.
    static func sameType(_ value: GGUFValue, _ n: Int) -> GGUFValue {
        switch value {
        case .uint8: return .uint8(UInt8(n))
        case .int8: return .int8(Int8(n))
        case .uint16: return .uint16(UInt16(n))
        case .int16: return .int16(Int16(n))
        case .int32: return .int32(Int32(n))
        case .uint64: return .uint64(UInt64(n))
        case .int64: return .int64(Int64(n))
        default: return .uint32(UInt32(n))
        }
    }

    /// GGUF shapes list the contiguous dimension first: a matrix is (columns, rows).
    static func shape(of name: String) -> [Int] {
        let q = heads * headDim, kv = kvHeads * headDim
        switch name.replacingOccurrences(of: ".weight", with: "") {
        case "token_embd", "output": return [embedding, vocabulary]
        case "attn_q": return [embedding, q]
        case "attn_k", "attn_v": return [embedding, kv]
        case "attn_output": return [q, embedding]
        case "ffn_gate", "ffn_up": return [embedding, feedForward]
        case "ffn_down": return [feedForward, embedding]
        case "attn_q.bias": return [q]
        case "attn_k.bias", "attn_v.bias": return [kv]
        case "attn_q_norm", "attn_k_norm": return [headDim]
        default: return [embedding]  // the norms
        }
    }

    /// Small, deterministic, finite weights; norm weights near 1.
    static func weights(_ name: String, _ shape: [Int]) -> [UInt8] {
        let count = shape.reduce(1, *)
        let isNorm = name.hasSuffix("norm.weight")
        var out: [UInt8] = []
        out.reserveCapacity(count * 4)
        for i in 0..<count {
            let x = Float((i &* 2_654_435_761 &+ name.utf8.count) % 2001 - 1000) / 20_000
            out.appendLE((isNorm ? 1 + x : x).bitPattern)
        }
        return out
    }
}
