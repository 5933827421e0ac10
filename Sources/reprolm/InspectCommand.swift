// `reprolm inspect FILE`: a GGUF file's metadata, tensors and quant types, for humans.
import ArgumentParser
import ModelFiles

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a GGUF file: metadata, tensor table, quant types and sizes.")

    @Argument(help: "The GGUF file.")
    var file: String

    @Option(name: .long, help: "How many items of a long metadata array to show.")
    var arrayItems: Int = 8

    func run() throws {
        let gguf = try GGUFFile(path: file)
        print(gguf.describe(maxArrayItems: max(0, arrayItems)), terminator: "")
    }
}
