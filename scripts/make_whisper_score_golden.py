#!/usr/bin/env python3
"""Write Tests/conformance/fixtures/whisper-score-encode.json: reference values for `score` and
`encode` with audio on whisper-base, computed by CTranslate2 4.8.5 (the runtime faster-whisper
1.2.1 drives; CPU, compute_type float32) on faster-whisper's own features, without reprolm.

score: for each transcript of a one-window clip (faster-whisper's greedy transcript from
Tests/AudioTests/Golden/whisper-clips.json, plus for a few clips the same transcript with one word
changed), the transcript's ids, then teacher forcing on the decoder sequence
    <|startoftranscript|> <|en|> <|transcribe|> <|notimestamps|> ids... <|endoftext|>.
The ids are Hugging Face `tokenizers`' encoding of the text with the model's tokenizer.json and its
missing rank-0 merge "Ġ t" put first (Whisper's own tokenizer, tiktoken, has it; see
Sources/Tokenizers/RankOrderedMerges.swift); the script checks that they equal the ids
faster-whisper generated for the text wherever the model chose the canonical split (all clips but
baker-street, whose digits it splits otherwise), and records both. The logits are CTranslate2's own:
Whisper.generate on the prompt followed by the ids, which it forces one step at a time, returning
every step's logits (return_logits_vocab, with suppress_tokens=[] and suppress_blank=False so no
rule alters them); the step after the last id predicts <|endoftext|>. Their log-softmax is taken in
float64 here. Recorded per scored position: the token, its logprob and the 5 most likely ids. As a
second opinion from the same runtime, Whisper.align's text_token_probs (its own teacher-forced pass,
a softmax over the text tokens only) must agree with the softmax of these logits over the ids
below <|endoftext|> to 1e-4, or the script fails.

encode: for a few clips, every 30 s window as WhisperModel.transcribe cuts it (features[:,
seek:seek+size], padded to 3000 frames), Whisper.encode's states, and of each window only the
first ceil(size / 2) positions (the positions whose stride-2 frames hold the clip's features, not
the zero padding): their mean over all windows in float64 (512 values), the number of positions,
and a strided sample of those positions' states laid end to end (for pooling none).

    python3 scripts/make_whisper_score_golden.py [--clips DIR] [--site DIR] [--model DIR]

The pinned reference is installed by scripts/make_whisper_golden.py (pip --target into the cache).
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLIPS_GOLDEN = ROOT / "Tests" / "AudioTests" / "Golden" / "whisper-clips.json"
OUT = ROOT / "Tests" / "conformance" / "fixtures" / "whisper-score-encode.json"
CACHE = Path.home() / ".cache" / "reprolm"
PROMPT = [50258, 50259, 50359, 50363]  # <|startoftranscript|> <|en|> <|transcribe|> <|notimestamps|>
EOT = 50257
TOP = 5
ENCODE_CLIPS = ["stella", "yes", "long-lighthouse"]
STATE_STRIDE = 211  # a prime: the sample walks across positions and components
# One word changed: the reference scores a transcript the audio does not say, too.
VARIANTS = {
    "stella": (" store.", " shop."),
    "bastille": (" Paris", " London"),
    "yes": (" Yes.", " No."),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=Path, default=CACHE / "whisper-clips")
    parser.add_argument("--site", type=Path, default=CACHE / "whisper-reference" / "site")
    parser.add_argument("--model", type=Path, default=CACHE / "models" / "whisper-base")
    args = parser.parse_args()
    sys.path.insert(0, str(args.site))
    import ctranslate2
    import faster_whisper
    import numpy as np
    import tokenizers
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio, pad_or_trim

    assert (faster_whisper.__version__, ctranslate2.__version__) == ("1.2.1", "4.8.5")
    golden = json.loads(CLIPS_GOLDEN.read_text())
    model = WhisperModel(str(args.model), device="cpu", compute_type="float32", cpu_threads=2)
    fe, runtime, hf = model.feature_extractor, model.model, model.hf_tokenizer

    def windows_of(path):
        """(window features, content frames) per window, as transcribe cuts them."""
        features = fe(decode_audio(str(path)))
        content = features.shape[-1] - 1
        out, seek = [], 0
        while seek < content:
            size = min(fe.nb_max_frames, content - seek)
            out.append((pad_or_trim(features[:, seek:seek + size]), size))
            seek += size
        return out

    def encoded(window):
        return runtime.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(window[None])), to_cpu=True)

    def teacher_forced(states, ids):
        """Per scored position (each id, then <|endoftext|>): (token, logprob, top ids), and the
        rows' softmax over the text tokens (ids below <|endoftext|>) for the align check."""
        result = runtime.generate(states, [PROMPT + ids], beam_size=1, max_length=448, return_logits_vocab=True,
                                  suppress_blank=False, suppress_tokens=[])[0]
        steps = result.logits[0]
        assert len(steps) > len(ids), (len(steps), len(ids))
        rows, text_probs = [], []
        for k, token in enumerate(ids + [EOT]):
            z = np.array(steps[k], dtype=np.float64).reshape(-1)
            logprobs = z - z.max() - np.log(np.exp(z - z.max()).sum())
            top = sorted(range(len(z)), key=lambda j: (-z[j], j))[:TOP]
            rows.append({"token": token, "logprob": float(logprobs[token]), "top": top})
            if token != EOT:
                text = np.exp(z[:EOT] - z[:EOT].max())
                text_probs.append(float(text[token] / text.sum()))
        return rows, text_probs

    tokenizer_json = json.loads((args.model / "tokenizer.json").read_text())
    merges = tokenizer_json["model"]["merges"]
    assert "Ġ t" not in merges and ["Ġ", "t"] not in merges
    tokenizer_json["model"]["merges"] = ["Ġ t"] + merges
    whisper_tokenizer = tokenizers.Tokenizer.from_str(json.dumps(tokenizer_json))

    scored = []
    for clip in golden["clips"]:
        path = args.clips / clip["wav"]["file"]
        windows = windows_of(path)
        if len(windows) != 1:
            continue  # score takes audio of one window
        states = encoded(windows[0][0])
        generated = clip["segments"][0]["tokens"]
        texts = [clip["transcript"]]
        if clip["name"] in VARIANTS:
            old, new = VARIANTS[clip["name"]]
            assert old in clip["transcript"], (clip["name"], old)
            texts.append(clip["transcript"].replace(old, new))
        for text in texts:
            ids = whisper_tokenizer.encode(text, add_special_tokens=False).ids
            reference = text == clip["transcript"]
            if reference:
                assert ids == generated or clip["name"] == "baker-street", (clip["name"], ids, generated)
            rows, text_probs = teacher_forced(states, ids)
            aligned = runtime.align(states, PROMPT[:3], [ids], windows[0][1])[0]
            probs = list(aligned.text_token_probs)
            assert len(probs) == len(ids), (clip["name"], len(probs), len(ids))
            worst = max(abs(a - b) for a, b in zip(probs, text_probs))
            assert worst < 1e-4, (clip["name"], text, worst)
            scored.append({"clip": clip["name"], "wav": clip["wav"]["file"], "text": text, "tokens": ids,
                           "reference": reference, "generated": generated if reference else None,
                           "positions": rows, "alignMaxProbabilityDelta": worst})
            print(f"score {clip['name']}: {text!r}: sum {sum(r['logprob'] for r in rows):.4f} "
                  f"(align agrees to {worst:.2g})", file=sys.stderr)

    encodings = []
    for name in ENCODE_CLIPS:
        clip = next(c for c in golden["clips"] if c["name"] == name)
        real = []
        frames = []
        for window, size in windows_of(args.clips / clip["wav"]["file"]):
            states = np.array(encoded(window))[0].astype(np.float64)
            real.append(states[:(size + 1) // 2])
            frames.append(size)
        every = np.concatenate(real)
        flat = every.reshape(-1)
        encodings.append({"clip": name, "wav": clip["wav"]["file"], "windowFrames": frames,
                          "positions": int(every.shape[0]), "width": int(every.shape[1]),
                          "mean": [float(v) for v in every.mean(axis=0)],
                          "states": {"stride": STATE_STRIDE, "sample": [float(v) for v in flat[::STATE_STRIDE]]}})
        print(f"encode {name}: {len(frames)} window(s), {every.shape[0]} positions", file=sys.stderr)

    out = {
        "reference": {"faster-whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__,
                      "tokenizers": tokenizers.__version__, "compute_type": "float32", "numpy": np.__version__},
        "model": {"name": args.model.name,
                  "model_bin_sha256": hashlib.sha256((args.model / "model.bin").read_bytes()).hexdigest()},
        "prompt": PROMPT, "endOfText": EOT,
        "score": scored,
        "encode": encodings,
    }
    OUT.write_text(json.dumps(out, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
