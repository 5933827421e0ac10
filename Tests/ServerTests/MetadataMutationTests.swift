// Model metadata is hostile input (issue 12): every numeric metadata key a decoder's real file
// has, and every key the loader reads, rewritten with the extreme values of every GGUF type and
// with values of the wrong type. Each variant goes the whole way a `models/load` goes (the
// registry: hash, map, tokenizer, decoder, chat template) and then through one forward pass of
// one token; it must end in a typed refusal naming what is wrong, or in a load that runs. Before
// the bounds in Sources/Models/HyperparameterBounds.swift, `llama.block_count` = 2^62 aborted
// the process in an allocation and a negative `gemma3.block_count` trapped.
//
// The files are the real models' metadata with tiny dimensions (TestSupport/TinyDecoderFile), so
// thousands of loads take seconds.
import Engine
import Foundation
import ModelFiles
import ModelStore
import Models
import TestSupport
import XCTest

final class MetadataMutationTests: XCTestCase {
    /// The catalogue decoders, one per architecture: llama (SmolLM2), qwen2 (Qwen2.5), gemma3.
    static let models = ["smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"]

    func testExtremeAndMistypedMetadataIsRefusedOrRuns() async throws {
        let available = Self.models.compactMap { name in TestModels.path(name).map { (name, $0) } }
        guard !available.isEmpty else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let harness = try LoadHarness()
        defer { harness.remove() }
        let start = Date()
        var ran = 0, refused = 0
        for (name, path) in available {
            let tiny = try TinyDecoderFile(realModel: path)
            // The unmutated tiny file must run, or every refusal below would prove nothing.
            guard case .ran = try await harness.attempt(tiny.bytes, label: "\(name)-unmutated") else {
                return XCTFail("\(name): the tiny file does not load")
            }
            for key in MetadataMutations.keys(of: tiny) {
                for value in MetadataMutations.values {
                    var mutated = tiny
                    mutated[key] = value
                    let label = "\(name) \(key) = \(value.typeName) \(value)"
                    switch try await harness.attempt(mutated.bytes, label: label) {
                    case .ran: ran += 1
                    case .refused(let reason):
                        refused += 1
                        // The reason names the key, or the tensor whose shape the value contradicts.
                        XCTAssert(reason.contains(key) || reason.contains("tensor '"), "\(label): \(reason)")
                    }
                }
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("metadata mutations: \(ran + refused) cases (\(ran) ran, \(refused) refused) in \(String(format: "%.1f", seconds)) s")
        XCTAssertGreaterThan(refused, 0)
    }

    /// The vocabulary arrays: lengths that disagree with each other or with the embedding matrix,
    /// elements of the wrong type, unusable scores. Refused by name, or tokenized and run.
    func testHostileTokenizerArraysAreRefusedOrRun() async throws {
        let available = Self.models.compactMap { name in TestModels.path(name).map { (name, $0) } }
        guard !available.isEmpty else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let harness = try LoadHarness()
        defer { harness.remove() }
        var ran = 0, refused = 0
        for (name, path) in available {
            let tiny = try TinyDecoderFile(realModel: path)
            for (what, mutate) in MetadataMutations.vocabularyMutations(of: tiny) {
                var mutated = tiny
                mutate(&mutated)
                let label = "\(name) \(what)"
                switch try await harness.attempt(mutated.bytes, label: label) {
                case .ran: ran += 1
                case .refused(let reason):
                    refused += 1
                    XCTAssert(reason.contains("tokenizer.ggml") || reason.contains("token"), "\(label): \(reason)")
                }
            }
        }
        print("vocabulary mutations: \(ran + refused) cases (\(ran) ran, \(refused) refused)")
        XCTAssertGreaterThan(refused, 0)
    }
}

/// What one attempt came to.
enum LoadOutcome {
    case ran
    case refused(String)
}

/// Loads files through a registry of its own (its sha256 cache in a temporary folder) and runs one
/// token through each decoder that loads.
final class LoadHarness {
    let dir: String
    let registry: ModelRegistry
    private var count = 0

    init() throws {
        // Each load writes a file and replaces the registry's sha256 cache by rename, which ext4
        // flushes to disk: on a busy disk thousands of those take a minute, in memory seconds.
        let memory = "/dev/shm/"
        let root = FileManager.default.isWritableFile(atPath: memory) ? memory : NSTemporaryDirectory()
        dir = root + "reprolm-mutations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        registry = ModelRegistry(store: ModelStore(root: dir), prefixCacheBytes: 0)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// A refusal must be the registry's typed `loadFailed` (the daemon's -32002); anything else
    /// fails the test, and a crash ends it.
    func attempt(_ bytes: [UInt8], label: String) async throws -> LoadOutcome {
        count += 1
        let path = "\(dir)/case-\(count).gguf"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model: LoadedModel
        do {
            model = try await registry.load(path)
        } catch EngineError.loadFailed(_, let reason) {
            return .refused(reason)
        }
        defer { _ = try? registry.unload(model.name) }
        guard let decoder = model.decoder else {
            XCTFail("\(label): loaded without a decoder: \(model.decoderUnavailable ?? "")")
            return .ran
        }
        let token = model.tokenizer.encode("Hi", addSpecial: true, parseSpecial: false).first ?? 0
        let logits = try decoder.forward([ForwardItem(sequence: decoder.makeSequence(), tokens: [token], logits: .last)], pool: nil)
        XCTAssertEqual(logits.first?.count, decoder.config.vocabulary, label)
        return .ran
    }
}
