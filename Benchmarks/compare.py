#!/usr/bin/env python3
"""reprolm and llama.cpp side by side: prefill tokens/s (128-token prompt), decode tokens/s (128
greedy steps) and peak RSS, for each catalogue GGUF model at 1 and 2 threads, on the same files.

Each measurement runs in its own process (`reprolm bench`, Benchmarks/llamacpp_side.py), one
after the other, so each peak RSS is that engine's own and the two never compete for cores. A
shared or virtual machine is noisy: each figure is the median of `--repeat` runs, the two
engines' runs interleaved so a slow spell hits both.
Prints a Markdown table with the ratios reprolm / llama.cpp and the issue's targets:
decode >= 0.7x, prefill >= 0.5x, RSS <= model file + KV cache + 64 MiB. Then the encoder line:
all-MiniLM-L6-v2 sentences per second at batch 1 and 32, beside a numpy float32 implementation
(Benchmarks/minilm_numpy_side.py: BLAS products, padded batches, as sentence-transformers runs it),
for context: llama.cpp does not read safetensors folders.
Run through Benchmarks/run, which installs llama-cpp-python and builds reprolm.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = ["smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"]


def run_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reprolm", default=os.path.join(ROOT, ".build", "release", "reprolm"))
    ap.add_argument("--python", default=sys.executable, help="interpreter with llama-cpp-python")
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is shown)")
    ap.add_argument("--encoder-batches", nargs="*", type=int, default=[1, 32])
    ap.add_argument("--sentences", type=int, default=256, help="sentences per encoder measurement")
    args = ap.parse_args()

    import llama_cpp  # noqa: F401 - fail early if the interpreter lacks it
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores; llama-cpp-python {llama_cpp.__version__}")
    if args.models:
        decoder_table(args)
    if args.encoder_batches:
        encoder_table(args)


def decoder_table(args):
    print(f"prompt {args.prompt_tokens} tokens, decode {args.decode_tokens} tokens, greedy, warm; "
          f"median of {args.repeat} runs each\n")
    print("| model | threads | prefill tok/s reprolm | llama.cpp | ratio | decode tok/s reprolm | llama.cpp | ratio "
          "| peak RSS MiB reprolm | llama.cpp | RSS budget |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    misses = []
    for model in args.models:
        for threads in args.threads:
            common = ["--threads", str(threads), "--prompt-tokens", str(args.prompt_tokens),
                      "--decode-tokens", str(args.decode_tokens)]
            path = subprocess.run([args.reprolm, "pull", model], capture_output=True, text=True)
            gguf = path.stdout.strip().splitlines()[-1] if path.returncode == 0 else None
            if not gguf:
                sys.exit(f"cannot find the file of {model}: {path.stderr}")
            our_runs, their_runs = [], []
            for _ in range(args.repeat):
                our_runs.append(run_json([args.reprolm, "bench", "--model", model] + common))
                their_runs.append(run_json([args.python, os.path.join(HERE, "llamacpp_side.py"), "--model", gguf] + common))
            ours = {k: statistics.median(r[k] for r in our_runs) for k in our_runs[0]}
            theirs = {k: statistics.median(r[k] for r in their_runs) for k in their_runs[0]}
            prefill = ours["prefill_tps"] / theirs["prefill_tps"]
            decode = ours["decode_tps"] / theirs["decode_tps"]
            budget = ours["file_mib"] + ours["kv_cache_mib"] + 64
            print(f"| {model} | {threads} | {ours['prefill_tps']:.1f} | {theirs['prefill_tps']:.1f} | {prefill:.2f}x "
                  f"| {ours['decode_tps']:.1f} | {theirs['decode_tps']:.1f} | {decode:.2f}x "
                  f"| {ours['peak_rss_mib']:.0f} | {theirs['peak_rss_mib']:.0f} | {budget:.0f} |", flush=True)
            if decode < 0.7:
                misses.append(f"{model} x{threads}: decode {decode:.2f}x < 0.7x")
            if prefill < 0.5:
                misses.append(f"{model} x{threads}: prefill {prefill:.2f}x < 0.5x")
            if ours["peak_rss_mib"] > budget:
                misses.append(f"{model} x{threads}: RSS {ours['peak_rss_mib']:.0f} MiB > {budget:.0f} MiB")
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
                ours_runs.append(run_json([args.reprolm, "bench", "--model", "minilm-l6", "--threads", str(threads),
                                           "--batch", str(batch), "--sentences", str(args.sentences)]))
                ref_runs.append(run_json([args.python, os.path.join(HERE, "minilm_numpy_side.py"), "--folder", folder,
                                          "--batch", str(batch), "--sentences", str(args.sentences)], env=env))
            ours = {k: statistics.median(r[k] for r in ours_runs) for k in ours_runs[0]}
            ref = {k: statistics.median(r[k] for r in ref_runs) for k in ref_runs[0]}
            print(f"| minilm-l6 | {threads} | {batch} | {ours['sentences_per_s']:.1f} | {ref['sentences_per_s']:.1f} "
                  f"| {ours['sentences_per_s'] / ref['sentences_per_s']:.2f}x | {ours['peak_rss_mib']:.0f} "
                  f"| {ref['peak_rss_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
