// Why a WordPiece tokenizer could not be built from a tokenizer.json file.

import ModelFiles
import ReproJSON

/// A tokenizer.json that cannot be read, or describes something WordPieceTokenizer does not do.
public enum WordPieceError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be read or is not JSON.
    case file(JSONFileError)
    /// A field is missing, of the wrong type, out of range or unknown (its full path is named).
    case field(JSONFieldError)
    /// A stage or option other than those of BERT's tokenizer (what it is, and what is supported).
    case unsupported(String)
    case invalidVocabulary(String)
    /// `maxLength` leaves no room for text once [CLS] and [SEP] are added.
    case maxLengthTooSmall(maxLength: Int, specialTokens: Int)

    public var description: String {
        switch self {
        case .file(let e): return e.description
        case .field(let e): return e.description
        case .unsupported(let what): return "unsupported tokenizer.json: \(what)"
        case .invalidVocabulary(let why): return "invalid WordPiece vocabulary: \(why)"
        case .maxLengthTooSmall(let m, let s):
            return "maximum length \(m) leaves no room for text beside the \(s) special tokens"
        }
    }
}
