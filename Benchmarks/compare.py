#!/usr/bin/env python3
"""reprolm beside llama.cpp's own `llama-bench`, on the same GGUF files and thread counts.

Tests, as llama-bench names them: pp128 and pp512 (a prompt of that many tokens in one pass, from
an empty context), tg128 (128 decode steps of one token each), and tg128@d2048 (the same after a
context of 2048 tokens). Every measurement runs in its own process (`reprolm bench`, `llama-bench
-r 1`), so each peak RSS is that engine's own and the two never compete for cores; the two
engines' runs alternate, so a slow spell of a shared machine hits both, and each figure is the
median of `--repeat` runs. Decode lines also show the achieved weight bandwidth (bytes of weights
read per token x tokens/s) beside the machine's read bandwidth (`reprolm bench --memory-bandwidth`).
Then the encoder table: all-MiniLM-L6-v2 sentences per second at batch 1 and 32 beside a numpy
float32 implementation (Benchmarks/minilm_numpy_side.py), since llama.cpp does not read
safetensors folders.

Targets (the issue's): every ratio >= 1.0x, every reprolm peak RSS <= llama.cpp's, MiniLM >= 2x.
Run through Benchmarks/run, which builds both engines and pulls the models.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"]
TESTS = ["pp128", "pp512", "tg128", "tg128@d2048"]


def parse_test(name):
    """'tg128@d2048' -> ('tg', 128, 2048)."""
    head, _, depth = name.partition("@d")
    kind, count = head[:2], int(head[2:])
    if kind not in ("pp", "tg"):
        raise ValueError(name)
    return kind, count, int(depth or 0)


def run_json(cmd, env=None):
    """Runs a command (its output to temporary files, so neither pipe can fill and stall it) and
    returns its stdout and its own peak RSS in MiB, from wait4."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read()[-4000:]}")
        return out.read(), usage.ru_maxrss / 1024


def ours(args, model, threads, test):
    kind, count, depth = parse_test(test)
    cmd = [args.reprolm, "bench", "--model", model, "--threads", str(threads), "--depth", str(depth),
           "--prompt-tokens", str(count if kind == "pp" else 0), "--decode-tokens", str(count if kind == "tg" else 0)]
    out, rss = run_json(cmd)
    report = json.loads(out.strip().splitlines()[-1])
    return {"tps": report["prefill_tps" if kind == "pp" else "decode_tps"], "rss": rss,
            "bytes": report["weight_bytes_per_token"], "kernels": report["kernels"]}


def theirs(args, gguf, threads, test):
    kind, count, depth = parse_test(test)
    cmd = [args.llama_bench, "-m", gguf, "-t", str(threads), "-r", "1", "-o", "json", "-d", str(depth),
           "-p", str(count if kind == "pp" else 0), "-n", str(count if kind == "tg" else 0)]
    out, rss = run_json(cmd)
    rows = json.loads(out)
    return {"tps": rows[0]["avg_ts"], "rss": rss, "build": f"({rows[0].get('backends', '?')} backend, "
            f"n_batch {rows[0].get('n_batch')}, n_ubatch {rows[0].get('n_ubatch')}, KV {rows[0].get('type_k')})"}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            flags, name = "", "unknown CPU"
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line
            simd = [x for x in ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni") if f" {x}" in flags]
            return f"{name} ({', '.join(simd)})"
    except OSError:
        return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reprolm", default=os.path.join(ROOT, ".build", "release", "reprolm"))
    ap.add_argument("--llama-bench", required=True, help="llama-bench built natively from the pinned source")
    ap.add_argument("--python", default=sys.executable, help="interpreter with numpy, tokenizers, safetensors")
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--tests", nargs="*", default=TESTS)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is shown)")
    ap.add_argument("--encoder-batches", nargs="*", type=int, default=[1, 32])
    ap.add_argument("--sentences", type=int, default=256, help="sentences per encoder measurement")
    args = ap.parse_args()

    print(f"machine: {cpu_name()}, {os.cpu_count()} cores")
    bandwidth = {}
    for threads in args.threads:
        out, _ = run_json([args.reprolm, "bench", "--memory-bandwidth", "--threads", str(threads)])
        bandwidth[threads] = json.loads(out.strip().splitlines()[-1])["read_gb_per_s"]
    print("memory read bandwidth: " + ", ".join(f"{bandwidth[t]:.1f} GB/s at {t} thread{'s' if t > 1 else ''}"
                                               for t in args.threads))
    if args.models:
        decoder_table(args, bandwidth)
    if args.encoder_batches:
        encoder_table(args)


