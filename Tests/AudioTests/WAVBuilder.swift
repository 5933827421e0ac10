// Builds WAV files in memory for the tests: well-formed by default (mono 16 kHz 16-bit PCM, a
// `fmt ` chunk then a `data` chunk), with every field the reader checks open to override, so
// tests can write each hostile form without hand-assembling bytes.

struct WAVBuilder {
    var formatTag: UInt16 = 1
    var channels: UInt16 = 1
    var sampleRate: UInt32 = 16_000
    var bitsPerSample: UInt16 = 16
    /// nil: channels · bits / 8.
    var blockAlign: UInt16?
    /// nil: sampleRate · blockAlign.
    var byteRate: UInt32?
    /// Written as WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE) with this sub-format code and valid bits.
    var extensible: (subFormat: UInt32, validBits: UInt16)?
    /// The GUID bytes after the sub-format code (the standard KSDATAFORMAT suffix by default).
    var guidTail: [UInt8] = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
    /// Extra bytes appended to the `fmt ` payload (some writers add cbSize = 0).
    var formatExtra: [UInt8] = []
    var data: [UInt8] = []
    /// Chunks written before `fmt `, between `fmt ` and `data`, and after `data`.
    var before: [(id: String, payload: [UInt8])] = []
    var between: [(id: String, payload: [UInt8])] = []
    var after: [(id: String, payload: [UInt8])] = []
    var includeFormat = true
    var includeData = true
    /// nil: the true size (file length − 8).
    var riffSize: UInt32?
    var magic = "RIFF", form = "WAVE"

    static func pcm16(_ samples: [Int16]) -> WAVBuilder {
        var b = WAVBuilder()
        b.data = samples.flatMap { le16(UInt16(bitPattern: $0)) }
        return b
    }

    static func float32(_ samples: [Float]) -> WAVBuilder {
        var b = WAVBuilder()
        b.formatTag = 3
        b.bitsPerSample = 32
        b.data = samples.flatMap { le32($0.bitPattern) }
        return b
    }

    var formatPayload: [UInt8] {
        let align = blockAlign ?? UInt16(Int(channels) * Int(bitsPerSample) / 8)
        let rate = byteRate ?? sampleRate &* UInt32(align)
        var p = le16(extensible == nil ? formatTag : 0xFFFE) + le16(channels) + le32(sampleRate) + le32(rate)
            + le16(align) + le16(bitsPerSample)
        if let ext = extensible {
            p += le16(22) + le16(ext.validBits) + le32(4) /* front centre */ + le32(ext.subFormat) + guidTail
        }
        return p + formatExtra
    }

    func bytes() -> [UInt8] {
        var chunks = before
        if includeFormat { chunks.append(("fmt ", formatPayload)) }
        chunks += between
        if includeData { chunks.append(("data", data)) }
        chunks += after
        var body = Array(form.utf8)
        for (id, payload) in chunks {
            body += Array(id.utf8) + le32(UInt32(payload.count)) + payload
            if payload.count % 2 == 1 { body.append(0) }
        }
        return Array(magic.utf8) + le32(riffSize ?? UInt32(body.count)) + body
    }
}

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
