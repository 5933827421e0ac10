// fuzz-modules: ReproJSON RPCProtocol
//
// JSON-RPC messages as the daemon reads a frame: ReproJSON's parser (jansson underneath, with
// reprolm's UTF-8, duplicate-key and 64-bit checks), the envelope (RPCMessage: single messages and
// batches), and every method's params reader in Sources/RPCProtocol/Methods, each given every
// message's params (not only its own method's, which reaches more code per input).
// Checked, besides crashes: serialize/parse round trips exactly and serialization is stable; the
// canonical form parses back; a generate/score/encode canonical request (what a receipt records,
// and what `reproduce` replays) is accepted by its own params reader after a trip through its
// canonical bytes, and gives the same canonical request again.
import ReproJSON
import RPCProtocol

private func canonicalTrip(_ v: JSONValue) -> JSONValue {
    do {
        return try JSONValue.parse(try v.canonicalBytes())
    } catch {
        Fuzz.require(false, "canonical request does not survive canonicalBytes/parse: \(error)")
        return v
    }
}

private func allParams(_ params: JSONValue?) {
    if let p = try? GenerateParams(params) {
        let tokens: [Int32]
        if case .tokens(let t) = p.prompt { tokens = t } else { tokens = [1, 2, 3] }
        let canon = p.canonicalRequest(tokens: tokens, seed: p.seed ?? 7)
        do {
            let again = try GenerateParams(canonicalTrip(canon))
            let canon2 = again.canonicalRequest(tokens: tokens, seed: p.seed ?? 7)
            Fuzz.require(try canon.canonicalBytes() == canon2.canonicalBytes(), "generate canonical request changed on replay")
        } catch {
            Fuzz.require(false, "generate rejects its own canonical request: \(error)\n\(canon)")
        }
    }
    if let p = try? ScoreParams(params) {
        let canon = p.canonicalRequest(tokens: [1, 2, 3], scoreFrom: min(p.scoreFrom ?? 1, 2))
        do { _ = try ScoreParams(canonicalTrip(canon)) } catch {
            Fuzz.require(false, "score rejects its own canonical request: \(error)\n\(canon)")
        }
    }
    if let p = try? EncodeParams(params) {
        let tokens: [[Int32]]
        if case .tokens(let t) = p.input { tokens = t } else { tokens = [[101, 102]] }
        let canon = EncodeParams.canonicalRequest(tokens: tokens, pooling: p.pooling ?? .mean, normalize: p.normalize ?? true)
        do { _ = try EncodeParams(canonicalTrip(canon)) } catch {
            Fuzz.require(false, "encode rejects its own canonical request: \(error)\n\(canon)")
        }
    }
    _ = try? InitializeParams(params)
    _ = try? CancelRequestParams(params)
    _ = try? ModelsListParams(params)
    _ = try? ModelsLoadParams(params)
    _ = try? ModelsUnloadParams(params)
    _ = try? ReproduceParams(params)
    _ = try? ReceiptsGetParams(params)
    _ = try? SetSeedParams(params)
    _ = try? StatsParams(params)
    _ = try? TokenizeParams(params)
    _ = try? DetokenizeParams(params)
}

private func hasHugeIntegralReal(_ v: JSONValue) -> Bool {
    switch v {
    case .double(let d): return abs(d) >= 9_223_372_036_854_775_808.0 && abs(d) < 1e21
    case .array(let a): return a.contains(where: hasHugeIntegralReal)
    case .object(let o): return o.values.contains(where: hasHugeIntegralReal)
    default: return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRPC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.bytes(data, size)
    let value: JSONValue
    do { value = try JSONValue.parse(input) } catch { return 0 }

    do {
        let text = try value.serialized()
        let back = try JSONValue.parse(text)
        Fuzz.require(back == value, "serialize/parse round trip changed the value")
        Fuzz.require(try back.serialized() == text, "serialization is not stable")
    } catch {
        Fuzz.require(false, "a parsed value fails to serialize or parse back: \(error)")
    }
    if let canonical = try? value.canonicalBytes() {
        // Known (reported with issue 12): a real in [2^63, 1e21) has the canonical form of an integer
        // (ECMAScript prints it without an exponent), which ReproJSON's parser refuses as beyond
        // 64 bits. Nothing the daemon journals holds such a number today; anything else must parse.
        Fuzz.require((try? JSONValue.parse(canonical)) != nil || hasHugeIntegralReal(value),
                     "canonical bytes are not JSON: \(String(decoding: canonical, as: UTF8.self))")
    }

    let messages: [JSONValue]
    if case .array(let batch) = value { messages = batch } else { messages = [value] }
    for m in messages {
        switch RPCMessage(m) {
        case .request(let id, _, let params):
            allParams(params)
            _ = RPCOutgoing.result(id: id, .null)
        case .notification(_, let params):
            allParams(params)
        case .response, .invalid:
            break
        }
    }
    return 0
}
