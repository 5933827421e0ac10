// WhisperConfig from the tensors and scalars a WhisperSpec model.bin holds, on small files written
// by the test writer: the dimensions read back, and every switch or shape this forward pass does
// not implement refused by name, as are config.json lists that point outside the model.
import Foundation
import ModelFiles
import Models
import ReproJSON
import TestSupport
import XCTest

final class WhisperConfigTests: XCTestCase {
    /// The variables WhisperConfig reads, for width 16, 2 heads, 4 mel bins, 10 encoder
    /// positions, feed-forward 32, vocabulary 40, 12 decoder positions, 2 encoder and 1 decoder layers.
    static func writer() -> CTranslate2Writer {
        var w = CTranslate2Writer()
        w.spec = "WhisperSpec"
        w.revision = 3
        func half(_ name: String, _ dims: [UInt32]) { w.add(name, typeID: 4, dims: dims, itemSize: 2) }
        half("encoder/conv1/weight", [16, 4, 3])
        half("encoder/position_encodings/encodings", [10, 16])
        half("encoder/layer_0/ffn/linear_0/weight", [32, 16])
        half("encoder/layer_1/ffn/linear_0/weight", [32, 16])
        half("decoder/layer_0/ffn/linear_0/weight", [32, 16])
        half("decoder/embeddings/weight", [40, 16])
        half("decoder/position_encodings/encodings", [12, 16])
        w.add("encoder/num_heads", typeID: 2, dims: [], payload: [2, 0])
        w.add("decoder/num_heads", typeID: 2, dims: [], payload: [2, 0])
        w.add("decoder/pre_norm", typeID: 1, dims: [], payload: [1])
        w.add("decoder/activation", typeID: 1, dims: [], payload: [3])
        w.add("decoder/scale_embeddings", typeID: 1, dims: [], payload: [0])
        return w
    }

    func config(_ w: CTranslate2Writer) throws -> WhisperConfig {
        try TemporaryFiles.with(w.bytes) { try WhisperConfig.fromTensors(try CTranslate2File(path: $0)) }
    }

    func refusal(_ change: (inout CTranslate2Writer) -> Void) -> String {
        var w = Self.writer()
        change(&w)
        do {
            _ = try config(w)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testDimensionsReadBack() throws {
        let c = try config(Self.writer())
        XCTAssertEqual([c.melBins, c.inputFrames, c.encoderPositions, c.width, c.encoderLayers, c.decoderLayers],
                       [4, 20, 10, 16, 2, 1])
        XCTAssertEqual([c.encoderHeads, c.decoderHeads, c.feedForward, c.vocabulary, c.maxTargetPositions], [2, 2, 32, 40, 12])
    }

    func testUnsupportedSwitchesAndShapes() {
        func setByte(_ name: String, _ value: UInt8) -> (inout CTranslate2Writer) -> Void {
            { w in w.variables[w.variables.firstIndex { $0.name == name }!].payload = [value] }
        }
        XCTAssertTrue(refusal(setByte("decoder/pre_norm", 0)).contains("decoder/pre_norm is [0]"))
        XCTAssertTrue(refusal(setByte("decoder/activation", 1)).contains("decoder/activation is [1]"))
        XCTAssertTrue(refusal(setByte("decoder/scale_embeddings", 1)).contains("decoder/scale_embeddings is [1]"))
        XCTAssertTrue(refusal { $0.add("decoder/alibi", typeID: 1, dims: [], payload: [1]) }.contains("decoder/alibi is [1]"))
        XCTAssertEqual(refusal { $0.spec = "TransformerSpec" }, "architecture 'TransformerSpec' is not supported (supported: WhisperSpec)")
        XCTAssertTrue(refusal { $0.revision = 2 }.contains("revision 2"))
        XCTAssertTrue(refusal { $0.variables[7].payload = [0, 0] }.contains("encoder/num_heads is [0]"))
        XCTAssertTrue(refusal { $0.variables[8].payload = [3, 0] }.contains("not a multiple of 2 encoder and 3 decoder heads"))
        XCTAssertEqual(refusal { $0.variables.removeAll { $0.name == "decoder/embeddings/weight" } },
                       "tensor 'decoder/embeddings/weight' is missing")
        XCTAssertEqual(refusal { $0.variables.removeAll { $0.name.hasPrefix("decoder/layer_0/") } },
                       "tensor 'decoder/layer_0/ffn/linear_0/weight' is missing")
        XCTAssertTrue(refusal { $0.variables[0].dims = [16, 12]; $0.variables[0].payload = Array(repeating: 0, count: 384) }
            .contains("encoder/conv1/weight has rank 2, expected 3"))
        XCTAssertTrue(refusal { $0.variables[1].dims = [1 << 20, 0]; $0.variables[1].payload = [] }.contains("encoder positions 1048576"))
        XCTAssertEqual(refusal { $0.variables[7].typeID = 4 }, "variable 'encoder/num_heads' has type float16, not int8, int16 or int32")
    }

    func testConfigJSONLists() throws {
        let folder = try ModelFolder()
        defer { folder.remove() }
        let path = try TemporaryFiles.write(Self.writer().bytes, name: "model.bin")
        defer { TemporaryFiles.remove(path) }
        let file = try CTranslate2File(path: path)
        func load(_ json: JSONValue) throws -> WhisperConfig {
            try folder.write("config.json", json)
            return try WhisperConfig.load(file: file, configPath: folder.path + "/config.json")
        }
        let c = try load(["suppress_ids": [1, 2], "suppress_ids_begin": [39], "lang_ids": [30, 31],
                          "alignment_heads": [[0, 1]], "layer_norm_epsilon": .null])
        XCTAssertEqual(c.suppressIDs, [1, 2])
        XCTAssertEqual(c.suppressIDsBegin, [39])
        XCTAssertEqual(c.languageIDs, [30, 31])
        XCTAssertEqual(c.alignmentHeads, [WhisperAlignmentHead(layer: 0, head: 1)])
        for (bad, field) in [(["suppress_ids": [40]], "config.json.suppress_ids"),
                             (["lang_ids": [-1]], "config.json.lang_ids"),
                             (["alignment_heads": [[1, 0]]], "config.json.alignment_heads[0]"),
                             (["alignment_heads": [[0, 2]]], "config.json.alignment_heads[0]"),
                             (["alignment_heads": [[0]]], "config.json.alignment_heads[0]")] as [(JSONValue, String)] {
            XCTAssertThrowsError(try load(bad), "\(bad)") { error in
                guard case .field(let e)? = error as? ModelConfigError else { return XCTFail("\(error)") }
                XCTAssertTrue(e.path.hasPrefix(field), "\(e)")
            }
        }
    }
}
