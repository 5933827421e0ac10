import Foundation
import XCTest
@testable import ModelStore

final class FileHasherTests: XCTestCase {
    var scratch: ScratchFolder!

    override func setUpWithError() throws {
        scratch = try ScratchFolder("reprolm-hasher-test")
    }

    override func tearDown() {
        scratch.remove()
    }

    var cacheFile: String { scratch.path + "/sha256-cache.tsv" }

    func testKnownDigests() throws {
        let hasher = FileHasher(cacheFile: nil)
        let hello = try scratch.write(Data("hello world".utf8), to: "hello.txt")
        XCTAssertEqual(try hasher.sha256(ofFileAt: hello),
                       "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        let empty = try scratch.write(Data(), to: "empty")
        XCTAssertEqual(try hasher.sha256(ofFileAt: empty),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testMultiChunkFileAndProgress() throws {
        // Longer than two 4 MiB chunks, and not a multiple of the chunk size.
        let count = 9 * 1024 * 1024 + 123
        let data = Data((0..<count).map { UInt8($0 % 251) })
        let file = try scratch.write(data, to: "big.bin")
        var reports: [(Int, Int)] = []
        let digest = try FileHasher(cacheFile: nil).sha256(ofFileAt: file) { reports.append(($0, $1)) }
        XCTAssertEqual(digest, "918b447b97259a2767661ce5ba175af2962ff549d7c42cff5b49aedf98c45fd0")
        XCTAssertEqual(reports.first?.0, 0)
        XCTAssertEqual(reports.last?.0, count)
        XCTAssertTrue(reports.allSatisfy { $0.1 == count })
        XCTAssertEqual(reports.count, 4)  // start + three chunks
    }

    func testContentsInMemoryAreHashedAndCachedOnlyForAStableVersion() throws {
        let data = Data("hello world".utf8)
        let file = try scratch.write(data, to: "hello.txt")
        let hasher = FileHasher(cacheFile: cacheFile)
        let status = try XCTUnwrap(FileSystem.status(of: file))
        let version = (size: status.size, mtimeNanoseconds: status.mtimeNanoseconds)
        let hello = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        data.withUnsafeBytes { bytes in
            // Bytes read while the file could change: hashed, never cached.
            XCTAssertEqual(hasher.sha256(ofContents: bytes, of: file, version: nil), hello)
            XCTAssertEqual(hasher.sha256(ofContents: bytes, of: file, version: nil), hello)
            XCTAssertEqual(hasher.hashesComputed, 2)
            // A leased version: hashed once, then the cache answers (here and for the file).
            XCTAssertEqual(hasher.sha256(ofContents: bytes, of: file, version: version), hello)
            XCTAssertEqual(hasher.sha256(ofContents: bytes, of: file, version: version), hello)
            XCTAssertEqual(hasher.hashesComputed, 3)
        }
        XCTAssertEqual(try hasher.sha256(ofFileAt: file), hello)
        XCTAssertEqual(hasher.hashesComputed, 3)
        // Other bytes than the cached version's size are hashed, whatever the cache says.
        Data("hello".utf8).withUnsafeBytes { bytes in
            XCTAssertNotEqual(hasher.sha256(ofContents: bytes, of: file, version: version), hello)
        }
    }

    func testSecondCallUsesTheCache() throws {
        let file = try scratch.write(Data("hello world".utf8), to: "hello.txt")
        let hasher = FileHasher(cacheFile: cacheFile)
        _ = try hasher.sha256(ofFileAt: file)
        XCTAssertEqual(hasher.hashesComputed, 1)

        var called = false
        let again = try hasher.sha256(ofFileAt: file) { _, _ in called = true }
        XCTAssertEqual(again, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        XCTAssertFalse(called, "a cache hit must not read the file")
        XCTAssertEqual(hasher.hashesComputed, 1)

        // Persistent: a new instance (a new process, in real life) reads the cache file.
        let fresh = FileHasher(cacheFile: cacheFile)
        XCTAssertEqual(try fresh.sha256(ofFileAt: file), again)
        XCTAssertEqual(fresh.hashesComputed, 0)
        // Relative and absolute spellings of one file share the entry.
        XCTAssertEqual(try fresh.sha256(ofFileAt: scratch.path + "/./hello.txt"), again)
        XCTAssertEqual(fresh.hashesComputed, 0)
    }

    func testCacheIsInvalidatedWhenSizeChanges() throws {
        let file = try scratch.write(Data("hello world".utf8), to: "f")
        let hasher = FileHasher(cacheFile: cacheFile)
        _ = try hasher.sha256(ofFileAt: file)
        try Data("hello world!".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(try hasher.sha256(ofFileAt: file),
                       "7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9")
        XCTAssertEqual(hasher.hashesComputed, 2)
    }

    func testCacheIsInvalidatedWhenMtimeChanges() throws {
        let file = try scratch.write(Data("hello world".utf8), to: "f")
        let hasher = FileHasher(cacheFile: cacheFile)
        _ = try hasher.sha256(ofFileAt: file)
        // Same size, different content and time: only the mtime tells them apart.
        try Data("HELLO WORLD".utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)],
                                              ofItemAtPath: file)
        XCTAssertEqual(try hasher.sha256(ofFileAt: file),
                       "787ec76dcafd20c1908eb0936a12f91edd105ab5cd7ecc2b1ae2032648345dff")
        XCTAssertEqual(hasher.hashesComputed, 2)
    }

    func testCorruptCacheFileIsTolerated() throws {
        let file = try scratch.write(Data("hello world".utf8), to: "f")
        let status = try XCTUnwrap(FileSystem.status(of: file))
        let real = FileSystem.canonicalPath(file)
        // A planted (wrong) digest on a well-formed line proves good lines survive among bad ones.
        let planted = String(repeating: "ab", count: 32)
        let text = "garbage\n\t\t\t\nzz\t1\t2\t/x\n"
            + "\(planted)\t\(status.size)\t\(status.mtimeNanoseconds)\t\(real)\n"
            + "\(String(repeating: "c", count: 64))\tnotanumber\t5\t/y\n"
            + "\u{FF}\u{FE}binary\0junk\n"
            + "\(String(repeating: "d", count: 64))\t12\t3"  // truncated last line
        try Data(text.utf8).write(to: URL(fileURLWithPath: cacheFile))
        let hasher = FileHasher(cacheFile: cacheFile)
        XCTAssertEqual(try hasher.sha256(ofFileAt: file), planted)
        XCTAssertEqual(hasher.hashesComputed, 0)

        // A cache that is pure noise costs a re-hash, and is rewritten clean.
        try Data((0..<1000).map { UInt8($0 % 256) }).write(to: URL(fileURLWithPath: cacheFile))
        let other = FileHasher(cacheFile: cacheFile)
        XCTAssertEqual(try other.sha256(ofFileAt: file),
                       "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        let rewritten = try String(contentsOfFile: cacheFile, encoding: .utf8)
        XCTAssertEqual(rewritten.split(separator: "\n").count, 1)
        XCTAssertTrue(rewritten.hasPrefix("b94d27b9"))
    }

    func testMissingFileThrows() {
        XCTAssertThrowsError(try FileHasher(cacheFile: nil).sha256(ofFileAt: scratch.path + "/nope")) { error in
            XCTAssertTrue("\(error)".contains("nope"))
        }
        XCTAssertThrowsError(try FileHasher(cacheFile: nil).sha256(ofFileAt: scratch.path))
    }

    func testConcurrentUse() throws {
        var files: [String] = []
        for i in 0..<16 {
            files.append(try scratch.write(Fixtures.bytes(10_000 + i, seed: UInt8(i)), to: "f\(i)"))
        }
        let reference = try files.map { try FileHasher(cacheFile: nil).sha256(ofFileAt: $0) }
        let hasher = FileHasher(cacheFile: cacheFile)
        let results = UnsafeMutableBufferPointer<String>.allocate(capacity: 64)
        results.initialize(repeating: "")
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            results[i] = (try? hasher.sha256(ofFileAt: files[i % 16])) ?? "error"
        }
        for i in 0..<64 { XCTAssertEqual(results[i], reference[i % 16]) }
        let fresh = FileHasher(cacheFile: cacheFile)
        for (i, file) in files.enumerated() { XCTAssertEqual(try fresh.sha256(ofFileAt: file), reference[i]) }
        XCTAssertEqual(fresh.hashesComputed, 0, "every digest should have reached the cache file")
    }
}
