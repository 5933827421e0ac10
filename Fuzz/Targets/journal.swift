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
import Receipts

private let checked: Void = {
    // The fuzz build's SHA-256 (Fuzz/Support/Crypto) against FIPS 180-4's vectors.
    Fuzz.require(Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 (abc)")
    Fuzz.require(Digest.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 (empty)")
    Fuzz.require(Digest.sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                 == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "SHA-256 (448 bits)")
    Fuzz.require(Digest.sha256Hex([UInt8](repeating: 0x61, count: 1_000_000))
                 == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "SHA-256 (a million a)")
}()
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
