// Why a byte-level BPE tokenizer could not be built from a Hugging Face tokenizer.json file.

import ModelFiles
import ReproJSON

/// A tokenizer.json that cannot be read, is inconsistent, or describes something
/// ByteLevelBPETokenizer does not do (named, so the message says what to look at).
public enum ByteLevelBPEError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be read, is larger than the limit, or is not JSON.
    case file(JSONFileError)
    /// A field is missing, of the wrong type, out of range or unknown (its full path is named).
    case field(JSONFieldError)
    /// A stage, type or option other than those implemented (what it is, and what is supported).
    case unsupported(String)
    /// Token ids that are not dense, given twice, out of range, or an added token whose id is not
    /// the one Hugging Face would give it.
    case invalidVocabulary(String)
    /// A merge that is malformed, names a piece outside the vocabulary, or repeats an earlier one.
    case invalidMerge(String)

    public var description: String {
        switch self {
        case .file(let e): return e.description
        case .field(let e): return e.description
        case .unsupported(let what): return "unsupported tokenizer.json: \(what)"
        case .invalidVocabulary(let why): return "invalid byte-level BPE vocabulary: \(why)"
        case .invalidMerge(let why): return "invalid byte-level BPE merge: \(why)"
        }
    }
}
