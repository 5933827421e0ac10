// The registry and a loaded model's file changing on disk: a writer (truncate, rewrite) gets the
// model unloaded before it proceeds, a rename over the path is noticed at the next lookup, and
// either way the path then loads (and hashes) what it names now.
import Foundation
import ModelFiles
import ModelStore
import TestSupport
import XCTest
@testable import Engine

final class ModelFileChangeTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "reprolm-file-change-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func models() throws -> (smol: String, gemma: String) {
        guard let smol = TestModels.path("smollm2-135m"), let gemma = TestModels.path("gemma3-270m") else {
            throw XCTSkip("run `reprolm pull smollm2-135m gemma3-270m` first")
        }
        return (smol, gemma)
    }

    private func registry() -> ModelRegistry {
        ModelRegistry(store: ModelStore(root: TestModels.cacheRoot), prefixCacheBytes: 0)
    }

    func testATruncatedFileUnloadsItsModelAndThePathThenFailsToLoad() async throws {
        let (smol, _) = try models()
        let path = folder + "/smol.gguf"
        try FileManager.default.copyItem(atPath: smol, toPath: path)
        let registry = registry()
        let model = try await registry.load(path)
        XCTAssertEqual(model.weightsFile.backing, .leasedMapping)
        let lease = try await registry.acquire(path)  // a request running on it

        XCTAssertEqual(truncate(path, 1_000_000), 0)
        XCTAssertFalse(registry.loadedModels().contains { $0 === model }, "unloaded before the writer proceeded")
        // The running request still reads every byte it started with.
        XCTAssertEqual(model.weightsFile.backing, .detached)
        XCTAssertEqual(model.weightsFile.bytes.count, model.weightsFile.identity.size)
        _ = model.weightsFile.bytes.last
        lease.release()
        do {
            _ = try await registry.load(path)
            XCTFail("a truncated file loaded")
        } catch EngineError.loadFailed {}
    }

    func testAFileReplacedByARenameIsLoadedAgain() async throws {
        let (smol, gemma) = try models()
        let path = folder + "/model.gguf"
        try FileManager.default.copyItem(atPath: smol, toPath: path)
        let registry = registry()
        let before = try await registry.load(path)
        try FileManager.default.copyItem(atPath: gemma, toPath: path + ".new")
        XCTAssertEqual(rename(path + ".new", path), 0)

        let after = try await registry.load(path)
        XCTAssertFalse(after === before)
        XCTAssertEqual(after.sha256, try FileHasher(cacheFile: nil).sha256(ofFileAt: gemma))
        XCTAssertNotEqual(after.sha256, before.sha256)
        XCTAssertFalse(registry.loadedModels().contains { $0 === before })
    }
}
