// Block geometry pinned against ggml's sizes, and the validation that guards every kernel.
import XCTest
@testable import Kernels

final class BlockLayoutTests: XCTestCase {
    func testBlockSizesMatchGGML() {
        let expected: [WeightFormat: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2),
            .q8_0: (32, 34), .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22), .q5_1: (32, 24),
            .q4_K: (256, 144), .q5_K: (256, 176), .q6_K: (256, 210),
        ]
        for format in WeightFormat.allCases {
            let (size, bytes) = expected[format]!
            XCTAssertEqual(format.blockSize, size, "\(format)")
            XCTAssertEqual(format.blockBytes, bytes, "\(format)")
        }
        // ggml type ids.
        XCTAssertEqual(try WeightFormat(ggmlType: 12), .q4_K)
        XCTAssertEqual(try WeightFormat(ggmlType: 30), .bf16)
        XCTAssertThrowsError(try WeightFormat(ggmlType: 10)) // Q2_K: not implemented
    }

    func testMatrixValidationRejectsBadShapes() throws {
        let bytes = [UInt8](repeating: 0, count: 40)
        try bytes.withUnsafeBytes { b in
            XCTAssertNoThrow(try QuantizedMatrix(format: .q4_1, rows: 2, columns: 32, bytes: b))
            XCTAssertThrowsError(try QuantizedMatrix(format: .q4_1, rows: 3, columns: 32, bytes: b))
            XCTAssertThrowsError(try QuantizedMatrix(format: .q4_1, rows: 1, columns: 48, bytes: b))
            XCTAssertThrowsError(try QuantizedMatrix(format: .q4_1, rows: 0, columns: 32, bytes: b))
            XCTAssertThrowsError(try QuantizedMatrix(format: .q4_1, rows: Int.max / 2, columns: 64, bytes: b))
            XCTAssertThrowsError(try QuantizedMatrix(format: .q4_K, rows: 1, columns: 32, bytes: b))
        }
    }

    func testMatmulRejectsMismatchedBuffers() throws {
        let w = [UInt8](repeating: 0, count: 40)
        XCTAssertThrowsError(try product(.q4_1, w, rows: 2, columns: 32, input: [Float](repeating: 1, count: 31), vectors: 1))
        XCTAssertNoThrow(try product(.q4_1, w, rows: 2, columns: 32, input: [Float](repeating: 1, count: 64), vectors: 2))
    }

    /// Hand-built blocks decode to the values the layout comments promise.
    func testDequantizeKnownBlocks() throws {
        // Q4_0: d = 2, byte j = (j & 15) | (15 - j) << 4.
        var q40: [UInt8] = [0x00, 0x40]
        q40 += (0..<16).map { UInt8($0 & 15) | UInt8(15 - $0) << 4 }
        let a = try dequantize(.q4_0, q40, 32)
        XCTAssertEqual(a[0], -16); XCTAssertEqual(a[15], 14); XCTAssertEqual(a[16], 14); XCTAssertEqual(a[31], -16)
        // Q5_0: d = 1, all nibbles 0, qh bit 31 and bit 0 set.
        var q50: [UInt8] = [0x00, 0x3C, 0x01, 0x00, 0x00, 0x80]
        q50 += [UInt8](repeating: 0, count: 16)
        let b = try dequantize(.q5_0, q50, 32)
        XCTAssertEqual(b[0], 0); XCTAssertEqual(b[1], -16); XCTAssertEqual(b[31], 0)
        // Q8_0: d = 0.5.
        var q80: [UInt8] = [0x00, 0x38]
        q80 += (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        let c = try dequantize(.q8_0, q80, 32)
        XCTAssertEqual(c[0], -8); XCTAssertEqual(c[31], 7.5)
        // Q6_K: d = 1, every scale 1, ql = 0, qh = 0xFF: every q = 48 - 32 = 16.
        var q6 = [UInt8](repeating: 0, count: 210)
        for i in 128..<192 { q6[i] = 0xFF }
        for i in 192..<208 { q6[i] = 1 }
        q6[208] = 0x00; q6[209] = 0x3C
        XCTAssertEqual(Set(try dequantize(.q6_K, q6, 256)), [16])
    }

    func dequantize(_ f: WeightFormat, _ bytes: [UInt8], _ n: Int) throws -> [Float] {
        var out = [Float](repeating: 0, count: n)
        try bytes.withUnsafeBytes { b in
            try out.withUnsafeMutableBufferPointer { try Dequantize.row(format: f, bytes: b.baseAddress!, columns: n, into: $0) }
        }
        return out
    }
}
