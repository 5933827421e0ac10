// A model file's bytes stay the same, and readable, whatever happens to the file: a leased file
// is detached (copied into private memory at the same addresses, then the lease given up) when a
// writer comes, and a file that cannot be leased is read into private memory at open.

import Foundation
import XCTest
@testable import ModelFiles
import TestSupport

final class MappedFileTests: XCTestCase {
    /// Three and a half pages of a pattern, so that truncation cuts through mapped pages.
    private let original: [UInt8] = (0 ..< 14_500).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

    private func contents(_ file: MappedFile) -> [UInt8] { Array(file.bytes) }

    func testALeasedFileIsDetachedBeforeATruncateProceeds() throws {
        let path = try TemporaryFiles.write(original, name: "model.bin")
        defer { TemporaryFiles.remove(path) }
        let file = try GGUFFile.map(path: path)
        XCTAssertEqual(file.backing, .leasedMapping)
        let told = Locked(false)
        file.whenDetached { told.set(true) }

        // truncate(2) is held by the lease until the file is detached, which tells us first.
        XCTAssertEqual(truncate(path, 100), 0)
        XCTAssertTrue(told.value)
        XCTAssertEqual(file.backing, .detached)
        XCTAssertEqual(FileIdentity(path: path)?.size, 100)
        // Every byte is still there, as it was: reading past the new end is no SIGBUS.
        XCTAssertEqual(contents(file), original)
        XCTAssertNotEqual(FileIdentity(path: path), file.identity)
        // Told once; a late observer is told at once.
        let late = Locked(false)
        file.whenDetached { late.set(true) }
        XCTAssertTrue(late.value)
    }

    func testARewriteInPlaceDoesNotChangeTheBytes() throws {
        let path = try TemporaryFiles.write(original, name: "model.bin")
        defer { TemporaryFiles.remove(path) }
        let file = try GGUFFile.map(path: path)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))  // the open waits for the detach
        XCTAssertEqual(file.backing, .detached)
        handle.write(Data(repeating: 0xEE, count: original.count))
        try handle.close()
        XCTAssertEqual(contents(file), original)
    }

    func testAFileOpenForWritingIsReadIntoPrivateMemory() throws {
        let path = try TemporaryFiles.write(original, name: "model.bin")
        defer { TemporaryFiles.remove(path) }
        let writer = open(path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(writer, 0)
        defer { close(writer) }
        // No lease while someone may write (EAGAIN): the bytes are read in, not mapped.
        let file = try GGUFFile.map(path: path)
        guard case .privateCopy(let reason) = file.backing else { return XCTFail("\(file.backing)") }
        XCTAssertTrue(reason.contains("errno \(EAGAIN)"), reason)
        XCTAssertEqual(ftruncate(writer, 10), 0)
        XCTAssertEqual(contents(file), original)
        // Pages of private memory are kept: given back, they would read as zeros.
        file.releasePages(file.bytes)
        XCTAssertEqual(contents(file), original)
    }

    func testReleasedPagesOfALeasedFileReadBackFromTheFile() throws {
        let path = try TemporaryFiles.write(original, name: "model.bin")
        defer { TemporaryFiles.remove(path) }
        let file = try GGUFFile.map(path: path)
        file.releasePages(file.bytes)
        XCTAssertEqual(contents(file), original)
    }

    func testAnEmptyFileIsAnEmptyBuffer() throws {
        let path = try TemporaryFiles.write([], name: "empty.bin")
        defer { TemporaryFiles.remove(path) }
        XCTAssertEqual(try GGUFFile.map(path: path).bytes.count, 0)
        XCTAssertThrowsError(try GGUFFile(path: path))
    }
}

/// A value set on one thread and read on another.
private final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}
