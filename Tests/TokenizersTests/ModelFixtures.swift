// Loading the real models and their golden files for the tokenizer tests. Models are looked up the
// way the daemon and scripts/make_tokenizer_golden.py look them up; a missing model skips the test
// (CI has them: `reprolm pull NAME`).

import Foundation
import ModelFiles
import ReproJSON
import Tokenizers
import XCTest

/// A model the tokenizer tests run against.
struct ModelFixture {
    let name: String
    let file: String

    static let smollm2 = ModelFixture(name: "smollm2-135m", file: "SmolLM2-135M-Instruct.Q4_1.gguf")
    static let qwen25 = ModelFixture(name: "qwen2.5-coder-0.5b", file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    static let gemma3 = ModelFixture(name: "gemma3-270m", file: "gemma-3-270m-q4_k_m.gguf")
    static let all = [smollm2, qwen25, gemma3]

    /// $REPROLM_CACHE_DIR, else $XDG_CACHE_HOME/reprolm, else ~/.cache/reprolm.
    static var cacheRoot: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["REPROLM_CACHE_DIR"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/reprolm" }
        return NSHomeDirectory() + "/.cache/reprolm"
    }

    var path: String { "\(Self.cacheRoot)/models/\(name)/\(file)" }

    /// The tokenizer, loaded once per test process (Gemma's vocabulary has 262,144 entries).
    func tokenizer() throws -> Tokenizer {
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is missing: run `reprolm pull \(name)`")
        }
        return try TokenizerCache.shared.get(path)
    }

    /// The committed golden file, or the one in $REPROLM_TOKENIZER_GOLDEN_DIR when set (a larger
    /// corpus made with `make_tokenizer_golden.py --texts FILE --out DIR`).
    func golden() throws -> Golden {
        if let dir = ProcessInfo.processInfo.environment["REPROLM_TOKENIZER_GOLDEN_DIR"], !dir.isEmpty {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).json"))
            return try Golden(JSONValue.parse([UInt8](data)))
        }
        guard let url = Bundle.module.url(forResource: "Golden/\(name)", withExtension: "json") else {
            XCTFail("golden file for \(name) missing from the test bundle")
            throw GoldenError("no golden file for \(name)")
        }
        let data = try Data(contentsOf: url)
        return try Golden(JSONValue.parse([UInt8](data)))
    }
}

/// Loaded tokenizers by path, so each model's vocabulary is built once.
final class TokenizerCache: @unchecked Sendable {
    static let shared = TokenizerCache()
    private let lock = NSLock()
    private var cache: [String: Tokenizer] = [:]

    func get(_ path: String) throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let t = cache[path] { return t }
        let t = try Tokenizer.fromGGUF(GGUFFile(path: path).metadata)
        cache[path] = t
        return t
    }
}

struct GoldenError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One golden file (see scripts/make_tokenizer_golden.py for the fields).
struct Golden {
    struct Case {
        let note: String
        let text: String
        let plain: [Int32]
        let special: [Int32]
        let plainDetok: [UInt8]
        let specialDetok: [UInt8]
        let specialDetokSkip: [UInt8]
    }

    let nTokens: Int
    let bos: Int32?
    let eos: Int32?
    let eot: Int32?
    let addBOS: Bool
    let addEOS: Bool
    let eog: [Int32]
    let cases: [Case]
    let pieces: [Int32: [UInt8]]

    init(_ json: JSONValue) throws {
        guard let vocab = json["vocab"], let cases = json["cases"]?.arrayValue,
              let pieces = json["pieces"]?.objectValue else { throw GoldenError("malformed golden file") }
        func id(_ v: JSONValue?) -> Int32? { v?.int64Value.map { Int32($0) } }
        func ids(_ v: JSONValue?) throws -> [Int32] {
            guard let a = v?.arrayValue else { throw GoldenError("expected an id array") }
            return try a.map { guard let i = $0.int64Value else { throw GoldenError("bad id") }; return Int32(i) }
        }
        func bytes(_ c: JSONValue, _ key: String) throws -> [UInt8] {
            if let hex = c[key + "_hex"]?.stringValue { return try Self.unhex(hex) }
            guard let s = c[key]?.stringValue else { throw GoldenError("missing \(key)") }
            return Array(s.utf8)
        }
        nTokens = Int(vocab["n_tokens"]?.int64Value ?? -1)
        bos = id(vocab["bos"])
        eos = id(vocab["eos"])
        eot = id(vocab["eot"])
        addBOS = vocab["add_bos"]?.boolValue ?? false
        addEOS = vocab["add_eos"]?.boolValue ?? false
        eog = try ids(vocab["eog"])
        self.cases = try cases.map { c in
            guard let note = c["note"]?.stringValue, let text = c["text"]?.stringValue else {
                throw GoldenError("case without text")
            }
            return Case(note: note, text: text, plain: try ids(c["plain"]), special: try ids(c["special"]),
                        plainDetok: try bytes(c, "plain_detok"), specialDetok: try bytes(c, "special_detok"),
                        specialDetokSkip: try bytes(c, "special_detok_skip"))
        }
        var p: [Int32: [UInt8]] = [:]
        for (k, v) in pieces {
            guard let i = Int32(k), let hex = v.stringValue else { throw GoldenError("bad piece \(k)") }
            p[i] = try Self.unhex(hex)
        }
        self.pieces = p
    }

    static func unhex(_ s: String) throws -> [UInt8] {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { throw GoldenError("odd hex length") }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: throw GoldenError("bad hex digit")
            }
        }
        return try stride(from: 0, to: chars.count, by: 2).map { try nibble(chars[$0]) << 4 | nibble(chars[$0 + 1]) }
    }
}
