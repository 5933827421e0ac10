// fuzz-modules: ReproJSON RPCProtocol Receipts
//
// A receipt handed to `reproduce`: the params reader (ReproduceParams), the receipt's structure
// (Sources/Receipts/Receipt.swift, ParsedReceipt), its output digest (canonical JSON + SHA-256),
// its session seed, and the replay's re-reading of the recorded request by the method's own
// params reader (as Sources/Server/Replay.swift does).
// Input: JSON, either reproduce params {"receipt": {...}} or a bare receipt.
import ReproJSON
import Receipts
import RPCProtocol

private let checked: Void = {
    // The fuzz build's SHA-256 (Fuzz/Support/Crypto) against FIPS 180-4's vectors.
    Fuzz.require(Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 (abc)")
    Fuzz.require(Digest.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 (empty)")
    Fuzz.require(Digest.sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                 == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "SHA-256 (448 bits)")
    Fuzz.require(Digest.sha256Hex([UInt8](repeating: 0x61, count: 1_000_000))
                 == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "SHA-256 (a million a)")
}()

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
        _ = seed.derivedSeed(index: receipt.index ?? 0)
    }
    let request = JSONValue.object(receipt.request)
    switch receipt.method {
    case GenerateParams.method: _ = try? GenerateParams(request)
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
