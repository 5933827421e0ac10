#!/usr/bin/env python3
"""Write Tests/AudioTests/Golden/whisper-clips.json from faster-whisper, the Whisper reference.

The reference is faster-whisper 1.2.1 on ctranslate2 4.8.5 (CPU, float32), with the model folder
whisper-base from the cache (`reprolm pull whisper-base`). Both are installed, if missing, into a
private folder (pip --target) under the cache, so nothing touches the system's Python packages.
For every clip of scripts/make_whisper_clips.py (made first, without the golden check, since this
script writes the golden file) it records:
  - the clip's spec (text, voice, speed), the sha256s of <name>.wav and <name>-f32.wav, the
    sample count, and the sha256 of faster_whisper.audio.decode_audio's float32 samples (little
    endian) for both files;
  - the FeatureExtractor's features (80 x frames, mel-major) as a strided sample: the values at
    flat indices start, start + stride, ... (float32 values, exact in JSON);
  - every encoder window as WhisperModel.transcribe cuts it (features[:, seek:seek+size], padded
    with pad_or_trim): seek, size, min, max, mean, and a strided sample of its 80 x 3000 values;
  - the transcription with language="en", task="transcribe", beam_size=1, temperature=0,
    vad_filter=False, without_timestamps=True, condition_on_previous_text=False: per segment its
    window, token ids (segment.tokens), text, avg_logprob and no_speech_prob, and the prompt
    faster-whisper builds for it;
and short synthetic signals (16-bit values from a seeded numpy generator, and silence) with their
complete features, for the edges: signals shorter than the reflection padding, a hop, a frame;
and once, numpy's periodic Hann window (np.hanning(401)[:-1] as float32) and the mel filter bank
(nonzero runs of FeatureExtractor.mel_filters), for exact checks of those steps.

Usage: python3 scripts/make_whisper_golden.py [--clips DIR] [--site DIR]
"""

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "Tests" / "AudioTests" / "Golden" / "whisper-clips.json"
PINS = {"faster-whisper": "1.2.1", "ctranslate2": "4.8.5"}
SETTINGS = dict(language="en", task="transcribe", beam_size=1, temperature=0, vad_filter=False,
                without_timestamps=True, condition_on_previous_text=False)
FEATURE_SAMPLES = 1500   # values sampled per clip from the whole feature matrix
WINDOW_STRIDE = 293      # a prime, so samples land on every frame position across mel rows
SYNTHETIC_LENGTHS = [0, 1, 40, 41, 159, 160, 199, 200, 201, 361, 1000]

spec = importlib.util.spec_from_file_location("make_whisper_clips", HERE / "make_whisper_clips.py")
clips_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(clips_module)


