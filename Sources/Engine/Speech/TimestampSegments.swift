// A timestamped window's tokens cut into segments, and where the next window starts, as
// faster-whisper 1.2.1 does (transcribe.py, _split_segments_by_timestamps and the filter in
// generate_segments):
//   - every pair of consecutive timestamps closes a segment that runs from the segment's first
//     token (its start timestamp) to the token before the pair's second (its end timestamp);
//   - a window that ends on a single timestamp after text (no speech after it) closes its last
//     segment there, and the next window starts after this one's frames; otherwise the tokens after
//     the last pair are dropped (an unfinished segment) and the next window starts at that pair's
//     timestamp, so the unfinished speech is heard again whole;
//   - a window without a pair is one segment from the window's start to its last timestamp (to
//     the window's end if none, or only <|0.00|>), and the next window follows it;
//   - a segment whose start equals its end, or whose text is only white space, is not reported.
// Times are seconds: the window's start (its first frame × 10 ms) plus the timestamp's position ×
// 0.02 s, computed in Double as the reference computes them.
import Audio

public struct TimestampSegment: Sendable, Equatable {
    /// The content frame the window started at.
    public let seek: Int
    public let start: Double
    public let end: Double
    /// Its tokens, timestamps included.
    public let tokens: [Int32]
    public let text: String
}

struct TimestampSplit {
    /// The first timestamp, <|0.00|>.
    let firstTimestamp: Int32
    /// The text of tokens (timestamps and other special tokens contribute none).
    let text: ([Int32]) -> String

    static let secondsPerFrame = Double(WhisperFeatureExtractor.hopLength) / Double(WhisperFeatureExtractor.sampleRate)
    /// Encoder positions are two frames apart, and so are timestamps.
    static let framesPerTimestamp = 2

    /// The segments of a window of `frames` content frames at `seek` whose decoded tokens (without
    /// the <|endoftext|>) are `tokens`, and the frame the next window starts at.
    func split(_ tokens: [Int32], seek: Int, frames: Int) -> (segments: [TimestampSegment], nextSeek: Int) {
        let offset = Double(seek) * Self.secondsPerFrame
        let isTimestamp = { (t: Int32) in t >= firstTimestamp }
        let position = { (t: Int32) in Int(t - firstTimestamp) }
        let seconds = { (t: Int32) in offset + Double(position(t)) * WhisperLogitRules.secondsPerTimestamp }
        let singleTimestampEnding = tokens.count >= 2 && !isTimestamp(tokens[tokens.count - 2]) && isTimestamp(tokens[tokens.count - 1])
        let pairs = tokens.indices.filter { $0 > 0 && isTimestamp(tokens[$0]) && isTimestamp(tokens[$0 - 1]) }
        var segments: [([Int32], Double, Double)] = []
        let nextSeek: Int
        if pairs.isEmpty {
            var end = offset + Double(frames) * Self.secondsPerFrame
            if let last = tokens.last(where: isTimestamp), last != firstTimestamp { end = offset + Double(position(last)) * WhisperLogitRules.secondsPerTimestamp }
            segments.append((tokens, offset, end))
            nextSeek = seek + frames
        } else {
            var cuts = pairs
            if singleTimestampEnding { cuts.append(tokens.count) }
            var from = 0
            for cut in cuts {
                let slice = Array(tokens[from..<cut])
                segments.append((slice, seconds(slice[0]), seconds(slice[slice.count - 1])))
                from = cut
            }
            nextSeek = singleTimestampEnding ? seek + frames : seek + position(tokens[from - 1]) * Self.framesPerTimestamp
        }
        let kept = segments.compactMap { tokens, start, end -> TimestampSegment? in
            let text = text(tokens)
            guard start != end, !text.allSatisfy(\.isWhitespace) else { return nil }
            return TimestampSegment(seek: seek, start: start, end: end, tokens: tokens, text: text)
        }
        return (kept, nextSeek)
    }
}
