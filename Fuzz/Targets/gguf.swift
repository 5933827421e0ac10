// fuzz-modules: ReproJSON ModelFiles CKernels Kernels Models Tokenizers
//
// A GGUF model file, as loading a model reads it: the GGUF v2/v3 reader (Sources/ModelFiles:
// GGUFReader's parser, GGUFFile's mapping, metadata access, `describe()` as `inspect` prints it),
// the architecture's configuration and the weights bound to it (Sources/Models: Architectures,
// Llama/Gemma3, DecoderConfig.validate, DecoderWeights with its tiles for the kernel set this CPU
// runs, RoPE tables), a forward pass over a few tokens when the model is small, and the tokenizer
// the metadata describes (Sources/Tokenizers: Tokenizer.fromGGUF, encode, decode, the streaming
// detokenizer, whose concatenated output must equal decode()).
// Input: the whole file. The parser first reads an exact-size heap copy, so AddressSanitizer sees
// any read past the end (a read past the end of a mapping would go unnoticed); then the same bytes
// are written to a file and opened as the daemon opens a model.
// Checked, besides crashes: the parser and GGUFFile(path:) agree, every tensor's bytes lie in the
// file, and a forward pass gives `vocabulary` logits.
@testable import ModelFiles
import Models
@testable import Tokenizers

private let texts = ["Hello, world! <|im_start|>user\nhi<|im_end|> <start_of_turn>", "  \t\n ünïcödé 你好 🙂 <s></s>"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    defer { Fuzz.cleanScratch() }
    let input = Fuzz.bytes(data, size)
    let heap = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count, alignment: 64)
    defer { heap.deallocate() }
    heap.copyMemory(from: UnsafeRawBufferPointer(start: data, count: input.count))
    let parsed: GGUFParsed
    do { parsed = try GGUFParser.parse(UnsafeRawBufferPointer(heap)) } catch { return 0 }

    Fuzz.trace("gguf parsed: \(parsed.tensors.count) tensors, \(parsed.metadata.orderedKeys.count) keys")
    let path = Fuzz.write(input, to: "model.gguf")
    let file: GGUFFile
    do { file = try GGUFFile(path: path) } catch {
        Fuzz.require(false, "the parser accepts the bytes but GGUFFile(path:) throws \(error)")
        return 0
    }
    Fuzz.require(file.tensors == parsed.tensors && file.metadata.orderedKeys == parsed.metadata.orderedKeys,
                 "GGUFFile and the parser disagree")
    _ = file.describe()
    _ = file.describe(maxArrayItems: 0)
    _ = file.parameterCount
    _ = file.quantTypeSummary
    for t in file.tensors {
        Fuzz.require(file.data(for: t).count == t.byteCount, "tensor \(t.name) is not inside the file")
        Fuzz.require(file.tensor(named: t.name) != nil, "tensor \(t.name) cannot be found by name")
    }

    let tokenizerResult = Result { try Tokenizer.fromGGUF(file.metadata) }
    Fuzz.trace("tokenizer: \(tokenizerResult)")
    if let tokenizer = try? tokenizerResult.get() {
        for text in texts {
            for (addSpecial, parseSpecial) in [(true, true), (false, false)] {
                let ids = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
                _ = tokenizer.decode(ids)
                _ = tokenizer.decode(ids, skipSpecial: true)
                var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
                var streamed = ""
                for id in ids { streamed += detokenizer.push(id) }
                streamed += detokenizer.flush()
                // Documented in Detokenizer.swift for vocabularies without space clean-up.
                if !tokenizer.vocabulary.cleanSpaces {
                    Fuzz.require(streamed == tokenizer.decode(ids), "streamed text differs from decode: \(streamed.debugDescription) vs \(tokenizer.decode(ids).debugDescription)")
                }
                for id in ids.prefix(16) { _ = tokenizer.piece(id); _ = tokenizer.tokenText(id) }
            }
        }
        let n = Int32(clamping: tokenizer.vocabularySize)
        _ = tokenizer.decode([-1, 0, n &- 1, n, Int32.max])
        for id in [-1, 0, n &- 1, n] { _ = tokenizer.piece(id); _ = tokenizer.isEndOfGeneration(id) }
    }

    let modelResult = Result { try DecoderModel(file: file) }
    Fuzz.trace("model: \(modelResult.map(\.config))")
    guard let model = try? modelResult.get() else { return 0 }
    let c = model.config
    _ = model.decodeWeightBytes
    // The weights fit in the input, so the pass is cheap; bound what does not scale with them.
    guard c.contextLength >= 3, c.heads * c.headDim <= 4096, c.layers <= 16 else { return 0 }
    let sequence = model.makeSequence()
    let prompt: [Int32] = [0, Int32(c.vocabulary - 1), Int32(c.vocabulary / 2)]
    do {
        let out = try model.forward([ForwardItem(sequence: sequence, tokens: prompt, logits: .last)], pool: nil)
        Fuzz.require(out.count == 1 && out[0].count == c.vocabulary, "logits: \(out.map(\.count)) for vocabulary \(c.vocabulary)")
        let other = model.makeSequence()
        let more = try model.forward([ForwardItem(sequence: sequence, tokens: [1 % Int32(c.vocabulary)], logits: .hiddenLast),
                                      ForwardItem(sequence: other, tokens: prompt, logits: .all)], pool: nil)
        Fuzz.trace("forward passes done")
        Fuzz.require(more[0].count == c.embedding && more[1].count == 3 * c.vocabulary, "row counts of a mixed batch")
    } catch {
        Fuzz.require(false, "a forward pass over a valid model failed: \(error)")
    }
    return 0
}
