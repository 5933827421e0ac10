// A loaded model's file changing on disk. The file's bytes are leased (ModelFiles, MappedFile.swift):
// a writer that opens it for writing or truncates it is held while the mapping becomes a private
// copy of the same bytes, and before it is let go the model is unloaded here, so the next request
// naming the path loads (and hashes) what the writer wrote. Requests already running finish on the
// copy, the bytes their receipts name. A file replaced by a rename needs no lease (the old file is
// untouched); `lookupLocked` notices that the path names another file and loads it again.
import Logging
import ModelFiles

extension ModelRegistry {
    /// Unloads `model` when its file is about to change.
    func watchForChanges(_ model: LoadedModel) {
        model.weightsFile.whenDetached { [weak self, weak model] in
            guard let self, let model else { return }
            let unloaded: Bool = self.lock.withLock {
                guard self.models.contains(where: { $0 === model }) else { return false }
                self.unloadLocked(model)
                return true
            }
            guard unloaded else { return }
            self.logger.warning("unloaded \(model.name): \(model.weightsFile.path) is being written to; requests running on it finish on a private copy of the bytes they started with, the next one naming the path loads it again")
            self.settle()
        }
    }

    /// How a model's weights are held, for the load log line.
    func describe(_ backing: MappedFile.Backing) -> String {
        switch backing {
        case .leasedMapping: return "mapped under a read lease"
        case .privateCopy(let reason): return "read into private memory (\(reason))"
        case .detached: return "a private copy (the file changed during the load)"
        }
    }
}
