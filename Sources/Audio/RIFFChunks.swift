// The RIFF container under a WAV file: a 12-byte header ("RIFF", size, form type) and a list of
// chunks (4-byte id, little-endian 32-bit size, payload, a pad byte after an odd-sized payload).
// Every size is checked against the bytes actually there before it is used, so a hostile size can
// neither read out of bounds nor make anyone allocate.

/// One chunk of a RIFF file: its id and where its payload lies in the file's bytes.
struct RIFFChunk: Equatable {
    /// The four id bytes as text ("fmt ", "data", ...); non-printable bytes as \xNN.
    var id: String
    /// Offset of the payload's first byte (after the 8-byte chunk header).
    var payloadOffset: Int
    var size: Int
}

enum RIFFChunks {
    /// The chunks of a RIFF/WAVE file, in file order. Bytes after the RIFF's declared end are not
    /// part of the file (some tools append tags there) and are ignored. A missing pad byte after
    /// the last chunk is tolerated: many writers leave it out, and nothing follows it.
    static func waveChunks(_ bytes: UnsafeRawBufferPointer) throws -> [RIFFChunk] {
        guard bytes.count >= 12 else { throw AudioError.tooShort(byteCount: bytes.count) }
        let magic = fourCC(bytes, at: 0)
        guard magic == "RIFF" else { throw AudioError.notRIFF(found: quoted(magic)) }
        let form = fourCC(bytes, at: 8)
        guard form == "WAVE" else { throw AudioError.notWAVE(found: quoted(form)) }
        let declared = uint32(bytes, at: 4)
        // The declared size counts from byte 8; `available` is what the file holds from there.
        let available = bytes.count - 8
        guard Int(declared) <= available else { throw AudioError.riffPastEnd(declared: declared, available: available) }
        let end = 8 + Int(declared)

        var chunks: [RIFFChunk] = []
        var offset = 12
        while offset < end {
            guard end - offset >= 8 else { throw AudioError.chunkHeaderTruncated(offset: offset, remaining: end - offset) }
            let id = fourCC(bytes, at: offset)
            let size = uint32(bytes, at: offset + 4)
            let payload = offset + 8
            guard Int(size) <= end - payload else {
                throw AudioError.chunkPastEnd(id: quoted(id), offset: offset, size: size, available: end - payload)
            }
            chunks.append(RIFFChunk(id: id, payloadOffset: payload, size: Int(size)))
            // Odd payloads are followed by a pad byte; `min` lets the last chunk go without one.
            offset = min(payload + Int(size) + Int(size & 1), end)
        }
        return chunks
    }

    /// Four bytes as text, non-printable ones escaped, so error messages show what was there.
    static func fourCC(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> String {
        var text = ""
        for i in offset..<(offset + 4) {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7F {
                text.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let h = String(b, radix: 16, uppercase: true)
                text += "\\x" + (h.count == 1 ? "0" + h : h)
            }
        }
        return text
    }

    static func quoted(_ id: String) -> String { "\"" + id + "\"" }

    static func uint16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func uint32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}