def ensure_reference(site: Path):
    """Puts the pinned faster-whisper and ctranslate2 (and their dependencies) on sys.path."""
    def installed():
        for name, version in PINS.items():
            dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
            if not dist.exists():
                return False
        return True
    if not installed():
        print(f"make_whisper_golden: installing {PINS} into {site}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(site)]
                       + [f"{n}=={v}" for n, v in PINS.items()], check=True)
    sys.path.insert(0, str(site))


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def strided(flat, start, stride):
    values = flat[start::stride]
    return {"start": int(start), "stride": int(stride), "values": [float(v) for v in values]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=Path, default=clips_module.default_folder())
    parser.add_argument("--site", type=Path,
                        default=clips_module.cache_root() / "whisper-reference" / "site",
                        help="private pip --target folder for the reference packages")
    parser.add_argument("--model", type=Path, default=clips_module.cache_root() / "models" / "whisper-base")
    args = parser.parse_args()

    ensure_reference(args.site)
    import ctranslate2
    import faster_whisper
    import numpy as np
    import av
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio, pad_or_trim

    assert faster_whisper.__version__ == PINS["faster-whisper"], faster_whisper.__version__
    assert ctranslate2.__version__ == PINS["ctranslate2"], ctranslate2.__version__
    if not (args.model / "model.bin").exists():
        sys.exit(f"make_whisper_golden: no model at {args.model}: run `reprolm pull whisper-base`")

    clips_module.make_clips(args.clips)
    model = WhisperModel(str(args.model), device="cpu", compute_type="float32", cpu_threads=2)
    fe = model.feature_extractor
    window_frames = fe.nb_max_frames

    filters = fe.mel_filters
    mel_rows = []
    for row in filters:
        nz = np.nonzero(row)[0]
        mel_rows.append({"first_bin": int(nz[0]), "weights": [float(v) for v in row[nz[0]:nz[-1] + 1]]})
    hann = np.hanning(fe.n_fft + 1)[:-1].astype("float32")

    clips = []
    for name, voice, speed, text in clips_module.CLIPS:
        pcm = args.clips / f"{name}.wav"
        flt = args.clips / f"{name}-f32.wav"
        audio = decode_audio(str(pcm))
        audio_f32 = decode_audio(str(flt))
        features = fe(audio)  # what transcribe computes: the whole clip at once
        content_frames = features.shape[-1] - 1

        windows = []
        seek = 0
        while seek < content_frames:  # transcribe's loop without clip_timestamps or timestamps
            size = min(window_frames, content_frames - seek)
            window = pad_or_trim(features[:, seek:seek + size])
            flat = window.reshape(-1)
            windows.append({
                "seek": seek, "frames": size,
                "min": float(window.min()), "max": float(window.max()),
                "mean": float(window.astype(np.float64).mean()),
                "sample": strided(flat, seek % WINDOW_STRIDE, WINDOW_STRIDE),
            })
            seek += size

        segments_iter, info = model.transcribe(str(pcm), **SETTINGS)
        segments = []
        for s in segments_iter:
            segments.append({
                "window": s.seek // window_frames, "seek": s.seek, "tokens": list(s.tokens),
                "text": s.text, "avg_logprob": s.avg_logprob, "no_speech_prob": s.no_speech_prob,
            })

        flat = features.reshape(-1)
        stride = max(1, flat.size // FEATURE_SAMPLES)
        clips.append({
            "name": name, "voice": voice, "speed": speed, "text": text,
            "wav": {"file": pcm.name, "sha256": sha256_bytes(pcm.read_bytes())},
            "wav_f32": {"file": flt.name, "sha256": sha256_bytes(flt.read_bytes())},
            "samples": int(audio.shape[0]),
            "decoded_sha256": sha256_bytes(audio.astype("<f4").tobytes()),
            "decoded_f32_sha256": sha256_bytes(audio_f32.astype("<f4").tobytes()),
            "feature_frames": int(features.shape[-1]),
            "content_frames": int(content_frames),
            "features_sample": strided(flat, stride // 2, stride),
            "windows": windows,
            "segments": segments,
            "transcript": "".join(s["text"] for s in segments),
        })
        print(f"make_whisper_golden: {name}: {len(windows)} window(s): {clips[-1]['transcript']!r}", file=sys.stderr)

    synthetic = []
    rng = np.random.default_rng(20240614)
    signals = [("random", rng.integers(-32768, 32768, size=n, dtype=np.int16)) for n in SYNTHETIC_LENGTHS]
    signals.append(("silence", np.zeros(3200, dtype=np.int16)))
    for kind, ints in signals:
        audio = ints.astype(np.float32) / 32768.0  # decode_audio's conversion
        features = fe(audio)
        synthetic.append({"kind": kind, "pcm16": [int(v) for v in ints] if kind == "random" else None,
                          "samples": int(ints.size), "feature_frames": int(features.shape[-1]),
                          "features": [float(v) for v in features.reshape(-1)]})

    tokenizer = faster_whisper.tokenizer.Tokenizer(model.hf_tokenizer, True, task="transcribe", language="en")
    prompt = model.get_prompt(tokenizer, [], without_timestamps=True)
    versions = {"faster-whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__,
                "numpy": np.__version__, "av": av.__version__}
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    sox = subprocess.run(["sox", "--version"], capture_output=True, text=True).stdout.strip()
    golden = {
        "reference": versions, "espeak_ng": espeak, "sox": sox,
        "model": {"name": args.model.name,
                  "model_bin_sha256": sha256_bytes((args.model / "model.bin").read_bytes())},
        "settings": SETTINGS, "prompt": [int(t) for t in prompt],
        "feature_extractor": {"mel_bins": int(filters.shape[0]), "n_fft": fe.n_fft, "hop_length": fe.hop_length,
                              "window_frames": window_frames, "sampling_rate": fe.sampling_rate},
        "hann_window": [float(v) for v in hann],
        "mel_filters": mel_rows,
        "clips": clips,
        "synthetic": synthetic,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"make_whisper_golden: wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
