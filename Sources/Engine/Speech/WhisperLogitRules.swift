// The rules Whisper's decoding applies to a window's logits before a token is chosen, in the order
// faster-whisper gets them from CTranslate2 (its SuppressTokens, SuppressTokensBegin, then
// whisper.cc's ApplyTimestampRules), so greedy, sampled and beam transcripts are the ones Whisper
// users expect:
//   - the config's suppress_ids never; suppress_ids_begin not as the window's first token;
//   - with timestamps (the prompt has no <|notimestamps|>): <|notimestamps|> never; the first token
//     is a timestamp no later than maxInitialTimestamp (1.0 s, faster-whisper's default); timestamps
//     come in pairs (after a text token and a timestamp, only another timestamp, not earlier than
//     that one, or <|endoftext|>; after two timestamps, no timestamp); a timestamp after text is
//     later than every timestamp before it; and whenever the timestamps' total probability is above
//     every single text token's, the token is a timestamp.
// That last comparison is made on the logits as the rules so far left them: log Σ exp over the
// timestamps against the largest logit below them (both sides shifted by the same normalizer, so
// the comparison is the reference's on log-probabilities), in Double with the project's exp and log.
import Kernels
import Sampling

struct WhisperLogitRules: Sendable {
    let suppress: [Int32]
    let suppressBegin: [Int32]
    /// Present when the window is decoded with timestamps.
    let timestamps: Timestamps?

    struct Timestamps: Sendable {
        let endOfText: Int32
        let noTimestamps: Int32
        /// <|0.00|>: every id from it to the vocabulary's end is a timestamp, 0.02 s apart.
        let first: Int32
        let last: Int32
        /// The latest timestamp the first token may be.
        let latestInitial: Int32
    }

    /// Timestamp positions are 0.02 s apart: two encoder frames of 10 ms.
    static let secondsPerTimestamp = 0.02
    /// faster-whisper's max_initial_timestamp (1.0 s) in timestamp positions.
    static let maxInitialTimestampIndex: Int32 = 50

    /// Applies the rules to the logits of the token after `generated` (this window's tokens so far).
    func apply(_ logits: inout [Float], generated: [Int32]) {
        let count = logits.count
        func disable(_ range: Range<Int32>) {
            for t in max(0, Int(range.lowerBound))..<min(count, Int(range.upperBound)) { logits[t] = -.infinity }
        }
        for t in suppress where Int(t) < count { logits[Int(t)] = -.infinity }
        if generated.isEmpty { for t in suppressBegin where Int(t) < count { logits[Int(t)] = -.infinity } }
        guard let ts = timestamps else { return }
        disable(ts.noTimestamps..<(ts.noTimestamps + 1))
        let isTimestamp = { (t: Int32) in t >= ts.first }
        guard let lastToken = generated.last else {
            disable(0..<ts.first)
            disable((ts.latestInitial + 1)..<(ts.last + 1))
            return
        }
        if isTimestamp(lastToken) {
            let penultimate = generated.count >= 2 ? generated[generated.count - 2] : lastToken
            if isTimestamp(penultimate) {
                disable(ts.first..<(ts.last + 1))
                return
            }
            disable(0..<ts.endOfText)
            disable(ts.first..<lastToken)
        } else if let latest = generated.last(where: isTimestamp) {
            disable(ts.first..<(latest + 1))
        }
        if timestampsOutweighText(logits, ts) { disable(0..<ts.first) }
    }

    private func timestampsOutweighText(_ logits: [Float], _ ts: Timestamps) -> Bool {
        let first = Int(ts.first), end = min(logits.count, Int(ts.last) + 1)
        guard first < end else { return false }
        var textMaximum = -Float.infinity
        for z in logits[..<first] where z > textMaximum { textMaximum = z }
        var maximum = -Float.infinity
        for z in logits[first..<end] where z > maximum { maximum = z }
        guard maximum.isFinite else { return false }
        guard textMaximum.isFinite else { return true }
        var sum = 0.0
        for z in logits[first..<end] { sum += Double(Math.exp(z - maximum)) }
        return Double(maximum) + ReproMath.log(sum) > Double(textMaximum)
    }
}
