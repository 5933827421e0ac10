// The reader against the real model files the project serves (the catalogue). Skipped when a file is
// absent; CI pulls them first.
//
// Expected numbers come from the reference reader, the `gguf` Python package 0.19.0
// (/root/refenv/venv/bin/python, gguf.GGUFReader): tensor counts, kv counts (its `fields` minus the
// three synthetic GGUF.* entries), sum of n_elements, data_offset, and the per-tensor type, shape,
// n_bytes and data_offset - reader.data_offset listed below.

import Foundation
import XCTest
import ModelFiles

final class GGUFRealModelTests: XCTestCase {
    struct TensorPin {
        let name: String
        let type: GGMLType
        let shape: [Int]
        let bytes: Int
        let offset: Int
    }

    struct ModelPin {
        let name: String              // the `reprolm pull` name and the cache folder
        let file: String
        let fileSize: Int
        let architecture: String
        let tensorCount: Int
        let kvCount: Int
        let parameterCount: Int
        let dataOffset: Int
        let blockCount: Int
        let embeddingLength: Int
        let vocabSize: Int
        let typeCounts: [GGMLType: Int]
        let tensors: [TensorPin]
    }

    /// Cache root as the daemon resolves it: REPROLM_CACHE_DIR, else $XDG_CACHE_HOME/reprolm, else ~/.cache/reprolm.
    static func cacheRoot() -> String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["REPROLM_CACHE_DIR"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/reprolm" }
        let home = env["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/reprolm"
    }

    private func open(_ pin: ModelPin) throws -> GGUFFile {
        let path = "\(Self.cacheRoot())/models/\(pin.name)/\(pin.file)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is absent: run `reprolm pull \(pin.name)` first")
        }
        return try GGUFFile(path: path)
    }

    private func check(_ pin: ModelPin) throws {
        let file = try open(pin)
        let arch = pin.architecture
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.fileSize, pin.fileSize)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.architecture, arch)
        XCTAssertEqual(file.tensors.count, pin.tensorCount)
        XCTAssertEqual(file.metadata.orderedKeys.count, pin.kvCount)
        XCTAssertEqual(file.metadata.orderedKeys.first, "general.architecture")
        XCTAssertEqual(file.parameterCount, pin.parameterCount)
        XCTAssertEqual(file.dataOffset, pin.dataOffset)
        XCTAssertEqual(try file.metadata.int("\(arch).block_count"), pin.blockCount)
        XCTAssertEqual(try file.metadata.int("\(arch).embedding_length"), pin.embeddingLength)
        XCTAssertEqual(try file.metadata.stringArray("tokenizer.ggml.tokens").count, pin.vocabSize)

        var counts: [GGMLType: Int] = [:]
        for entry in file.quantTypeSummary { counts[entry.type] = entry.tensorCount }
        XCTAssertEqual(counts, pin.typeCounts)
        XCTAssertEqual(file.quantTypeSummary.reduce(0) { $0 + $1.bytes }, file.tensors.reduce(0) { $0 + $1.byteCount })

        for t in pin.tensors {
            guard let info = file.tensor(named: t.name) else { XCTFail("\(pin.name): \(t.name) missing"); continue }
            XCTAssertEqual(info.type, t.type, t.name)
            XCTAssertEqual(info.shape, t.shape, t.name)
            XCTAssertEqual(info.byteCount, t.bytes, t.name)
            XCTAssertEqual(info.offset, t.offset, t.name)
            XCTAssertEqual(file.data(for: info).count, t.bytes, t.name)
        }
        let text = file.describe()
        XCTAssertTrue(text.contains("architecture: \(arch)"))
        XCTAssertTrue(text.contains("[\(pin.vocabSize) strings: "))
    }

    func testSmolLM2() throws {
        try check(ModelPin(
            name: "smollm2-135m", file: "SmolLM2-135M-Instruct.Q4_1.gguf", fileSize: 98_362_432,
            architecture: "llama", tensorCount: 272, kvCount: 33, parameterCount: 134_515_008,
            dataOffset: 1_785_664, blockCount: 30, embeddingLength: 576, vocabSize: 49152,
            typeCounts: [.f32: 61, .q4_1: 210, .q8_0: 1],
            tensors: [
                TensorPin(name: "token_embd.weight", type: .q8_0, shape: [576, 49152], bytes: 30_081_024, offset: 0),
                TensorPin(name: "output_norm.weight", type: .f32, shape: [576], bytes: 2304, offset: 96_574_464),
                TensorPin(name: "blk.0.attn_q.weight", type: .q4_1, shape: [576, 576], bytes: 207_360, offset: 32_020_992),
                TensorPin(name: "blk.0.attn_k.weight", type: .q4_1, shape: [576, 192], bytes: 69120, offset: 31_744_512),
                TensorPin(name: "blk.0.ffn_down.weight", type: .q4_1, shape: [1536, 576], bytes: 552_960, offset: 30_083_328),
            ]))
    }

    func testGemma3() throws {
        try check(ModelPin(
            name: "gemma3-270m", file: "gemma-3-270m-q4_k_m.gguf", fileSize: 253_113_024,
            architecture: "gemma3", tensorCount: 236, kvCount: 33, parameterCount: 268_098_176,
            dataOffset: 6_525_120, blockCount: 18, embeddingLength: 640, vocabSize: 262_144,
            typeCounts: [.f32: 109, .q8_0: 10, .q5_0: 81, .q4_K: 27, .q6_K: 9],
            tensors: [
                TensorPin(name: "output_norm.weight", type: .f32, shape: [640], bytes: 2560, offset: 0),
                TensorPin(name: "token_embd.weight", type: .q8_0, shape: [640, 262_144], bytes: 178_257_920, offset: 2560),
                TensorPin(name: "blk.0.attn_q.weight", type: .q5_0, shape: [640, 1024], bytes: 450_560, offset: 178_745_344),
                TensorPin(name: "blk.0.attn_k.weight", type: .q5_0, shape: [640, 256], bytes: 112_640, offset: 178_260_480),
                TensorPin(name: "blk.0.ffn_down.weight", type: .q6_K, shape: [2048, 640], bytes: 1_075_200, offset: 179_371_008),
                TensorPin(name: "blk.17.post_ffw_norm.weight", type: .f32, shape: [640], bytes: 2560, offset: 246_585_344),
            ]))
    }

    func testQwen25Coder() throws {
        try check(ModelPin(
            name: "qwen2.5-coder-0.5b", file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", fileSize: 491_400_064,
            architecture: "qwen2", tensorCount: 291, kvCount: 26, parameterCount: 630_167_424,
            dataOffset: 5_947_776, blockCount: 24, embeddingLength: 896, vocabSize: 151_936,
            typeCounts: [.f32: 121, .q8_0: 13, .q5_0: 133, .q4_K: 12, .q6_K: 12],
            tensors: [
                TensorPin(name: "output.weight", type: .q8_0, shape: [896, 151_936], bytes: 144_643_072, offset: 0),
                TensorPin(name: "token_embd.weight", type: .q5_0, shape: [896, 151_936], bytes: 93_592_576, offset: 144_643_072),
                TensorPin(name: "output_norm.weight", type: .f32, shape: [896], bytes: 3584, offset: 485_448_704),
                TensorPin(name: "blk.0.attn_q.weight", type: .q5_0, shape: [896, 896], bytes: 551_936, offset: 248_445_184),
                TensorPin(name: "blk.0.ffn_down.weight", type: .q6_K, shape: [4864, 896], bytes: 3_575_040, offset: 238_239_232),
                TensorPin(name: "blk.9.attn_v.bias", type: .f32, shape: [128], bytes: 512, offset: 485_326_336),
            ]))
    }
}
