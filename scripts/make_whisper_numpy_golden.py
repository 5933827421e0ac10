#!/usr/bin/env python3
"""Golden encoder states and decoder logits for faster-whisper-base, made without reprolm: its own
reader of CTranslate2's model.bin (binary version 6) and a plain numpy forward pass in float64 of
what CTranslate2's Whisper model computes (src/layers/whisper.cc, transformer.cc): two conv1d
(k3, pad 1; the second stride 2) each followed by exact-erf GELU, the stored sinusoidal positions,
six pre-norm layers (LayerNorm eps 1e-5, fused QKV, 8 heads, softmax(q k^T / sqrt(64)) v), the
final LayerNorm; the decoder: token embedding + learned position, six layers of causal
self-attention, cross-attention on the encoder output and a GELU feed-forward, the final
LayerNorm and logits by the tied embeddings.

The input needs no audio: an 80 x 3000 "log-mel" window from integer triangle waves, exact in
float32 (every value is one correctly rounded division), so the Swift test builds the same bits.

    python3 scripts/make_whisper_numpy_golden.py [MODEL_DIR]

writes Tests/ModelsTests/Golden/whisper-base-numpy.json: a strided sample of the encoder output
with summary figures, and for the prompt <|startoftranscript|><|en|><|transcribe|><|notimestamps|>
followed by three greedy tokens, every position's logits at a stride (the last prompt position
more densely) with the top 20 ids and their logits."""

import hashlib
import json
import math
import os
import struct
import sys

import numpy as np

try:
    from scipy.special import erf as _erf
except ImportError:  # the same function, one element at a time
    _erf = np.vectorize(math.erf)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/reprolm/models/whisper-base")
OUT = os.path.join(ROOT, "Tests", "ModelsTests", "Golden", "whisper-base-numpy.json")

PROMPT = [50258, 50259, 50359, 50363]
GREEDY_STEPS = 3
ENCODER_STRIDE = 97
LOGIT_STRIDE = 37
LAST_PROMPT_STRIDE = 7
TOP = 20
EPS = 1e-5


# MARK: model.bin, read independently of the Swift reader

