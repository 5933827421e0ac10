// Audio kept by content beside the receipt journal, so a speech receipt (which records its audio
// by the sha256 of the decoded samples) replays after a restart without the audio travelling
// again. One file per clip, `<sha256>.f32`: the samples as little-endian 32-bit floats, written to
// a temporary name, fsynced, renamed and the folder fsynced before the answer that refers to it
// is sent (the journal's own promise: nothing acknowledged is lost). Reading checks the digest,
// so a damaged or substituted file is refused rather than replayed.
import Crypto
import Foundation

public enum AudioStoreError: Error, CustomStringConvertible, Equatable {
    case missing(sha256: String)
    case damaged(sha256: String, actual: String)
    case io(String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .missing(sha):
            return "no audio with sha256 \(sha) is stored: send the audio itself ({wav} or {path})"
        case let .damaged(sha, actual):
            return "the stored audio \(sha) is damaged (its samples hash to \(actual)); send the audio itself"
        case let .io(what, path, code):
            return "\(what) \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// Content-addressed audio samples in one folder.
public final class AudioStore: @unchecked Sendable {
    public let folder: String
    /// The longest clip stored or read (samples): an hour at 16 kHz.
    public static let maxSamples = 16_000 * 3600

    public init(folder: String) {
        self.folder = folder
    }

    /// The store beside a journal file (`<journal>.audio/`).
    public convenience init(besideJournal journalPath: String) {
        self.init(folder: journalPath + ".audio")
    }

    /// The sha256 (lowercase hex) of samples as little-endian 32-bit floats: an audio's identity.
    public static func digest(of samples: [Float]) -> String {
        #if _endian(little)
        return samples.withUnsafeBytes { Digest.hex(SHA256.hash(data: $0)) }
        #else
        return Digest.sha256Hex(samples.flatMap { s in withUnsafeBytes(of: s.bitPattern.littleEndian, Array.init) })
        #endif
    }

    func path(_ sha256: String) -> String { "\(folder)/\(sha256).f32" }

    /// Keeps `samples` (whose digest is `sha256`) durably; a clip already stored is left as it is.
    public func keep(_ samples: [Float], sha256: String) throws {
        let final = path(sha256)
        if FileManager.default.fileExists(atPath: final) { return }
        if mkdir(folder, 0o700) != 0, errno != EEXIST { throw AudioStoreError.io("mkdir", path: folder, errno: errno) }
        let temporary = "\(final).partial-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AudioStoreError.io("open", path: temporary, errno: errno) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(temporary) }
        }
        try samples.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw AudioStoreError.io("write", path: temporary, errno: errno) }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw AudioStoreError.io("fsync", path: temporary, errno: errno) }
        guard rename(temporary, final) == 0 else { throw AudioStoreError.io("rename", path: final, errno: errno) }
        ok = true
        let dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// The samples stored under `sha256`, checked against it.
    public func samples(_ sha256: String) throws -> [Float] {
        let file = path(sha256)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
              let size = (attributes[.size] as? NSNumber)?.intValue else { throw AudioStoreError.missing(sha256: sha256) }
        guard size % 4 == 0, size / 4 <= Self.maxSamples, let data = FileManager.default.contents(atPath: file) else {
            throw AudioStoreError.damaged(sha256: sha256, actual: "(a file of \(size) bytes)")
        }
        var samples = [Float](repeating: 0, count: data.count / 4)
        samples.withUnsafeMutableBytes { out in _ = data.copyBytes(to: out) }
        #if !_endian(little)
        samples = samples.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
        #endif
        let actual = Self.digest(of: samples)
        guard actual == sha256 else { throw AudioStoreError.damaged(sha256: sha256, actual: actual) }
        return samples
    }
}
