// A tiny in-memory GGUF writer for tests. It writes well-formed files by default, and every field
// the reader validates can be overridden (raw type ids, dims, offsets, counts, key bytes), so tests
// can craft hostile files without hand-assembling bytes. `Layout` reports where each section landed
// so tests can patch or truncate at exact places.

import Foundation
import ModelFiles

/// Builds GGUF files in memory. Layout and defaults follow the reader's documented byte layout.
public struct GGUFWriter {
    /// One key/value pair. `.raw` writes the given key bytes, type id and payload verbatim.
    public enum Entry {
        case value(key: String, GGUFValue)
        case raw(key: [UInt8], type: UInt32, payload: [UInt8])
    }

    /// One tensor info plus its bytes. `dims` and `typeID` are written verbatim, so they may be
    /// invalid; `offset` nil means "next aligned slot after the previous tensor".
    public struct Tensor {
        public var name: [UInt8]
        public var dims: [Int64]
        public var typeID: UInt32
        public var data: [UInt8]
        public var offset: UInt64?

        public init(name: String, dims: [Int64], typeID: UInt32, data: [UInt8], offset: UInt64? = nil) {
            self.name = Array(name.utf8)
            self.dims = dims
            self.typeID = typeID
            self.data = data
            self.offset = offset
        }
    }

    /// Absolute offsets of each part of the built file.
    public struct Layout {
        public var version = 4
        public var tensorCount = 8
        public var kvCount = 16
        public var kvStart = 24
        /// Start of each key/value pair (at its key length prefix).
        public var kvOffsets: [Int] = []
        /// Start of each value (right after its type id).
        public var valueOffsets: [Int] = []
        public var tensorInfoStart = 0
        /// Start of each tensor info (at its name length prefix).
        public var tensorInfoOffsets: [Int] = []
        /// Absolute offset of each tensor's offset field (the u64 after the type id).
        public var tensorOffsetFields: [Int] = []
        public var tensorInfoEnd = 0
        public var dataStart = 0
        public var totalSize = 0
    }

    public var magic: [UInt8] = Array("GGUF".utf8)
    public var version: UInt32 = 3
    /// Padding used between sections and tensors. Does not add `general.alignment` by itself.
    public var alignment = 32
    public var tensorCountOverride: UInt64?
    public var kvCountOverride: UInt64?
    public var entries: [Entry] = []
    public var tensors: [Tensor] = []

    public init(version: UInt32 = 3, alignment: Int = 32) {
        self.version = version
        self.alignment = alignment
    }

    // MARK: Adding content

    public mutating func add(_ key: String, _ value: GGUFValue) {
        entries.append(.value(key: key, value))
    }

    /// Sets `general.alignment` (as u32) and pads with it.
    public mutating func setAlignment(_ a: UInt32) {
        alignment = Int(a)
        add("general.alignment", .uint32(a))
    }

