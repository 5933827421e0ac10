// The counters behind `stats`: requests by method and outcome, and tokens processed.
import Foundation
import ReproJSON

/// What the daemon has done since it started. Thread-safe.
final class DaemonStats: @unchecked Sendable {
    let started = Date()
    private let lock = NSLock()
    private var requests: [String: [String: Int]] = [:]
    private var promptTokens = 0, cachedPromptTokens = 0, completionTokens = 0

    /// Counts an answered request: outcome "ok", or the error's code.
    func answered(_ method: String, _ reply: JSONValue?) {
        let outcome: String
        if case .object(let o)? = reply, case .object(let e)? = o["error"] {
            outcome = e["code"]?.int64Value.map { String($0) } ?? "error"
        } else {
            outcome = "ok"
        }
        lock.lock()
        requests[method, default: [:]][outcome, default: 0] += 1
        lock.unlock()
    }

    func tokens(prompt: Int, cached: Int, completion: Int) {
        lock.lock()
        promptTokens += prompt
        cachedPromptTokens += cached
        completionTokens += completion
        lock.unlock()
    }

    var snapshot: (requests: [String: [String: Int]], prompt: Int, cached: Int, completion: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (requests, promptTokens, cachedPromptTokens, completionTokens)
    }
}
