// Every way audio input can be refused. WAV bytes come from clients, so each case names what was
// found and what is needed; nothing about a file can crash the daemon or make it allocate more
// than the file's own size.

/// Audio that cannot be decoded, or is not in the one layout Whisper takes.
public enum AudioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than the 12 bytes of a RIFF/WAVE header.
    case tooShort(byteCount: Int)
    /// The first four bytes are not "RIFF" (RIFX and RF64 files are named as such).
    case notRIFF(found: String)
    /// A RIFF file of another form than WAVE (e.g. AVI).
    case notWAVE(found: String)
    /// The RIFF header declares more bytes than there are: a truncated file, or one written as a
    /// stream that never went back to fill in its sizes.
    case riffPastEnd(declared: UInt32, available: Int)
    /// Fewer than the 8 bytes of a chunk header left inside the RIFF.
    case chunkHeaderTruncated(offset: Int, remaining: Int)
    /// A chunk whose declared size runs past the end of the RIFF.
    case chunkPastEnd(id: String, offset: Int, size: UInt32, available: Int)
    /// A second `fmt ` or `data` chunk: which one a reader takes would be a guess.
    case duplicateChunk(id: String)
    case missingFormatChunk
    case missingDataChunk
    /// A `fmt ` chunk shorter than its format needs (16 bytes, 40 for WAVE_FORMAT_EXTENSIBLE).
    case formatChunkTooSmall(size: Int, needed: Int)
    /// A sample encoding other than 16-bit PCM or 32-bit IEEE float (tag 1, 3, or 0xFFFE carrying
    /// one of them).
    case unsupportedEncoding(formatTag: UInt16, bitsPerSample: UInt16)
    /// WAVE_FORMAT_EXTENSIBLE whose sub-format GUID is not the PCM or IEEE-float one.
    case unsupportedSubFormat(guid: String)
    /// WAVE_FORMAT_EXTENSIBLE whose valid bits differ from the container's bits per sample.
    case unsupportedValidBits(valid: UInt16, container: UInt16)
    /// Not mono 16 kHz. Never resampled or downmixed silently.
    case unsupportedLayout(channels: UInt16, sampleRate: UInt32)
    case inconsistentBlockAlign(found: UInt16, expected: Int)
    case inconsistentByteRate(found: UInt32, expected: Int)
    /// A data chunk that is not a whole number of sample frames.
    case partialFrame(dataBytes: Int, blockAlign: Int)
    /// A NaN or infinite sample (in a float WAV, or in samples handed to the feature extractor).
    case nonFiniteSample(index: Int)
    /// A float sample of magnitude 65536 or more: faster-whisper's conversion to 16 bits is not
    /// defined there (it depends on where the sample falls in a decoder packet).
    case sampleOutOfRange(index: Int, value: Float)

    static let needed = "reprolm needs mono 16000 Hz WAV (16-bit PCM or 32-bit float)"
    static let convert = "convert it first, e.g. `sox in.wav -r 16000 -c 1 -b 16 out.wav`"

    public var description: String {
        switch self {
        case .tooShort(let n): return "audio of \(n) bytes is too short for a RIFF/WAVE header (12 bytes); \(Self.needed)"
        case .notRIFF(let f):
            return "audio starts with \(f), not \"RIFF\": not a WAV file (\(Self.needed); big-endian RIFX and RF64 are not supported)"
        case .notWAVE(let f): return "RIFF file of form \(f), not \"WAVE\""
        case .riffPastEnd(let d, let a):
            return "WAV header declares \(d) bytes after the RIFF size field but only \(a) are there (truncated, or written as a stream without sizes; rewrite it, e.g. with sox)"
        case .chunkHeaderTruncated(let o, let r): return "WAV chunk header at byte \(o) is truncated: \(r) of its 8 bytes remain"
        case .chunkPastEnd(let id, let o, let s, let a):
            return "WAV chunk \(id) at byte \(o) declares \(s) bytes but only \(a) remain in the file (truncated?)"
        case .duplicateChunk(let id): return "WAV file has more than one \(id) chunk"
        case .missingFormatChunk: return "WAV file has no \"fmt \" chunk"
        case .missingDataChunk: return "WAV file has no \"data\" chunk"
        case .formatChunkTooSmall(let s, let n): return "WAV \"fmt \" chunk is \(s) bytes; its format needs at least \(n)"
        case .unsupportedEncoding(let t, let b):
            return "WAV sample encoding is format tag \(Self.hex(t)) with \(b) bits per sample; \(Self.needed): \(Self.convert)"
        case .unsupportedSubFormat(let g): return "WAVE_FORMAT_EXTENSIBLE sub-format \(g) is neither PCM nor IEEE float; \(Self.needed)"
        case .unsupportedValidBits(let v, let c):
            return "WAVE_FORMAT_EXTENSIBLE declares \(v) valid bits in \(c)-bit samples; \(Self.needed)"
        case .unsupportedLayout(let c, let r):
            return "audio is \(c) channel\(c == 1 ? "" : "s") at \(r) Hz; \(Self.needed) and does not resample or downmix silently: \(Self.convert)"
        case .inconsistentBlockAlign(let f, let e): return "WAV block align is \(f), but channels and bits per sample make it \(e)"
        case .inconsistentByteRate(let f, let e): return "WAV byte rate is \(f), but sample rate and block align make it \(e)"
        case .partialFrame(let d, let b): return "WAV data chunk of \(d) bytes is not a whole number of \(b)-byte sample frames"
        case .nonFiniteSample(let i): return "audio sample \(i) is NaN or infinite"
        case .sampleOutOfRange(let i, let v): return "float audio sample \(i) is \(v), beyond the supported magnitude of 65536 (full scale is 1)"
        }
    }

    static func hex(_ v: UInt16) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
