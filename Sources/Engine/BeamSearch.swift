// Beam search: a deterministic decoder that keeps the `beams` most likely continuations. Scores
// are sums of the model's own log-probabilities (no penalties, temperature or sampling); at each
// step every live beam proposes its best `beams` tokens, all proposals are ranked by
// (score descending, beam rank ascending, token id ascending), and the best `beams` become the
// next live beams. A proposal that is an end-of-generation token or completes a stop string is a
// finished hypothesis instead, ranked by score / length^lengthPenalty (length counts generated
// tokens). Search ends when `beams` hypotheses have finished, or at maxTokens (live beams then
// finish with reason `length`). The best hypothesis by that ranking (earlier-finished first on a
// tie) is the answer. Text is streamed once, at the end, since the leading beam may change.
import Models
import Sampling

struct BeamSearch {
    let generator: Generator
    let request: GenerationRequest

    private struct Beam {
        var sequence: SequenceState
        var tokens: [Int32] = []
        var choices: [TokenChoice] = []
        var text: TextAssembler
        var score: Double = 0
        var logits: [Float]
    }

    private struct Hypothesis {
        var beam: Beam
        var reason: FinishReason
        var rank: Double
    }

    func rank(_ score: Double, length: Int) -> Double {
        score / ReproMath.pow(Double(max(1, length)), Double(request.lengthPenalty))
    }

    func run() async throws -> GenerationResult {
        var clock = Stopwatch()
        let decoder = generator.decoder, tokenizer = generator.tokenizer
        let width = request.beams
        let (root, cached) = generator.startSequence(for: request.prompt)
        // Back to the prefix cache at the end: whichever beams extended it, its tokens and cache
        // still agree (a sequence only ever holds what was run in it).
        defer { generator.model.prefixCache?.offer(root) }
        var timings = GenerationTimings()
        guard let first = try await generator.prefill(root, Array(request.prompt[cached...])) else {
            return GenerationResult(text: "", tokens: [], finishReason: .cancelled, stopSequence: nil,
                                    logprobs: request.logprobs ? [] : nil, promptTokens: request.prompt.count, timings: timings,
                                    cachedPromptTokens: cached)
        }
        timings.prefillSeconds = clock.lap()
        var live = [Beam(sequence: root, text: TextAssembler(stops: request.stop), logits: first)]
        // The scheduler waits for decoding sequences to send their next step: say which stop.
        defer { for beam in live { generator.scheduler.stopsDecoding(beam.sequence) } }
        var finished: [Hypothesis] = []
        var cancelled = false

        for step in 0..<request.maxTokens {
            // Proposals: (score, beam index, token, logprob choice).
            var proposals: [(score: Double, beam: Int, choice: TokenChoice)] = []
            for (b, beam) in live.enumerated() {
                beam.logits.withUnsafeBufferPointer { z in
                    let normalizer = LogSoftmax(z)
                    let alternatives = normalizer.top(max(width, request.topLogprobs), of: z)
                    for alt in alternatives.prefix(width) {
                        let choice = TokenChoice(token: alt.token, logprob: alt.logprob,
                                                 top: Array(alternatives.prefix(request.topLogprobs)))
                        proposals.append((beam.score + Double(alt.logprob), b, choice))
                    }
                }
            }
            proposals.sort { a, b in
                if a.score != b.score { return a.score > b.score }
                if a.beam != b.beam { return a.beam < b.beam }
                return a.choice.token < b.choice.token
            }
            var next: [Beam] = []
            var parentsUsed = Set<Int>()
            for p in proposals where next.count < width && finished.count < width {
                var beam = live[p.beam]
                beam.tokens.append(p.choice.token)
                beam.choices.append(p.choice)
                beam.score = p.score
                if tokenizer.isEndOfGeneration(p.choice.token) {
                    finished.append(Hypothesis(beam: beam, reason: .stop, rank: rank(p.score, length: beam.tokens.count)))
                    continue
                }
                if beam.text.append(tokenizer.piece(p.choice.token) ?? []) {
                    finished.append(Hypothesis(beam: beam, reason: .stop, rank: rank(p.score, length: beam.tokens.count)))
                    continue
                }
                // A parent's cache is reused by its first child and copied for the others.
                if parentsUsed.contains(p.beam) { beam.sequence = beam.sequence.copy() }
                parentsUsed.insert(p.beam)
                next.append(beam)
            }
            let continuing = Set(next.map { ObjectIdentifier($0.sequence) })
            for beam in live where !continuing.contains(ObjectIdentifier(beam.sequence)) { generator.scheduler.stopsDecoding(beam.sequence) }
            live = next
            if finished.count >= width || live.isEmpty || step == request.maxTokens - 1 { break }
            if Task.isCancelled { cancelled = true; break }
            // All live beams' next tokens go to the scheduler together, so they share one pass.
            let logits = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                for (b, beam) in live.enumerated() {
                    let item = ForwardItem(sequence: beam.sequence, tokens: [beam.tokens.last!], logits: .last)
                    group.addTask { (b, try await generator.scheduler.forward(decoder, item)) }
                }
                var out = [[Float]](repeating: [], count: live.count)
                for try await (b, rows) in group { out[b] = rows }
                return out
            }
            for b in live.indices { live[b].logits = logits[b] }
        }
        let reason: FinishReason = cancelled ? .cancelled : .length
        for beam in live { finished.append(Hypothesis(beam: beam, reason: reason, rank: rank(beam.score, length: beam.tokens.count))) }
        timings.decodeSeconds = clock.lap()
        guard var best = finished.first else {
            return GenerationResult(text: "", tokens: [], finishReason: reason, stopSequence: nil,
                                    logprobs: request.logprobs ? [] : nil, promptTokens: request.prompt.count, timings: timings,
                                    cachedPromptTokens: cached)
        }
        for h in finished.dropFirst() where h.rank > best.rank { best = h }
        // A cancelled search says so, even when a hypothesis that finished earlier wins.
        if cancelled { best.reason = .cancelled }
        return GenerationResult(text: best.beam.text.text, tokens: best.beam.tokens, finishReason: best.reason,
                                stopSequence: best.beam.text.matchedStop,
                                logprobs: request.logprobs ? best.beam.choices : nil,
                                promptTokens: request.prompt.count, timings: timings, cachedPromptTokens: cached)
    }
}
