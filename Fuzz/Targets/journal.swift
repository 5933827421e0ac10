// fuzz-modules: ReproJSON Logging Receipts
//
// A receipt journal read back: `reprolm verify` (JournalVerifier: canonical lines, sequence, hash
// chain, receipts' digests, commitments and reveals, derived seeds), and the daemon opening a
// journal (Journal/JournalFile: the chain caught up, a torn last line set aside and cut off, a
// broken chain refused), then looking receipts up by id.
// Input: the journal file's bytes. Checked, besides crashes: a journal the verifier accepts opens
// in the daemon with the same number of lines, and every receipt id in it can be looked up.
import Logging
import ReproJSON
import Crypto
import Receipts

// The fuzz build's SHA-256 (Fuzz/Support/Crypto) against FIPS 180-4's vectors.
private let checked: Void = Fuzz.require(SHA256.standardVectorsHold, "SHA-256 test vectors")
private let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournal(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = checked
    defer { Fuzz.cleanScratch() }
    let input = Fuzz.bytes(data, size)
    let report = JournalVerifier.verify(input)
    Fuzz.trace("verify: \(report.lines) lines, \(report.receipts) receipts, \(report.derivedSeedsChecked) derived seeds, failure \(String(describing: report.failure))")

    let path = Fuzz.write(input, to: "state/journal.jsonl")
    let journal: Journal
    do {
        journal = try Journal(path: path, logger: quiet)
    } catch {
        Fuzz.require(!report.ok, "the verifier accepts the journal (\(report.lines) lines) but the daemon refuses it: \(error)")
        return 0
    }
    defer { journal.close() }
    if report.ok {
        Fuzz.require(journal.lineCount == report.lines, "verifier read \(report.lines) lines, the daemon \(journal.lineCount)")
    }
    // Look up the receipt ids the lines name (and one that is not there).
    var ids: [String] = ["rc-00000000000000000000000000000000"]
    for line in Fuzz.split(input, on: [0x0A]) {
        guard let o = (try? JSONValue.parse(line))?.objectValue, o["type"]?.stringValue == "receipt" else { continue }
        if let id = o["receipt"]?.objectValue?["id"]?.stringValue { ids.append(id) }
    }
    for id in ids.prefix(8) {
        let entry = try? journal.receiptEntry(id: id)
        if report.ok, id != ids[0] {
            Fuzz.require(entry != nil, "receipt \(id) of an intact journal cannot be looked up")
        }
    }
    return 0
}
