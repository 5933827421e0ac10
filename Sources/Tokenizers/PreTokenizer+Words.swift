// The words of a piece of text as byte slices: the pre-tokenizers work on code points and return
// lengths, BPE works on bytes. Shared by the GGUF tokenizer and the Hugging Face byte-level one.

extension PreTokenizer {
    /// Calls `body` with each word of `bytes`, in order, as a slice of `bytes`. A malformed byte
    /// counts as one code point (U+FFFD), so nothing is lost and nothing traps.
    func forEachWord(in bytes: [UInt8], tables: UnicodeTables = .llamaCpp, _ body: (ArraySlice<UInt8>) -> Void) {
        var cpts: [UInt32] = []
        var offsets: [Int] = []       // byte offset of each code point, plus the end
        cpts.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        bytes.withUnsafeBufferPointer { buf in
            var i = 0
            while i < buf.count {
                let (c, n) = UTF8Scan.decode(buf, at: i)
                cpts.append(c)
                offsets.append(i)
                i += n
            }
        }
        offsets.append(bytes.count)
        var cp = 0
        for length in split(cpts, tables: tables) {
            body(bytes[offsets[cp]..<offsets[cp + length]])
            cp += length
        }
    }
}
