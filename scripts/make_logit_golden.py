#!/usr/bin/env python3
"""Golden files for the engine: what llama.cpp (through llama-cpp-python) computes for our models.

For each model: (1) per-token logprobs of the texts in scripts/logit_texts.json (each text
evaluated from an empty context, tokens as llama.cpp's tokenizer gives them with its special-token
rules: BOS where the model file asks for it, special-token strings parsed), and (2) greedy
continuations of the prompts, with llama.cpp's gap between its top two logits at each step, so
tests can tell real disagreements from near-ties.

Needs llama-cpp-python==0.3.36 and numpy (the tests do not: they read the JSON written here).
Usage: make_logit_golden.py [model-name ...]   (default: the three GGUF catalogue models)
"""
import json
import os
import sys

import numpy as np
from llama_cpp import Llama

from golden_files import cache_root

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {
    "smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3-270m": "gemma-3-270m-q4_k_m.gguf",
    "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
}
GREEDY_STEPS = 32


def log_softmax(logits):
    x = logits.astype(np.float64)
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def top2_gap(logits):
    order = np.argsort(-logits.astype(np.float64), kind="stable")
    return int(order[0]), float(logits[order[0]] - logits[order[1]])


def main(names):
    with open(os.path.join(ROOT, "scripts", "logit_texts.json")) as f:
        spec = json.load(f)
    for name in names:
        path = os.path.join(cache_root(), "models", name, MODELS[name])
        llm = Llama(model_path=path, logits_all=True, n_ctx=2048, n_batch=512, n_threads=2,
                    verbose=False, seed=0)
        texts = []
        total = 0
        for text in spec["texts"]:
            tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
            llm.reset()
            llm.eval(tokens)
            scores = np.array(llm.scores[: len(tokens)])
            logprobs = [None] + [float(log_softmax(scores[i - 1])[tokens[i]]) for i in range(1, len(tokens))]
            argmax = [top2_gap(scores[i])[0] for i in range(len(tokens))]
            gaps = [top2_gap(scores[i])[1] for i in range(len(tokens))]
            texts.append({"text": text, "tokens": tokens, "logprobs": logprobs,
                          "argmax": argmax, "top2Gap": gaps})
            total += len(tokens) - 1
        greedy = []
        for prompt in spec["greedy_prompts"]:
            tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
            llm.reset()
            llm.eval(tokens)
            out, gaps = [], []
            for _ in range(GREEDY_STEPS):
                tok, gap = top2_gap(np.array(llm.scores[llm.n_tokens - 1]))
                out.append(tok)
                gaps.append(gap)
                if tok == llm.token_eos():
                    break
                llm.eval([tok])
            greedy.append({"prompt": prompt, "promptTokens": tokens, "tokens": out, "top2Gap": gaps,
                           "text": llm.detokenize(out).decode("utf-8", errors="replace")})
        llm.close()
        doc = {"model": name, "file": MODELS[name], "reference": "llama-cpp-python 0.3.36, n_threads=2, n_batch=512",
               "scoredTokens": total, "texts": texts, "greedy": greedy}
        out_path = os.path.join(ROOT, "Tests", "ModelsTests", "Golden", f"logits-{name}.json")
        with open(out_path, "w") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        print(f"{name}: {total} scored tokens, {len(greedy)} greedy continuations -> {out_path}")
        for g in greedy:
            print(f"  {g['prompt']!r} -> {g['text']!r}")


if __name__ == "__main__":
    main(sys.argv[1:] or list(MODELS))
