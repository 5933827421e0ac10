// Hugging Face's ByteLevel decoder for one token: a text made only of the GPT-2 byte alphabet's
// characters stands for those bytes; any other text (an added token such as "naïve ☃", whose
// characters are not all in the alphabet) stands for its own UTF-8. Unlike llama.cpp's rule
// (ByteLevel.decode), nothing is marked. The decoder then joins all tokens' bytes and replaces
// malformed UTF-8 (String::from_utf8_lossy, which `String(decoding:as:)` matches: one U+FFFD per
// maximal ill-formed subpart). Provenance: tokenizers/src/pre_tokenizers/byte_level.rs
// (decode_chain).

enum HFByteLevelDecoder {
    /// The bytes one token's text stands for.
    static func bytes(of text: ArraySlice<UInt8>) -> [UInt8] {
        let contiguous = Array(text)
        var out: [UInt8] = []
        out.reserveCapacity(contiguous.count)
        var i = 0
        while i < contiguous.count {
            let (scalar, length) = UTF8Scan.decode(contiguous, at: i)
            guard let byte = ByteLevel.byte(forScalar: scalar) else { return contiguous }
            out.append(byte)
            i += length
        }
        return out
    }
}