    /// Adds a tensor whose bytes are a deterministic pattern of the right size for its shape and type.
    public mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, offset: UInt64? = nil) {
        let elements = shape.reduce(1, *)
        let size = elements / type.blockSize * type.typeSize
        let data = (0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ name.utf8.count) }
        addTensor(name, shape: shape, type: type, data: data, offset: offset)
    }

    public mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, data: [UInt8], offset: UInt64? = nil) {
        tensors.append(Tensor(name: name, dims: shape.map(Int64.init), typeID: type.rawValue, data: data, offset: offset))
    }

    public mutating func addRawTensor(_ tensor: Tensor) {
        tensors.append(tensor)
    }

    // MARK: Building

    public var bytes: [UInt8] { build().bytes }

    public func build() -> (bytes: [UInt8], layout: Layout) {
        var out: [UInt8] = []
        var layout = Layout()
        out += magic
        layout.version = out.count
        out.appendLE(version)
        layout.tensorCount = out.count
        out.appendLE(tensorCountOverride ?? UInt64(tensors.count))
        layout.kvCount = out.count
        out.appendLE(kvCountOverride ?? UInt64(entries.count))
        layout.kvStart = out.count

        for entry in entries {
            layout.kvOffsets.append(out.count)
            switch entry {
            case .value(let key, let value):
                out.appendString(Array(key.utf8))
                out.appendLE(GGUFWriter.typeID(of: value))
                layout.valueOffsets.append(out.count)
                GGUFWriter.encodePayload(value, into: &out)
            case .raw(let key, let type, let payload):
                out.appendString(key)
                out.appendLE(type)
                layout.valueOffsets.append(out.count)
                out += payload
            }
        }

        // Tensor offsets: explicit ones are kept; the rest go to the next aligned free slot.
        var nextOffset: UInt64 = 0
        var offsets: [UInt64] = []
        for t in tensors {
            let off = t.offset ?? nextOffset
            offsets.append(off)
            nextOffset = max(nextOffset, UInt64(GGUFWriter.alignUp(Int(off) + t.data.count, alignment)))
        }

        layout.tensorInfoStart = out.count
        for (t, off) in zip(tensors, offsets) {
            layout.tensorInfoOffsets.append(out.count)
            out.appendString(t.name)
            out.appendLE(UInt32(t.dims.count))
            for d in t.dims { out.appendLE(d) }
            out.appendLE(t.typeID)
            layout.tensorOffsetFields.append(out.count)
            out.appendLE(off)
        }
        layout.tensorInfoEnd = out.count

        layout.dataStart = GGUFWriter.alignUp(out.count, alignment)
        if !tensors.isEmpty {
            out += [UInt8](repeating: 0, count: layout.dataStart - out.count)
            for (t, off) in zip(tensors, offsets) {
                let at = layout.dataStart + Int(off)
                if out.count < at + t.data.count { out += [UInt8](repeating: 0, count: at + t.data.count - out.count) }
                out.replaceSubrange(at ..< at + t.data.count, with: t.data)
            }
            // Pad the end too, as llama.cpp's writer does, so the last tensor is followed by padding.
            out += [UInt8](repeating: 0, count: GGUFWriter.alignUp(out.count, alignment) - out.count)
        }
        layout.totalSize = out.count
        return (out, layout)
    }

    // MARK: Value encoding

    /// The GGUF value type id of `value` (9 for arrays).
    public static func typeID(of value: GGUFValue) -> UInt32 {
        switch value {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    /// The value's bytes without its type id. Arrays take their element type from the first
    /// element (u8 when empty); give them homogeneous elements.
    public static func encodePayload(_ value: GGUFValue, into out: inout [UInt8]) {
        switch value {
        case .uint8(let v): out.appendLE(v)
        case .int8(let v): out.appendLE(v)
        case .uint16(let v): out.appendLE(v)
        case .int16(let v): out.appendLE(v)
        case .uint32(let v): out.appendLE(v)
        case .int32(let v): out.appendLE(v)
        case .uint64(let v): out.appendLE(v)
        case .int64(let v): out.appendLE(v)
        case .float32(let v): out.appendLE(v.bitPattern)
        case .float64(let v): out.appendLE(v.bitPattern)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): out.appendString(Array(s.utf8))
        case .array(let items):
            out.appendLE(items.first.map(typeID(of:)) ?? 0)
            out.appendLE(UInt64(items.count))
            for item in items { encodePayload(item, into: &out) }
        }
    }

    public static func alignUp(_ v: Int, _ a: Int) -> Int { a <= 1 ? v : (v + a - 1) / a * a }
}

// MARK: - Byte helpers for hostile files

extension Array where Element == UInt8 {
    public mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    /// A GGUF string: u64 length, then the bytes.
    public mutating func appendString(_ bytes: [UInt8]) {
        appendLE(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    /// Overwrites bytes at `offset` with the little-endian encoding of `v`.
    public mutating func patchLE<T: FixedWidthInteger>(at offset: Int, _ v: T) {
        var bytes: [UInt8] = []
        bytes.appendLE(v)
        replaceSubrange(offset ..< offset + bytes.count, with: bytes)
    }

    public mutating func patch(at offset: Int, _ bytes: [UInt8]) {
        replaceSubrange(offset ..< offset + bytes.count, with: bytes)
    }

    /// The first `count` bytes.
    public func truncated(to count: Int) -> [UInt8] { Array(prefix(count)) }
}

/// Temporary files for tests, each in its own directory under the system temp folder.
public enum TemporaryFiles {
    /// Writes `bytes` to a fresh temp file and returns its path.
    public static func write(_ bytes: [UInt8], name: String = "test.gguf") throws -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("reprolm-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Removes a file written by `write` and its directory.
    public static func remove(_ path: String) {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }

    /// Writes `bytes` to a temp file, runs `body` with its path, then removes it.
    public static func with<R>(_ bytes: [UInt8], _ body: (String) throws -> R) throws -> R {
        let path = try write(bytes)
        defer { remove(path) }
        return try body(path)
    }
}

extension GGUFWriter {
    /// Writes the built file to a fresh temp file and returns its path (remove with `TemporaryFiles.remove`).
    public func writeTemporaryFile(name: String = "test.gguf") throws -> String {
        try TemporaryFiles.write(bytes, name: name)
    }
}
