// `reprolm verify JOURNAL`: checks a receipt journal offline (JournalVerifier): the hash chain,
// every receipt's output digest, and every derived seed against its revealed session seed.
import ArgumentParser
import Foundation
import Receipts

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a receipt journal: its hash chain, output digests and derived seeds.",
        discussion: "Exits 0 when the whole journal checks out, 1 at the first line that does not (named on stderr).")

    @Argument(help: "The journal file (default: the daemon's default journal).")
    var journal: String?

    func run() throws {
        let path = journal ?? Journal.defaultPath()
        let report: JournalReport
        do { report = try JournalVerifier.verify(contentsOf: path) } catch {
            FileHandle.standardError.write(Data("reprolm verify: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("""
            \(path): \(report.lines) lines checked
              receipts \(report.receipts), seed commitments \(report.commits), reveals \(report.reveals), replays \(report.replays)
              derived seeds re-derived from revealed session seeds: \(report.derivedSeedsChecked)
              receipts whose session seed is not revealed yet: \(report.unrevealed)
            """)
        if let failure = report.failure {
            FileHandle.standardError.write(Data("reprolm verify: \(path) line \(failure.line): \(failure.reason)\n".utf8))
            throw ExitCode(1)
        }
        print("chain valid")
    }
}
