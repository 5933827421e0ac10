// The `model` section of a byte-level BPE tokenizer.json: the vocabulary (text -> id) and the
// merges, in either of the two forms `tokenizers` writes ("a b" strings, older; [a, b] pairs,
// since 0.20). Checked as Hugging Face's BpeBuilder checks them (both halves and their
// concatenation are tokens), and more strictly where HF would go on with something surprising:
// ids must be exactly 0..<count, a pair may not be given twice (HF would keep the later rank),
// and every byte's alphabet character must be a token (HF would silently drop a byte without
// one). Options that cannot change the ids of a byte-level vocabulary are accepted; the others
// are refused by name. Provenance: tokenizers/src/models/bpe/{model.rs,serialization.rs}.

import ReproJSON

/// The BPE model of a tokenizer.json, resolved to ids.
struct ByteLevelBPEModelSection {
    var texts: TokenTextTable
    /// (left, right, merged) in rank order.
    var merges: [(left: Int32, right: Int32, merged: Int32)]
    /// `ignore_merges`: a word that is a token as a whole is that token, without merging.
    var ignoreMerges: Bool

    static func read(_ model: inout JSONObjectReader) throws -> ByteLevelBPEModelSection {
        let type = try model.string("type")
        guard type == "BPE" else { throw ByteLevelBPEError.unsupported("model type \(type) (supported: BPE)") }
        if let dropout = try model.optionalDouble("dropout") {
            throw ByteLevelBPEError.unsupported("model.dropout \(dropout) (BPE dropout is random; supported: null)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = try model.optionalString(key), !value.isEmpty {
                throw ByteLevelBPEError.unsupported("model.\(key) '\(value)' (supported: null or empty)")
            }
        }
        // With every byte's character a token (checked below), HF never reaches for the unknown
        // token or the byte fallback, and there is nothing to fuse: these cannot change the ids.
        _ = try model.optionalString("unk_token")
        _ = try model.optionalBool("fuse_unk")
        _ = try model.optionalBool("byte_fallback")
        let ignoreMerges = try model.optionalBool("ignore_merges") ?? false

        let texts = try TokenTextTable.readDense(&model) { ByteLevelBPEError.invalidVocabulary($0 + " (ids must be dense)") }
        for (byte, character) in ByteLevel.utf8ForByte.enumerated() where texts.id(of: character) == nil {
            throw ByteLevelBPEError.invalidVocabulary(
                "byte 0x\(String(byte, radix: 16)) has no token (its byte-level character '\(String(decoding: character, as: UTF8.self))' is not in model.vocab)")
        }
        let merges = try readMerges(&model, texts: texts)
        try model.finish()
        return ByteLevelBPEModelSection(texts: texts, merges: merges, ignoreMerges: ignoreMerges)
    }

    /// model.merges, each resolved to (left, right, merged) ids.
    private static func readMerges(_ model: inout JSONObjectReader, texts: TokenTextTable) throws -> [(left: Int32, right: Int32, merged: Int32)] {
        let path = model.fieldPath("merges")
        guard let list = try model.optionalArray("merges") else { throw JSONFieldError(path: path, message: "is required") }
        var merges: [(left: Int32, right: Int32, merged: Int32)] = []
        merges.reserveCapacity(list.count)
        var firstIndex: [UInt64: Int] = [:]
        firstIndex.reserveCapacity(list.count)
        // HF reads either form for the whole list (an untagged enum), never a mixture.
        let pairForm = list.first.map { if case .array = $0 { return true } else { return false } } ?? false
        for (index, entry) in list.enumerated() {
            let itemPath = "\(path)[\(index)]"
            let halves: ([UInt8], [UInt8])
            switch entry {
            case .string(let merge) where !pairForm:
                // HF skips "#version" lines of old merges.txt files; they take no rank.
                if merge.hasPrefix("#version") { continue }
                let parts = merge.utf8.split(separator: 0x20, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw ByteLevelBPEError.invalidMerge("\(itemPath) '\(merge)' is not two pieces separated by one space")
                }
                halves = (Array(parts[0]), Array(parts[1]))
            case .array(let pair) where pairForm:
                guard pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue else {
                    throw JSONFieldError(path: itemPath, message: "must be a pair of strings")
                }
                halves = (Array(left.utf8), Array(right.utf8))
            default:
                throw JSONFieldError(path: itemPath, message: pairForm ? "must be a pair of strings, as the first merge is"
                                                                       : "must be a string, as the first merge is")
            }
            func id(_ piece: [UInt8]) throws -> Int32 {
                guard let id = texts.id(of: piece) else {
                    throw ByteLevelBPEError.invalidMerge("\(itemPath) names '\(String(decoding: piece, as: UTF8.self))', which is not in model.vocab")
                }
                return id
            }
            let left = try id(halves.0), right = try id(halves.1), merged = try id(halves.0 + halves.1)
            let key = (UInt64(UInt32(bitPattern: left)) << 32) | UInt64(UInt32(bitPattern: right))
            if let first = firstIndex[key] {
                throw ByteLevelBPEError.invalidMerge("\(itemPath) repeats the pair of \(path)[\(first)]")
            }
            firstIndex[key] = index
            merges.append((left, right, merged))
        }
        return merges
    }
}
