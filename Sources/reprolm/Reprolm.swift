// The executable only wires modules together: every subcommand is a thin shell over a library.
import ArgumentParser
import Foundation

@main
struct Reprolm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprolm",
        abstract: "A deterministic local inference daemon: same request, same model file, same bits.",
        version: "0.1.0",
        subcommands: [Serve.self, Pull.self, Inspect.self, TokenizeCommand.self],
        defaultSubcommand: Serve.self
    )

    /// `--socket` takes an optional path: bare `--socket` means the default socket path, which
    /// ArgumentParser cannot express, so it is spelt out here before parsing.
    static func main() async {
        let arguments = Serve.expandingBareSocketFlag(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
