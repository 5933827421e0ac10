// The window loop of a transcription (see Transcriber.swift for the rules it follows), and the
// greedy or sampled decoding of one window. Without timestamps and beams, text streams token by
// token as it is decoded; beam search and timestamped windows stream a window's text once it is
// final (the leading beam may change; a timestamped window's unfinished last segment is dropped).
import Audio
import Models
import Sampling

extension Transcriber {
    /// What decoding one window gave.
    struct DecodedWindow {
        var tokens: [Int32] = []
        var choices: [TokenChoice] = []
        var finishReason = FinishReason.length
        var text = ""
        var noSpeechProbability: Double?
        /// Whether its text and tokens were streamed as they were decoded.
        var streamed = false

        /// faster-whisper's avg_logprob: the tokens' log-probabilities (the <|endoftext|>'s
        /// included) summed, over the count of tokens before <|endoftext|> plus one.
        func averageLogprob(endOfText: Int32) -> Double {
            let sum = choices.reduce(0.0) { $0 + Double($1.logprob) }
            return sum / Double(tokens.filter { $0 != endOfText }.count + 1)
        }
    }

    public func transcribe(_ request: TranscriptionRequest,
                           onDelta: @escaping @Sendable (GenerationDelta) -> Void = { _ in }) async throws -> TranscriptionResult {
        var clock = Stopwatch()
        let features = try WhisperFeatureExtractor().spectrogram(request.samples)
        let content = WhisperFeatureExtractor.contentFrames(of: features)
        guard content > 0 else { throw shorterThanAFrame }
        var result = TranscriptionResult(language: request.language ?? "", detected: request.language == nil, windows: [],
                                         logprobs: request.logprobs ? [] : nil)
        if request.timestamps { result.segments = [] }
        let rules = logitRules(timestamps: request.timestamps)
        let splitter = TimestampSplit(firstTimestamp: speech.specials.noTimestamps + 1, text: { text(of: $0) })
        let perFrame = TimestampSplit.secondsPerFrame
        let streamsTokens = request.beams == 1 && !request.timestamps
        let tokenStream: ((GenerationDelta) -> Void)? = streamsTokens ? { onDelta($0) } : nil
        var prompt: [Int32] = []
        var draw: UInt64 = 0
        var seek = 0
        while seek < content {
            let frames = min(WhisperFeatureExtractor.windowFrames, content - seek)
            var window = TranscribedWindow(seek: seek, start: Double(seek) * perFrame, end: Double(seek + frames) * perFrame,
                                           tokens: [], text: "", finishReason: .cancelled)
            if Task.isCancelled {
                result.windows.append(window)
                break
            }
            _ = clock.lap()
            let states = try await encode(windows: [WhisperFeatureExtractor.window(atFrame: seek, of: features)])[0]
            result.encodeSeconds += clock.lap()
            if prompt.isEmpty {
                if request.language == nil { result.language = try await detectLanguage(states) }
                prompt = try self.prompt(language: result.language, translate: request.translate, timestamps: request.timestamps)
            }
            let steps = min(request.maxTokens, whisper.maxTargetPositions - prompt.count)
            let decoded: DecodedWindow
            if request.beams > 1 {
                let search = SpeechBeamSearch(transcriber: self, rules: rules, width: request.beams,
                                              lengthPenalty: request.lengthPenalty, topLogprobs: request.topLogprobs)
                var found = try await search.decode(states, prompt: prompt, steps: steps)
                found.text = text(of: found.tokens)
                decoded = found
            } else {
                decoded = try await decodeSampled(states, prompt: prompt, steps: steps, rules: rules, request, draw: &draw,
                                                  onDelta: tokenStream)
            }
            window.tokens = decoded.tokens
            window.finishReason = decoded.finishReason
            window.text = decoded.text
            window.noSpeechProbability = decoded.noSpeechProbability
            window.averageLogprob = decoded.averageLogprob(endOfText: speech.specials.endOfText)
            if request.logprobs { result.logprobs?.append(contentsOf: decoded.choices) }
            // faster-whisper's no-speech rule: a window likely silent, and not decoded confidently,
            // keeps no text, and the next window follows it.
            if let p = window.noSpeechProbability, p > request.noSpeechThreshold,
               !(window.averageLogprob > TranscriptionRequest.logprobThreshold) {
                window.skipped = true
                window.text = ""
                seek += frames
            } else if request.timestamps {
                let generated = decoded.finishReason == .stop ? Array(decoded.tokens.dropLast()) : decoded.tokens
                let (segments, next) = splitter.split(generated, seek: seek, frames: frames)
                result.segments?.append(contentsOf: segments)
                window.text = segments.map(\.text).joined()
                // The rules make every pair's timestamp later than <|0.00|>, so a window always moves
                // on; this only guards the loop.
                seek = next > seek ? next : seek + frames
            } else {
                seek += frames
            }
            if !decoded.streamed {
                onDelta(GenerationDelta(text: window.text, tokens: window.tokens, logprobs: request.logprobs ? decoded.choices : []))
            }
            result.decodeSeconds += clock.lap()
            result.windows.append(window)
            if window.finishReason == .cancelled { break }
        }
        return result
    }

    /// One window, greedy (temperature 0) or sampled; `draw` is the sampler's draw index, carried
    /// across windows. With `onDelta`, text streams as soon as its UTF-8 is whole, unless the
    /// window may yet be taken for silence (its no-speech probability is above the threshold):
    /// then the caller streams it once it is final.
    private func decodeSampled(_ states: EncoderStates, prompt: [Int32], steps: Int, rules: WhisperLogitRules,
                               _ request: TranscriptionRequest, draw: inout UInt64,
                               onDelta: ((GenerationDelta) -> Void)?) async throws -> DecodedWindow {
        let sampler = TokenSampler(parameters: request.sampling, seed: request.seed)
        let tokenizer = speech.tokenizer, endOfText = speech.specials.endOfText
        var out = DecodedWindow()
        var text = TextAssembler(stops: [])
        let (sequence, first, noSpeech) = try await startWindow(states, prompt: prompt)
        out.noSpeechProbability = noSpeech
        let onDelta = noSpeech.map { $0 > request.noSpeechThreshold } == true ? nil : onDelta
        out.streamed = onDelta != nil
        var logits = first
        for step in 0..<steps {
            rules.apply(&logits, generated: out.tokens)
            guard let token = sampler.choose(logits: logits, history: out.tokens, step: draw) else {
                throw EngineError.nonFiniteLogits(model: model.name)
            }
            draw += 1
            out.tokens.append(token)
            // Every token's logprob is kept (the no-speech rule averages them); the stream and the
            // result carry them only when asked for.
            let chosen = Generator.choice(token, logits, top: request.logprobs ? request.topLogprobs : 0)
            out.choices.append(chosen)
            let choice = request.logprobs ? [chosen] : []
            if token == endOfText {
                out.finishReason = .stop
                onDelta?(GenerationDelta(text: text.takeDelta(final: true), tokens: [token], logprobs: choice))
                break
            }
            _ = text.append(tokenizer.isSpecial(token) ? [] : (tokenizer.piece(token) ?? []))
            onDelta?(GenerationDelta(text: text.takeDelta(final: false), tokens: [token], logprobs: choice))
            if step == steps - 1 { break }
            if Task.isCancelled {
                out.finishReason = .cancelled
                break
            }
            logits = try await self.step([(sequence, token)])[0]
        }
        let rest = text.takeDelta(final: true)
        if !rest.isEmpty { onDelta?(GenerationDelta(text: rest, tokens: [], logprobs: [])) }
        out.text = text.text
        return out
    }
}
