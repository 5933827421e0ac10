// Beam search over one audio window, by the rule faster-whisper gets from CTranslate2 (its
// BeamSearch with patience 1), so that a beam transcript is the one users of Whisper expect:
//   - every step, each live beam's logits go through Whisper's logit rules (WhisperLogitRules,
//     applied to that beam's own tokens) and a log-softmax; a candidate's score is its beam's score plus the token's log-probability,
//     added in Float as the reference adds them;
//   - the best 2·beams candidates over all live beams are kept (ranked by score, then beam, then
//     token id, so no choice depends on sort stability; the first step has the root beam only);
//   - of the first `beams` candidates, one that is <|endoftext|> (or any, at the last step) becomes a
//     finished hypothesis, and its place goes to the next candidate beyond the first `beams` that is
//     not <|endoftext|>; the others continue as they are;
//   - the search ends once `beams` hypotheses have finished, or at the last step; each hypothesis is
//     ranked by score / length^lengthPenalty, its length counting its tokens without the
//     <|endoftext|> (whose log-probability is in the score), and the best wins (earlier-finished
//     first on a tie).
// The reference leaves a slot on its <|endoftext|> candidate when every candidate beyond the first
// `beams` is one too; with a vocabulary of 51,865 that never happens, and here the slot stays empty.
// All live beams step together in one batch (a row's logits are the same bits in any batch).
import Models
import Sampling

struct SpeechBeamSearch {
    let transcriber: Transcriber
    let rules: WhisperLogitRules
    let width: Int
    let lengthPenalty: Double
    let topLogprobs: Int

    private struct Beam {
        var sequence: TargetSequence
        var tokens: [Int32] = []
        var choices: [TokenChoice] = []
        var score: Float = 0
        var logits: [Float]
    }

    private struct Candidate {
        let beam: Int
        let score: Float
        let choice: TokenChoice
    }

    private struct Hypothesis {
        var tokens: [Int32]
        var choices: [TokenChoice]
        var ended: Bool
        var rank: Double
    }

    /// The best hypothesis of `window`: its tokens (with the <|endoftext|> when it ended with one),
    /// their choices, and why it ended.
    func decode(_ window: EncoderStates, prompt: [Int32], steps: Int) async throws -> Transcriber.DecodedWindow {
        let endOfText = transcriber.speech.specials.endOfText
        let (root, first, noSpeech) = try await transcriber.startWindow(window, prompt: prompt)
        var live = [Beam(sequence: root, logits: first)]
        var finished: [Hypothesis] = []
        var cancelled = false

        for step in 0..<steps {
            let candidates = rankedCandidates(live)
            let last = step == steps - 1
            var next: [Beam] = []
            var spare = width
            for k in 0..<min(width, candidates.count) {
                var c = candidates[k]
                if c.choice.token == endOfText || last {
                    finished.append(hypothesis(live[c.beam], c, ended: c.choice.token == endOfText))
                    guard let j = candidates[spare...].firstIndex(where: { $0.choice.token != endOfText }) else { continue }
                    c = candidates[j]
                    spare = j + 1
                }
                var beam = live[c.beam]
                beam.tokens.append(c.choice.token)
                beam.choices.append(c.choice)
                beam.score = c.score
                next.append(beam)
            }
            if last || finished.count >= width || next.isEmpty { break }
            if Task.isCancelled {
                cancelled = true
                live = next
                break
            }
            // A parent's sequence goes on in its first child; the others fork it before anything steps.
            var claimed = Set<ObjectIdentifier>()
            for b in next.indices where !claimed.insert(ObjectIdentifier(next[b].sequence)).inserted {
                next[b].sequence = next[b].sequence.fork()
            }
            let logits = try await transcriber.step(next.map { ($0.sequence, $0.tokens.last!) })
            for b in next.indices { next[b].logits = logits[b] }
            live = next
        }
        if cancelled {
            let beam = live[0]
            return .init(tokens: beam.tokens, choices: beam.choices, finishReason: .cancelled, noSpeechProbability: noSpeech)
        }
        guard var best = finished.first else { return .init(noSpeechProbability: noSpeech) }
        for h in finished.dropFirst() where h.rank > best.rank { best = h }
        return .init(tokens: best.tokens + (best.ended ? [endOfText] : []), choices: best.choices,
                     finishReason: best.ended ? .stop : .length, noSpeechProbability: noSpeech)
    }

    /// The best 2·width candidates over every live beam, best first.
    private func rankedCandidates(_ live: [Beam]) -> [Candidate] {
        let keep = 2 * width
        var all: [Candidate] = []
        for (b, beam) in live.enumerated() {
            var logits = beam.logits
            rules.apply(&logits, generated: beam.tokens)
            logits.withUnsafeBufferPointer { z in
                let normalizer = LogSoftmax(z)
                let alternatives = normalizer.top(max(keep, topLogprobs), of: z)
                for alt in alternatives.prefix(keep) where alt.logprob.isFinite {
                    all.append(Candidate(beam: b, score: beam.score + alt.logprob,
                                         choice: TokenChoice(token: alt.token, logprob: alt.logprob,
                                                             top: Array(alternatives.prefix(topLogprobs)))))
                }
            }
        }
        all.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.beam != b.beam { return a.beam < b.beam }
            return a.choice.token < b.choice.token
        }
        return Array(all.prefix(keep))
    }

    private func hypothesis(_ parent: Beam, _ c: Candidate, ended: Bool) -> Hypothesis {
        let tokens = ended ? parent.tokens : parent.tokens + [c.choice.token]
        let length = Double(max(1, tokens.count))
        return Hypothesis(tokens: tokens, choices: parent.choices + [c.choice], ended: ended,
                          rank: Double(c.score) / ReproMath.pow(length, lengthPenalty))
    }
}
