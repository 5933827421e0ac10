// Model families: how a path becomes a loaded model. A family recognises its paths (a GGUF file, a
// folder of a given layout), names the file whose bytes are the model's identity (its sha256, the
// bytes a memory budget charges), maps it, and builds the model from those bytes. The registry
// does the rest the same way for every family: the budget, hashing, catalogue naming, sharing a
// load, progress. Adding a family is one file (or folder) here and one line in `ModelFamilies.all`;
// docs/adding-an-architecture.md lists the steps.
import Foundation
import ModelFiles

/// What a loaded model is, by family.
public enum ModelContent: @unchecked Sendable {
    /// A GGUF file: a decoder when its architecture has a forward pass, tokenize-only otherwise.
    case gguf(GGUFModel)
    /// A Hugging Face encoder folder (BERT).
    case encoder(EncoderModel)
    /// An encoder-decoder speech folder (Whisper).
    case speech(SpeechModel)
}

/// What a family's builder is given: the weights, mapped and hashed, and where they came from.
struct FamilyInput {
    /// The file or folder the request named.
    let path: String
    /// The weights file, mapped under a lease (the bytes the sha256 is of).
    let weights: MappedFile
    /// The model's name: its catalogue name, or one taken from the path.
    let name: String
}

/// One family of models.
struct ModelFamily: Sendable {
    /// For logs and errors ("GGUF decoder", "encoder folder").
    let name: String
    /// The weights file of `path` when this family opens it (nil: not this family's).
    let weightsFile: @Sendable (_ path: String, _ isFolder: Bool) -> String?
    /// The name a model gets from its path when it is not a catalogue model.
    let nameFromPath: @Sendable (_ path: String) -> String
    /// Maps the weights file (leased, or read into private memory).
    let map: @Sendable (_ weightsPath: String) throws -> MappedFile
    /// Builds the model from its mapped weights; errors become `EngineError.loadFailed`.
    let build: @Sendable (FamilyInput) throws -> ModelContent
}

enum ModelFamilies {
    /// Every family, tried in order.
    static let all: [ModelFamily] = [GGUFFamily.family, EncoderFolderFamily.family, SpeechFamily.family]

    /// The family that opens `path`, and its weights file.
    static func family(for path: String) throws -> (family: ModelFamily, weights: String) {
        var isDirectory: ObjCBool = false
        let isFolder = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        for family in all {
            if let weights = family.weightsFile(path, isFolder) { return (family, weights) }
        }
        let name = (path as NSString).lastPathComponent
        throw EngineError.loadFailed(model: name, reason: "\(path) is a folder that no model family opens (an encoder folder holds model.safetensors, a speech folder model.bin)")
    }

    /// The folder's last path component (a model folder's name).
    static func folderName(_ path: String) -> String { (path as NSString).lastPathComponent }
}
