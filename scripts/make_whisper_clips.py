#!/usr/bin/env python3
"""Make the speech clips the Whisper tests use, and check them against the golden file.

Each clip is spoken by Debian's espeak-ng (1.51 in bookworm) at its native 22,050 Hz, then
resampled by sox to 16 kHz mono 16-bit PCM with `sox -D` (no dither: without -D sox adds random
dither noise and no two runs agree). Beside each `<name>.wav` goes `<name>-f32.wav`, the same
samples as 32-bit float written by `sox -D <name>.wav -e floating-point -b 32`, for the WAV
reader's float path.

The clips are not in git (binary, and reproducible from their spec). Their sha256s are in
Tests/AudioTests/Golden/whisper-clips.json (written by scripts/make_whisper_golden.py); a clip
whose bytes differ from the golden file's is a loud failure: another espeak-ng or sox version
speaks or resamples differently, and every reference figure would be for other audio.

Usage: scripts/make_whisper_clips.py [--out DIR] [--no-check]
DIR defaults to $REPROLM_CACHE_DIR, else $XDG_CACHE_HOME/reprolm, else ~/.cache/reprolm, then
whisper-clips/ (where the Swift tests look). Needs `espeak-ng` and `sox` (apt-get install -y
espeak-ng sox).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from golden_files import cache_root

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "Tests" / "AudioTests" / "Golden" / "whisper-clips.json"

# name, espeak-ng voice, words per minute, text. Several voices and speeds (120-220), numbers,
# names, punctuation; "long-*" run past 30 s, so the tests see more than one encoder window.
CLIPS = [
    ("stella", "en-us", 175,
     "Please call Stella and ask her to bring these things with her from the store."),
    ("fox", "en", 160,
     "The quick brown fox jumps over the lazy dog, 3 times before 9:45 in the morning."),
    ("bastille", "en-gb-x-rp", 140,
     "On the 14th of July, 1789, the people of Paris stormed the Bastille."),
    ("baker-street", "en-us+f3", 200,
     "Dr. Smith's office is at 221 Baker Street; call 555-0199 before noon."),
    ("edinburgh", "en-gb-scotland", 130,
     "Is it raining in Edinburgh today? No, but the wind is blowing at forty miles an hour!"),
    ("ferry", "en-029", 180,
     "The ferry to Kingston leaves at 7 o'clock, and the return trip costs 12 dollars and 50 cents."),
    ("stadium", "en-us+m3", 220,
     "Twenty-two thousand, four hundred and seven people watched the match in Manchester."),
    ("library", "en-us", 120,
     "Margaret, Oliver and Priya met at the library at half past six."),
    ("weather", "en+f2", 150,
     "The temperature dropped to minus 12 degrees Celsius overnight, so the roads were icy."),
    ("release", "en-gb", 190,
     "Version 2.5 of the software was released on March 3rd, 2021, with 47 bug fixes."),
    ("umbrella", "en-us-nyc", 165,
     "Hey, wait! Don't forget your umbrella, your keys, and your phone."),
    ("yes", "en-us", 210, "Yes."),
    ("long-lighthouse", "en-gb-x-rp", 150,
     "The lighthouse keeper climbed the one hundred and twelve steps every evening at dusk. "
     "He lit the great lamp, wound the clockwork that turned the lens, and wrote the weather in "
     "his log: wind from the south west, visibility four miles, a heavy swell from the Atlantic. "
     "In the winter of 1881 a storm kept the supply boat away for nineteen days. "
     "He rationed the oil, the flour and the tea, and he never once let the light go out. "
     "When the boat finally came, the captain asked him how he had managed. "
     "One step at a time, he said, and one night at a time."),
    ("long-recipe", "en-us", 125,
     "To make the bread, mix 500 grams of flour with 10 grams of salt and 7 grams of dried yeast. "
     "Add 350 millilitres of warm water and knead the dough for ten minutes, until it is smooth. "
     "Leave it in a covered bowl for an hour, or until it has doubled in size. "
     "Shape it into a loaf, put it in a tin, and let it rise for another 45 minutes. "
     "Bake it at 220 degrees for 30 to 35 minutes. The loaf is done when it sounds hollow "
     "underneath. Let it cool on a rack before you slice it, or the crumb will be gummy. "
     "This recipe makes one large loaf, enough for about 16 slices. "
     "Keep it wrapped in a cloth, and it will stay fresh for two or three days. "
     "Stale bread makes excellent toast, breadcrumbs, or a summer salad with ripe tomatoes, "
     "olive oil, basil and a little red onion. Nothing needs to go to waste."),
]


def default_folder() -> Path:
    return cache_root() / "whisper-clips"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(cmd):
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"make_whisper_clips: {' '.join(cmd)} failed:\n{result.stderr.decode(errors='replace')}")


def make_clip(folder: Path, name: str, voice: str, speed: int, text: str):
    """Writes <name>.wav and <name>-f32.wav into folder (atomically, through a temporary dir)."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        spoken = Path(tmp) / "espeak.wav"
        pcm = Path(tmp) / f"{name}.wav"
        flt = Path(tmp) / f"{name}-f32.wav"
        run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(spoken), text])
        run(["sox", "-D", str(spoken), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", str(pcm)])
        run(["sox", "-D", str(pcm), "-e", "floating-point", "-b", "32", str(flt)])
        os.replace(pcm, folder / pcm.name)
        os.replace(flt, folder / flt.name)


def make_clips(folder: Path):
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"make_whisper_clips: `{tool}` is not installed (apt-get install -y espeak-ng sox)")
    folder.mkdir(parents=True, exist_ok=True)
    for name, voice, speed, text in CLIPS:
        make_clip(folder, name, voice, speed, text)


def check(folder: Path) -> int:
    """Compares every clip with the golden file; returns the number of problems."""
    if not GOLDEN.exists():
        print(f"make_whisper_clips: no golden file at {GOLDEN}: run scripts/make_whisper_golden.py", file=sys.stderr)
        return 1
    golden = {c["name"]: c for c in json.loads(GOLDEN.read_text())["clips"]}
    problems = 0
    for name, voice, speed, text in CLIPS:
        g = golden.get(name)
        if g is None:
            print(f"make_whisper_clips: clip {name} is not in the golden file: run scripts/make_whisper_golden.py",
                  file=sys.stderr)
            problems += 1
            continue
        if (g["voice"], g["speed"], g["text"]) != (voice, speed, text):
            print(f"make_whisper_clips: clip {name}'s spec differs from the golden file's: "
                  "run scripts/make_whisper_golden.py", file=sys.stderr)
            problems += 1
        for key, suffix in (("wav", ".wav"), ("wav_f32", "-f32.wav")):
            path = folder / f"{name}{suffix}"
            got = sha256(path)
            if got != g[key]["sha256"]:
                print(f"make_whisper_clips: {path} has sha256 {got}, the golden file says {g[key]['sha256']}: "
                      "this espeak-ng or sox does not produce the reference audio "
                      "(the goldens were made with Debian bookworm's espeak-ng 1.51 and sox 14.4.2)",
                      file=sys.stderr)
                problems += 1
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_folder(), help="folder for the clips")
    parser.add_argument("--no-check", action="store_true", help="do not compare with the golden file")
    args = parser.parse_args()
    make_clips(args.out)
    if not args.no_check:
        problems = check(args.out)
        if problems:
            sys.exit(f"make_whisper_clips: {problems} clip(s) differ from {GOLDEN}")
    print(f"make_whisper_clips: {len(CLIPS)} clips in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
