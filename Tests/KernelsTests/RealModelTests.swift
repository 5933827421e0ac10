// The two paths agree bit for bit on rows of the real models' tensors, and the quantized product
// stays close to the exact product of the dequantized rows. Skipped when a model is not pulled.
import XCTest
import Foundation
import ModelFiles
@testable import Kernels

final class RealModelTests: XCTestCase {
    static let models = [
        ("smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        ("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
        ("gemma3-270m", "gemma-3-270m-q4_k_m.gguf"),
    ]

    static func path(_ name: String, _ file: String) -> String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        return "\(home)/.cache/reprolm/models/\(name)/\(file)"
    }

    func testRealTensorsBitwise() throws {
        var found = false
        for (name, file) in Self.models {
            let path = Self.path(name, file)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            found = true
            try checkModel(GGUFFile(path: path), name)
        }
        if !found { throw XCTSkip("no model pulled: run `reprolm pull smollm2-135m` (and qwen2.5-coder-0.5b, gemma3-270m)") }
    }

    func checkModel(_ gguf: GGUFFile, _ name: String) throws {
        var rng = SplitMix(0xAB)
        var seen: [WeightFormat: Int] = [:]
        for tensor in gguf.tensors where tensor.shape.count == 2 {
            guard let format = try? WeightFormat(ggmlType: tensor.type.rawValue) else { continue }
            let columns = tensor.shape[0], rows = tensor.shape[1]
            let matrix = try QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: gguf.data(for: tensor))
            // A spread of rows: the first, the last and some between.
            let picked = Array(Set([0, 1, rows / 3, rows / 2, rows - 2, rows - 1].filter { $0 >= 0 && $0 < rows })).sorted()
            let x = (0..<(5 * columns)).map { _ in rng.uniform(-1, 1) * (rng.int(50) == 0 ? 20 : 1) }
            // Five vectors (groups of four and a remainder) and the first alone (decode).
            let input = QuantizedActivations(), first = QuantizedActivations()
            try x.withUnsafeBufferPointer { try input.prepare($0, vectors: 5, columns: columns, for: format, kernels: .reference) }
            try x.withUnsafeBufferPointer {
                try first.prepare(UnsafeBufferPointer(rebasing: $0[0..<columns]), vectors: 1, columns: columns, for: format,
                                  kernels: .reference)
            }
            var row = [Float](repeating: 0, count: columns)
            for r in picked {
                // Nine rows from r on (a whole tile and a partial one), or what is left.
                let n = min(9, rows - r)
                let sub = try QuantizedMatrix(format: format, rows: n, columns: columns,
                                              bytes: UnsafeRawBufferPointer(start: matrix.row(r), count: n * matrix.rowBytes)).tiled()
                var ref = [Float](repeating: 0, count: 5 * n), refAlone = [Float](repeating: 0, count: n)
                try ref.withUnsafeMutableBufferPointer { try Matmul.multiply(sub, input, output: $0, kernels: .reference) }
                try refAlone.withUnsafeMutableBufferPointer { try Matmul.multiply(sub, first, output: $0, kernels: .reference) }
                XCTAssertEqual(bits(Array(ref[0..<n])), bits(refAlone), "\(name) \(tensor.name) row \(r): alone vs batched")
                for set in fastSets {
                    var fast = [Float](repeating: 0, count: 5 * n), alone = [Float](repeating: 0, count: n)
                    try fast.withUnsafeMutableBufferPointer { try Matmul.multiply(sub, input, output: $0, kernels: set) }
                    try alone.withUnsafeMutableBufferPointer { try Matmul.multiply(sub, first, output: $0, kernels: set) }
                    XCTAssertNil(firstBitDifference(fast, ref), "\(set) \(name) \(tensor.name) row \(r)")
                    XCTAssertNil(firstBitDifference(alone, refAlone), "\(set) \(name) \(tensor.name) row \(r), one vector")
                }
                try row.withUnsafeMutableBufferPointer { try matrix.dequantizeRow(r, into: $0) }
                var exact = 0.0, magnitude = 0.0
                for k in 0..<columns { exact += Double(row[k]) * Double(x[k]); magnitude += abs(Double(row[k]) * Double(x[k])) }
                XCTAssertTrue(row.allSatisfy(\.isFinite), "\(name) \(tensor.name) row \(r) has a non-finite weight")
                XCTAssertEqual(Double(ref[0]), exact, accuracy: 0.03 * magnitude + 1e-6, "\(name) \(tensor.name) row \(r)")
            }
            seen[format, default: 0] += 1
        }
        print("\(name): checked tensors per format \(seen.map { "\($0.key)=\($0.value)" }.sorted())")
        XCTAssertFalse(seen.isEmpty)
    }
}
