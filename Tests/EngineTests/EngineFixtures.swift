// Real models, loaded once per test process through the daemon's own registry, and the golden
// greedy continuations recorded with llama.cpp (Tests/ModelsTests/Golden, scripts/make_logit_golden.py).
import Foundation
import ModelStore
import ReproJSON
import TestSupport
import XCTest
@testable import Engine

enum EngineFixtures {
    static let registry = ModelRegistry(store: ModelStore(root: TestModels.cacheRoot))
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: LoadedModel] = [:]

    static func model(_ name: String) async throws -> LoadedModel {
        guard let path = TestModels.path(name) ?? TestModels.folder(name) else { throw XCTSkip("run `reprolm pull \(name)` first") }
        lock.lock()
        let cached = loaded[name]
        lock.unlock()
        if let cached { return cached }
        let m = try await registry.load(path)
        lock.lock()
        loaded[name] = m
        lock.unlock()
        return m
    }

    struct Greedy { let prompt: [Int32]; let tokens: [Int32]; let gaps: [Double] }

    static func greedyGolden(_ name: String) throws -> [Greedy] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../ModelsTests/Golden/logits-\(name).json").standardized
        let doc = try JSONValue.parse(Array(try Data(contentsOf: url)))
        func ints(_ v: JSONValue?) -> [Int32] { (v?.arrayValue ?? []).compactMap { $0.int64Value.map { Int32($0) } } }
        return (doc["greedy"]?.arrayValue ?? []).map { g in
            Greedy(prompt: ints(g["promptTokens"]), tokens: ints(g["tokens"]),
                   gaps: (g["top2Gap"]?.arrayValue ?? []).compactMap(\.doubleValue))
        }
    }
}

func greedyRequest(_ prompt: [Int32], maxTokens: Int) -> GenerationRequest {
    var r = GenerationRequest(prompt: prompt, maxTokens: maxTokens, seed: 0)
    r.sampling.temperature = 0
    return r
}

func bits(_ choices: [TokenChoice]?) -> [UInt32] {
    (choices ?? []).flatMap { [$0.logprob.bitPattern] + $0.top.flatMap { [UInt32(bitPattern: $0.token), $0.logprob.bitPattern] } }
}
