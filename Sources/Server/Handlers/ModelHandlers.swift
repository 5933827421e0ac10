// models/list, models/load, models/unload.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

enum ModelHandlers {
    static func infos(_ daemon: Daemon) -> [ModelInfo] {
        daemon.registry.listing().map(info)
    }

    static func info(_ l: ModelListing) -> ModelInfo {
        var info = ModelInfo(name: l.name, aliases: l.aliases, path: l.installedPath, loaded: l.loaded != nil,
                             isDefault: l.isDefault, catalogued: l.catalogued)
        if let m = l.loaded {
            info.architecture = m.architecture
            if let file = m.gguf?.file {
                info.parameterCount = file.parameterCount
                info.quantTypes = file.quantTypeSummary.map { .init(type: $0.type.name, tensors: $0.tensorCount, bytes: $0.bytes) }
                info.fileSize = file.fileSize
            } else if let file = m.encoder?.bert.file {
                info.parameterCount = file.parameterCount
                info.quantTypes = file.dtypeSummary.map { .init(type: $0.dtype.rawValue, tensors: $0.tensors, bytes: $0.bytes) }
                info.fileSize = file.fileSize
            }
            info.sha256 = m.sha256
            info.contextLength = m.contextLength
            info.vocabularySize = m.tokenizer.vocabularySize
        }
        if let r = l.residency {
            info.residentBytes = r.residentBytes
            info.kvBytes = r.kvBytes
            info.activeRequests = r.activeRequests
            info.lastUsed = r.lastUsed.map(Receipt.timestamp)
            info.unloadsAt = r.unloadsAt.map(Receipt.timestamp)
        }
        return info
    }

    @Sendable static func list(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        _ = try ModelsListParams(params)
        return ModelsListParams.result(infos(ctx.daemon), engine: Daemon.engineInfo)
    }

    @Sendable static func load(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try ModelsLoadParams(params)
        let model = try await ctx.daemon.registry.load(p.model, alias: p.alias, keepAlive: p.keepAlive ?? .infinity) { ctx.progress($0) }
        return info(ctx.daemon.registry.listing(of: model)).json
    }

    @Sendable static func unload(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try ModelsUnloadParams(params)
        let model = try ctx.daemon.registry.unload(p.model)
        return ["unloaded": .string(model.name)]
    }
}
