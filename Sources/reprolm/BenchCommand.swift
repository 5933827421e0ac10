// `reprolm bench`: one speed measurement in its own process (so its peak RSS is its own), the
// reprolm half of Benchmarks/compare.py. For a decoder it measures what Benchmarks/llamacpp_side.py
// measures for llama.cpp: prefill of a prompt of exactly N tokens in one pass, then M greedy decode
// steps (end-of-generation tokens are not honoured, so every run decodes M tokens), warm. For an
// encoder (MiniLM) it measures what Benchmarks/minilm_numpy_side.py measures: sentences per second
// encoding the same sentences in batches of B (mean pooling, normalised).
import ArgumentParser
import Engine
import Foundation
import Glibc
import Models
import ModelStore
import Sampling

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode tokens/s and peak RSS (prints one JSON line).")

    @Option(name: .long, help: "Catalogue name or GGUF path.")
    var model: String = ModelCatalog.defaultModelName

    @Option(name: .long, help: "Threads of the forward pass.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Prompt length in tokens.")
    var promptTokens: Int = 128

    @Option(name: .long, help: "Decode steps.")
    var decodeTokens: Int = 128

    @Option(name: .long, help: "Encoder models: sentences per encode call.")
    var batch: Int = 32

    @Option(name: .long, help: "Encoder models: sentences encoded in all (after a warm-up batch).")
    var sentences: Int = 256

    /// The sentences minilm_numpy_side.py encodes too (cycled).
    static let sentenceList = [
        "A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
        "A man is riding a horse.", "A woman is playing violin.", "Two men pushed carts through the woods.",
        "A man is riding a white horse on an enclosed ground.", "A monkey is playing drums.",
        "Someone in a gorilla costume is playing a set of drums.", "The quick brown fox jumps over the lazy dog.",
        "Reproducible inference means the same request gives the same bits, whatever else the server is doing.",
        "Paris is the capital of France.",
    ]

    /// The same text llamacpp_side.py repeats, so both engines see the same tokens.
    static let text = "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined several existing technologies. "

    func run() async throws {
        bootstrapLogging(level: "warning")
        let registry = ModelRegistry(store: ModelStore())
        let loaded = try await registry.load(model)
        if loaded.encoder != nil { return try await benchEncoder(loaded) }
        guard let decoder = loaded.decoder else { throw ValidationError(loaded.decoderUnavailable ?? "no decoder") }
        guard promptTokens >= 8, promptTokens + decodeTokens <= decoder.config.contextLength else {
            throw ValidationError("--prompt-tokens must be at least 8 and fit the context with --decode-tokens")
        }
        let scheduler = InferenceScheduler(threads: threads, maxBatchRows: max(512, promptTokens))
        let base = loaded.tokenizer.encode(Self.text, addSpecial: false, parseSpecial: false)
        let prompt = Array(Array(repeating: base, count: promptTokens / base.count + 1).joined().prefix(promptTokens))

        // Warm-up: page the weights in, as the llama.cpp side does.
        _ = try await scheduler.forward(decoder, ForwardItem(sequence: decoder.makeSequence(), tokens: Array(prompt.prefix(8)), logits: .last))

        let sequence = decoder.makeSequence()
        let t0 = DispatchTime.now().uptimeNanoseconds
        var logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: prompt, logits: .last))
        let t1 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<decodeTokens {
            let next = logits.withUnsafeBufferPointer { TopTokens.argmax($0) } ?? 0
            logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: [next], logits: .last))
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let report: [String: Double] = [
            "prefill_tps": Double(promptTokens) / (Double(t1 - t0) / 1e9),
            "decode_tps": Double(decodeTokens) / (Double(t2 - t1) / 1e9),
            "peak_rss_mib": Double(usage.ru_maxrss) / 1024,
            "kv_cache_mib": Double(sequence.cacheBytes) / 1048576,
            "file_mib": Double((try? FileManager.default.attributesOfItem(atPath: loaded.path)[.size] as? Int) ?? 0) / 1048576,
        ]
        printReport(report)
    }

    func benchEncoder(_ loaded: LoadedModel) async throws {
        guard batch >= 1, sentences >= batch else { throw ValidationError("--batch must be at least 1 and at most --sentences") }
        let tokenizer = loaded.encoder!.tokenizer
        let inputs = (0..<sentences).map { tokenizer.encode(Self.sentenceList[$0 % Self.sentenceList.count]).ids }
        let encoder = try Encoder(model: loaded, scheduler: InferenceScheduler(threads: threads))
        _ = try await encoder.encode(EncodeRequest(inputs: Array(inputs.prefix(batch)), pooling: .mean, normalize: true))
        let t0 = DispatchTime.now().uptimeNanoseconds
        for start in stride(from: 0, to: inputs.count, by: batch) {
            _ = try await encoder.encode(EncodeRequest(inputs: Array(inputs[start..<min(start + batch, inputs.count)]),
                                                       pooling: .mean, normalize: true))
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        printReport(["sentences_per_s": Double(sentences) / (Double(t1 - t0) / 1e9), "peak_rss_mib": Double(usage.ru_maxrss) / 1024])
    }

    func printReport(_ report: [String: Double]) {
        let fields = report.keys.sorted().map { "\"\($0)\": \(report[$0]!)" }
        print("{" + fields.joined(separator: ", ") + "}")
    }
}
