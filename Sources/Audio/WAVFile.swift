// A WAV file decoded to the samples faster-whisper 1.2.1's `decode_audio` gives for it. That
// function resamples through PyAV to signed 16-bit mono and divides by 32768, so:
//   - 16-bit PCM: x / 32768, exactly;
//   - 32-bit float: first converted to 16 bits as FFmpeg's swresample does (x · 32768 rounded to
//     nearest, ties to even, saturated to −32768 … 32767), then / 32768. Checked against PyAV 18.1
//     on 200,000 random floats and every rounding tie. Beyond |x| ≥ 65536 swresample's SIMD and C
//     paths disagree (the result depends on packet boundaries), so such samples are refused.
// Only mono 16 kHz is accepted: nothing is resampled or downmixed behind the caller's back.

/// A decoded mono 16 kHz WAV file.
public struct WAVFile: Sendable, Equatable {
    public static let sampleRate = 16_000

    /// How the file stored its samples.
    public let encoding: WAVEncoding
    /// Whether the file used WAVE_FORMAT_EXTENSIBLE.
    public let extensible: Bool
    /// The samples, in [−1, 1), as faster-whisper's `decode_audio` returns them.
    public let samples: [Float]

    /// Decodes RIFF/WAVE bytes. Chunks other than `fmt ` and `data` are skipped; every size and
    /// field is checked first, so malformed or hostile bytes give an `AudioError`.
    public init(bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try WAVFile(bytes: $0) }
    }

    public init(bytes: UnsafeRawBufferPointer) throws {
        var format: WAVFormat?
        var data: RIFFChunk?
        for chunk in try RIFFChunks.waveChunks(bytes) {
            let payload = UnsafeRawBufferPointer(rebasing: bytes[chunk.payloadOffset..<(chunk.payloadOffset + chunk.size)])
            switch chunk.id {
            case "fmt ":
                guard format == nil else { throw AudioError.duplicateChunk(id: "\"fmt \"") }
                format = try WAVFormat(payload: payload)
            case "data":
                guard data == nil else { throw AudioError.duplicateChunk(id: "\"data\"") }
                data = chunk
            default:
                continue
            }
        }
        guard let format else { throw AudioError.missingFormatChunk }
        guard let data else { throw AudioError.missingDataChunk }
        guard data.size % format.blockAlign == 0 else {
            throw AudioError.partialFrame(dataBytes: data.size, blockAlign: format.blockAlign)
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[data.payloadOffset..<(data.payloadOffset + data.size)])
        encoding = format.encoding
        extensible = format.extensible
        switch format.encoding {
        case .pcm16: samples = Self.decodePCM16(payload)
        case .float32: samples = try Self.decodeFloat32(payload)
        }
    }

    static func decodePCM16(_ payload: UnsafeRawBufferPointer) -> [Float] {
        let count = payload.count / 2
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                let v = Int16(bitPattern: RIFFChunks.uint16(payload, at: 2 * i))
                out[i] = Float(v) / 32768
            }
            initialized = count
        }
    }

    static func decodeFloat32(_ payload: UnsafeRawBufferPointer) throws -> [Float] {
        let count = payload.count / 4
        var samples = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let x = Float(bitPattern: RIFFChunks.uint32(payload, at: 4 * i))
            guard x.isFinite else { throw AudioError.nonFiniteSample(index: i) }
            guard abs(x) < 65536 else { throw AudioError.sampleOutOfRange(index: i, value: x) }
            samples[i] = quantizedTo16Bits(x)
        }
        return samples
    }

    /// swresample's float → s16: x · 32768 (exact in Float for |x| < 65536), rounded to nearest
    /// with ties to even (lrintf and cvtps2dq in the default rounding mode), saturated.
    @inline(__always)
    static func quantizedTo16Bits(_ x: Float) -> Float {
        let v = (x * 32768).rounded(.toNearestOrEven)
        return min(max(v, -32768), 32767) / 32768
    }
}
