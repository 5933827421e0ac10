// GPT-2's byte-level alphabet: every byte 0...255 stands for one printable Unicode scalar, so a
// byte-level BPE vocabulary can hold arbitrary bytes as ordinary text. Provenance: the mapping of
// OpenAI's GPT-2 encoder, as llama.cpp's unicode.cpp builds it (unicode_byte_to_utf8_map).

/// The GPT-2 byte <-> scalar table used by byte-level BPE vocabularies ("gpt2" in GGUF).
enum ByteLevel {
    /// The scalar that byte `b` is written as in the vocabulary.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var kept = [Bool](repeating: false, count: 256)
        // Printable Latin-1 bytes stand for themselves; the rest (controls, space, soft hyphen...)
        // are moved to U+0100 upwards, in byte order, so that none of them is invisible.
        for b in 0x21...0x7E { kept[b] = true }
        for b in 0xA1...0xAC { kept[b] = true }
        for b in 0xAE...0xFF { kept[b] = true }
        var next: UInt32 = 256
        for b in 0..<256 {
            if kept[b] {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// The UTF-8 bytes of the scalar for each byte (one or two bytes long).
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { utf8Bytes(of: $0) }

    /// Inverse map: scalar value -> byte, for the 256 scalars of the alphabet (-1 elsewhere).
    /// All of them are below U+0144, so a small array suffices.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarForByte.enumerated() { table[Int(s)] = Int16(b) }
        return table
    }()

    /// The byte a vocabulary scalar stands for, or nil if it is not part of the alphabet.
    @inline(__always)
    static func byte(forScalar s: UInt32) -> UInt8? {
        guard s < UInt32(byteForScalar.count) else { return nil }
        let b = byteForScalar[Int(s)]
        return b >= 0 ? UInt8(b) : nil
    }

    /// Decodes a byte-level vocabulary string back to the raw bytes it stands for. A scalar outside
    /// the alphabet is rendered as llama.cpp does (llama_decode_text): "[UNK_BYTE_0x<hex of the
    /// scalar's UTF-8>" followed by the whole token text and "]", so our output matches its output.
    static func decode(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            let (scalar, length) = UTF8Scan.decode(text, at: i)
            if let b = byte(forScalar: scalar) {
                out.append(b)
            } else {
                out.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                // llama.cpp re-encodes the decoded scalar, so a malformed byte shows as EFBFBD.
                for byte in utf8Bytes(of: scalar) {
                    out.append(contentsOf: hex2(byte, uppercase: false))
                }
                out.append(contentsOf: text)
                out.append(UInt8(ascii: "]"))
            }
            i += length
        }
        return out
    }

    /// The UTF-8 encoding of a scalar value (values that are not scalars encode U+FFFD).
    static func utf8Bytes(of value: UInt32) -> [UInt8] {
        guard let scalar = Unicode.Scalar(value) else { return [0xEF, 0xBF, 0xBD] }
        return Array(String(Character(scalar)).utf8)
    }

    /// Two hex digits of a byte.
    static func hex2(_ b: UInt8, uppercase: Bool) -> [UInt8] {
        let digits: [UInt8] = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        return [digits[Int(b >> 4)], digits[Int(b & 15)]]
    }
}

/// Minimal UTF-8 helpers over byte arrays. Input text reaches the tokenizer as a Swift String, so
/// it is valid UTF-8; vocabulary strings come from the GGUF reader as Strings too. The helpers
/// still never trap on malformed input: a bad byte decodes as U+FFFD of length 1, as llama.cpp's
/// unicode_cpts_from_utf8 does.
enum UTF8Scan {
    /// Length of the UTF-8 sequence introduced by `lead`, from its high nibble (llama.cpp's
    /// unicode_len_utf8): continuation bytes count as 1.
    @inline(__always)
    static func sequenceLength(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    /// Decodes the scalar at `i`; returns (U+FFFD, 1) on a malformed sequence.
    @inline(__always)
    static func decode(_ bytes: [UInt8], at i: Int) -> (UInt32, Int) {
        bytes.withUnsafeBufferPointer { decode($0, at: i) }
    }

    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let n = p.count
        @inline(__always) func cont(_ k: Int) -> UInt32? {
            guard k < n, p[k] & 0xC0 == 0x80 else { return nil }
            return UInt32(p[k] & 0x3F)
        }
        if b0 & 0xE0 == 0xC0 {
            if let c1 = cont(i + 1) { return ((UInt32(b0 & 0x1F) << 6) | c1, 2) }
        } else if b0 & 0xF0 == 0xE0 {
            if let c1 = cont(i + 1), let c2 = cont(i + 2) {
                return ((UInt32(b0 & 0x0F) << 12) | (c1 << 6) | c2, 3)
            }
        } else if b0 & 0xF8 == 0xF0 {
            if let c1 = cont(i + 1), let c2 = cont(i + 2), let c3 = cont(i + 3) {
                return ((UInt32(b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4)
            }
        }
        return (0xFFFD, 1)
    }
}
