// Speech to condition on (encoder-decoder speech models such as Whisper): `audio` in `generate`,
// `score` and `encode`, with `language` and `task` for `generate` and `score`, and `timestamps`
// (a boolean, default false) and `noSpeechThreshold` (0...1, default 0.6) for `generate`.
//   audio: {wav: <base64 of a WAV file>} | {path: <a WAV file the daemon reads>} | {sha256: <hex>}
// The third form names audio the daemon already holds by the sha256 of its decoded samples (every
// answer's receipt records audio this way, and the daemon keeps it beside the journal), so a
// receipt's canonical request replays without the audio travelling again.
import ReproJSON

/// Where speech comes from and what to do with it.
public struct SpeechInput: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A WAV file's bytes.
        case wav([UInt8])
        /// A WAV file on the daemon's machine.
        case path(String)
        /// Audio the daemon holds, by the sha256 (lowercase hex) of its samples as 32-bit floats.
        case stored(sha256: String)
    }

    /// Whisper's two tasks: text in the spoken language, or English text.
    public enum Task: String, Sendable, Equatable, CaseIterable {
        case transcribe, translate
    }

    public let source: Source
    /// The spoken language's code ("en", "de", …); nil: detected from the audio.
    public let language: String?
    public let task: Task
    /// Decode timestamp tokens and cut the transcript into timestamped segments.
    public let timestamps: Bool
    /// A window more likely silent than this keeps no text unless decoded confidently (1: never).
    public let noSpeechThreshold: Double
    public static let defaultNoSpeechThreshold = 0.6

    public init(source: Source, language: String?, task: Task, timestamps: Bool = false,
                noSpeechThreshold: Double = SpeechInput.defaultNoSpeechThreshold) {
        self.source = source
        self.language = language
        self.task = task
        self.timestamps = timestamps
        self.noSpeechThreshold = noSpeechThreshold
    }

    /// The largest WAV accepted inline (base64 makes the frame a third larger): an hour of 16 kHz
    /// mono PCM16 is 115 MB.
    public static let maxWAVBytes = 128 << 20
    public static let maxPathBytes = 4096

    /// Reads `audio` (and `language`, `task` when `withTask`, `timestamps` and `noSpeechThreshold`
    /// when `withTimestamps`); nil when there is no `audio`. Without `audio`, those are refused by name.
    static func read(_ r: inout JSONObjectReader, withTask: Bool, withTimestamps: Bool = false) throws -> SpeechInput? {
        guard var a = try r.optionalObject("audio") else {
            for key in ["language", "task"] + (withTimestamps ? ["timestamps", "noSpeechThreshold"] : []) where r.contains(key) {
                throw JSONFieldError(path: r.fieldPath(key), message: "applies only to audio")
            }
            _ = r.value("language")
            _ = r.value("task")
            return nil
        }
        let given = ["wav", "path", "sha256"].filter { a.contains($0) }
        guard given.count == 1 else {
            throw JSONFieldError(path: a.path, message: given.isEmpty ? "needs one of wav, path or sha256"
                                                                       : "takes one of wav, path or sha256, not \(given.joined(separator: " and "))")
        }
        let source: Source
        switch given[0] {
        case "wav":
            let text = try a.string("wav", maxBytes: (maxWAVBytes + 2) / 3 * 4)
            guard let bytes = Base64.decode(text) else {
                throw JSONFieldError(path: a.fieldPath("wav"), message: "must be standard base64 (RFC 4648, padded, no line breaks)")
            }
            source = .wav(bytes)
        case "path":
            let path = try a.string("path", maxBytes: maxPathBytes)
            if path.isEmpty { throw JSONFieldError(path: a.fieldPath("path"), message: "must not be empty") }
            source = .path(path)
        default:
            let digest = try a.string("sha256")
            guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw JSONFieldError(path: a.fieldPath("sha256"), message: "must be 64 lowercase hex digits")
            }
            source = .stored(sha256: digest)
        }
        try a.finish()
        guard withTask else { return SpeechInput(source: source, language: nil, task: .transcribe) }
        let language = try r.optionalString("language", maxBytes: 16)
        if let language, language.isEmpty || !language.utf8.allSatisfy({ (97...122).contains($0) }) {
            throw JSONFieldError(path: r.fieldPath("language"), message: "must be a language code such as \"en\" (lowercase letters)")
        }
        let taskName = try r.optionalString("task") ?? Task.transcribe.rawValue
        guard let task = Task(rawValue: taskName) else {
            throw JSONFieldError(path: r.fieldPath("task"), message: "must be \"transcribe\" or \"translate\"")
        }
        let timestamps = withTimestamps ? try r.optionalBool("timestamps") ?? false : false
        let threshold = withTimestamps ? try r.optionalDouble("noSpeechThreshold", in: 0...1) ?? Self.defaultNoSpeechThreshold
                                       : Self.defaultNoSpeechThreshold
        return SpeechInput(source: source, language: language, task: task, timestamps: timestamps, noSpeechThreshold: threshold)
    }

    /// The canonical fields a receipt records: the audio by content, the language actually used
    /// (detected or given), the task, and `timestamps` when true (absent when false, so a receipt
    /// made before timestamps existed reads the same), and generate's `noSpeechThreshold` when given.
    public static func canonicalFields(audioSHA256: String, language: String?, task: Task,
                                       timestamps: Bool = false, noSpeechThreshold: Double? = nil) -> [String: JSONValue] {
        var o: [String: JSONValue] = ["audio": ["sha256": .string(audioSHA256)], "task": .string(task.rawValue)]
        if let language { o["language"] = .string(language) }
        if timestamps { o["timestamps"] = .bool(true) }
        if let noSpeechThreshold { o["noSpeechThreshold"] = .double(noSpeechThreshold) }
        return o
    }
}

/// Standard base64 (RFC 4648 section 4) with padding, strictly: no whitespace, no URL alphabet,
/// the unused bits of the last group zero, so one byte string has one spelling.
enum Base64 {
    private static let values: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    static func decode(_ text: String) -> [UInt8]? {
        let s = Array(text.utf8)
        guard s.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 4 * 3)
        var i = 0
        while i < s.count {
            let last = i + 4 == s.count
            let pad = last ? (s[i + 3] == UInt8(ascii: "=") ? (s[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var group: UInt32 = 0
            for j in 0..<(4 - pad) {
                let v = values[Int(s[i + j])]
                guard v >= 0 else { return nil }
                group = group << 6 | UInt32(v)
            }
            switch pad {
            case 0:
                out += [UInt8(group >> 16), UInt8(truncatingIfNeeded: group >> 8), UInt8(truncatingIfNeeded: group)]
            case 1:  // 18 bits: two bytes and 2 zero bits
                guard group & 0x3 == 0 else { return nil }
                out += [UInt8(group >> 10), UInt8(truncatingIfNeeded: group >> 2)]
            default:  // 12 bits: one byte and 4 zero bits
                guard group & 0xF == 0 else { return nil }
                out.append(UInt8(group >> 4))
            }
            i += 4
        }
        return out
    }
}
