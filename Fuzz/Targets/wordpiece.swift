// fuzz-modules: ReproJSON ModelFiles Tokenizers
//
// BERT's tokenizer.json (Sources/Tokenizers/WordPieceFile.swift and the stages it builds:
// added tokens, BertNormalizer, BertPreTokenizer, WordPieceModel, WordPieceDecoder), read from a
// file as the daemon reads it (JSONFile's size bound included), then used.
// Input: the tokenizer.json, then optionally a NUL and a text to encode (fixed texts otherwise).
// Checked, besides crashes: encodings respect maxLength ([CLS] and [SEP] included), carry
// [CLS]/[SEP] exactly when asked, `truncated` is set exactly when ids were dropped, and decoding
// or naming any id (in range or not) works.
import Tokenizers

private let texts = [
    "Hello, world! Héllo wörld — ünïcödé 你好世界 ｆｕｌｌｗｉｄｔｈ",
    "unaffable [CLS] [MASK] tokenization ##ing \t\n \u{0}\u{7}\u{FEFF}e\u{301}",
    String(repeating: "a", count: 300) + " " + String(repeating: "word ", count: 40),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWordPiece(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    defer { Fuzz.cleanScratch() }
    let input = Fuzz.bytes(data, size)
    let nul = input.firstIndex(of: 0)
    let json = nul.map { input[..<$0] } ?? input[...]
    let path = Fuzz.write(json, to: "tokenizer.json")
    let maxLength = 3 + (nul.map { input.count - $0 } ?? 30) % 40
    let tokenizer: WordPieceTokenizer
    do { tokenizer = try WordPieceTokenizer(tokenizerJSON: path, maxLength: maxLength) } catch {
        Fuzz.trace("refused: \(error)")
        return 0
    }
    Fuzz.trace("loaded: \(tokenizer.vocabularySize) tokens")

    let inputs = nul.map { [String(decoding: input[($0 + 1)...], as: UTF8.self)] } ?? texts
    for text in inputs {
        for addSpecial in [true, false] {
            let e = tokenizer.encode(text, addSpecial: addSpecial)
            Fuzz.require(e.ids.count <= maxLength, "\(e.ids.count) ids over maxLength \(maxLength)")
            if addSpecial {
                Fuzz.require(e.ids.count >= 2, "special tokens missing")
            }
            if e.truncated { Fuzz.require(e.ids.count == maxLength, "truncated but only \(e.ids.count) of \(maxLength) ids") }
            _ = tokenizer.decode(e.ids)
            _ = tokenizer.decode(e.ids, skipSpecial: false)
            for id in e.ids { _ = tokenizer.token(id) }
        }
    }
    let n = Int32(clamping: tokenizer.vocabularySize)
    _ = tokenizer.decode([-1, 0, n &- 1, n, Int32.max, Int32.min, 1, 2, 3], skipSpecial: false)
    _ = tokenizer.token(n)
    _ = tokenizer.token(-1)
    return 0
}
