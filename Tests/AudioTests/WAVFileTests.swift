// Well-formed WAV files, written by the tests themselves: every accepted encoding and container
// form gives the samples faster-whisper's decode_audio gives.

@testable import Audio
import XCTest

final class WAVFileTests: XCTestCase {
    func testPCM16IsDividedBy32768() throws {
        let wav = try WAVFile(bytes: WAVBuilder.pcm16([-32768, -1, 0, 1, 32767, 12345]).bytes())
        XCTAssertEqual(wav.encoding, .pcm16)
        XCTAssertFalse(wav.extensible)
        XCTAssertEqual(wav.samples, [-1, -3.0517578125e-05, 0, 3.0517578125e-05, 0.999969482421875, 0.376739501953125])
    }

    /// What PyAV 18.1 (FFmpeg's swresample, under faster-whisper 1.2.1's decode_audio) made of
    /// these float32 samples, measured when this file was written: ties to even, saturation.
    func testFloat32IsQuantizedAsFasterWhisperDoes() throws {
        let cases: [(Float, Int16)] = [
            (0.5 / 32768, 0), (1.5 / 32768, 2), (2.5 / 32768, 2), (-0.5 / 32768, 0), (-1.5 / 32768, -2),
            (-2.5 / 32768, -2), (1.0, 32767), (-1.0, -32768), (2.0, 32767), (-2.0, -32768), (0.99999, 32767),
            (1e-30, 0), (0.3, 9830), (-0.7, -22938), (0.49999997 / 32768, 0), ((0.5 / 32768 as Float).nextUp, 1),
            (65535.99, 32767), (-65535.99, -32768),
        ]
        let wav = try WAVFile(bytes: WAVBuilder.float32(cases.map { $0.0 }).bytes())
        XCTAssertEqual(wav.encoding, .float32)
        XCTAssertEqual(wav.samples, cases.map { Float($0.1) / 32768 })
    }

    func testExtensibleCarriesPCMAndFloat() throws {
        let ints: [Int16] = [100, -200, 300, -32768, 32767]
        var pcm = WAVBuilder.pcm16(ints)
        let plain = try WAVFile(bytes: pcm.bytes())
        pcm.extensible = (subFormat: 1, validBits: 16)
        let ext = try WAVFile(bytes: pcm.bytes())
        XCTAssertTrue(ext.extensible)
        XCTAssertEqual(ext.encoding, .pcm16)
        XCTAssertEqual(ext.samples, plain.samples)
        pcm.extensible = (subFormat: 1, validBits: 0)  // "all bits valid", as some writers put it
        XCTAssertEqual(try WAVFile(bytes: pcm.bytes()).samples, plain.samples)

        var flt = WAVBuilder.float32(ints.map { Float($0) / 32768 })
        flt.extensible = (subFormat: 3, validBits: 32)
        let f = try WAVFile(bytes: flt.bytes())
        XCTAssertTrue(f.extensible)
        XCTAssertEqual(f.encoding, .float32)
        XCTAssertEqual(f.samples, plain.samples)
    }

    func testOtherChunksAreSkippedWithTheirPadBytes() throws {
        let plain = WAVBuilder.pcm16([1, 2, 3, -4])
        var busy = plain
        busy.before = [("JUNK", [1, 2, 3])]              // odd: a pad byte follows
        busy.between = [("LIST", Array("INFOISFT".utf8) + [0, 0, 0, 5, 7]), ("fact", le32(4))]
        busy.after = [("id3 ", [9])]
        busy.formatExtra = le16(0)                         // an 18-byte fmt with cbSize = 0
        XCTAssertEqual(try WAVFile(bytes: busy.bytes()).samples, try WAVFile(bytes: plain.bytes()).samples)
    }

    func testMissingLastPadByteAndTrailingBytesAreTolerated() throws {
        var b = WAVBuilder.pcm16([7, 8])
        b.after = [("note", [1, 2, 3])]
        var bytes = b.bytes()
        bytes.removeLast()  // the last chunk's pad byte
        let riff = UInt32(bytes.count - 8)
        bytes.replaceSubrange(4..<8, with: le32(riff))
        XCTAssertEqual(try WAVFile(bytes: bytes).samples, [7.0 / 32768, 8.0 / 32768])
        // Bytes after the RIFF's declared end are not part of it.
        XCTAssertEqual(try WAVFile(bytes: bytes + [0xDE, 0xAD, 0xBE]).samples, [7.0 / 32768, 8.0 / 32768])
    }

    func testDataBeforeFormatAndEmptyData() throws {
        var b = WAVBuilder.pcm16([5])
        b.includeFormat = false
        b.before = [("data", le16(5))]
        b.includeData = false
        b.after = [("fmt ", WAVBuilder().formatPayload)]
        XCTAssertEqual(try WAVFile(bytes: b.bytes()).samples, [5.0 / 32768])
        XCTAssertEqual(try WAVFile(bytes: WAVBuilder.pcm16([]).bytes()).samples, [])
    }
}
