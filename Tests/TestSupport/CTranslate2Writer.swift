// A tiny in-memory CTranslate2 model.bin writer for tests, written from the layout in
// Sources/ModelFiles/CTranslate2Parser.swift (CTranslate2's own writer is
// python/ctranslate2/specs/model_spec.py `_serialize`). Well-formed by default; every field the
// reader validates can be overridden: the version, each variable's rank byte, dimensions, type id,
// declared byte count and payload, raw string bytes, the counts, and bytes appended at the end.

/// Builds CTranslate2 model.bin files in memory.
public struct CTranslate2Writer {
    public struct Variable {
        public var name: String
        public var dims: [UInt32]
        public var typeID: UInt8
        public var payload: [UInt8]
        /// Replaces the rank byte (default: dims.count).
        public var rankOverride: UInt8?
        /// Replaces the declared byte count (default: payload.count).
        public var byteCountOverride: UInt32?
        /// Replaces the name's bytes as written (length prefix included).
        public var rawName: [UInt8]?
    }

    public var version: UInt32 = 6
    public var spec = "TestSpec"
    public var revision: UInt32 = 1
    public var variables: [Variable] = []
    public var aliases: [(alias: String, target: String)] = []
    /// Replace the declared counts.
    public var variableCountOverride: UInt32?
    public var aliasCountOverride: UInt32?
    /// Bytes appended after the alias table.
    public var trailing: [UInt8] = []

    public init() {}

    /// Adds a variable with a deterministic payload of the right size for its shape and type.
    public mutating func add(_ name: String, typeID: UInt8, dims: [UInt32], itemSize: Int) {
        let size = dims.reduce(1) { $0 * Int($1) } * itemSize
        add(name, typeID: typeID, dims: dims, payload: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ name.utf8.count) })
    }

    public mutating func add(_ name: String, typeID: UInt8, dims: [UInt32], payload: [UInt8]) {
        variables.append(Variable(name: name, dims: dims, typeID: typeID, payload: payload))
    }

    /// Adds a float32 variable holding `floats`.
    public mutating func add(_ name: String, floats: [Float], dims: [UInt32]) {
        add(name, typeID: 0, dims: dims, payload: floats.flatMap { le($0.bitPattern) })
    }

    /// Adds a float16 variable holding the given binary16 bit patterns.
    public mutating func add(_ name: String, halfBits: [UInt16], dims: [UInt32]) {
        add(name, typeID: 4, dims: dims, payload: halfBits.flatMap { le($0) })
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out += le(version)
        out += Self.string(spec)
        out += le(revision)
        out += le(variableCountOverride ?? UInt32(variables.count))
        for v in variables {
            out += v.rawName ?? Self.string(v.name)
            out.append(v.rankOverride ?? UInt8(v.dims.count))
            for d in v.dims { out += le(d) }
            out.append(v.typeID)
            out += le(v.byteCountOverride ?? UInt32(v.payload.count))
            out += v.payload
        }
        out += le(aliasCountOverride ?? UInt32(aliases.count))
        for (alias, target) in aliases {
            out += Self.string(alias)
            out += Self.string(target)
        }
        return out + trailing
    }

    /// A string as CTranslate2 writes it: u16 length counting the NUL, the bytes, the NUL.
    public static func string(_ s: String) -> [UInt8] {
        le(UInt16(s.utf8.count + 1)) + Array(s.utf8) + [0]
    }
}

private func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v.littleEndian) { Array($0) }
}
