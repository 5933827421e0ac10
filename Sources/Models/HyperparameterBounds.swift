// Model metadata is hostile input: a file can say it has 2^62 layers or -1 heads. Every count and
// size a decoder's configuration takes from GGUF metadata is read through the checked readers
// below, which refuse (with a ModelError naming the key) a value of the wrong type, one that does
// not fit Int, or one outside these bounds, before anything is allocated or iterated from it.
// DecoderConfig.validate() checks them again, with the products the forward pass allocates,
// computed with overflow checks.
//
// The bounds are far above every open model (the largest have ~126 layers, 128 heads, head
// dimension 256, width ~16K, feed-forward ~53K, vocabulary 262K, context 10M), and low enough
// that nothing sized from them can overflow or ask for an absurd allocation before the tensor
// shapes, which the file's size bounds, are checked.
import ModelFiles

enum HyperparameterBounds {
    /// Transformer blocks: each has its own weights and KV cache pointers.
    static let layers = 1...1024
    /// Query heads and key/value heads.
    static let heads = 1...1024
    /// Per-head width; RoPE also needs it even (it rotates pairs).
    static let headDim = 2...1024
    /// The residual stream's width.
    static let embedding = 1...(1 << 16)
    static let feedForward = 1...(1 << 18)
    /// heads × headDim (the Q and attention-output widths) and kvHeads × headDim.
    static let projectionWidth = 1...(1 << 20)
    /// Rows of the embedding matrix, and tokens of the tokenizer (ids must stay well inside Int32).
    static let vocabulary = 1...(1 << 22)
    /// Positions a sequence may hold (the KV cache grows with use, up to this).
    static let contextLength = 1...(1 << 24)
    static let slidingWindow = 1...(1 << 24)
    /// RMSNorm's epsilon: real files use 1e-6 or 1e-5; anything above 1 is not a norm.
    static let normEpsilon = 0.0...1.0
    /// RoPE base frequencies: real files use 1e4...1e7; at or below 1 the angles do not decay
    /// (the lower end is excluded: `boundedReal(..., lowerExclusive: true)`).
    static let ropeBase = 1.0...1e12
}

extension GGUFMetadata {
    /// `key` as an Int in `range`, or `fallback` when the key is absent.
    func boundedInt(_ key: String, in range: ClosedRange<Int>, default fallback: Int? = nil) throws -> Int {
        guard let value = self[key] else {
            if let fallback { return fallback }
            throw ModelError.badMetadata(key: key, value: "missing", expected: "an integer in \(range)")
        }
        // Compared as the value's own type, so 2^64-1 or -2^63 is reported, not trapped on.
        let inRange: Bool
        switch value {
        case .uint8(let v): inRange = range.contains(Int(v))
        case .int8(let v): inRange = range.contains(Int(v))
        case .uint16(let v): inRange = range.contains(Int(v))
        case .int16(let v): inRange = range.contains(Int(v))
        case .uint32(let v): inRange = range.contains(Int(v))
        case .int32(let v): inRange = range.contains(Int(v))
        case .uint64(let v): inRange = v <= UInt64(Int.max) && range.contains(Int(v))
        case .int64(let v): inRange = range.contains(Int(v))
        case .float32, .float64, .bool, .string, .array: inRange = false
        }
        guard inRange, let n = value.intValue else {
            throw ModelError.badMetadata(key: key, value: value.metadataDescription, expected: "an integer in \(range)")
        }
        return n
    }

    /// `key` as a finite number in `range` (integers accepted; without the lower end when
    /// `lowerExclusive`), or `fallback` when absent.
    func boundedReal(_ key: String, in range: ClosedRange<Double>, lowerExclusive: Bool = false,
                     default fallback: Double? = nil) throws -> Double {
        let expected = "a number in \(lowerExclusive ? "(" : "[")\(range.lowerBound), \(range.upperBound)]"
        guard let value = self[key] else {
            if let fallback { return fallback }
            throw ModelError.badMetadata(key: key, value: "missing", expected: expected)
        }
        let number: Double?
        switch value {
        case .uint64(let v): number = Double(v)
        default: number = value.doubleValue
        }
        guard let number, number.isFinite, range.contains(number), !(lowerExclusive && number == range.lowerBound) else {
            throw ModelError.badMetadata(key: key, value: value.metadataDescription, expected: expected)
        }
        return number
    }
}

extension GGUFValue {
    /// The value for an error message: numbers exactly, with their GGUF type; others by type.
    var metadataDescription: String {
        switch self {
        case .uint8(let v): return "\(v) (u8)"
        case .int8(let v): return "\(v) (i8)"
        case .uint16(let v): return "\(v) (u16)"
        case .int16(let v): return "\(v) (i16)"
        case .uint32(let v): return "\(v) (u32)"
        case .int32(let v): return "\(v) (i32)"
        case .uint64(let v): return "\(v) (u64)"
        case .int64(let v): return "\(v) (i64)"
        case .float32(let v): return "\(v) (f32)"
        case .float64(let v): return "\(v) (f64)"
        case .bool(let v): return "\(v) (bool)"
        case .string: return "a string"
        case .array(let a): return "an array of \(a.count)"
        }
    }
}
