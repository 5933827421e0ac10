#!/usr/bin/env python3
"""The faster-whisper half of Benchmarks/whisper_compare.py: one process, one compute type and
thread count, every clip. Prints one JSON line: per clip the end-to-end seconds of
`WhisperModel.transcribe` with its segments consumed, the tokens, and the encoder and decoder
seconds measured on CTranslate2's Whisper directly (`encode` of each 30 s window's features as
transcribe cuts them, then `generate` from the prompt <|startoftranscript|> <|en|> <|transcribe|>
<|notimestamps|> on that window's encoder output, with transcribe's greedy options). Peak RSS is
the parent's to read (wait4).

faster-whisper and ctranslate2 are imported from the private folder given by --site (the driver
installs them there)."""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", required=True)
    ap.add_argument("--model", required=True, help="the whisper-base folder (CTranslate2 layout)")
    ap.add_argument("--compute-type", required=True, choices=["float32", "int8"])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--settings", required=True, help="transcribe's keyword arguments, as JSON")
    ap.add_argument("--prompt", required=True, help="the decoder prompt ids, as JSON")
    ap.add_argument("clips", nargs="+")
    args = ap.parse_args()

    sys.path.insert(0, args.site)
    import ctranslate2
    import numpy as np
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio, pad_or_trim

    settings, prompt = json.loads(args.settings), json.loads(args.prompt)
    model = WhisperModel(args.model, device="cpu", compute_type=args.compute_type, cpu_threads=args.threads,
                         num_workers=1)

    def transcribe(path):
        segments, _ = model.transcribe(path, **settings)
        return [t for s in segments for t in s.tokens]

    transcribe(args.clips[0])   # warm-up: pages the weights in, builds the kernels' caches
    out = {"ctranslate2": ctranslate2.__version__, "clips": {}}
    for path in args.clips:
        t0 = time.perf_counter()
        tokens = transcribe(path)
        e2e = time.perf_counter() - t0

        # The windows as transcribe cuts them (no timestamps: consecutive 3000-frame windows).
        features = model.feature_extractor(decode_audio(path))
        frames, size = features.shape[-1] - 1, model.feature_extractor.nb_max_frames
        encode = decode = 0.0
        for seek in range(0, frames, size):
            window = pad_or_trim(features[:, seek:seek + min(size, frames - seek)])
            x = ctranslate2.StorageView.from_array(np.ascontiguousarray(window[None]))
            t0 = time.perf_counter()
            states = model.model.encode(x, to_cpu=False)
            encode += time.perf_counter() - t0
            t0 = time.perf_counter()
            model.model.generate(states, [prompt], beam_size=1, max_length=model.max_length, return_scores=True,
                                 return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1])
            decode += time.perf_counter() - t0
        out["clips"][path] = {"e2e": e2e, "encode": encode, "decode": decode, "tokens": tokens}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
