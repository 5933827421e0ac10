// `reprolm bench`: one speed measurement in its own process (so its peak RSS is its own), the
// reprolm half of Benchmarks/compare.py. For a decoder it measures what llama.cpp's `llama-bench`
// measures: after a context of D tokens (`--depth`, prefilled untimed in chunks of 512), a prompt
// of exactly N tokens in one pass (pp N: logits of the last token only), then M decode steps of
// one token each (tg M; greedy, end-of-generation not honoured), warm. For an encoder (MiniLM) it
// measures what Benchmarks/minilm_numpy_side.py measures: sentences per second encoding the same
// sentences in batches of B (mean pooling, normalised). `--memory-bandwidth` measures how fast
// the threads read memory, the ceiling of decode.
import ArgumentParser
import Engine
import Foundation
import Glibc
import Grammar
import Kernels
import Models
import ModelStore
import ReproJSON
import RPCProtocol
import Sampling
import Server

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

    @Option(name: .long, help: "Context tokens prefilled (untimed) before the measured prompt and decode.")
    var depth: Int = 0

    @Option(name: .long, help: "Decoders: sequences decoding at once (each its own prompt and cache, batched by the scheduler as the daemon batches concurrent requests); decode_tps is then their total.")
    var streams: Int = 1

    @Flag(name: .long, help: "Measure memory read bandwidth (GB/s over a 1 GiB buffer) instead of a model.")
    var memoryBandwidth = false

    @Option(name: .long, help: "Kernel set (reference, portable, avx2, avx512, avx512vnni); default: the fastest this CPU runs.")
    var kernels: String?

    @Option(name: .long, help: "Decode by sampling (temperature 1, topK 40, seed 1) instead of argmax, under this constraint: none, json (format json), or schema:FILE / grammar:FILE (a JSON Schema or GBNF file). Compare none with the others for the constraint's cost.")
    var sampled: String?

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

    /// The text prompts are cut from (repeated to the length asked).
    static let text = "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined several existing technologies. "

    func run() async throws {
        bootstrapLogging(level: "warning")
        try selectKernels(kernels)
        if memoryBandwidth { return benchMemory() }
        let registry = ModelRegistry(store: ModelStore())
        let loaded = try await registry.load(model)
        if loaded.encoder != nil { return try await benchEncoder(loaded) }
        guard let decoder = loaded.decoder else { throw ValidationError(loaded.decoderUnavailable ?? "no decoder") }
        guard streams >= 1 else { throw ValidationError("--streams must be at least 1") }
        guard promptTokens >= 0, decodeTokens >= 0, depth >= 0, promptTokens + decodeTokens > 0,
              depth + promptTokens + decodeTokens + 1 <= decoder.config.contextLength else {
            throw ValidationError("--depth, --prompt-tokens and --decode-tokens must fit the context, and measure something")
        }
        let scheduler = InferenceScheduler(threads: threads, maxBatchRows: max(512, promptTokens))
        let base = loaded.tokenizer.encode(Self.text, addSpecial: false, parseSpecial: false)
        func tokens(_ n: Int) -> [Int32] { Array(Array(repeating: base, count: n / base.count + 1).joined().prefix(n)) }

        // Warm-up: page the weights in, as llama-bench's warm-up run does.
        _ = try await scheduler.forward(decoder, ForwardItem(sequence: decoder.makeSequence(), tokens: tokens(8), logits: .last))

        if streams > 1 { return try await benchStreams(decoder, scheduler, tokens) }
        let sequence = decoder.makeSequence()
        var context = tokens(depth)
        while !context.isEmpty {
            let chunk = Array(context.prefix(512))
            context.removeFirst(chunk.count)
            _ = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: chunk, logits: .none))
        }
        var report: [String: Double] = [:]
        var next: Int32 = base.first ?? 0
        if promptTokens > 0 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: tokens(promptTokens), logits: .last))
            report["prefill_tps"] = Double(promptTokens) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            next = logits.withUnsafeBufferPointer { TopTokens.argmax($0) } ?? 0
        }
        if decodeTokens > 0, let sampled {
            let (tps, documents) = try await sampledDecode(decoder, scheduler, sequence, loaded, first: next, constraint: sampled)
            report["decode_tps"] = tps
            report["constrained_documents"] = Double(documents)
        } else if decodeTokens > 0 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<decodeTokens {
                let logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: [next], logits: .last))
                next = logits.withUnsafeBufferPointer { TopTokens.argmax($0) } ?? 0
            }
            report["decode_tps"] = Double(decodeTokens) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        report["peak_rss_mib"] = Double(usage.ru_maxrss) / 1024
        report["kv_cache_mib"] = Double(sequence.cacheBytes) / 1048576
        // The mapped weights file's size: the path may be a symbolic link, whose own size is not the model's.
        report["file_mib"] = Double(loaded.weightsFile.identity.size) / 1048576
        report["weight_bytes_per_token"] = Double(decoder.decodeWeightBytes)
        printReport(report, kernels: KernelSet.selected.name)
    }

    /// Decode steps with the sampling chain, under a constraint unless `spec` is "none": the
    /// tokens/s and how many complete constrained texts were produced (each ends with an
    /// end-of-generation token; the constraint then starts again, and decoding goes on).
    func sampledDecode(_ decoder: DecoderModel, _ scheduler: InferenceScheduler, _ sequence: SequenceState, _ loaded: LoadedModel,
                       first: Int32, constraint spec: String) async throws -> (Double, Int) {
        // The daemon's own compiler, so the grammar is the one a request would get.
        let requested: OutputConstraint?
        switch spec {
        case "none": requested = nil
        case "json": requested = .json
        default:
            guard let colon = spec.firstIndex(of: ":") else { throw ValidationError("--sampled: none, json, schema:FILE or grammar:FILE") }
            let kind = spec[..<colon], file = String(spec[spec.index(after: colon)...])
            let text = try String(contentsOfFile: file, encoding: .utf8)
            switch kind {
            case "grammar": requested = .grammar(text)
            case "schema": requested = .jsonSchema(try JSONValue.parse(text))
            default: throw ValidationError("--sampled: none, json, schema:FILE or grammar:FILE")
            }
        }
        let grammar = try requested.map(ConstraintCompiler.grammar)
        var parameters = SamplingParameters()
        parameters.temperature = 1
        let sampler = TokenSampler(parameters: parameters, seed: 1)
        let vocabulary = loaded.constraintVocabulary
        var constraint = grammar.map { TokenConstraint(grammar: $0, vocabulary: vocabulary!) }
        var logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: [first], logits: .last))
        var documents = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        for step in 0..<decodeTokens {
            let token: Int32?
            if let c = constraint {
                token = sampler.choose(logits: logits, history: [], step: UInt64(step), allowed: c.allows, everyAllowed: c.allowedTokens)
            } else {
                token = sampler.choose(logits: logits, history: [], step: UInt64(step))
            }
            guard let token else { throw ValidationError("no token may follow under the constraint") }
            constraint?.accept(token)
            if let g = grammar, vocabulary!.endTokens.contains(token) {
                documents += 1
                constraint = TokenConstraint(grammar: g, vocabulary: vocabulary!)
            }
            logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: [token], logits: .last))
        }
        return (Double(decodeTokens) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9), documents)
    }

    /// `streams` sequences, each prefilled with the prompt (untimed), then decoding `decodeTokens`
    /// steps each, all at once: the scheduler batches their rows into shared forward passes.
    func benchStreams(_ decoder: DecoderModel, _ scheduler: InferenceScheduler, _ tokens: (Int) -> [Int32]) async throws {
        var sequences: [SequenceState] = []
        var firsts: [Int32] = []
        for s in 0..<streams {
            let sequence = decoder.makeSequence()
            // Distinct prompts (shifted by the stream's index), so the streams do not decode alike.
            let prompt = Array(tokens(max(1, promptTokens) + s).dropFirst(s))
            let logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: prompt, logits: .last))
            sequences.append(sequence)
            firsts.append(logits.withUnsafeBufferPointer { TopTokens.argmax($0) } ?? 0)
        }
        let steps = decodeTokens
        let t0 = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (sequence, first) in zip(sequences, firsts) {
                group.addTask {
                    var next = first
                    for _ in 0..<steps {
                        let logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: [next], logits: .last))
                        next = logits.withUnsafeBufferPointer { TopTokens.argmax($0) } ?? 0
                    }
                    scheduler.stopsDecoding(sequence)
                }
            }
            try await group.waitForAll()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        printReport(["decode_tps": Double(streams * steps) / seconds, "streams": Double(streams),
                     "peak_rss_mib": Double(usage.ru_maxrss) / 1024], kernels: KernelSet.selected.name)
    }

    /// Reads a 1 GiB buffer (written first, so it is backed) with `threads` threads, a few times,
    /// and reports the best GB/s: the memory bandwidth decode can hope for.
    func benchMemory() {
        let words = 1 << 27, pool = ThreadPool(threads: threads)
        let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        defer { buffer.deallocate() }
        pool.parallelFor(rows: words, grain: 1 << 16) { r in
            for i in r { buffer[i] = UInt64(i) }
        }
        let partial = UnsafeMutablePointer<UInt64>.allocate(capacity: words >> 16)
        defer { partial.deallocate() }
        var best = 0.0
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            pool.parallelFor(rows: words >> 16, grain: 1) { chunks in
                for c in chunks {
                    var acc = SIMD8<UInt64>()
                    let base = UnsafeRawPointer(buffer + (c << 16))
                    for i in stride(from: 0, to: 1 << 16, by: 8) { acc &+= base.load(fromByteOffset: i * 8, as: SIMD8<UInt64>.self) }
                    partial[c] = acc.wrappedSum()
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = max(best, Double(words * 8) / seconds / 1e9)
        }
        printReport(["read_gb_per_s": best], kernels: KernelSet.selected.name)
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
        printReport(["sentences_per_s": Double(sentences) / (Double(t1 - t0) / 1e9), "peak_rss_mib": Double(usage.ru_maxrss) / 1024],
                    kernels: KernelSet.selected.name)
    }

    func printReport(_ report: [String: Double], kernels: String) {
        let fields = report.keys.sorted().map { "\"\($0)\": \(report[$0]!)" } + ["\"kernels\": \"\(kernels)\""]
        print("{" + fields.joined(separator: ", ") + "}")
    }
}
