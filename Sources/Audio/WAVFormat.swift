// The `fmt ` chunk of a WAV file: what the samples are. Only the layout Whisper's front end takes
// is accepted (mono, 16 kHz, 16-bit PCM or 32-bit IEEE float, plainly or as
// WAVE_FORMAT_EXTENSIBLE); the header's redundant fields (block align, byte rate) must agree with
// it, since a file whose fields disagree was written by a broken tool and any reading is a guess.

/// How the samples of a WAV data chunk are encoded.
public enum WAVEncoding: String, Sendable, Equatable {
    /// Signed 16-bit little-endian integers (format tag 1).
    case pcm16
    /// IEEE 754 32-bit little-endian floats (format tag 3).
    case float32
}

struct WAVFormat: Equatable {
    var encoding: WAVEncoding
    /// Whether the file said so with WAVE_FORMAT_EXTENSIBLE (0xFFFE) and a sub-format GUID.
    var extensible: Bool
    var blockAlign: Int

    static let requiredSampleRate: UInt32 = 16_000
    static let extensibleTag: UInt16 = 0xFFFE
    /// The 12 bytes every KSDATAFORMAT_SUBTYPE GUID for a WAVE format tag ends with, after the
    /// 4-byte little-endian tag: {0000XXXX-0000-0010-8000-00AA00389B71}.
    static let subFormatSuffix: [UInt8] = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]

    /// Reads and checks a `fmt ` chunk's payload.
    init(payload: UnsafeRawBufferPointer) throws {
        guard payload.count >= 16 else { throw AudioError.formatChunkTooSmall(size: payload.count, needed: 16) }
        let tag = RIFFChunks.uint16(payload, at: 0)
        let channels = RIFFChunks.uint16(payload, at: 2)
        let sampleRate = RIFFChunks.uint32(payload, at: 4)
        let byteRate = RIFFChunks.uint32(payload, at: 8)
        let blockAlign = RIFFChunks.uint16(payload, at: 12)
        let bits = RIFFChunks.uint16(payload, at: 14)

        var effectiveTag = tag
        extensible = tag == Self.extensibleTag
        if extensible {
            // cbSize (at 16) counts the extension; WAVE_FORMAT_EXTENSIBLE's is 22 bytes.
            guard payload.count >= 40 else { throw AudioError.formatChunkTooSmall(size: payload.count, needed: 40) }
            let extensionSize = Int(RIFFChunks.uint16(payload, at: 16))
            guard extensionSize >= 22 else { throw AudioError.formatChunkTooSmall(size: 18 + extensionSize, needed: 40) }
            let guid = UnsafeRawBufferPointer(rebasing: payload[24..<40])
            let code = RIFFChunks.uint32(guid, at: 0)
            guard code <= 0xFFFF, Array(guid[4..<16]) == Self.subFormatSuffix else {
                throw AudioError.unsupportedSubFormat(guid: Self.guidText(guid))
            }
            effectiveTag = UInt16(code)
            // Valid bits of 0 means "all of them" in files written by some tools.
            let validBits = RIFFChunks.uint16(payload, at: 18)
            guard validBits == 0 || validBits == bits else { throw AudioError.unsupportedValidBits(valid: validBits, container: bits) }
        }

        switch (effectiveTag, bits) {
        case (1, 16): encoding = .pcm16
        case (3, 32): encoding = .float32
        default: throw AudioError.unsupportedEncoding(formatTag: effectiveTag, bitsPerSample: bits)
        }
        guard channels == 1, sampleRate == Self.requiredSampleRate else {
            throw AudioError.unsupportedLayout(channels: channels, sampleRate: sampleRate)
        }
        let expectedAlign = Int(channels) * Int(bits) / 8
        guard Int(blockAlign) == expectedAlign else { throw AudioError.inconsistentBlockAlign(found: blockAlign, expected: expectedAlign) }
        let expectedRate = Int(sampleRate) * expectedAlign
        guard Int(byteRate) == expectedRate else { throw AudioError.inconsistentByteRate(found: byteRate, expected: expectedRate) }
        self.blockAlign = expectedAlign
    }

    /// A GUID in its usual text form (the first three fields are little-endian in the file).
    static func guidText(_ g: UnsafeRawBufferPointer) -> String {
        func hex(_ indices: [Int]) -> String {
            indices.map { i -> String in
                let h = String(g[i], radix: 16, uppercase: true)
                return h.count == 1 ? "0" + h : h
            }.joined()
        }
        return "{" + hex([3, 2, 1, 0]) + "-" + hex([5, 4]) + "-" + hex([7, 6]) + "-" + hex([8, 9]) + "-"
            + hex(Array(10..<16)) + "}"
    }
}
