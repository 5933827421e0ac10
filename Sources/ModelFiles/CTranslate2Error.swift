// Every way a CTranslate2 model.bin can fail to open or be read. One case per distinct failure,
// each naming the variable and the numbers a bug report needs; offsets are absolute file offsets.

/// A CTranslate2 model.bin that cannot be opened, is malformed, or lacks what a caller asked for.
public enum CTranslate2Error: Error, Equatable, CustomStringConvertible {
    // Opening the file.
    case openFailed(path: String, errno: Int32)
    case notARegularFile(path: String)
    case mapFailed(path: String, errno: Int32)
    /// Read into private memory (no lease could be had) while someone wrote to it: a torn copy.
    case changedWhileRead(path: String)

    // The layout.
    /// The file ends inside `what`, which needs `needed` bytes at `offset`.
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    /// A binary version this reader does not read (it reads version 6 only).
    case unsupportedVersion(UInt32, supported: UInt32)
    /// A string whose length prefix is 0 or 1 (an empty name), that lacks its NUL terminator,
    /// holds a NUL inside, or is not UTF-8.
    case badString(offset: Int, problem: String)
    /// More variables (or aliases) than the bytes left could describe, or than the reader's bound.
    case tooManyEntries(what: String, count: UInt32, limit: Int)
    case badRank(variable: String, rank: Int, limit: Int)
    case elementCountOverflow(variable: String, shape: [UInt32])
    /// A type id outside CTranslate2's DataType enum.
    case unknownDType(variable: String, id: UInt8)
    /// A type CTranslate2 knows but this reader refuses (bfloat16: no model we load uses it).
    case unsupportedDType(variable: String, name: String)
    /// The payload's byte count disagrees with its shape and type.
    case payloadSizeMismatch(variable: String, expected: Int, actual: Int)
    case duplicateName(String)
    case aliasTargetMissing(alias: String, target: String)
    /// Bytes after the alias table, which the format does not have.
    case trailingBytes(offset: Int, count: Int)

    // Reading variables.
    case missingVariable(String)
    /// A variable of another type than the caller can read (`expected` lists what it can).
    case wrongDType(variable: String, dtype: CTranslate2DType, expected: String)

    public var description: String {
        switch self {
        case .openFailed(let p, let e): return "cannot open CTranslate2 model '\(p)': \(errnoText(e))"
        case .notARegularFile(let p): return "'\(p)' is not a regular file"
        case .mapFailed(let p, let e): return "cannot map or read CTranslate2 model '\(p)': \(errnoText(e))"
        case .changedWhileRead(let p):
            return "CTranslate2 model '\(p)' changed while it was read (it is being written to); load it again once it is complete"
        case .truncated(let w, let o, let n, let s):
            return "CTranslate2 model.bin ends inside \(w): \(n) bytes needed at offset \(o) of a \(s)-byte file (truncated download?)"
        case .unsupportedVersion(let v, let s): return "CTranslate2 binary version \(v) is not supported (only \(s))"
        case .badString(let o, let p): return "CTranslate2 model.bin string at offset \(o): \(p)"
        case .tooManyEntries(let w, let c, let l): return "CTranslate2 model.bin declares \(c) \(w), more than the limit of \(l)"
        case .badRank(let v, let r, let l): return "variable '\(v)' has rank \(r), above the limit of \(l)"
        case .elementCountOverflow(let v, let s): return "variable '\(v)' shape \(s) has too many elements"
        case .unknownDType(let v, let id): return "variable '\(v)' has unknown type id \(id)"
        case .unsupportedDType(let v, let n): return "variable '\(v)' has type \(n), which is not supported"
        case .payloadSizeMismatch(let v, let e, let a):
            return "variable '\(v)' declares \(a) payload bytes, but its shape and type need \(e)"
        case .duplicateName(let n): return "CTranslate2 model.bin names '\(n)' twice"
        case .aliasTargetMissing(let a, let t): return "alias '\(a)' names '\(t)', which is not a variable of the file"
        case .trailingBytes(let o, let c): return "\(c) bytes at offset \(o) follow the alias table"
        case .missingVariable(let n): return "variable '\(n)' is missing"
        case .wrongDType(let v, let d, let e): return "variable '\(v)' has type \(d.name), not \(e)"
        }
    }
}
