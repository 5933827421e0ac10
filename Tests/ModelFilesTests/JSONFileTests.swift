// Reading the JSON files of a model folder: the size bound is checked before reading, and every
// failure is a typed JSONFileError naming the path.

import Foundation
import ModelFiles
import ReproJSON
import TestSupport
import XCTest

final class JSONFileTests: XCTestCase {
    func testReadsAFile() throws {
        let value = try TemporaryFiles.with(Array(#"{"hidden_size": 384, "act": "gelu"}"#.utf8)) { try JSONFile.read($0, maxBytes: 64) }
        XCTAssertEqual(value, ["hidden_size": 384, "act": "gelu"])
    }

    func testFailures() throws {
        XCTAssertThrowsError(try JSONFile.read("/nonexistent/config.json", maxBytes: 64)) {
            XCTAssertEqual($0 as? JSONFileError, .openFailed(path: "/nonexistent/config.json", errno: 2))
        }
        let dir = FileManager.default.temporaryDirectory.path
        XCTAssertThrowsError(try JSONFile.read(dir, maxBytes: 64)) {
            XCTAssertEqual($0 as? JSONFileError, .notARegularFile(path: dir))
        }
        try TemporaryFiles.with(Array(repeating: UInt8(ascii: " "), count: 65)) { path in
            XCTAssertThrowsError(try JSONFile.read(path, maxBytes: 64)) {
                XCTAssertEqual($0 as? JSONFileError, .tooLarge(path: path, size: 65, limit: 64))
            }
        }
        try TemporaryFiles.with(Array("{\"a\": }".utf8)) { path in
            XCTAssertThrowsError(try JSONFile.read(path, maxBytes: 64)) { error in
                guard case .notJSON(let p, let e)? = error as? JSONFileError else { return XCTFail("\(error)") }
                XCTAssertEqual(p, path)
                XCTAssertEqual(e.line, 1)
                XCTAssertTrue("\(error)".contains(path))
            }
        }
        try TemporaryFiles.with([]) { path in
            XCTAssertThrowsError(try JSONFile.read(path, maxBytes: 64)) { XCTAssertTrue($0 is JSONFileError) }
        }
    }

    func testExists() throws {
        try TemporaryFiles.with([0x7B, 0x7D]) { XCTAssertTrue(JSONFile.exists($0)) }
        XCTAssertFalse(JSONFile.exists("/nonexistent/modules.json"))
        XCTAssertFalse(JSONFile.exists(FileManager.default.temporaryDirectory.path))
    }
}
