// A model named through a symbolic link is charged, under a memory budget, for the file the link
// names, not for the link itself (a few dozen bytes, which would let any model in).
import Foundation
import ModelStore
import TestSupport
import XCTest
@testable import Engine

final class SymlinkedModelTests: XCTestCase {
    func testTheBudgetChargesTheFileALinkNames() async throws {
        guard let smol = TestModels.path("smollm2-135m") else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let folder = NSTemporaryDirectory() + "reprolm-symlink-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let link = folder + "/smol.gguf"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: smol)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: smol)[.size] as? Int)

        let registry = ModelRegistry(store: ModelStore(root: TestModels.cacheRoot), prefixCacheBytes: 0,
                                     memoryBudgetBytes: size / 2)
        do {
            _ = try await registry.load(link)
            XCTFail("a model twice the budget loaded through a link")
        } catch let EngineError.exceedsMemoryBudget(_, needed, budget) {
            XCTAssertEqual(needed, size)
            XCTAssertEqual(budget, size / 2)
        }
    }
}
