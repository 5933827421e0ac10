// Token texts and the text -> id map, keyed by exact bytes. Swift `String` equality follows
// canonical equivalence ("é" == "e\u{301}"), but vocabularies hold both spellings as different
// tokens, so texts are compared as bytes here. All texts live in one contiguous buffer; the map is
// an open-addressing table of ids, so a lookup of a slice of the input needs no allocation.

import ReproJSON

/// The vocabulary's texts as bytes, with an exact-bytes lookup.
struct TokenTextTable: Sendable {
    private let storage: [UInt8]
    private let starts: [Int]      // count + 1 entries
    private let slots: [Int32]     // -1 = empty, else a token id
    private let mask: Int

    /// Builds the table. When two ids share a text, the later id wins, as in llama.cpp's
    /// `token_to_id[word] = i`.
    init<Texts: Collection>(texts: Texts) where Texts.Element: Collection, Texts.Element.Element == UInt8 {
        var storage: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(texts.count + 1)
        for t in texts {
            storage.append(contentsOf: t)
            starts.append(storage.count)
        }
        let count = starts.count - 1
        var capacity = 16
        while capacity < count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        storage.withUnsafeBufferPointer { buf in
            for id in 0..<count {
                let text = UnsafeBufferPointer(rebasing: buf[starts[id]..<starts[id + 1]])
                var slot = Int(truncatingIfNeeded: Self.hash(text)) & mask
                while true {
                    let existing = slots[slot]
                    if existing < 0 {
                        slots[slot] = Int32(id)
                        break
                    }
                    let other = UnsafeBufferPointer(rebasing: buf[starts[Int(existing)]..<starts[Int(existing) + 1]])
                    if Self.equal(other, text) {
                        slots[slot] = Int32(id)
                        break
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
        self.storage = storage
        self.starts = starts
        self.slots = slots
        self.mask = mask
    }

    var count: Int { starts.count - 1 }

    /// The bytes of token `id` (caller checks the range).
    func text(_ id: Int) -> ArraySlice<UInt8> {
        storage[starts[id]..<starts[id + 1]]
    }

    func textLength(_ id: Int) -> Int { starts[id + 1] - starts[id] }

    /// The id whose text is exactly these bytes.
    func id(of bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        storage.withUnsafeBufferPointer { buf in
            var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                let text = UnsafeBufferPointer(rebasing: buf[starts[Int(id)]..<starts[Int(id) + 1]])
                if Self.equal(text, bytes) { return id }
                slot = (slot + 1) & mask
            }
        }
    }

    func id(of bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBufferPointer { id(of: $0) }
    }

    func id(of text: String) -> Int32? {
        id(of: Array(text.utf8))
    }

    /// FNV-1a, 64-bit: simple, and good enough for short token texts.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        // Fold the high bits in: the table index uses only the low bits.
        return h ^ (h >> 29)
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }
}

extension TokenTextTable {
    /// tokenizer.json's `model.vocab` (text -> id) with ids exactly 0..<count, as WordPiece and
    /// byte-level BPE files both hold it; `invalid` makes the format's own error for a vocabulary
    /// whose ids are out of range or given twice. An empty vocabulary gives an empty table.
    static func readDense(_ model: inout JSONObjectReader, invalid: (String) -> Error) throws -> TokenTextTable {
        let path = model.fieldPath("vocab")
        guard let value = model.value("vocab") else { throw JSONFieldError(path: path, message: "is required") }
        guard case .object(let vocab) = value else { throw JSONFieldError(path: path, message: "must be an object, not \(value.typeName)") }
        var texts = [[UInt8]?](repeating: nil, count: vocab.count)
        for (text, idValue) in vocab {
            guard case .int(let id) = idValue else {
                throw JSONFieldError(path: "\(path).\(text)", message: "must be an integer, not \(idValue.typeName)")
            }
            guard id >= 0 && id < vocab.count else { throw invalid("'\(text)' has id \(id), outside 0..<\(vocab.count)") }
            guard texts[Int(id)] == nil else { throw invalid("id \(id) is given twice") }
            texts[Int(id)] = Array(text.utf8)
        }
        // With every id in range and none twice, all are present; the compactMap only unwraps.
        return TokenTextTable(texts: texts.compactMap { $0 })
    }
}
