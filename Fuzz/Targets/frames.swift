// fuzz-modules: RPCTransport
//
// The stream framing (Sources/RPCTransport/FrameDecoder.swift): Content-Length and newline framing,
// detection from the first byte, oversized frames, malformed headers, end of input.
// Input: byte 0 chooses the forced mode and the frame limit, byte 1 seeds the chunking; the rest is
// the stream. Checked, besides crashes: feeding the stream in one piece or in random chunks gives
// the same events (the decoder is incremental), memory stays within the documented bound after
// every feed, no frame exceeds the limit, and newline frames hold no "\n".
import RPCTransport

private let limits = [-1, 0, 1, 2, 3, 16, 100, 4096, 1 << 20, FrameDecoder.defaultMaxFrameBytes]

private func run(_ stream: [UInt8], limit: Int, mode: FramingMode?, chunkSeed: UInt64?) -> [FrameEvent] {
    var decoder = FrameDecoder(maxFrameBytes: limit, mode: mode)
    let bound = max(decoder.maxFrameBytes + 1, FrameDecoder.maxHeaderBytes)
    var events: [FrameEvent] = []
    if var state = chunkSeed {
        var i = 0
        while i < stream.count {
            // xorshift: chunk sizes 1...64, sometimes the whole rest.
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let size = state % 16 == 0 ? stream.count - i : Int(state % 64) + 1
            let end = min(stream.count, i + size)
            // An ArraySlice here, an Array below: both paths of `feed`.
            events += decoder.feed(stream[i..<end])
            Fuzz.require(decoder.bufferedByteCount <= bound, "buffer \(decoder.bufferedByteCount) > \(bound)")
            i = end
        }
    } else {
        events += decoder.feed(stream)
        Fuzz.require(decoder.bufferedByteCount <= bound, "buffer \(decoder.bufferedByteCount) > \(bound)")
    }
    events += decoder.finish()
    Fuzz.require(decoder.feed([0x7B, 0x7D, 0x0A]).isEmpty, "input after finish() produced events")
    for event in events {
        if case .frame(let payload) = event {
            Fuzz.require(payload.count <= decoder.maxFrameBytes, "frame of \(payload.count) bytes over the limit \(decoder.maxFrameBytes)")
            if decoder.mode == .newline { Fuzz.require(!payload.contains(0x0A), "newline frame holds a newline") }
        }
    }
    return events
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.bytes(data, size)
    guard input.count >= 2 else { return 0 }
    let config = input[0]
    let modes: [FramingMode?] = [nil, nil, .newline, .contentLength]
    let mode = modes[Int(config & 3)]
    let limit = limits[Int(config >> 3) % limits.count]
    let stream = Array(input[2...])
    let whole = run(stream, limit: limit, mode: mode, chunkSeed: nil)
    let chunked = run(stream, limit: limit, mode: mode, chunkSeed: UInt64(input[1]) &* 0x9E37_79B9_7F4A_7C15 | 1)
    Fuzz.require(whole == chunked, "chunking changed the events:\n  whole:   \(whole)\n  chunked: \(chunked)")
    return 0
}