def decoder_table(args, bandwidth):
    misses, header_done = [], False
    for model in args.models:
        path = subprocess.run([args.reprolm, "pull", model], capture_output=True, text=True)
        gguf = path.stdout.strip().splitlines()[-1] if path.returncode == 0 else None
        if not gguf:
            sys.exit(f"cannot find the file of {model}: {path.stderr}")
        for threads in args.threads:
            for test in args.tests:
                our_runs, their_runs = [], []
                for _ in range(args.repeat):
                    our_runs.append(ours(args, model, threads, test))
                    their_runs.append(theirs(args, gguf, threads, test))
                if not header_done:
                    print(f"llama.cpp: llama-bench built natively (cmake, GGML_NATIVE=ON, Release) from the llama.cpp "
                          f"vendored in the llama-cpp-python 0.3.36 sdist {their_runs[0]['build']}; reprolm kernels: "
                          f"{our_runs[0]['kernels']}; median of {args.repeat} alternating runs\n")
                    print("| model | threads | test | reprolm tok/s | llama.cpp tok/s | ratio | weights GB/s reprolm "
                          "(of the machine's) | peak RSS MiB reprolm | llama.cpp |")
                    print("|---|---|---|---|---|---|---|---|---|")
                    header_done = True
                a = statistics.median(r["tps"] for r in our_runs)
                b = statistics.median(r["tps"] for r in their_runs)
                rss_a = statistics.median(r["rss"] for r in our_runs)
                rss_b = statistics.median(r["rss"] for r in their_runs)
                gbs = f"{a * our_runs[0]['bytes'] / 1e9:.1f} ({100 * a * our_runs[0]['bytes'] / 1e9 / bandwidth[threads]:.0f}%)" \
                    if test.startswith("tg") else ""
                print(f"| {model} | {threads} | {test} | {a:.1f} | {b:.1f} | {a / b:.2f}x | {gbs} | {rss_a:.0f} | {rss_b:.0f} |",
                      flush=True)
                if a < b:
                    misses.append(f"{model} x{threads} {test}: {a / b:.2f}x")
                if rss_a > rss_b:
                    misses.append(f"{model} x{threads} {test}: RSS {rss_a:.0f} MiB > {rss_b:.0f} MiB")
    print()
    print("targets met" if not misses else "targets missed:\n  " + "\n  ".join(misses))


def encoder_table(args):
    path = subprocess.run([args.reprolm, "pull", "minilm-l6"], capture_output=True, text=True)
    folder = path.stdout.strip().splitlines()[-1] if path.returncode == 0 else None
    if not folder:
        sys.exit(f"cannot find minilm-l6: {path.stderr}")
    print(f"\nall-MiniLM-L6-v2 (F32 safetensors), {args.sentences} sentences of 7 to 24 tokens, mean pooling, "
          f"normalised; median of {args.repeat} runs each\n")
    print("| model | threads | batch | sentences/s reprolm | numpy float32 | ratio | peak RSS MiB reprolm | numpy |")
    print("|---|---|---|---|---|---|---|---|")
    for threads in args.threads:
        for batch in args.encoder_batches:
            ours_runs, ref_runs = [], []
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
            for _ in range(args.repeat):
                out, rss = run_json([args.reprolm, "bench", "--model", "minilm-l6", "--threads", str(threads),
                                     "--batch", str(batch), "--sentences", str(args.sentences)])
                ours_runs.append((json.loads(out.strip().splitlines()[-1])["sentences_per_s"], rss))
                out, rss = run_json([args.python, os.path.join(HERE, "minilm_numpy_side.py"), "--folder", folder,
                                     "--batch", str(batch), "--sentences", str(args.sentences)], env=env)
                ref_runs.append((json.loads(out.strip().splitlines()[-1])["sentences_per_s"], rss))
            a = statistics.median(r[0] for r in ours_runs)
            b = statistics.median(r[0] for r in ref_runs)
            print(f"| minilm-l6 | {threads} | {batch} | {a:.1f} | {b:.1f} | {a / b:.2f}x "
                  f"| {statistics.median(r[1] for r in ours_runs):.0f} | {statistics.median(r[1] for r in ref_runs):.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
