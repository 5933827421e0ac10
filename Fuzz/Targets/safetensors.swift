// fuzz-modules: ReproJSON ModelFiles CKernels Kernels Models
//
// A sentence-transformers encoder folder, as loading `minilm-l6` reads it: the safetensors reader
// (Sources/ModelFiles: SafetensorsParser, SafetensorsFile, floats()), BERT's config.json
// (Models/BertConfig.swift), the pooling files (Models/PoolingConfig.swift: modules.json,
// 1_Pooling/config.json, sentence_bert_config.json), the BERT weights bound to the config, and an
// encode of two short inputs when everything loads.
// Input: the files, separated by the line "#%%#": model.safetensors, config.json, modules.json,
// 1_Pooling/config.json, sentence_bert_config.json (an empty or missing part: no such file).
// The safetensors bytes are first parsed from an exact-size heap copy (AddressSanitizer sees reads
// past the end), then written to the folder and opened as the daemon does.
// Checked, besides crashes: the parser and SafetensorsFile(path:) agree, every tensor lies in the
// file, and an encode gives one hidden-size row per token.
@testable import ModelFiles
import Models

private let separator = Array("\n#%%#\n".utf8)
private let names = ["model.safetensors", "config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    defer { Fuzz.cleanScratch() }
    let parts = Fuzz.split(Fuzz.bytes(data, size), on: separator)
    var paths: [String?] = []
    for (i, name) in names.enumerated() {
        paths.append(i < parts.count && (i == 0 || !parts[i].isEmpty) ? Fuzz.write(parts[i], to: "model/" + name) : nil)
    }
    let folder = Fuzz.scratch + "/model"

    let st = parts[0]
    let heap = UnsafeMutableRawBufferPointer.allocate(byteCount: st.count, alignment: 64)
    defer { heap.deallocate() }
    st.withUnsafeBytes { heap.copyMemory(from: $0) }
    let parsed = try? SafetensorsParser.parse(UnsafeRawBufferPointer(heap))
    let file = try? SafetensorsFile(path: paths[0]!)
    Fuzz.require((parsed == nil) == (file == nil), "the parser and SafetensorsFile(path:) disagree")
    if let file {
        _ = file.parameterCount
        _ = file.dtypeSummary
        for (name, t) in file.tensors {
            Fuzz.require(file.data(of: t).count == t.byteCount, "tensor \(name) is not inside the file")
            if let floats = try? file.floats(name) { Fuzz.require(floats.count == t.elementCount, "floats(\(name)) count") }
        }
    }

    Fuzz.trace("safetensors: \(file.map { "\($0.tensors.count) tensors" } ?? "refused")")
    let config = paths[1].flatMap { try? BertConfig.load(path: $0) }
    let pooling = Result { try PoolingConfig.load(folder: folder) }
    Fuzz.trace("config: \(String(describing: config)), pooling: \(pooling)")

    guard let file, let config else { return 0 }
    let modelResult = Result { try BertModel(file: file, config: config) }
    Fuzz.trace("model: \(modelResult)")
    guard let model = try? modelResult.get() else { return 0 }
    guard config.layers <= 16, config.maxPositions >= 3 else { return 0 }
    let v = Int32(config.vocabSize)
    let inputs: [[Int32]] = [[0, v - 1, v / 2], [1 % v]]
    do {
        let out = try model.encode(inputs, pool: nil)
        Fuzz.trace("encoded")
        Fuzz.require(out.count == 2 && out[0].count == 3 * config.hiddenSize && out[1].count == config.hiddenSize,
                     "encode rows: \(out.map(\.count)) for hidden size \(config.hiddenSize)")
    } catch {
        Fuzz.require(false, "encoding with a valid model failed: \(error)")
    }
    return 0
}
