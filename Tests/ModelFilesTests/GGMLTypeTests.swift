// Pins the block geometry of every ggml type. The kernels decode blocks by these sizes and the
// reader computes tensor byte counts from them, so a wrong entry would misplace every later tensor.
// Values are ggml's (cross-checked with GGML_QUANT_SIZES in the `gguf` Python package 0.19).

import XCTest
import ModelFiles

final class GGMLTypeTests: XCTestCase {
    /// The quant types the project serves (docs/modules.md, Kernels): id, name, elements per block, bytes per block.
    func testServedTypesArePinned() {
        let pins: [(GGMLType, UInt32, String, Int, Int)] = [
            (.f32, 0, "F32", 1, 4),
            (.f16, 1, "F16", 1, 2),
            (.bf16, 30, "BF16", 1, 2),
            (.q8_0, 8, "Q8_0", 32, 34),
            (.q4_0, 2, "Q4_0", 32, 18),
            (.q4_1, 3, "Q4_1", 32, 20),
            (.q5_0, 6, "Q5_0", 32, 22),
            (.q5_1, 7, "Q5_1", 32, 24),
            (.q4_K, 12, "Q4_K", 256, 144),
            (.q5_K, 13, "Q5_K", 256, 176),
            (.q6_K, 14, "Q6_K", 256, 210),
        ]
        for (type, id, name, block, size) in pins {
            XCTAssertEqual(type.rawValue, id, name)
            XCTAssertEqual(type.name, name)
            XCTAssertEqual(type.blockSize, block, name)
            XCTAssertEqual(type.typeSize, size, name)
            XCTAssertEqual(GGMLType(rawValue: id), type, name)
        }
    }

    /// The rest of ggml's table, so files using them at least open and report correct sizes.
    func testOtherTypesMatchGGML() {
        let pins: [(UInt32, String, Int, Int)] = [
            (9, "Q8_1", 32, 40), (10, "Q2_K", 256, 84), (11, "Q3_K", 256, 110), (15, "Q8_K", 256, 292),
            (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74), (18, "IQ3_XXS", 256, 98), (19, "IQ1_S", 256, 50),
            (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110), (22, "IQ2_S", 256, 82), (23, "IQ4_XS", 256, 136),
            (24, "I8", 1, 1), (25, "I16", 1, 2), (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8),
            (29, "IQ1_M", 256, 56), (34, "TQ1_0", 256, 54), (35, "TQ2_0", 256, 66), (39, "MXFP4", 32, 17),
            (40, "NVFP4", 64, 36), (41, "Q1_0", 128, 18),
        ]
        for (id, name, block, size) in pins {
            guard let type = GGMLType(rawValue: id) else { XCTFail("type \(id) missing"); continue }
            XCTAssertEqual(type.name, name)
            XCTAssertEqual(type.blockSize, block, name)
            XCTAssertEqual(type.typeSize, size, name)
        }
        XCTAssertEqual(GGMLType.allCases.count, 11 + pins.count)
    }

    /// Retired ids must stay unknown: reading them as something else would misparse the file.
    func testRetiredIdsAreUnknown() {
        for id: UInt32 in [4, 5, 31, 32, 33, 36, 37, 38, 42, 1000, UInt32.max] {
            XCTAssertNil(GGMLType(rawValue: id), "id \(id)")
        }
    }
}
