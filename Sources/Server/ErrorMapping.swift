// Turns any error a handler throws into the JSON-RPC error the client sees. Errors caused by the
// client's input map to -32602 or an application code; -32603 is reserved for the daemon's own
// faults.
import Audio
import Engine
import ModelFiles
import ModelStore
import Receipts
import ReproJSON
import RPCProtocol

enum ErrorMapping {
    static func rpcError(_ error: Error) -> RPCError {
        switch error {
        case let e as RPCError:
            return e
        case let e as JSONFieldError:
            return .invalidParams(e)
        case is CancellationError:
            return .cancelled
        case let e as EngineError:
            switch e {
            case .modelNotLoaded, .modelNotFound, .noModelLoaded:
                return RPCError(.modelNotFound, e.description)
            case .loadFailed:
                return RPCError(.modelLoadFailed, e.description)
            case .aliasTaken:
                return .invalidParams(path: "params.alias", e.description)
            case .cannotRun:
                return .invalidParams(path: "params.model", e.description)
            case .unknownLanguage:
                return .invalidParams(path: "params.language", e.description)
            case .emptyPrompt:
                return RPCError(.invalidParams, "Invalid params: \(e.description)", data: ["reason": .string(e.description)])
            case let .contextOverflow(prompt, maxTokens, limit):
                return RPCError(.contextOverflow, e.description, data: [
                    "promptTokens": JSONValue(prompt), "maxTokens": JSONValue(maxTokens), "contextLength": JSONValue(limit),
                ])
            case let .tokenOutOfRange(index, _, _):
                return .invalidParams(path: "params.tokens[\(index)]", e.description)
            case .nonFiniteLogits:
                return .internalError(e.description)
            case .constraintDeadEnd:
                return RPCError(.invalidParams, "Invalid params: \(e.description)", data: ["reason": .string(e.description)])
            case let .memoryBudgetHeld(needed, _, budget):
                return RPCError(.overloaded, e.description, data: ["neededBytes": JSONValue(needed), "budgetBytes": JSONValue(budget)])
            case let .exceedsMemoryBudget(_, needed, budget):
                return RPCError(.exceedsMemoryBudget, e.description,
                                data: ["neededBytes": JSONValue(needed), "budgetBytes": JSONValue(budget)])
            }
        case let e as ModelStoreError:
            return RPCError(.modelLoadFailed, "\(e)")
        case let e as GGUFError:
            return RPCError(.modelLoadFailed, "\(e)")
        case let e as AudioError:
            return .invalidParams(path: "params.audio", e.description)
        case let e as AudioStoreError:
            return .invalidParams(path: "params.audio", e.description)
        default:
            return .internalError("\(error)")
        }
    }
}
