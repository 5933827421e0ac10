// A temporary model folder for the configuration tests: files written by relative path, the whole
// folder removed afterwards.

import Foundation
import ReproJSON

struct ModelFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("reprolm-folder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ value: JSONValue) throws {
        try write(name, text: value.serializedString())
    }

    func write(_ name: String, text: String) throws {
        let url = URL(fileURLWithPath: path + "/" + name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
