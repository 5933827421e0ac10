// Where a request's audio comes from: inline WAV bytes, a WAV file the daemon reads, or audio the
// daemon keeps by content (AudioStore, beside the journal). Whichever form arrives, the audio's
// identity is the sha256 of its decoded samples, so the same speech sent as a file, inline or by
// digest is the same request in a receipt.
import Audio
import Foundation
import Receipts
import RPCProtocol

struct AudioResolver: Sendable {
    /// The daemon's store (nil: no journal, so nothing is kept).
    let store: AudioStore?
    /// Samples given alongside a receipt to `reproduce` (used when the store lacks them).
    var alongside: [Float]? = nil

    static let none = AudioResolver(store: nil)

    /// The decoded samples and their digest.
    func samples(_ source: SpeechInput.Source) throws -> (samples: [Float], sha256: String) {
        switch source {
        case .wav(let bytes):
            let samples = try WAVFile(bytes: bytes).samples
            return (samples, AudioStore.digest(of: samples))
        case .path(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RPCError.invalidParams(path: "params.audio.path", "cannot read \(path)")
            }
            guard data.count <= SpeechInput.maxWAVBytes else {
                throw RPCError.invalidParams(path: "params.audio.path", "\(path) is larger than \(SpeechInput.maxWAVBytes) bytes")
            }
            let samples = try data.withUnsafeBytes { try WAVFile(bytes: $0).samples }
            return (samples, AudioStore.digest(of: samples))
        case .stored(let sha):
            if let alongside, AudioStore.digest(of: alongside) == sha { return (alongside, sha) }
            guard let store else {
                throw RPCError.invalidParams(path: "params.audio.sha256", "names stored audio, but the daemon keeps none (--no-journal): send the audio itself")
            }
            return (try store.samples(sha), sha)
        }
    }

    /// Keeps `samples` so the answer's receipt replays after a restart (before the answer is sent).
    func keep(_ samples: [Float], sha256: String) throws {
        try store?.keep(samples, sha256: sha256)
    }
}
