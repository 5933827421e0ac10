// `reprolm bench`: one speed measurement in its own process (so its peak RSS is its own), the
// reprolm half of Benchmarks/compare.py. It measures what Benchmarks/llamacpp_side.py measures
// for llama.cpp: prefill of a prompt of exactly N tokens in one pass, then M greedy decode steps
// (end-of-generation tokens are not honoured, so every run decodes M tokens), warm.
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

    /// The same text llamacpp_side.py repeats, so both engines see the same tokens.
    static let text = "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined several existing technologies. "

    func run() async throws {
        bootstrapLogging(level: "warning")
        let registry = ModelRegistry(store: ModelStore())
        let loaded = try await registry.load(model)
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
        let fields = report.keys.sorted().map { "\"\($0)\": \(report[$0]!)" }
        print("{" + fields.joined(separator: ", ") + "}")
    }
}
