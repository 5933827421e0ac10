// fuzz-modules: ReproJSON RPCProtocol Receipts
//
// A receipt handed to `reproduce`: the params reader (ReproduceParams), the receipt's structure
// (Sources/Receipts/Receipt.swift, ParsedReceipt), its output digest (canonical JSON + SHA-256),
// its session seed, and the replay's re-reading of the recorded request by the method's own
// params reader (as Sources/Server/Replay.swift does).
// Input: JSON, either reproduce params {"receipt": {...}} or a bare receipt.
import ReproJSON
import Crypto
import Receipts
import RPCProtocol

// The fuzz build's SHA-256 (Fuzz/Support/Crypto) against FIPS 180-4's vectors.
private let checked: Void = Fuzz.require(SHA256.standardVectorsHold, "SHA-256 test vectors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReceipt(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = checked
    let input = Fuzz.bytes(data, size)
    let value: JSONValue
    do { value = try JSONValue.parse(input) } catch { return 0 }

    var receiptJSON = value
    if let o = value.objectValue, o["receipt"] != nil || (o["id"] != nil && o["version"] == nil) {
        guard let p = try? ReproduceParams(value) else { return 0 }
        guard case .receipt(let r) = p.target else { return 0 }
        receiptJSON = r
    }
    let receipt: ParsedReceipt
    do { receipt = try ParsedReceipt(receiptJSON, path: "params.receipt") } catch {
        Fuzz.trace("refused: \(error)")
        return 0
    }
    Fuzz.trace("receipt \(receipt.id) intact: \(receipt.isIntact)")
    if let seed = receipt.request["seed"].flatMap(SessionSeed.init(json:)) {
        _ = seed.commitment
        _ = seed.derivedSeed(index: receipt.index ?? 0, scheme: receipt.seedScheme)
    }
    let request = JSONValue.object(receipt.request)
    switch receipt.method {
    case GenerateParams.method: _ = try? GenerateParams(request, maxSeed: Int64(receipt.seedScheme.maxSeed))
    case ScoreParams.method: _ = try? ScoreParams(request)
    case EncodeParams.method: _ = try? EncodeParams(request)
    default: break
    }
    for (_, v) in receipt.output {
        if let s = v.stringValue { _ = Digest.float(bits: s); _ = Digest.double(bits: s) }
        for e in v.arrayValue ?? [] { if let s = e.stringValue { _ = Digest.float(bits: s) } }
    }
    return 0
}
