// Every malformed or unsupported WAV form gives its own AudioError with a message naming what was
// found; nothing crashes, whatever the bytes.

@testable import Audio
import XCTest

final class WAVHostileTests: XCTestCase {
    private func refuse(_ bytes: [UInt8], _ expected: AudioError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try WAVFile(bytes: bytes), file: file, line: line) { error in
            XCTAssertEqual(error as? AudioError, expected, file: file, line: line)
        }
    }

    private var good: WAVBuilder { WAVBuilder.pcm16([1, -1, 2, -2]) }

    func testNotAWAVFile() {
        refuse(Array(good.bytes().prefix(11)), .tooShort(byteCount: 11))
        var b = good
        b.magic = "RIFX"
        refuse(b.bytes(), .notRIFF(found: "\"RIFX\""))
        b.magic = "RF64"
        refuse(b.bytes(), .notRIFF(found: "\"RF64\""))
        var bytes = good.bytes()
        bytes[0] = 0
        refuse(bytes, .notRIFF(found: "\"\\x00IFF\""))
        b = good
        b.form = "AVI "
        refuse(b.bytes(), .notWAVE(found: "\"AVI \""))
    }

    func testTruncatedOrOversizedContainer() {
        let bytes = good.bytes()
        refuse(Array(bytes.dropLast()), .riffPastEnd(declared: UInt32(bytes.count - 8), available: bytes.count - 9))
        var b = good
        b.riffSize = 0xFFFF_FFFF  // a streamed file that never filled in its size
        refuse(b.bytes(), .riffPastEnd(declared: 0xFFFF_FFFF, available: bytes.count - 8))

        // Four stray bytes inside the RIFF: not a whole chunk header.
        var stray = bytes + [1, 2, 3, 4]
        stray.replaceSubrange(4..<8, with: le32(UInt32(stray.count - 8)))
        refuse(stray, .chunkHeaderTruncated(offset: bytes.count, remaining: 4))

        // A data chunk declaring 4 GB.
        var huge = bytes
        let dataSizeAt = bytes.count - 8 - 4
        XCTAssertEqual(Array(huge[(dataSizeAt - 4)..<dataSizeAt]), Array("data".utf8))
        huge.replaceSubrange(dataSizeAt..<(dataSizeAt + 4), with: le32(0xFFFF_FFFF))
        refuse(huge, .chunkPastEnd(id: "\"data\"", offset: dataSizeAt - 4, size: 0xFFFF_FFFF, available: 8))
    }

    func testMissingAndDuplicateChunks() {
        var b = good
        b.includeFormat = false
        refuse(b.bytes(), .missingFormatChunk)
        b = good
        b.includeData = false
        refuse(b.bytes(), .missingDataChunk)
        b = good
        b.between = [("fmt ", good.formatPayload)]
        refuse(b.bytes(), .duplicateChunk(id: "\"fmt \""))
        b = good
        b.after = [("data", [0, 0])]
        refuse(b.bytes(), .duplicateChunk(id: "\"data\""))
    }

    func testShortFormatChunks() {
        var b = good
        b.includeFormat = false
        b.before = [("fmt ", Array(good.formatPayload.prefix(14)))]
        refuse(b.bytes(), .formatChunkTooSmall(size: 14, needed: 16))
        b = good
        b.extensible = (subFormat: 1, validBits: 16)
        let full = b.formatPayload
        b.includeFormat = false
        b.before = [("fmt ", Array(full.prefix(18)))]
        refuse(b.bytes(), .formatChunkTooSmall(size: 18, needed: 40))
        // cbSize below WAVE_FORMAT_EXTENSIBLE's 22 in a chunk long enough.
        var shortExtension = full
        shortExtension.replaceSubrange(16..<18, with: le16(10))
        b.before = [("fmt ", shortExtension)]
        refuse(b.bytes(), .formatChunkTooSmall(size: 28, needed: 40))
    }

    func testUnsupportedEncodings() {
        for (tag, bits) in [(UInt16(1), UInt16(8)), (1, 24), (1, 32), (3, 64), (3, 16), (2, 4), (7, 8), (0x55, 16)] {
            var b = good
            b.formatTag = tag
            b.bitsPerSample = bits
            b.data = [UInt8](repeating: 0, count: 24)
            refuse(b.bytes(), .unsupportedEncoding(formatTag: tag, bitsPerSample: bits))
        }
        var b = good
        b.extensible = (subFormat: 2, validBits: 16)
        refuse(b.bytes(), .unsupportedEncoding(formatTag: 2, bitsPerSample: 16))
        b.extensible = (subFormat: 0x1_0001, validBits: 16)
        refuse(b.bytes(), .unsupportedSubFormat(guid: "{00010001-0000-0010-8000-00AA00389B71}"))
        b.extensible = (subFormat: 1, validBits: 16)
        b.guidTail[11] = 0x72
        refuse(b.bytes(), .unsupportedSubFormat(guid: "{00000001-0000-0010-8000-00AA00389B72}"))
        b = good
        b.extensible = (subFormat: 1, validBits: 12)
        refuse(b.bytes(), .unsupportedValidBits(valid: 12, container: 16))
    }

    func testOnlyMono16kHz() {
        var b = good
        b.channels = 2
        refuse(b.bytes(), .unsupportedLayout(channels: 2, sampleRate: 16_000))
        b = good
        b.sampleRate = 44_100
        refuse(b.bytes(), .unsupportedLayout(channels: 1, sampleRate: 44_100))
        b.channels = 2
        refuse(b.bytes(), .unsupportedLayout(channels: 2, sampleRate: 44_100))
        let message = AudioError.unsupportedLayout(channels: 2, sampleRate: 44_100).description
        for part in ["2 channels at 44100 Hz", "mono 16000 Hz", "does not resample", "sox"] {
            XCTAssertTrue(message.contains(part), message)
        }
    }

    func testInconsistentHeaderFields() {
        var b = good
        b.blockAlign = 4
        refuse(b.bytes(), .inconsistentBlockAlign(found: 4, expected: 2))
        b = good
        b.byteRate = 16_000
        refuse(b.bytes(), .inconsistentByteRate(found: 16_000, expected: 32_000))
        b = good
        b.data = [1, 2, 3]
        refuse(b.bytes(), .partialFrame(dataBytes: 3, blockAlign: 2))
        var f = WAVBuilder.float32([0.5])
        f.data += [0, 0]
        refuse(f.bytes(), .partialFrame(dataBytes: 6, blockAlign: 4))
    }

    func testNonFiniteAndOutOfRangeFloats() {
        refuse(WAVBuilder.float32([0, .nan]).bytes(), .nonFiniteSample(index: 1))
        refuse(WAVBuilder.float32([.infinity]).bytes(), .nonFiniteSample(index: 0))
        refuse(WAVBuilder.float32([0, 0, -.infinity]).bytes(), .nonFiniteSample(index: 2))
        var signalling = WAVBuilder.float32([0])
        signalling.data = le32(0x7F80_0001)
        refuse(signalling.bytes(), .nonFiniteSample(index: 0))
        refuse(WAVBuilder.float32([0.25, 65536]).bytes(), .sampleOutOfRange(index: 1, value: 65536))
        refuse(WAVBuilder.float32([-1e30]).bytes(), .sampleOutOfRange(index: 0, value: -1e30))
    }

    /// Every prefix and 20,000 random corruptions of a file with several chunks: each either
    /// decodes or throws an AudioError (a crash fails the whole run).
    func testArbitraryBytesNeverCrash() {
        var b = WAVBuilder.pcm16((0..<40).map { Int16($0 * 97 - 1000) })
        b.before = [("JUNK", [1, 2, 3])]
        b.extensible = (subFormat: 1, validBits: 16)
        b.after = [("LIST", [4, 5, 6, 7])]
        let bytes = b.bytes()
        var decoded = 0, refused = 0
        func attempt(_ input: [UInt8]) {
            do { _ = try WAVFile(bytes: input); decoded += 1 } catch is AudioError { refused += 1 } catch {
                XCTFail("unexpected error type \(error)")
            }
        }
        for n in 0..<bytes.count { attempt(Array(bytes.prefix(n))) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<20_000 {
            var mutated = bytes
            for _ in 0...(next() % 4) {
                let i = next() % mutated.count
                mutated[i] = UInt8(truncatingIfNeeded: next())
            }
            if next() % 8 == 0 { mutated.removeLast(next() % mutated.count) }
            attempt(mutated)
        }
        XCTAssertEqual(decoded + refused, bytes.count + 20_000)
        XCTAssertGreaterThan(refused, bytes.count)  // every prefix, at least, is refused
    }
}