def read_model_bin(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values[0]

    def string():
        nonlocal pos
        n = take("H")
        s = data[pos:pos + n - 1].decode("utf-8")
        assert data[pos + n - 1] == 0
        pos += n
        return s

    assert take("I") == 6, "binary version"
    assert string() == "WhisperSpec"
    assert take("I") == 3, "spec revision"
    types = {0: "<f4", 1: "<i1", 2: "<i2", 3: "<i4", 4: "<f2"}
    variables = {}
    for _ in range(take("I")):
        name = string()
        dims = [take("I") for _ in range(take("B"))]
        dtype = np.dtype(types[take("B")])
        nbytes = take("I")
        assert nbytes == int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
        variables[name] = np.frombuffer(data, dtype=dtype, count=nbytes // dtype.itemsize, offset=pos).reshape(dims)
        pos += nbytes
    for _ in range(take("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    assert pos == len(data)
    return variables, hashlib.sha256(data).hexdigest(), len(data)


# MARK: the synthetic window

def synthetic_window():
    """x[m][t] = (225 (100 - |a - 200|) + 60 (250 - |b - 500|) - 5000) / 50000 in float32, with
    a = (13 t + 29 m) mod 400 and b = (3 t + 7 m^2) mod 1000: values in [-0.4, 0.5]."""
    m = np.arange(80, dtype=np.int64)[:, None]
    t = np.arange(3000, dtype=np.int64)[None, :]
    a = (13 * t + 29 * m) % 400
    b = (3 * t + 7 * m * m) % 1000
    num = 225 * (100 - np.abs(a - 200)) + 60 * (250 - np.abs(b - 500)) - 5000
    return num.astype(np.float32) / np.float32(50000)


# MARK: the forward pass in float64

def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x, W, scope):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * W[scope + "/gamma"] + W[scope + "/beta"]


def linear(x, W, scope):
    return x @ W[scope + "/weight"].T + W[scope + "/bias"]


def attention(q, k, v, heads, causal_from=None):
    """softmax(q k^T / sqrt(d)) v per head; rows of q at positions causal_from... see keys up to theirs."""
    d = q.shape[1] // heads
    out = np.empty_like(q)
    for h in range(heads):
        s = slice(h * d, (h + 1) * d)
        scores = q[:, s] @ k[:, s].T / math.sqrt(d)
        if causal_from is not None:
            for i in range(q.shape[0]):
                scores[i, causal_from + i + 1:] = -np.inf
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        out[:, s] = (e / e.sum(axis=1, keepdims=True)) @ v[:, s]
    return out


def conv1d(x, weight, bias, stride):
    """x: channels x time; weight: out x in x 3; padding 1."""
    padded = np.pad(x, ((0, 0), (1, 1)))
    steps = (x.shape[1] + 2 - 3) // stride + 1
    cols = np.stack([padded[:, k:k + stride * (steps - 1) + 1:stride] for k in range(3)], axis=2)  # in x steps x 3
    return np.tensordot(weight, cols, axes=([1, 2], [0, 2])) + bias[:, None]


def encode(W, window):
    heads = int(W["encoder/num_heads"])
    x = gelu(conv1d(window.astype(np.float64), W["encoder/conv1/weight"], W["encoder/conv1/bias"], 1))
    x = gelu(conv1d(x, W["encoder/conv2/weight"], W["encoder/conv2/bias"], 2)).T  # time x width
    x = x + W["encoder/position_encodings/encodings"][: x.shape[0]]
    width = x.shape[1]
    layer = 0
    while f"encoder/layer_{layer}/self_attention/linear_0/weight" in W:
        p = f"encoder/layer_{layer}"
        h = layer_norm(x, W, p + "/self_attention/layer_norm")
        qkv = linear(h, W, p + "/self_attention/linear_0")
        q, k, v = qkv[:, :width], qkv[:, width:2 * width], qkv[:, 2 * width:]
        x = x + linear(attention(q, k, v, heads), W, p + "/self_attention/linear_1")
        h = layer_norm(x, W, p + "/ffn/layer_norm")
        x = x + linear(gelu(linear(h, W, p + "/ffn/linear_0")), W, p + "/ffn/linear_1")
        layer += 1
    return layer_norm(x, W, "encoder/layer_norm")


def decode(W, memory, tokens):
    """Logits of every position of `tokens` (one pass; causal)."""
    heads = int(W["decoder/num_heads"])
    x = W["decoder/embeddings/weight"][tokens] + W["decoder/position_encodings/encodings"][: len(tokens)]
    width = x.shape[1]
    layer = 0
    while f"decoder/layer_{layer}/self_attention/linear_0/weight" in W:
        p = f"decoder/layer_{layer}"
        h = layer_norm(x, W, p + "/self_attention/layer_norm")
        qkv = linear(h, W, p + "/self_attention/linear_0")
        q, k, v = qkv[:, :width], qkv[:, width:2 * width], qkv[:, 2 * width:]
        x = x + linear(attention(q, k, v, heads, causal_from=0), W, p + "/self_attention/linear_1")
        h = layer_norm(x, W, p + "/attention/layer_norm")
        q = linear(h, W, p + "/attention/linear_0")
        kv = linear(memory, W, p + "/attention/linear_1")
        x = x + linear(attention(q, kv[:, :width], kv[:, width:], heads), W, p + "/attention/linear_2")
        h = layer_norm(x, W, p + "/ffn/layer_norm")
        x = x + linear(gelu(linear(h, W, p + "/ffn/linear_0")), W, p + "/ffn/linear_1")
        layer += 1
    return layer_norm(x, W, "decoder/layer_norm") @ W["decoder/projection/weight"].T


def main():
    raw, sha, size = read_model_bin(os.path.join(MODEL, "model.bin"))
    W = {k: (v.astype(np.float64) if v.dtype.kind == "f" else (v.item() if v.ndim == 0 else v)) for k, v in raw.items()}
    for flag, want in (("decoder/pre_norm", 1), ("decoder/scale_embeddings", 0), ("decoder/alibi", 0),
                       ("decoder/start_from_zero_embedding", 0), ("decoder/activation", 3)):
        assert W[flag] == want, flag

    window = synthetic_window()
    memory = encode(W, window)
    flat = memory.reshape(-1)

    tokens = list(PROMPT)
    for _ in range(GREEDY_STEPS):
        tokens.append(int(np.argmax(decode(W, memory, tokens)[-1])))
    logits = decode(W, memory, tokens)

    positions = []
    for i, row in enumerate(logits):
        stride = LAST_PROMPT_STRIDE if i == len(PROMPT) - 1 else LOGIT_STRIDE
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))[:TOP]
        positions.append({
            "stride": stride,
            "sample": [float(v) for v in row[::stride]],
            "top": order,
            "topLogits": [float(row[j]) for j in order],
        })
    golden = {
        "model": {"file": "model.bin", "sha256": sha, "bytes": size},
        "input": "x[m][t] = float32(225 (100 - |a - 200|) + 60 (250 - |b - 500|) - 5000) / 50000, "
                 "a = (13 t + 29 m) mod 400, b = (3 t + 7 m^2) mod 1000; mel-major 80 x 3000",
        "encoder": {
            "rows": int(memory.shape[0]), "width": int(memory.shape[1]),
            "stride": ENCODER_STRIDE, "sample": [float(v) for v in flat[::ENCODER_STRIDE]],
            "mean": float(flat.mean()), "std": float(flat.std()), "maxAbs": float(np.abs(flat).max()),
        },
        "decoder": {"tokens": tokens, "promptLength": len(PROMPT), "positions": positions},
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}: tokens {tokens}, encoder mean {flat.mean():.6f} std {flat.std():.6f}")


if __name__ == "__main__":
    main()
