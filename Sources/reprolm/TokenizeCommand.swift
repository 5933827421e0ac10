// `reprolm tokenize`: tokenize text with a model's tokenizer, without a daemon.
import ArgumentParser
import Engine
import ModelStore

struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text (one line, space-separated).")

    @Option(name: .long, help: "Catalogue name or GGUF path.")
    var model: String = ModelCatalog.defaultModelName

    @Flag(name: .long, help: "Do not add BOS/EOS.")
    var noSpecial = false

    @Flag(name: .long, help: "Recognise special-token strings in the text.")
    var parseSpecial = false

    @Flag(name: .long, help: "Print each token's piece too.")
    var pieces = false

    @Argument(help: "The text.")
    var text: String

    func run() async throws {
        bootstrapLogging(level: "warning")
        let registry = ModelRegistry(store: ModelStore())
        let m = try await registry.load(model)
        let ids = m.tokenizer.encode(text, addSpecial: !noSpecial, parseSpecial: parseSpecial)
        if pieces {
            for id in ids {
                print(id, String(reflecting: String(decoding: m.tokenizer.piece(id) ?? [], as: UTF8.self)))
            }
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}
