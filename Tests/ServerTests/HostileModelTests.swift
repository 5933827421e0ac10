// Corrupt and hostile model files sent to a live daemon: each load is refused with -32002 and
// the daemon keeps serving the model it already has. (Tests/ModelFilesTests covers the reader's
// typed errors for 70+ handcrafted files; this checks the path from a request to the reader.)
import Foundation
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
}
