// `reproduce` and `receipts/get`: replaying an answer from its receipt, and reading receipts back
// from the journal.
import ReproJSON

/// `reproduce {receipt, audio?} | {id, audio?}`: replays the receipt given, or the journal's receipt
/// with this id. `audio` ({wav} or {path}) brings a speech receipt's audio when the daemon's store
/// lacks it; it must be the audio the receipt names (the same samples' sha256).
public struct ReproduceParams: Sendable {
    public static let method = "reproduce"

    public enum Target: Sendable {
        case receipt(JSONValue)
        case id(String)
    }

    public let target: Target
    public let audio: SpeechInput.Source?

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        audio = try SpeechInput.read(&r, withTask: false)?.source
        let receipt = r.value("receipt")
        let id = try r.optionalString("id", maxBytes: 256)
        switch (receipt, id) {
        case let (receipt?, nil):
            guard case .object = receipt else { throw JSONFieldError(path: r.fieldPath("receipt"), message: "must be an object, not \(receipt.typeName)") }
            target = .receipt(receipt)
        case let (nil, id?):
            target = .id(id)
        case (_?, _?):
            throw JSONFieldError(path: r.fieldPath("id"), message: "cannot be given together with receipt")
        case (nil, nil):
            throw JSONFieldError(path: r.fieldPath("receipt"), message: "is required (or id)")
        }
        try r.finish()
    }
}

/// `receipts/get {id}` → `{receipt, seq, prev, entry}`: a receipt and its place in the journal.
public struct ReceiptsGetParams: Sendable {
    public static let method = "receipts/get"
    public let id: String

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        id = try r.string("id", maxBytes: 256)
        try r.finish()
    }
}
