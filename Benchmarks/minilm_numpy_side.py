#!/usr/bin/env python3
"""The reference half of the MiniLM line of Benchmarks/compare.py: all-MiniLM-L6-v2 in numpy
float32 as sentence-transformers runs it (a batch padded to its longest input with an attention
mask, BLAS matrix products, mean pooling over the real tokens, L2 normalisation). Prints one JSON
line: sentences per second and peak RSS. Needs numpy, tokenizers and safetensors."""
import argparse
import json
import math
import os
import resource
import time

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

SENTENCES = [
    "A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
    "A man is riding a horse.", "A woman is playing violin.", "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.", "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.", "The quick brown fox jumps over the lazy dog.",
    "Reproducible inference means the same request gives the same bits, whatever else the server is doing.",
    "Paris is the capital of France.",
]


def erf(x):
    # numpy has no erf; Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32's resolution
    # at the activations' scale), vectorised, as a BLAS-backed implementation would run.
    s = np.sign(x)
    a = np.abs(x)
    t = 1 / (1 + np.float32(0.3275911) * a)
    y = 1 - (((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t) + np.float32(1.421413741)) * t
              - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t * np.exp(-a * a)
    return s * y


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def encode(batch_ids, t, cfg):
    h, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    d, eps = h // heads, cfg["layer_norm_eps"]
    n = max(len(i) for i in batch_ids)
    ids = np.zeros((len(batch_ids), n), dtype=np.int64)
    mask = np.zeros((len(batch_ids), n), dtype=np.float32)
    for r, i in enumerate(batch_ids):
        ids[r, :len(i)] = i
        mask[r, :len(i)] = 1
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.token_type_embeddings.weight"][0] \
        + t["embeddings.position_embeddings.weight"][:n]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    bias = (1 - mask)[:, None, None, :] * -1e9
    b = len(batch_ids)
    for layer in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        dense = lambda v, name: v @ t[p + name + ".weight"].T + t[p + name + ".bias"]
        q = dense(x, "attention.self.query").reshape(b, n, heads, d).transpose(0, 2, 1, 3)
        k = dense(x, "attention.self.key").reshape(b, n, heads, d).transpose(0, 2, 1, 3)
        v = dense(x, "attention.self.value").reshape(b, n, heads, d).transpose(0, 2, 1, 3)
        s = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(d)) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        att = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, h)
        x = layer_norm(dense(att, "attention.output.dense") + x, t[p + "attention.output.LayerNorm.weight"],
                       t[p + "attention.output.LayerNorm.bias"], eps)
        inner = dense(x, "intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / np.float32(math.sqrt(2))))
        x = layer_norm(dense(inner, "output.dense") + x, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], eps)
    pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--sentences", type=int, default=256)
    args = ap.parse_args()
    with open(os.path.join(args.folder, "config.json")) as f:
        cfg = json.load(f)
    t = {k: v for k, v in load_file(os.path.join(args.folder, "model.safetensors")).items() if v.dtype == np.float32}
    tok = Tokenizer.from_file(os.path.join(args.folder, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=256)
    ids = [tok.encode(SENTENCES[i % len(SENTENCES)]).ids for i in range(args.sentences)]
    encode(ids[:args.batch], t, cfg)
    start = time.perf_counter()
    for i in range(0, len(ids), args.batch):
        encode(ids[i:i + args.batch], t, cfg)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"sentences_per_s": args.sentences / elapsed, "peak_rss_mib": peak}))


if __name__ == "__main__":
    main()
