// Corrupt and hostile model files sent to a live daemon: each load is refused with -32002 and
// the daemon keeps serving the model it already has. (Tests/ModelFilesTests covers the reader's
// typed errors for 70+ handcrafted files; this checks the path from a request to the reader.)
import Foundation
import ModelFiles
import ReproJSON
import Server
import TestSupport
import XCTest

final class HostileModelTests: XCTestCase {
    func testCorruptFilesAreRefusedAndServingGoesOn() throws {
        guard let model = TestSupportModel.smollm else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model), options: .mappedIfSafe)
        let dir = NSTemporaryDirectory() + "reprolm-hostile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        var files: [String: Data] = [:]
        // Truncated in the header, the metadata, the tensor table and the data.
        for cut in [0, 3, 7, 15, 23, 100, 5_000, 500_000, 1_785_000, 50_000_000] { files["cut-\(cut)"] = bytes.prefix(cut) }
        var badMagic = bytes.prefix(2_000_000); badMagic[0] = 0x47; badMagic[3] = 0x00
        files["bad-magic"] = badMagic
        var badVersion = bytes.prefix(2_000_000); badVersion[4] = 9
        files["bad-version"] = badVersion
        var hugeCount = bytes.prefix(2_000_000)
        for i in 8..<16 { hugeCount[i] = 0xFF }  // tensor count
        files["huge-tensor-count"] = hugeCount
        var hugeKV = bytes.prefix(2_000_000)
        for i in 16..<24 { hugeKV[i] = 0x7F }  // metadata count
        files["huge-kv-count"] = hugeKV
        files["random"] = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })

        let c = InProcessClient(daemon: makeDaemon())
        c.send(#"{"jsonrpc":"2.0","id":"ok","method":"models/load","params":{"model":"\#(model)"}}"#)
        XCTAssertNotNil(c.reply(id: "ok")?["result"])
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let path = "\(dir)/\(name).gguf"
            try data.write(to: URL(fileURLWithPath: path))
            c.send(["jsonrpc": "2.0", "id": .string(name), "method": "models/load", "params": ["model": .string(path)]])
            let r = c.reply(id: .string(name))
            XCTAssertEqual(errorCode(r), -32002, "\(name): \(String(describing: r))")
            c.send(["jsonrpc": "2.0", "id": .string("t-\(name)"), "method": "tokenize", "params": ["text": "Hello world, this is a test.", "addSpecial": false]])
            XCTAssertEqual(c.reply(id: .string("t-\(name)"))?["result"]?["tokens"],
                           JSONValue(ints: [19556, 905, 28, 451, 314, 253, 1028, 30] as [Int]), "\(name): still serving")
        }
        XCTAssertGreaterThanOrEqual(files.count, 15)
    }

    /// Metadata that crashed the daemon before its counts were bounded (issue 12): each load is
    /// refused with -32002 and a message naming the key, and the daemon goes on generating.
    /// (MetadataMutationTests covers every key and value through the registry.)
    func testHostileMetadataIsRefusedByKeyAndServingGoesOn() throws {
        guard let smollm = TestModels.path("smollm2-135m") else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let llama = try TinyDecoderFile(realModel: smollm)
        var files: [(key: String, bytes: [UInt8])] = []
        for value: GGUFValue in [.uint64(1 << 62), .int64(.max), .uint64(1 << 40), .uint32(.max), .uint32(1 << 31)] {
            var f = llama
            f["llama.block_count"] = value
            files.append(("llama.block_count", f.bytes))
        }
        if let path = TestModels.path("gemma3-270m") {
            let gemma = try TinyDecoderFile(realModel: path)
            for (key, value): (String, GGUFValue) in [("gemma3.block_count", .int32(-1)), ("gemma3.block_count", .int64(.min)),
                                                      ("gemma3.attention.head_count", .uint64(1 << 62))] {
                var f = gemma
                f[key] = value
                files.append((key, f.bytes))
            }
        }
        let dir = NSTemporaryDirectory() + "reprolm-hostile-metadata-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let good = "\(dir)/tiny-llama.gguf"
        try Data(llama.bytes).write(to: URL(fileURLWithPath: good))
        let c = InProcessClient(daemon: makeDaemon())
        c.send(["jsonrpc": "2.0", "id": "ok", "method": "models/load", "params": ["model": .string(good)]])
        XCTAssertNotNil(c.reply(id: "ok")?["result"])
        for (i, file) in files.enumerated() {
            let path = "\(dir)/hostile-\(i).gguf"
            try Data(file.bytes).write(to: URL(fileURLWithPath: path))
            c.send(["jsonrpc": "2.0", "id": .int(Int64(i)), "method": "models/load", "params": ["model": .string(path)]])
            let r = c.reply(id: .int(Int64(i)))
            XCTAssertEqual(errorCode(r), -32002, "\(file.key): \(String(describing: r))")
            let message = r?["error"]?["message"]?.stringValue ?? ""
            XCTAssert(message.contains(file.key), "\(file.key): \(message)")
            c.send(["jsonrpc": "2.0", "id": .string("g\(i)"), "method": "generate",
                    "params": ["model": "tiny-llama", "prompt": "Hello", "maxTokens": 2]])
            XCTAssertNotNil(c.reply(id: .string("g\(i)"))?["result"]?["text"], "\(file.key): still serving")
        }
        XCTAssertGreaterThanOrEqual(files.count, 5)
    }
}
