// `reprolm generate` and `reprolm score`: one request without a daemon, for scripts and
// benchmarks. Flags become the same JSON params the daemon takes (so validation, defaults and
// the result are the daemon's own); `--params` adds any other parameter as JSON.
import ArgumentParser
import Engine
import Foundation
import ModelStore
import ReproJSON
import RPCProtocol
import Server

/// Options shared by the one-shot commands.
struct OneShotOptions: ParsableArguments {
    @Option(name: .long, help: "Catalogue name or GGUF path (pulled and verified on first use).")
    var model: String = ModelCatalog.defaultModelName

    @Option(name: .long, help: "Threads of the forward pass (default: every core).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: ArgumentHelp("More parameters as a JSON object (see protocol/openrpc.json).", valueName: "json"))
    var params: String?

    @Flag(name: .long, help: "Print the whole result as JSON (as the daemon answers).")
    var json = false

    func validate() throws {
        if threads < 1 || threads > 256 { throw ValidationError("--threads must be between 1 and 256") }
    }

    /// `--params` merged under the flags' values.
    func merged(_ flags: [String: JSONValue]) throws -> JSONValue {
        var object: [String: JSONValue] = [:]
        if let params {
            guard case let .object(o)? = try? JSONValue.parse(Array(params.utf8)) else {
                throw RequestFailure(description: "--params must be a JSON object")
            }
            object = o
        }
        for (k, v) in flags { object[k] = v }
        return .object(object)
    }

    /// Loads the model (progress on stderr) and returns the registry and a scheduler.
    func load() async throws -> (ModelRegistry, InferenceScheduler) {
        bootstrapLogging(level: "warning")
        let registry = ModelRegistry(store: ModelStore())
        let renderer = PullProgressRenderer()
        _ = try await registry.load(model) { p in if let pull = p.pull { renderer.render(pull) } }
        return (registry, InferenceScheduler(threads: threads))
    }
}

/// Writes to stdout at once (streamed text must not wait for a newline).
func writeOut(_ s: String) {
    FileHandle.standardOutput.write(Data(s.utf8))
}

/// A refused request: printed as `Error: ...` without the usage text (the flags parsed fine).
struct RequestFailure: Error, CustomStringConvertible {
    let description: String
}

func rpcFailure(_ error: Error) -> Error {
    switch error {
    case let e as JSONFieldError: return RequestFailure(description: "\(e.path): \(e.message)")
    case let e as EngineError: return RequestFailure(description: e.description)
    default: return error
    }
}

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a continuation of a prompt (streams the text; --json prints the result).")

    @OptionGroup var options: OneShotOptions

    @Option(name: .long, help: "Most tokens to generate.")
    var maxTokens: Int?

    @Option(name: .long, help: "0 is greedy; above 0 samples (default 0.8).")
    var temperature: Double?

    @Option(name: .long, help: "Seed of the sampler, 0 to 2^53 − 1 (default: drawn and reported).")
    var seed: Int64?

    @Option(name: .long, help: "A stop string; repeatable.")
    var stop: [String] = []

    @Option(name: .long, help: "Beam search with this many beams.")
    var beams: Int?

    @Argument(help: "The prompt.")
    var prompt: String

    func run() async throws {
        var flags: [String: JSONValue] = ["prompt": .string(prompt), "stream": .bool(!options.json)]
        if let maxTokens { flags["maxTokens"] = JSONValue(maxTokens) }
        if let temperature { flags["temperature"] = .double(temperature) }
        if let seed { flags["seed"] = .int(seed) }
        if !stop.isEmpty { flags["stop"] = .array(stop.map { .string($0) }) }
        if let beams { flags["beams"] = JSONValue(beams) }
        let params: GenerateParams
        do { params = try GenerateParams(try options.merged(flags)) } catch { throw rpcFailure(error) }
        let (registry, scheduler) = try await options.load()
        let streaming = !options.json
        let result: JSONValue
        do {
            result = try await GenerationHandlers.run(params, registry: registry, scheduler: scheduler) { delta in
                if streaming { writeOut(delta.text) }
            }
        } catch { throw rpcFailure(error) }
        if options.json {
            print(try result.serializedString())
        } else {
            writeOut("\n")
            let seedText = result["seed"]?.int64Value.map { "\($0)" } ?? "?"
            FileHandle.standardError.write(Data("[finish: \(result["finishReason"]?.stringValue ?? "?"), seed \(seedText)]\n".utf8))
        }
    }
}

struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Print the log-likelihood of a text, or of a continuation given --context.")

    @OptionGroup var options: OneShotOptions

    @Option(name: .long, help: "Condition on this text and score only the argument.")
    var context: String?

    @Argument(help: "The text (the continuation, with --context).")
    var text: String

    func run() async throws {
        var flags: [String: JSONValue] = [:]
        if let context {
            flags["context"] = .string(context)
            flags["continuation"] = .string(text)
        } else {
            flags["text"] = .string(text)
        }
        let params: ScoreParams
        do { params = try ScoreParams(try options.merged(flags)) } catch { throw rpcFailure(error) }
        let (registry, scheduler) = try await options.load()
        let result: JSONValue
        do { result = try await GenerationHandlers.run(params, registry: registry, scheduler: scheduler) } catch { throw rpcFailure(error) }
        if options.json {
            print(try result.serializedString())
            return
        }
        for t in result["tokens"]?.arrayValue ?? [] {
            let lp = t["logprob"]?.doubleValue.map { String(format: "%10.4f", $0) } ?? "         -"
            print("\(lp)  \(t["token"]?.int64Value ?? -1)\t\(String(reflecting: t["text"]?.stringValue ?? ""))")
        }
        func figure(_ key: String) -> String { result[key]?.doubleValue.map { String(format: "%.4f", $0) } ?? "-" }
        print("scored \(result["scoredTokens"]?.int64Value ?? 0) tokens: sum \(figure("sum")), mean \(figure("mean")), perplexity \(figure("perplexity"))")
    }
}
