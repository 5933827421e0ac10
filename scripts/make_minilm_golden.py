#!/usr/bin/env python3
"""Golden embeddings for all-MiniLM-L6-v2, made without reprolm: Hugging Face `tokenizers` for the
token ids and a plain numpy forward pass (float64) over the safetensors weights for the vectors
(BERT embeddings, 6 post-LayerNorm encoder layers with exact-erf GELU, mean pooling over the
tokens, L2 normalisation: what sentence-transformers computes for this model).

    /root/refenv/venv/bin/python scripts/make_minilm_golden.py [MODEL_DIR]

writes Tests/EngineTests/Golden/minilm-l6-embeddings.json. The tests compare reprolm's vectors to
these by cosine (> 0.9999) and check the reference figures measured with sentence-transformers."""

import hashlib
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/reprolm/models/minilm-l6")
OUT = os.path.join(ROOT, "Tests", "EngineTests", "Golden", "minilm-l6-embeddings.json")

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "Hello world, this is a test.",
    "The quick brown fox jumps over the lazy dog.",
    "I love reproducible machine learning.",
    "Determinism matters for audits in finance and health.",
    "The weather is lovely today.",
    "It is raining cats and dogs.",
    "Paris is the capital of France.",
    "Berlin is the capital of Germany.",
    "The mitochondria is the powerhouse of the cell.",
    "Quantum computers use qubits.",
    "She sells seashells by the seashore.",
    "How do I bake sourdough bread?",
    "What is the meaning of life?",
    "The stock market fell sharply on Monday.",
    "Interest rates were left unchanged.",
    "A cat sits on the mat.",
    "Dogs are loyal companions.",
    "Café déjà vu: naïve résumé.",
    "Ünïcödé àccents are stripped by the normalizer.",
    "東京は日本の首都です。",
    "北京是中国的首都。",
    "Emoji 🦙 and symbols ©®™ appear here.",
    "¿Dónde está la biblioteca?",
    "Das ist ein deutscher Satz mit Umlauten: äöüß.",
    "Numbers: 3.14159, 2,718, 1e-9 and 42.",
    "email@example.com and https://example.org/path?q=1",
    "Punctuation!!! Lots of it??? Yes...",
    "UPPER CASE TEXT IS LOWERED",
    "tabs\tand\nnewlines\r\nare whitespace",
    "a",
    "",
    "   leading and trailing spaces   ",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "The the the the the the the the.",
    "Machine learning models can be deterministic if every reduction has a fixed order.",
    "This sentence is a bit longer than the others, because it goes on and on, adding clause after clause, "
    "so that the encoder has to attend over many more positions than usual before it is done.",
    "Short.",
    "Why?",
    "Transformers use self-attention.",
    "The cat chased the mouse.",
    "The mouse was chased by the cat.",
    "Reproducibility is the cornerstone of science.",
    "I cannot reproduce this bug on my machine.",
    " ".join(["long"] * 600),  # far past the 256-token limit: truncated
]


def layer_norm(x, w, b, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def forward(ids, t, config):
    h, heads = config["hidden_size"], config["num_attention_heads"]
    d = h // heads
    eps = config["layer_norm_eps"]
    n = len(ids)
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.token_type_embeddings.weight"][0] \
        + t["embeddings.position_embeddings.weight"][:n]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        def dense(v, name):
            return v @ t[p + name + ".weight"].T + t[p + name + ".bias"]
        q = dense(x, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        k = dense(x, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        v = dense(x, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s = s / s.sum(axis=-1, keepdims=True)
        att = (s @ v).transpose(1, 0, 2).reshape(n, h)
        x = layer_norm(dense(att, "attention.output.dense") + x, t[p + "attention.output.LayerNorm.weight"],
                       t[p + "attention.output.LayerNorm.bias"], eps)
        inner = gelu(dense(x, "intermediate.dense"))
        x = layer_norm(dense(inner, "output.dense") + x, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], eps)
    return x


def main():
    with open(os.path.join(MODEL, "config.json")) as f:
        config = json.load(f)
    tensors = {k: v.astype(np.float64) for k, v in load_file(os.path.join(MODEL, "model.safetensors")).items()
               if v.dtype == np.float32}
    with open(os.path.join(MODEL, "sentence_bert_config.json")) as f:
        max_length = json.load(f)["max_seq_length"]
    tokenizer = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    # tokenizer.json pads to 128 and truncates at 128; sentence-transformers encodes without
    # padding (one text at a time here) and truncates at the model's max_seq_length.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    cases = []
    for text in SENTENCES:
        enc = tokenizer.encode(text)
        hidden = forward(enc.ids, tensors, config)
        mean = hidden.mean(axis=0)
        vector = mean / max(np.linalg.norm(mean), 1e-12)
        cases.append({"text": text, "tokens": enc.ids, "truncated": len(enc.overflowing) > 0,
                      "embedding": [float(f"{x:.8g}") for x in vector]})
    def cos(a, b):
        a, b = np.array(a), np.array(b)
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    by_text = {c["text"]: c["embedding"] for c in cases}
    facts = {
        "cosEatingBread": round(cos(by_text[SENTENCES[0]], by_text[SENTENCES[1]]), 6),
        "cosEatingBaby": round(cos(by_text[SENTENCES[0]], by_text[SENTENCES[2]]), 6),
        "firstFiveDims": by_text[SENTENCES[0]][:5],
    }
    with open(os.path.join(MODEL, "model.safetensors"), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    out = {"model": "minilm-l6", "safetensorsSha256": sha, "pooling": "mean", "normalize": True, "maxTokens": max_length,
           "reference": "tokenizers + numpy float64 forward pass (scripts/make_minilm_golden.py)",
           "facts": facts, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(out, f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} sentences; facts {facts}")


if __name__ == "__main__":
    main()
