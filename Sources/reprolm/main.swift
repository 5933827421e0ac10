// The executable only wires modules together: every subcommand is a thin shell over a library.
import ArgumentParser
import Foundation
import RPCTransport

// Before any thread exists: the daemon takes SIGINT/SIGTERM in a sigwait thread, which needs
// them blocked in every thread (see SignalHandling). Other subcommands keep the default action.
let arguments = Serve.expandingBareSocketFlag(Array(CommandLine.arguments.dropFirst()))
if Reprolm.isServe(arguments) { SignalHandling.blockTerminationSignals() }

struct Reprolm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprolm",
        abstract: "A deterministic local inference daemon: same request, same model file, same bits.",
        version: "0.1.0",
        subcommands: [Serve.self, Pull.self, Inspect.self, TokenizeCommand.self, GenerateCommand.self, ScoreCommand.self, VerifyCommand.self, BenchCommand.self, GrammarCommand.self],
        defaultSubcommand: Serve.self
    )

    /// `serve` is the default subcommand: anything that names no other one is a serve.
    static func isServe(_ args: [String]) -> Bool {
        let others = Set(["pull", "inspect", "tokenize", "generate", "score", "verify", "bench", "grammar", "help", "-h", "--help", "--version"])
        return args.first.map { !others.contains($0) } ?? true
    }
}

/// Parses and runs the command. (`--socket` takes an optional path: bare `--socket` means the
/// default socket path, which ArgumentParser cannot express, so `arguments` spells it out.)
/// It is a function because only inside an async function does `run()` resolve to the async
/// requirement; at top level the synchronous default, which prints help, would be chosen.
func runCommand(_ arguments: [String]) async {
    do {
        var command = try Reprolm.parseAsRoot(arguments)
        if var asyncCommand = command as? AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        Reprolm.exit(withError: error)
    }
}

await runCommand(arguments)
