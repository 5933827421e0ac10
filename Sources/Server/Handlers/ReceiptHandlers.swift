// reproduce, receipts/get: replaying an answer from its receipt, and reading receipts back from
// the journal. A replay runs the receipt's canonical request (which is valid params of its
// method) on the model file with the receipt's sha256, and compares output records.
import Engine
import Foundation
import Receipts
import ReproJSON
import RPCProtocol

enum ReceiptHandlers {
    @Sendable static func get(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try ReceiptsGetParams(params)
        let entry = try journalEntry(id: p.id, daemon: ctx.daemon)
        return ["receipt": entry["receipt"] ?? .null, "seq": entry["seq"] ?? .null, "prev": entry["prev"] ?? .null,
                "entry": entry["entry"] ?? .null]
    }

    static func journalEntry(id: String, daemon: Daemon) throws -> [String: JSONValue] {
        guard let journal = daemon.journal else {
            throw RPCError.invalidParams(path: "params.id", "cannot be looked up: the daemon keeps no journal (--no-journal)")
        }
        guard let entry = try journal.receiptEntry(id: id) else {
            throw RPCError(.receiptNotFound, "no receipt with id \(id) in the journal \(journal.path)", data: ["id": .string(id)])
        }
        return entry
    }

    @Sendable static func reproduce(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try ReproduceParams(params)
        let daemon = ctx.daemon
        let receiptJSON: JSONValue, path: String, journalState: String
        switch p.target {
        case .id(let id):
            receiptJSON = try journalEntry(id: id, daemon: daemon)["receipt"] ?? .null
            path = "params.id"
            journalState = "matches"
        case .receipt(let r):
            receiptJSON = r
            path = "params.receipt"
            journalState = try compareWithJournal(r, daemon: daemon)
        }
        let receipt = try ParsedReceipt(receiptJSON, path: path)
        let model = try await modelFor(receipt, registry: daemon.registry, path: path)
        let lease = daemon.registry.lease(model)
        defer { lease?.release() }
        var audio = AudioResolver(store: daemon.audioStore)
        if let given = p.audio {
            let (samples, sha) = try audio.samples(given)
            let named = receipt.request["audio"]?["sha256"]?.stringValue
            guard named == sha else {
                throw RPCError.invalidParams(path: "params.audio", named == nil ? "the receipt takes no audio"
                                             : "is not the receipt's audio: its samples hash to \(sha), the receipt names \(named!)")
            }
            audio.alongside = samples
            try audio.keep(samples, sha256: sha)
        }
        let replay = try await Replay.run(receipt, model: model, scheduler: daemon.scheduler, path: path, lease: lease, audio: audio)
        let comparison = try Replay.compare(receipt, replay)
        if let journal = daemon.journal {
            _ = try await journal.append(.replay(of: receipt.id, identical: comparison.identical, digest: comparison.actualDigest,
                                                  created: Receipt.timestamp(Date())))
        }
        var result = comparison.json
        result["receiptId"] = .string(receipt.id)
        result["method"] = .string(receipt.method)
        result["model"] = ["name": .string(model.name), "sha256": .string(model.sha256)]
        result["journal"] = .string(journalState)
        result["engine"] = ["receipt": .string(receipt.engineVersion), "daemon": .string(Daemon.engineVersion)]
        return .object(result)
    }

    /// "matches" or "differs" when the journal holds a receipt with this id, "absent" when it
    /// holds none, "disabled" without a journal.
    static func compareWithJournal(_ receipt: JSONValue, daemon: Daemon) throws -> String {
        guard let journal = daemon.journal else { return "disabled" }
        guard let id = receipt["id"]?.stringValue, let entry = try journal.receiptEntry(id: id) else { return "absent" }
        let mine = try? receipt.canonicalBytes()
        return mine != nil && mine == (try? entry["receipt"]?.canonicalBytes()) ? "matches" : "differs"
    }

    /// The loaded model with the receipt's sha256 (preferring its name); a catalogue model with
    /// that sha256 that is installed is loaded. Anything else is refused, saying why.
    static func modelFor(_ r: ParsedReceipt, registry: ModelRegistry, path: String) async throws -> LoadedModel {
        let loaded = registry.loadedModels()
        if let m = loaded.first(where: { $0.sha256 == r.modelSHA256 && $0.name == r.modelName }) ?? loaded.first(where: { $0.sha256 == r.modelSHA256 }) {
            return m
        }
        if let spec = registry.store.catalog.models.first(where: { $0.files.contains { $0.sha256 == r.modelSHA256 } }),
           registry.store.localPath(for: spec.name) != nil {
            return try await registry.load(spec.name)
        }
        let data: JSONValue = ["name": .string(r.modelName), "sha256": .string(r.modelSHA256)]
        if let other = loaded.first(where: { $0.name == r.modelName }) {
            throw RPCError(.modelMismatch, "the receipt's model \(r.modelName) has sha256 \(r.modelSHA256), but the loaded \(other.name) "
                           + "has \(other.sha256): a different file cannot reproduce it",
                           data: ["name": .string(r.modelName), "sha256": .string(r.modelSHA256), "loadedSha256": .string(other.sha256)])
        }
        throw RPCError(.modelNotFound, "no model with sha256 \(r.modelSHA256) (\(r.modelName)) is loaded or installed; "
                       + "load that file with models/load", data: data)
    }
}
