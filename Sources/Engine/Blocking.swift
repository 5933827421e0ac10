// Runs blocking work (file hashing, mmap and table building, later the forward pass) off
// Swift's cooperative thread pool, which has only as many threads as cores: blocking one of
// them for seconds would stall every other request's bookkeeping.
import Dispatch

/// Runs `body` on a global dispatch queue and resumes the caller with its result.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try body() })
        }
    }
}
