#!/usr/bin/env python3
"""reprolm's Whisper (whisper-base) beside faster-whisper 1.2.1 (CTranslate2 4.8.5, float32 and
int8) on the same model folder, clips and thread counts.

Settings, both sides: language en, transcribe, greedy (beam 1, temperature 0), no timestamps, no
VAD, no conditioning on the previous window. Figures per clip and thread count:
  - end to end: seconds of audio per second of transcribing (reprolm: the wall time of the
    daemon's `generate` answer for the clip's path, read by a client over stdio; faster-whisper:
    `WhisperModel.transcribe` with its segments consumed), warm (after one untimed clip);
  - encoder and decoder seconds: reprolm's own answer's timings (prefillMs: the log-mel features
    and every window's encoder pass; decodeMs: each window's cross-attention keys and values, its
    prompt and every greedy step); faster-whisper's from CTranslate2's Whisper directly (`encode`
    of each window's features, `generate` from the same prompt on its output);
  - peak RSS of the whole process (wait4), model load included.
Each measurement process transcribes every clip once; the engines' processes alternate
(reprolm, float32, int8) round after round, so a slow spell of a shared machine hits all three,
and each figure is the median over `--repeat` rounds; the best round's end to end is shown too (on
a shared machine the best is the nearest to an idle one; faster-whisper's threads slow down far
more than reprolm's when another process holds a core). The tokens are compared: the reprolm and
faster-whisper float32 transcripts should be equal.

Target (the issue's): reprolm end to end >= 1.0x faster-whisper float32 at every thread count.
Inputs are found or made here: `reprolm pull whisper-base`, scripts/make_whisper_clips.py for
missing clips, and faster-whisper/ctranslate2 pip-installed (--target) into a private folder
under the cache when absent. Run through `Benchmarks/run --whisper`, which builds reprolm first.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.environ.get("REPROLM_CACHE_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "reprolm")
PINS = {"faster-whisper": "1.2.1", "ctranslate2": "4.8.5"}
SETTINGS = dict(language="en", task="transcribe", beam_size=1, temperature=0, vad_filter=False,
                without_timestamps=True, condition_on_previous_text=False)
PROMPT = [50258, 50259, 50359, 50363]   # <|startoftranscript|> <|en|> <|transcribe|> <|notimestamps|>
SIDES = ["reprolm", "float32", "int8"]


def fail(message):
    sys.exit(f"whisper_compare: {message}")


def ensure_reference(site):
    """Installs the pinned faster-whisper and ctranslate2 into the private folder if missing."""
    def installed():
        return all(os.path.isdir(os.path.join(site, f"{n.replace('-', '_')}-{v}.dist-info")) for n, v in PINS.items())
    if not installed():
        print(f"installing {PINS} into {site}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", site]
                       + [f"{n}=={v}" for n, v in PINS.items()], check=True)
        if not installed():
            fail(f"pip did not install {PINS} into {site}")


def model_folder(reprolm):
    pulled = subprocess.run([reprolm, "pull", "whisper-base"], capture_output=True, text=True)
    folder = pulled.stdout.strip().splitlines()[-1] if pulled.returncode == 0 and pulled.stdout.strip() else ""
    if not os.path.isfile(os.path.join(folder, "model.bin")):
        fail(f"`reprolm pull whisper-base` gave no model folder: {pulled.stderr[-2000:]}")
    return folder


def clip_paths(names):
    folder = os.path.join(CACHE, "whisper-clips")
    paths = [os.path.join(folder, f"{n}.wav") for n in names]
    if not all(os.path.isfile(p) for p in paths):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_whisper_clips.py")], check=True)
    for p in paths:
        if not os.path.isfile(p):
            fail(f"no clip {p} (scripts/make_whisper_clips.py did not make it)")
    return paths


def longest_clip():
    folder = os.path.join(CACHE, "whisper-clips")
    if not os.path.isdir(folder):
        clip_paths(["stella"])
    wavs = [f for f in os.listdir(folder) if f.endswith(".wav") and not f.endswith("-f32.wav")]
    return max(wavs, key=lambda f: os.path.getsize(os.path.join(folder, f)))[:-4]


def seconds(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def wait_rss(proc):
    """Waits for the process; returns (exit code, peak RSS in MiB) from wait4."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def reprolm_side(args, threads, clips):
    """One daemon over stdio: a warm-up answer, then each clip's answer timed by the client."""
    with tempfile.TemporaryDirectory() as state, tempfile.TemporaryFile("w+") as err:
        env = dict(os.environ, XDG_STATE_HOME=state)
        proc = subprocess.Popen([args.reprolm, "serve", "--stdio", "--model", "whisper-base", "--no-journal",
                                 "--threads", str(threads), "--log-level", "warning"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
        ids = iter(range(1, 1 << 30))

        def call(path):
            n = next(ids)
            params = {"model": "whisper-base", "audio": {"path": path}, "language": "en", "temperature": 0,
                      "maxTokens": 444}
            proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": n, "method": "generate", "params": params}) + "\n")
            proc.stdin.flush()
            t0 = time.perf_counter()
            while True:
                line = proc.stdout.readline()
                if not line:
                    err.seek(0)
                    fail(f"reprolm serve ended without answering:\n{err.read()[-4000:]}")
                reply = json.loads(line)
                if reply.get("id") == n:
                    break
            elapsed = time.perf_counter() - t0
            if "result" not in reply:
                fail(f"reprolm answered an error for {path}: {reply}")
            return elapsed, reply["result"]

        call(clips[0])
        out = {}
        for path in clips:
            e2e, r = call(path)
            tokens = [t for s in r["segments"] for t in s["tokens"] if t != 50257]
            out[path] = {"e2e": e2e, "encode": r["timings"]["prefillMs"] / 1000,
                         "decode": r["timings"]["decodeMs"] / 1000, "tokens": tokens}
        proc.stdin.close()
        proc.stdout.read()
        code, rss = wait_rss(proc)
        if code != 0:
            err.seek(0)
            fail(f"reprolm serve exited {code}:\n{err.read()[-4000:]}")
        return out, rss


def faster_side(args, compute_type, threads, clips):
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "whisper_faster_side.py"), "--site", args.site,
                                 "--model", args.model, "--compute-type", compute_type, "--threads", str(threads),
                                 "--settings", json.dumps(SETTINGS), "--prompt", json.dumps(PROMPT)] + clips,
                                stdout=out, stderr=err, text=True, env=env)
        code, rss = wait_rss(proc)
        out.seek(0)
        err.seek(0)
        if code != 0:
            fail(f"faster-whisper {compute_type} x{threads} failed ({code}):\n{err.read()[-4000:]}")
        return json.loads(out.read().strip().splitlines()[-1])["clips"], rss


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reprolm", default=os.path.join(ROOT, ".build", "release", "reprolm"))
    ap.add_argument("--site", default=os.path.join(CACHE, "whisper-reference", "site"),
                    help="private pip --target folder for faster-whisper and ctranslate2")
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--clips", nargs="*", help="clip names in the whisper-clips folder (default: stella and the longest)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds (the median of each figure is shown)")
    ap.add_argument("--json", help="also write every run's figures here")
    args = ap.parse_args()

    if not os.access(args.reprolm, os.X_OK):
        fail(f"no reprolm binary at {args.reprolm}: build it (swift build -c release) or pass --reprolm")
    ensure_reference(args.site)
    args.model = model_folder(args.reprolm)
    names = args.clips or ["stella", longest_clip()]
    clips = clip_paths(names)
    audio = {p: seconds(p) for p in clips}

    runs = {(side, t): [] for side in SIDES for t in args.threads}
    for round_ in range(args.repeat):
        for threads in args.threads:
            for side in SIDES:
                if side == "reprolm":
                    figures, rss = reprolm_side(args, threads, clips)
                else:
                    figures, rss = faster_side(args, side, threads, clips)
                runs[(side, threads)].append({"clips": figures, "rss": rss})
        print(f"round {round_ + 1} of {args.repeat} done", file=sys.stderr, flush=True)

    print(f"machine: {cpu_name()}, {os.cpu_count()} cores; whisper-base ({args.model}); faster-whisper "
          f"{PINS['faster-whisper']} / ctranslate2 {PINS['ctranslate2']}; median of {args.repeat} alternating rounds\n")
    print("| clip (audio s) | threads | engine | audio s/s end to end | x float32 | best of the rounds: audio s/s "
          "| x float32 | encoder s | decoder s | tokens | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    misses, mismatches = [], []

    def med(side, threads, path, key):
        return statistics.median(r["clips"][path][key] for r in runs[(side, threads)])

    def best(side, threads, path):
        return min(r["clips"][path]["e2e"] for r in runs[(side, threads)])

    for path in clips:
        name = os.path.basename(path)[:-4]
        for threads in args.threads:
            base = audio[path] / med("float32", threads, path, "e2e")
            base_best = audio[path] / best("float32", threads, path)
            for side in SIDES:
                speed = audio[path] / med(side, threads, path, "e2e")
                speed_best = audio[path] / best(side, threads, path)
                tokens = {len(r["clips"][path]["tokens"]) for r in runs[(side, threads)]}
                rss = statistics.median(r["rss"] for r in runs[(side, threads)])
                engine = "reprolm" if side == "reprolm" else f"faster-whisper {side}"
                print(f"| {name} ({audio[path]:.1f}) | {threads} | {engine} | {speed:.2f} | {speed / base:.2f}x "
                      f"| {speed_best:.2f} | {speed_best / base_best:.2f}x | {med(side, threads, path, 'encode'):.3f} | {med(side, threads, path, 'decode'):.3f} "
                      f"| {'/'.join(map(str, sorted(tokens)))} | {rss:.0f} |", flush=True)
                if side == "reprolm" and speed < base:
                    misses.append(f"{name} x{threads}: {speed / base:.2f}x float32")
            ours = runs[("reprolm", threads)][0]["clips"][path]["tokens"]
            theirs = runs[("float32", threads)][0]["clips"][path]["tokens"]
            if ours != theirs:
                mismatches.append(f"{name} x{threads}")
    print()
    if mismatches:
        print("transcripts differ from faster-whisper float32's: " + ", ".join(mismatches))
    print("target met (>= 1.0x faster-whisper float32 end to end)" if not misses
          else "target missed:\n  " + "\n  ".join(misses))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{s} x{t}": v for (s, t), v in runs.items()}, f, indent=1)


if __name__ == "__main__":
    main()
