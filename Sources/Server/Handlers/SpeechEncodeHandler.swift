// encode with audio: one clip's encoder states on a speech model, pooled (SpeechEncoder). The
// result has encode's shape (one entry in `embeddings`, `tokenCounts` holding the positions
// pooled) and adds `audio` {sha256, seconds, windows, positions}; the receipt records the audio by
// the sha256 of its samples with the pooling and normalize used, and the samples are kept beside
// the journal before the answer goes back.
import Engine
import Models
import Receipts
import ReproJSON
import RPCProtocol

enum SpeechEncodeHandler {
    static func run(_ p: EncodeParams, _ source: SpeechInput.Source, model: LoadedModel, scheduler: InferenceScheduler,
                    audio: AudioResolver) async throws -> Answer {
        let pooling = p.pooling ?? .mean
        // A rule of the params, refused whatever the model.
        guard pooling == .mean || pooling == .none else {
            throw JSONFieldError(path: "params.pooling", message: "\(pooling.rawValue) does not apply to audio: Whisper's encoder has no [CLS] "
                                 + "and is bidirectional, so no one position stands for the clip; pool mean or none")
        }
        let encoder = try SpeechEncoder(model: model, scheduler: scheduler)
        let normalize = p.normalize ?? true
        let (samples, sha) = try audio.samples(source)
        if SpeechEncoder.windowFrames(sampleCount: samples.count).isEmpty {
            throw JSONFieldError(path: "params.audio", message: "is shorter than one 10 ms hop (160 samples): there is nothing to encode")
        }
        let encoding = try await encoder.encode(samples, pooling: Pooling(rawValue: pooling.rawValue)!, normalize: normalize)
        try audio.keep(samples, sha256: sha)
        let positions = encoding.positions
        guard case .object(var json) = EncodeParams.result(model: model.name, vectors: [encoding.vector], dimensions: encoder.dimensions,
                                                           pooling: pooling, normalize: normalize, tokenCounts: [positions],
                                                           truncated: [false]) else {
            throw RPCError.internalError("an encode result did not serialize to an object")
        }
        json["audio"] = ["sha256": .string(sha), "seconds": .double(Double(samples.count) / 16_000),
                         "windows": JSONValue(encoding.windowPositions.count), "positions": JSONValue(positions)]
        return Answer(result: json, method: EncodeParams.method, model: model,
                      request: EncodeParams.canonicalRequest(audioSHA256: sha, pooling: pooling, normalize: normalize), seed: nil,
                      output: OutputRecord.encoding([encoding.vector]))
    }
}
