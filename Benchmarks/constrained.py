#!/usr/bin/env python3
"""Constrained decoding against free decoding: `reprolm bench --sampled none|json|schema:FILE` on
each model (the same sampling chain, temperature 1, seed 1; only the constraint differs),
interleaved run by run, medians printed with the ratio to free. The issue's target is >= 0.8x.

Usage: Benchmarks/constrained.py [--reps 5] [--decode-tokens 256] [--models smollm2-135m qwen2.5-coder-0.5b]
(build first: swift build -c release; REPROLM_BIN overrides the binary)."""
import argparse
import json
import os
import statistics
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("REPROLM_BIN") or os.path.join(ROOT, ".build", "release", "reprolm")
MODES = ["none", "json", "schema:" + os.path.join(ROOT, "Benchmarks", "schemas", "person.json")]


def run(model, mode, tokens):
    out = subprocess.run([BIN, "bench", "--model", model, "--prompt-tokens", "32", "--decode-tokens", str(tokens),
                          "--sampled", mode], capture_output=True, check=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--decode-tokens", type=int, default=256)
    ap.add_argument("--models", nargs="+", default=["smollm2-135m", "qwen2.5-coder-0.5b"])
    args = ap.parse_args()
    print(f"{'model':22} {'constraint':12} {'decode tok/s (median)':>22} {'vs free':>8}  runs")
    for model in args.models:
        results = {m: [] for m in MODES}
        for _ in range(args.reps):
            for mode in MODES:  # interleaved, so drift on a noisy machine hits every mode alike
                results[mode].append(run(model, mode, args.decode_tokens)["decode_tps"])
        free = statistics.median(results["none"])
        for mode in MODES:
            med = statistics.median(results[mode])
            name = mode.split(":")[0] if not mode.startswith("schema") else "schema"
            runs = " ".join(f"{x:.0f}" for x in results[mode])
            print(f"{model:22} {name:12} {med:22.1f} {med / free:8.2f}  {runs}")


if __name__ == "__main__":
    main()
