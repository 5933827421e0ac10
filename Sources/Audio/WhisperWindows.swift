// The 30-second windows faster-whisper 1.2.1's WhisperModel.transcribe hands the encoder, with
// vad_filter=False, no clip_timestamps and without_timestamps=True (transcribe.py,
// generate_segments): the features of the whole clip are computed once (so "largest − 8" is over
// the whole clip), their last frame is not content (content_frames = frames − 1), and windows start
// at seek = 0, 3000, 6000, … while seek < content_frames. Each takes
// min(3000, content_frames − seek) frames and is padded with zeros (pad_or_trim) to 3000. Without
// timestamps, seek always advances by the window's length (_split_segments_by_timestamps, and the
// no-speech skip), so the windows never overlap and never depend on what was decoded; with
// timestamps the next window starts where the decoded timestamps say (window(atFrame:of:)).

extension WhisperFeatureExtractor {
    /// The encoder inputs for `samples`: each `melCount` × `windowFrames` floats, mel-major
    /// (window[mel · 3000 + frame]). Audio shorter than one hop (160 samples) has no window, as
    /// in faster-whisper.
    public func windows(_ samples: [Float]) throws -> [[Float]] {
        Self.windows(of: try spectrogram(samples))
    }

    /// How many windows `sampleCount` samples give: ⌈(sampleCount / 160) / 3000⌉.
    public static func windowCount(sampleCount: Int) -> Int {
        let content = sampleCount / hopLength
        return (content + windowFrames - 1) / windowFrames
    }

    /// The windows of a spectrogram from `spectrogram(_:)`.
    public static func windows(of features: LogMelSpectrogram) -> [[Float]] {
        (0..<windowCount(of: features)).map { window($0, of: features) }
    }

    /// How many windows a spectrogram from `spectrogram(_:)` gives.
    public static func windowCount(of features: LogMelSpectrogram) -> Int {
        let content = max(0, features.frameCount - 1)
        return (content + windowFrames - 1) / windowFrames
    }

    /// Frames of content in a spectrogram from `spectrogram(_:)` (its last frame is not).
    public static func contentFrames(of features: LogMelSpectrogram) -> Int { max(0, features.frameCount - 1) }

    /// Window `index` (< `windowCount(of:)`) alone, for callers that encode one window at a time
    /// instead of holding all of a long clip's windows (960 KB each).
    public static func window(_ index: Int, of features: LogMelSpectrogram) -> [Float] {
        window(atFrame: index * windowFrames, of: features)
    }

    /// The window that starts at content frame `seek` (< `contentFrames(of:)`): with timestamps,
    /// faster-whisper's next window starts where the last timestamp pair ended, anywhere.
    public static func window(atFrame seek: Int, of features: LogMelSpectrogram) -> [Float] {
        let content = contentFrames(of: features)
        precondition(seek >= 0 && seek < content, "window at frame \(seek) of \(content)")
        let size = min(windowFrames, content - seek)
        var window = [Float](repeating: 0, count: features.melCount * windowFrames)
        for mel in 0..<features.melCount {
            let from = mel * features.frameCount + seek
            window.replaceSubrange(mel * windowFrames..<(mel * windowFrames + size), with: features.values[from..<(from + size)])
        }
        return window
    }
}
