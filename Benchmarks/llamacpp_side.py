#!/usr/bin/env python3
"""One llama.cpp measurement, in its own process so its peak RSS is its own.

Prints one JSON line: {"prefill_tps", "decode_tps", "peak_rss_mib"} for a model file, a thread
count, a prompt of exactly `--prompt-tokens` tokens and `--decode-tokens` greedy decode steps.
Run by Benchmarks/compare.py (through Benchmarks/run); needs llama-cpp-python.
"""
import argparse
import json
import resource
import time

import numpy as np
from llama_cpp import Llama


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-tokens", type=int, default=128)
    args = ap.parse_args()

    llm = Llama(model_path=args.model, n_ctx=1024, n_batch=512, n_threads=args.threads,
                n_threads_batch=args.threads, logits_all=False, verbose=False)
    base = llm.tokenize(b"The history of the printing press begins in the fifteenth century, "
                        b"when Johannes Gutenberg combined several existing technologies. ", add_bos=False)
    prompt = (base * (args.prompt_tokens // len(base) + 1))[: args.prompt_tokens]

    # Warm-up: page the weights in, so both engines are measured warm.
    llm.eval(prompt[:8])
    llm.reset()

    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    t2 = time.perf_counter()
    for _ in range(args.decode_tokens):
        llm.eval([tok])
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"prefill_tps": len(prompt) / (t1 - t0),
                      "decode_tps": args.decode_tokens / (t3 - t2),
                      "peak_rss_mib": rss}))


if __name__ == "__main__":
    main()
