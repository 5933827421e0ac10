#!/usr/bin/env python3
"""Write Tests/conformance/fixtures/whisper-decoding.json: faster-whisper's beam-search and
timestamped transcripts of the golden clips, the reference for reprolm's beam search over audio and
its timestamps.

The reference, the model and the clips are those of scripts/make_whisper_golden.py (faster-whisper
1.2.1 on ctranslate2 4.8.5, CPU, float32, in the same private pip --target folder; the clips of
scripts/make_whisper_clips.py). For every clip and beam size it records what
WhisperModel.transcribe returns with language="en", task="transcribe", temperature=0,
vad_filter=False, without_timestamps=True, condition_on_previous_text=False, patience=1,
length_penalty=1: per segment (one per 30 s window) its seek and token ids. With timestamps
(without_timestamps=False, max_initial_timestamp 1.0), greedy and with 5 beams: per segment its
seek, start, end, token ids (timestamp tokens included) and text; there the windows start where
the last timestamp pair ended, not every 30 s.

And for two clips without speech that it writes itself (silence, and seeded white noise: see
no_speech_clips), greedy with and without timestamps, faster-whisper's default no-speech rule
(no_speech_threshold 0.6, log_prob_threshold -1) and the same decoding without the rule
(no_speech_threshold=None): the segments each gives, and the no_speech_prob and avg_logprob of
every window.

Usage: python3 scripts/make_whisper_decoding_golden.py [--clips DIR] [--site DIR] [--model DIR]
"""

import argparse
import hashlib
import importlib.util
import json
import random
import struct
import sys
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "Tests" / "conformance" / "fixtures" / "whisper-decoding.json"
BEAM_SIZES = [2, 5]
TIMESTAMP_BEAM_SIZES = [1, 5]
SETTINGS = dict(language="en", task="transcribe", temperature=0, vad_filter=False, without_timestamps=True,
                condition_on_previous_text=False, patience=1, length_penalty=1)


def no_speech_clips(folder: Path):
    """Writes silence.wav (5 s of zeros) and noise.wav (5 s of white noise, PCM16 values drawn
    uniformly from [-3000, 3000] by Python's random.Random(20261207)) into `folder`: mono 16 kHz
    PCM16, made the same way by the tests. Returns {name: path}."""
    rng = random.Random(20261207)
    signals = {"silence": [0] * 80000, "noise": [rng.randint(-3000, 3000) for _ in range(80000)]}
    paths = {}
    for name, values in signals.items():
        path = folder / f"{name}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(struct.pack(f"<{len(values)}h", *values))
        paths[name] = path
    return paths


def load(name):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    clips_module = load("make_whisper_clips")
    golden_module = load("make_whisper_golden")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=Path, default=clips_module.default_folder())
    parser.add_argument("--site", type=Path, default=clips_module.cache_root() / "whisper-reference" / "site",
                        help="private pip --target folder for the reference packages")
    parser.add_argument("--model", type=Path, default=clips_module.cache_root() / "models" / "whisper-base")
    args = parser.parse_args()

    golden_module.ensure_reference(args.site)
    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel

    for name, version in golden_module.PINS.items():
        module = faster_whisper if name == "faster-whisper" else ctranslate2
        assert module.__version__ == version, (name, module.__version__)
    if not (args.model / "model.bin").exists():
        sys.exit(f"make_whisper_decoding_golden: no model at {args.model}: run `reprolm pull whisper-base`")
    clips_module.make_clips(args.clips)
    model = WhisperModel(str(args.model), device="cpu", compute_type="float32", cpu_threads=2)

    clips = []
    for name, *_ in clips_module.CLIPS:
        wav = args.clips / f"{name}.wav"
        beams = {}
        for size in BEAM_SIZES:
            segments, _ = model.transcribe(str(wav), beam_size=size, **SETTINGS)
            beams[str(size)] = [{"seek": s.seek, "tokens": list(s.tokens), "text": s.text} for s in segments]
            print(f"make_whisper_decoding_golden: {name} beams {size}: "
                  f"{''.join(s['text'] for s in beams[str(size)])!r}", file=sys.stderr)
        timestamps = {}
        for size in TIMESTAMP_BEAM_SIZES:
            segments, _ = model.transcribe(str(wav), beam_size=size, **{**SETTINGS, "without_timestamps": False})
            timestamps[str(size)] = [{"seek": s.seek, "start": s.start, "end": s.end, "tokens": list(s.tokens),
                                      "text": s.text} for s in segments]
            print(f"make_whisper_decoding_golden: {name} timestamps, beams {size}: "
                  f"{[(s['start'], s['end']) for s in timestamps[str(size)]]}", file=sys.stderr)
        clips.append({"name": name, "wav": wav.name, "beams": beams, "timestamps": timestamps})

    no_speech = []
    for name, path in no_speech_clips(args.clips).items():
        entry = {"name": name, "wav": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for timestamps in (False, True):
            for rule, threshold in (("rule", 0.6), ("no_rule", None)):
                segments, _ = model.transcribe(str(path), beam_size=1, **{**SETTINGS, "without_timestamps": not timestamps},
                                               no_speech_threshold=threshold)
                entry[f"{'timestamps' if timestamps else 'plain'}_{rule}"] = [
                    {"seek": s.seek, "tokens": list(s.tokens), "text": s.text, "no_speech_prob": s.no_speech_prob,
                     "avg_logprob": s.avg_logprob} for s in segments]
        print(f"make_whisper_decoding_golden: {name}: with the rule {entry['plain_rule']}, "
              f"without {[(s['text'], round(s['no_speech_prob'], 3)) for s in entry['plain_no_rule']]}", file=sys.stderr)
        no_speech.append(entry)

    golden = {"reference": {"faster-whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__},
              "model": args.model.name, "settings": SETTINGS, "clips": clips,
              "no_speech": no_speech}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, sort_keys=True, indent=1) + "\n")
    print(f"make_whisper_decoding_golden: wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
