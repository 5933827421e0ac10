// A tiny in-memory safetensors writer for tests. It writes well-formed files by default (header
// padded with spaces to 8 bytes, as the reference writer does; tensors back to back in the order
// added), and every field the reader validates can be overridden: each tensor's header entry is a
// JSONValue, complete with data_offsets from the moment the tensor is added, that tests may edit
// or replace; the header text and the length prefix can be replaced wholesale; and bytes can be
// appended after the data.

import ModelFiles
import ReproJSON

/// Builds safetensors files in memory.
public struct SafetensorsWriter {
    /// One tensor: its header entry and its bytes.
    public struct Tensor {
        public var name: String
        /// The value written under `name` in the header.
        public var entry: JSONValue
        public var data: [UInt8]
    }

    public var tensors: [Tensor] = []
    /// Written as `__metadata__` when set.
    public var metadata: JSONValue?
    /// Replaces the whole header text (the length prefix then gives its length).
    public var rawHeader: [UInt8]?
    /// Replaces the length prefix.
    public var headerLengthOverride: UInt64?
    /// Bytes appended after the tensors' data.
    public var trailing: [UInt8] = []

    public init() {}

    /// Adds a tensor whose bytes are a deterministic pattern of the right size for its shape.
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int]) {
        let size = shape.reduce(1, *) * dtype.byteSize
        add(name, dtype: dtype, shape: shape, data: (0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ name.utf8.count) })
    }

    /// Adds a tensor with the given bytes, placed right after the previous tensor's.
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], data: [UInt8]) {
        let begin = tensors.reduce(0) { $0 + $1.data.count }
        let entry: JSONValue = [
            "dtype": .string(dtype.rawValue),
            "shape": JSONValue(ints: shape),
            "data_offsets": JSONValue(ints: [begin, begin + data.count]),
        ]
        tensors.append(Tensor(name: name, entry: entry, data: data))
    }

    /// Adds an F32 tensor holding `floats`.
    public mutating func add(_ name: String, floats: [Float], shape: [Int]) {
        var data: [UInt8] = []
        for f in floats { data.appendLE(f.bitPattern) }
        add(name, dtype: .f32, shape: shape, data: data)
    }

    /// Sets (or with nil, removes) one field of a tensor's entry.
    public mutating func set(_ field: String, of name: String, to value: JSONValue?) {
        guard let i = tensors.firstIndex(where: { $0.name == name }), case .object(var fields) = tensors[i].entry else { return }
        fields[field] = value
        tensors[i].entry = .object(fields)
    }

    // MARK: Building

    /// The header's JSON text, before padding.
    public var headerText: [UInt8] {
        if let rawHeader { return rawHeader }
        var object: [String: JSONValue] = [:]
        for t in tensors { object[t.name] = t.entry }
        if let metadata { object["__metadata__"] = metadata }
        return (try? JSONValue.object(object).serialized()) ?? []
    }

    public var bytes: [UInt8] {
        var header = headerText
        if rawHeader == nil {
            while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        }
        var out: [UInt8] = []
        out.appendLE(headerLengthOverride ?? UInt64(header.count))
        out += header
        for t in tensors { out += t.data }
        out += trailing
        return out
    }
}
