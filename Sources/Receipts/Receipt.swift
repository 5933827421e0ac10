// Receipts: what every generate, score and encode result carries so that anyone can replay it.
// The receipt is a JSON object; its canonical bytes (ReproJSON's canonicalBytes) are what the
// journal hashes. The output digest is the sha256 of the canonical bytes of the output record
// (the receipt's `output` object without its `digest` member), in which every float is written as
// its exact bit pattern in hex. protocol/README.md ("Receipts") is the full specification.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ReproJSON

/// Where an answer came from: the model file and the engine that ran it.
public struct ReceiptOrigin: Sendable, Equatable {
    public var modelName: String
    public var modelSHA256: String
    public var engineVersion: String
    public var kernels: String

    public init(modelName: String, modelSHA256: String, engineVersion: String, kernels: String) {
        self.modelName = modelName
        self.modelSHA256 = modelSHA256
        self.engineVersion = engineVersion
        self.kernels = kernels
    }
}

public enum Receipt {
    /// The version of receipts made now. It also names their seed scheme (SeedScheme.swift):
    /// version 2 receipts hold seeds of scheme 2; version 1 receipts, made before it, are still
    /// read, replayed and verified with scheme 1.
    public static let version: Int64 = SeedScheme.current.receiptVersion

    /// "rc-" and 32 random hex digits: unique across daemons and restarts.
    public static func newID() -> String {
        "rc-" + Digest.randomHex(bytes: 16)
    }

    /// A receipt. `request` is the canonical effective request (every parameter after defaults,
    /// prompt as token ids); `output` the output record (tokens, floats as bit patterns).
    public static func make(id: String = newID(), method: String, origin: ReceiptOrigin, request: JSONValue,
                            seed: SeedUse?, output: [String: JSONValue], created: Date = Date()) throws -> JSONValue {
        var out = output
        out["digest"] = .string(try outputDigest(output))
        return .object([
            "version": .int(version),
            "id": .string(id),
            "method": .string(method),
            "created": .string(timestamp(created)),
            "model": ["name": .string(origin.modelName), "sha256": .string(origin.modelSHA256)],
            "engine": ["version": .string(origin.engineVersion), "kernels": .string(origin.kernels)],
            "request": request,
            "seed": seedJSON(seed),
            "output": .object(out),
        ])
    }

    /// sha256 over the canonical bytes of the output record, without its `digest` member.
    public static func outputDigest(_ output: [String: JSONValue]) throws -> String {
        var record = output
        record["digest"] = nil
        return Digest.sha256Hex(try JSONValue.object(record).canonicalBytes())
    }

    /// How the seed was chosen (its value is the request's `seed`); null for methods without one.
    public static func seedJSON(_ use: SeedUse?) -> JSONValue {
        guard let use else { return .null }
        switch use {
        case let .session(_, commitment, index):
            return ["source": .string(use.source), "commitment": .string(commitment), "index": .int(Int64(index))]
        case .request, .entropy:
            return ["source": .string(use.source)]
        }
    }

    /// RFC 3339 UTC with milliseconds: "2026-11-27T04:12:00.123Z". (Computed directly rather
    /// than with a DateFormatter, which is costly to make and not safe to share across threads.)
    public static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(ms / 1000)
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(ms % 1000), 3))Z"
    }
}

/// A receipt read back (from a client, or the journal), its structure checked.
public struct ParsedReceipt: Sendable {
    public let json: JSONValue
    public let id: String
    public let method: String
    public let modelName: String
    public let modelSHA256: String
    public let engineVersion: String
    /// How this receipt's seeds were derived and drawn (its `version`).
    public let seedScheme: SeedScheme
    public let request: [String: JSONValue]
    /// nil: the method takes no seed.
    public let seedSource: String?
    public let commitment: String?
    public let index: UInt64?
    public let output: [String: JSONValue]
    public let claimedDigest: String

    /// `path` names the receipt in errors ("params.receipt").
    public init(_ json: JSONValue, path: String) throws {
        self.json = json
        var r = try JSONObjectReader(json, path: path)
        let v = try r.int("version")
        guard let scheme = SeedScheme(receiptVersion: v) else {
            let known = SeedScheme.allCases.map { String($0.receiptVersion) }.joined(separator: " and ")
            throw JSONFieldError(path: r.fieldPath("version"), message: "is \(v); this daemon reads versions \(known)")
        }
        seedScheme = scheme
        id = try r.string("id", maxBytes: 256)
        guard id.hasPrefix("rc-"), id.utf8.count == 35, Digest.isLowerHex(String(id.dropFirst(3))) else {
            throw JSONFieldError(path: r.fieldPath("id"), message: "must be \"rc-\" and 32 lowercase hex digits")
        }
        method = try r.string("method", maxBytes: 64)
        _ = try r.string("created", maxBytes: 64)
        guard var model = try r.optionalObject("model") else { throw JSONFieldError(path: r.fieldPath("model"), message: "is required") }
        modelName = try model.string("name", maxBytes: 4096)
        modelSHA256 = try model.string("sha256")
        guard Digest.isSHA256Hex(modelSHA256) else { throw JSONFieldError(path: model.fieldPath("sha256"), message: "must be 64 lowercase hex digits") }
        try model.finish()
        guard var engine = try r.optionalObject("engine") else { throw JSONFieldError(path: r.fieldPath("engine"), message: "is required") }
        engineVersion = try engine.string("version", maxBytes: 256)
        _ = try engine.string("kernels", maxBytes: 256)
        try engine.finish()
        guard let req = r.value("request")?.objectValue else { throw JSONFieldError(path: r.fieldPath("request"), message: "must be an object") }
        request = req
        if var seed = try r.optionalObject("seed") {
            let source = try seed.string("source", maxBytes: 16)
            guard ["request", "session", "entropy"].contains(source) else {
                throw JSONFieldError(path: seed.fieldPath("source"), message: "must be request, session or entropy")
            }
            seedSource = source
            if source == "session" {
                let c = try seed.string("commitment")
                guard Digest.isSHA256Hex(c) else { throw JSONFieldError(path: seed.fieldPath("commitment"), message: "must be 64 lowercase hex digits") }
                commitment = c
                index = UInt64(try seed.int("index", in: 0...Int64.max))
            } else {
                commitment = nil
                index = nil
            }
            try seed.finish()
        } else {
            seedSource = nil
            commitment = nil
            index = nil
        }
        guard let out = r.value("output")?.objectValue else { throw JSONFieldError(path: r.fieldPath("output"), message: "must be an object") }
        guard let d = out["digest"]?.stringValue, Digest.isSHA256Hex(d) else {
            throw JSONFieldError(path: r.fieldPath("output") + ".digest", message: "must be 64 lowercase hex digits")
        }
        output = out
        claimedDigest = d
        try r.finish()
    }

    /// Whether the output record still hashes to the digest the receipt claims.
    public var isIntact: Bool {
        (try? Receipt.outputDigest(output)) == claimedDigest
    }
}
