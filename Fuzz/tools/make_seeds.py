#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/corpus/ that are generated rather than hand-written.

    python3 Fuzz/tools/make_seeds.py [--models DIR]

DIR (default ~/.cache/reprolm/models) holds the models `reprolm pull` fetches; their metadata
(tokenizer vocabularies, merges, chat templates, config.json files) is what the tiny seeds are cut
from. Every seed is small (well under 64 KB): no weights of a real model are copied, the tiny
models' weights are deterministic pseudo-random numbers. Rerunning gives the same bytes.

  gguf/         tiny llama (SmolLM2's tokenizer cut down), qwen2 (biases, separate output
                matrix, Qwen's tokenizer cut down) and gemma3 (QK norms, post norms, sliding window,
                SentencePiece tokenizer cut down) models that load and run; the first 2 KB of a
                real file.
  safetensors/  a tiny BERT checkpoint with minilm-l6's config.json (dimensions shrunk),
                modules.json, 1_Pooling/config.json and sentence_bert_config.json.
  wordpiece/    minilm-l6's tokenizer.json with the vocabulary cut to about 1,300 entries.
  chat_template/ the three models' chat templates (from the ChatTemplates golden file) and the
                golden snippets.
  receipt/, journal/  receipts and a hash-chained journal built with Tests/conformance/receipts_ref.py.
  jsonrpc/, frames/   hand-written requests (every method) and framed streams.
"""
import argparse
import hashlib
import json
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")
sys.path.insert(0, os.path.join(ROOT, "Tests", "conformance"))
import receipts_ref  # noqa: E402  (canonical JSON, digests, seeds: the protocol's reference)

SEPARATOR = b"\n#%%#\n"  # Fuzz/Targets/safetensors.swift


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= 64 * 1024, (target, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------------------------
# GGUF

T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)
F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 = 0, 1, 2, 3, 6, 7, 8


def read_gguf_metadata(path):
    """(ordered list of (key, type, value)) of a GGUF file; arrays as (elemtype, list)."""
    with open(path, "rb") as f:
        data = f.read(64 << 20)  # metadata of the pulled models fits in 64 MB
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    scalar = {T_U8: "B", T_I8: "b", T_U16: "H", T_I16: "h", T_U32: "I", T_I32: "i", T_F32: "f",
              T_BOOL: "?", T_U64: "Q", T_I64: "q", T_F64: "d"}

    def value(t):
        if t == T_STR:
            return string()
        if t == T_ARR:
            et = take("I")
            n = take("Q")
            return (et, [value(et) for _ in range(n)])
        return take(scalar[t])

    assert data[:4] == b"GGUF"
    pos = 4
    take("I")
    take("Q")
    nkv = take("Q")
    out = []
    for _ in range(nkv):
        k = string()
        t = take("I")
        out.append((k, t, value(t)))
    return out


def w_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def w_value(t, v):
    if t == T_STR:
        return w_str(v)
    if t == T_ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(w_value(et, x) for x in items)
    fmt = {T_U8: "B", T_I8: "b", T_U16: "H", T_I16: "h", T_U32: "I", T_I32: "i", T_F32: "f",
           T_BOOL: "?", T_U64: "Q", T_I64: "q", T_F64: "d"}[t]
    return struct.pack("<" + fmt, v)


def quantized(rng, ggml_type, rows, cols):
    """Pseudo-random weights of a plausible scale in the file layout of `ggml_type`."""
    out = bytearray()
    if ggml_type == F32:
        for _ in range(rows * cols):
            out += struct.pack("<f", rng.uniform(-0.5, 0.5))
    elif ggml_type == F16:
        for _ in range(rows * cols):
            out += struct.pack("<e", rng.uniform(-0.5, 0.5))
    else:
        assert cols % 32 == 0
        for _ in range(rows * cols // 32):
            if ggml_type == Q8_0:
                out += struct.pack("<e", 0.004) + bytes(rng.randrange(256) for _ in range(32))
            elif ggml_type == Q4_0:
                out += struct.pack("<e", 0.06) + bytes(rng.randrange(256) for _ in range(16))
            elif ggml_type == Q4_1:
                out += struct.pack("<ee", 0.06, -0.45) + bytes(rng.randrange(256) for _ in range(16))
            elif ggml_type == Q5_0:
                out += struct.pack("<e", 0.03) + bytes(rng.randrange(256) for _ in range(20))
            elif ggml_type == Q5_1:
                out += struct.pack("<ee", 0.03, -0.45) + bytes(rng.randrange(256) for _ in range(20))
            else:
                raise ValueError(ggml_type)
    return bytes(out)


def norm(rows):
    return b"".join(struct.pack("<f", 1.0 + 0.01 * i) for i in range(rows))


def write_gguf(kvs, tensors, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, shape (innermost first), ggml_type, bytes)]."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        head += w_str(k) + struct.pack("<I", t) + w_value(t, v)
    offset = 0
    infos = b""
    blobs = []
    for name, shape, gt, data in tensors:
        offset = (offset + alignment - 1) // alignment * alignment
        infos += w_str(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
        infos += struct.pack("<IQ", gt, offset)
        blobs.append((offset, data))
        offset += len(data)
    out = bytearray(head + infos)
    out += b"\0" * ((-len(out)) % alignment)
    base = len(out)
    for off, data in blobs:
        out += b"\0" * (base + off - len(out))
        out += data
    return bytes(out)


def cut_vocabulary(meta, keep, extra_ids=()):
    """The tokenizer.* keys with the token arrays cut to the first `keep` ids plus `extra_ids`
    (appended, renumbered); special-token ids renumbered, those outside dropped."""
    by = {k: (t, v) for k, t, v in meta}
    tokens = by["tokenizer.ggml.tokens"][1][1]
    ids = list(range(min(keep, len(tokens)))) + [i for i in extra_ids if i >= keep]
    new_id = {old: new for new, old in enumerate(ids)}
    kept = set(tokens[i] for i in ids)
    out = []
    for k, t, v in meta:
        if not k.startswith("tokenizer."):
            continue
        if k in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"):
            et, items = v
            out.append((k, t, (et, [items[i] for i in ids])))
        elif k == "tokenizer.ggml.merges":
            et, items = v
            merges = []
            for m in items:
                a, _, b = m.partition(" ")
                if a in kept and b in kept and a + b in kept:
                    merges.append(m)
                if len(merges) >= 300:
                    break
            out.append((k, t, (et, merges)))
        elif k.endswith("_token_id"):
            if v in new_id:
                out.append((k, t, new_id[v]))
        elif k == "tokenizer.chat_template":
            out.append((k, t, v))
        elif t != T_ARR:
            out.append((k, t, v))
    return out, len(ids)


def tiny_decoder(arch, meta, keep, seed, extra_ids=()):
    rng = random.Random(seed)
    tok, vocab = cut_vocabulary(meta, keep, extra_ids)
    d, heads, kv, ff = 32, 2, 1, 64
    hd = d // heads
    kvs = [("general.architecture", T_STR, arch), ("general.name", T_STR, "fuzz-tiny-" + arch),
           ("general.alignment", T_U32, 32),
           (f"{arch}.context_length", T_U32, 64), (f"{arch}.embedding_length", T_U32, d),
           (f"{arch}.block_count", T_U32, 1), (f"{arch}.feed_forward_length", T_U32, ff),
           (f"{arch}.attention.head_count", T_U32, heads), (f"{arch}.attention.head_count_kv", T_U32, kv),
           (f"{arch}.attention.layer_norm_rms_epsilon", T_F32, 1e-6),
           (f"{arch}.rope.freq_base", T_F32, 10000.0 if arch != "gemma3" else 1000000.0)]
    if arch == "gemma3":
        kvs += [("gemma3.attention.key_length", T_U32, hd), ("gemma3.attention.value_length", T_U32, hd),
                ("gemma3.attention.sliding_window", T_U32, 4)]
    kvs += tok
    t = [("token_embd.weight", [d, vocab], Q4_0, quantized(rng, Q4_0, vocab, d)),
         ("output_norm.weight", [d], F32, norm(d)),
         ("blk.0.attn_norm.weight", [d], F32, norm(d)),
         ("blk.0.attn_q.weight", [d, heads * hd], Q8_0, quantized(rng, Q8_0, heads * hd, d)),
         ("blk.0.attn_k.weight", [d, kv * hd], Q5_0, quantized(rng, Q5_0, kv * hd, d)),
         ("blk.0.attn_v.weight", [d, kv * hd], Q5_1, quantized(rng, Q5_1, kv * hd, d)),
         ("blk.0.attn_output.weight", [heads * hd, d], F16, quantized(rng, F16, d, heads * hd)),
         ("blk.0.ffn_norm.weight", [d], F32, norm(d)),
         ("blk.0.ffn_gate.weight", [d, ff], Q4_1, quantized(rng, Q4_1, ff, d)),
         ("blk.0.ffn_up.weight", [d, ff], Q4_0, quantized(rng, Q4_0, ff, d)),
         ("blk.0.ffn_down.weight", [ff, d], Q8_0, quantized(rng, Q8_0, d, ff))]
    if arch == "qwen2":
        t += [("blk.0.attn_q.bias", [heads * hd], F32, quantized(rng, F32, 1, heads * hd)),
              ("blk.0.attn_k.bias", [kv * hd], F32, quantized(rng, F32, 1, kv * hd)),
              ("blk.0.attn_v.bias", [kv * hd], F32, quantized(rng, F32, 1, kv * hd)),
              ("output.weight", [d, vocab], Q4_0, quantized(rng, Q4_0, vocab, d))]
    if arch == "gemma3":
        t += [("blk.0.attn_q_norm.weight", [hd], F32, norm(hd)), ("blk.0.attn_k_norm.weight", [hd], F32, norm(hd)),
              ("blk.0.post_attention_norm.weight", [d], F32, norm(d)),
              ("blk.0.post_ffw_norm.weight", [d], F32, norm(d))]
    return write_gguf(kvs, t)


def gguf_seeds(models):
    real = {"smollm2-135m": None, "qwen2.5-coder-0.5b": None, "gemma3-270m": None}
    for name in real:
        d = os.path.join(models, name)
        if os.path.isdir(d):
            files = [f for f in os.listdir(d) if f.endswith(".gguf")]
            if files:
                real[name] = os.path.join(d, files[0])
    for name, path in real.items():
        if path:
            tpl = dict((k, v) for k, _, v in read_gguf_metadata(path)).get("tokenizer.chat_template")
            if tpl:
                put("chat_template", "gguf-" + name, tpl.encode())
    if real["smollm2-135m"]:
        meta = read_gguf_metadata(real["smollm2-135m"])
        put("gguf", "llama-smollm2-tiny", tiny_decoder("llama", meta, 300, 1))
        with open(real["smollm2-135m"], "rb") as f:
            put("gguf", "smollm2-first-2k", f.read(2048))
    if real["qwen2.5-coder-0.5b"]:
        meta = read_gguf_metadata(real["qwen2.5-coder-0.5b"])
        by = {k: v for k, _, v in meta}
        types = by["tokenizer.ggml.token_type"][1]
        control = [i for i, ty in enumerate(types) if ty in (3, 4)][:24]
        put("gguf", "qwen2-tiny", tiny_decoder("qwen2", meta, 300, 2, control))
    if real["gemma3-270m"]:
        meta = read_gguf_metadata(real["gemma3-270m"])
        put("gguf", "gemma3-tiny", tiny_decoder("gemma3", meta, 520, 3))


# ---------------------------------------------------------------------------------------------
# safetensors + BERT configs

def safetensors(tensors, prefix=""):
    header = {"__metadata__": {"format": "pt"}}
    blob = b""
    for name, dtype, shape, data in tensors:
        header[prefix + name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def bert_seeds(models):
    d = os.path.join(models, "minilm-l6")
    def read(name, default):
        p = os.path.join(d, name)
        return open(p, "rb").read() if os.path.exists(p) else default
    config = json.loads(read("config.json", b'{"model_type":"bert","hidden_act":"gelu","layer_norm_eps":1e-12}'))
    modules = read("modules.json", b"")
    pooling = read("1_Pooling/config.json", b"")
    sbert = read("sentence_bert_config.json", b"")
    h, inter, vocab, pos, types = 16, 32, 40, 16, 2
    config.update({"hidden_size": h, "intermediate_size": inter, "vocab_size": vocab, "max_position_embeddings": pos,
                   "type_vocab_size": types, "num_attention_heads": 2, "num_hidden_layers": 1})
    for dtype, fmt, prefix, seed in (("F32", "<f", "", 4), ("F16", "<e", "bert.", 5)):
        rng = random.Random(seed)
        def m(rows, cols):
            return b"".join(struct.pack(fmt, rng.uniform(-0.3, 0.3)) for _ in range(rows * cols))
        def ones(n):
            return b"".join(struct.pack(fmt, 1.0) for _ in range(n))
        t = [("embeddings.word_embeddings.weight", [vocab, h], m(vocab, h)),
             ("embeddings.position_embeddings.weight", [pos, h], m(pos, h)),
             ("embeddings.token_type_embeddings.weight", [types, h], m(types, h)),
             ("embeddings.LayerNorm.weight", [h], ones(h)), ("embeddings.LayerNorm.bias", [h], m(1, h))]
        p = "encoder.layer.0."
        for n in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            t += [(p + n + ".weight", [h, h], m(h, h)), (p + n + ".bias", [h], m(1, h))]
        t += [(p + "intermediate.dense.weight", [inter, h], m(inter, h)), (p + "intermediate.dense.bias", [inter], m(1, inter)),
              (p + "output.dense.weight", [h, inter], m(h, inter)), (p + "output.dense.bias", [h], m(1, h)),
              (p + "attention.output.LayerNorm.weight", [h], ones(h)), (p + "attention.output.LayerNorm.bias", [h], m(1, h)),
              (p + "output.LayerNorm.weight", [h], ones(h)), (p + "output.LayerNorm.bias", [h], m(1, h))]
        st = safetensors([(n, dtype, s, b) for n, s, b in t], prefix)
        cfg = json.dumps(config, indent=2).encode()
        put("safetensors", f"bert-tiny-{dtype.lower()}", SEPARATOR.join([st, cfg, modules, pooling, sbert]))
    real_cfg = read("config.json", None)
    if real_cfg:
        put("safetensors", "minilm-configs-only", SEPARATOR.join([b"", real_cfg, modules, pooling, sbert]))


def wordpiece_seeds(models):
    p = os.path.join(models, "minilm-l6", "tokenizer.json")
    if not os.path.exists(p):
        return
    tj = json.load(open(p))
    vocab = tj["model"]["vocab"]
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    keep = [t for t, i in by_id if i in (0, 100, 101, 102, 103)]
    keep += [t for t, i in by_id if 999 <= i < 2100]
    keep += [t for t, i in by_id if t.startswith("##")][:200]
    keep = list(dict.fromkeys(keep))
    new = {t: i for i, t in enumerate(keep)}
    tj["model"]["vocab"] = new
    for a in tj["added_tokens"]:
        a["id"] = new[a["content"]]
    for name, st in tj.get("post_processor", {}).get("special_tokens", {}).items():
        st["ids"] = [new[t] for t in st["tokens"]]
    if tj.get("padding"):
        tj["padding"]["pad_id"] = new[tj["padding"]["pad_token"]]
    text = json.dumps(tj, ensure_ascii=False, separators=(",", ":")).encode()
    put("wordpiece", "minilm-cut", text)
    put("wordpiece", "minilm-cut-text", text + b"\0" + "Héllo, WORLD! unaffable 你好 [MASK] ##ing".encode())
    tj2 = json.loads(text)
    tj2["normalizer"]["strip_accents"] = True
    tj2["normalizer"]["lowercase"] = False
    tj2["decoder"]["cleanup"] = False
    put("wordpiece", "minilm-cut-variant", json.dumps(tj2, ensure_ascii=False, indent=1).encode())


def chat_template_seeds():
    g = json.load(open(os.path.join(ROOT, "Tests", "ChatTemplatesTests", "Golden", "chat_templates.json")))
    for i, m in enumerate(g["models"]):
        tpl = m.get("template") or m.get("chat_template") or ""
        name = m.get("name") or m.get("model") or str(i)
        convo = b""
        for case in m.get("cases", [])[:1]:
            convo = b"".join(b"\0" + msg["role"].encode() + b"\1" + msg["content"].encode() for msg in case["messages"])
        put("chat_template", "model-" + "".join(c if c.isalnum() or c in "-._" else "_" for c in name), tpl.encode())
        if convo:
            put("chat_template", "model-" + "".join(c if c.isalnum() or c in "-._" else "_" for c in name) + "-conversation", tpl.encode() + convo)
    s = json.load(open(os.path.join(ROOT, "Tests", "ChatTemplatesTests", "Golden", "snippets.json")))
    for sn in s["snippets"]:
        put("chat_template", "snippet-" + sn["name"], sn["template"].encode())


# ---------------------------------------------------------------------------------------------
# receipts and journal

def receipt(rid, method, request, output, seed=None):
    out = dict(output)
    out["digest"] = receipts_ref.output_digest(output)
    return {"version": 1, "id": rid, "method": method, "created": "2026-12-01T10:00:00.000Z",
            "model": {"name": "smollm2-135m", "sha256": "ab" * 32},
            "engine": {"version": "0.1.0", "kernels": "avx2"}, "request": request, "seed": seed, "output": out}


def receipt_seeds():
    bits = receipts_ref.float_bits
    gen = receipt("rc-" + "1" * 32, "generate",
                  {"tokens": [1, 9690, 28], "maxTokens": 4, "stop": [], "beams": 1, "seed": 42, "logprobs": True,
                   "topLogprobs": 0, "temperature": 0.8, "topK": 40, "topP": 0.95, "minP": 0.05, "repeatPenalty": 1,
                   "presencePenalty": 0, "frequencyPenalty": 0, "penaltyLastN": 64},
                  {"tokens": [30, 31, 32, 2], "finishReason": "stop", "logprobs": [bits(-0.5), bits(-1.25), bits(-0.125), bits(-2.0)]},
                  {"source": "request"})
    commitment = receipts_ref.commitment(12345)
    gen_session = receipt("rc-" + "2" * 32, "generate",
                          {"tokens": [1, 2], "maxTokens": 2, "stop": ["\n"], "beams": 2, "seed": receipts_ref.derived_seed(12345, 0),
                           "logprobs": False, "topLogprobs": 0, "lengthPenalty": 1},
                          {"tokens": [5, 6], "finishReason": "length"},
                          {"source": "session", "commitment": commitment, "index": 0})
    score = receipt("rc-" + "3" * 32, "score", {"tokens": [1, 2, 3], "scoreFrom": 1, "topLogprobs": 2},
                    {"logprobs": [None, bits(-3.5), bits(-0.25)], "sum": bits(-3.75)})
    enc = receipt("rc-" + "4" * 32, "encode", {"tokens": [[101, 7592, 102]], "pooling": "mean", "normalize": True},
                  {"vectors": [[bits(0.5), bits(-0.5)]]})
    for name, r in (("generate", gen), ("generate-session", gen_session), ("score", score), ("encode", enc)):
        put("receipt", name, json.dumps({"receipt": r}, indent=1))
    put("receipt", "bare", json.dumps(gen))
    put("receipt", "by-id", json.dumps({"id": gen["id"]}))

    lines = []
    prev = "0" * 64
    records = [{"type": "commit", "commitment": commitment, "fromEntropy": False},
               {"type": "receipt", "receipt": gen},
               {"type": "receipt", "receipt": gen_session},
               {"type": "reveal", "commitment": commitment, "seed": 12345, "requests": 1, "fromEntropy": False},
               {"type": "receipt", "receipt": score},
               {"type": "replay", "of": gen["id"], "identical": True, "digest": gen["output"]["digest"],
                "created": "2026-12-01T10:00:01.000Z"},
               {"type": "receipt", "receipt": enc}]
    for seq, rec in enumerate(records):
        o = dict(rec)
        o["seq"] = seq
        o["prev"] = prev
        entry = hashlib.sha256(receipts_ref.canonical(o)).hexdigest()
        o["entry"] = entry
        lines.append(receipts_ref.canonical(o))
        prev = entry
    journal = b"".join(l + b"\n" for l in lines)
    put("journal", "chain", journal)
    put("journal", "chain-torn", journal + lines[-1][:40])
    put("journal", "chain-first-two", b"".join(l + b"\n" for l in lines[:2]))


# ---------------------------------------------------------------------------------------------
# hand-written: JSON-RPC requests and framed streams

def protocol_seeds():
    T, F, N = True, False, None
    reqs = {
        "initialize": {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"clientInfo": {"name": "fuzz", "version": "1"}}},
        "initialize-empty": {"jsonrpc": "2.0", "id": "a", "method": "initialize"},
        "generate-prompt": {"jsonrpc": "2.0", "id": 2, "method": "generate", "params": {
            "model": "smollm2-135m", "prompt": "Hello", "maxTokens": 8, "temperature": 0.7, "topK": 20, "topP": 0.9, "minP": 0.1,
            "seed": 42, "stop": ["\n", "."], "logprobs": T, "topLogprobs": 3, "stream": T, "keepAlive": "5m"}},
        "generate-messages": {"jsonrpc": "2.0", "id": 3, "method": "generate", "params": {
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "maxTokens": 4,
            "temperature": 0, "repeatPenalty": 1.1, "presencePenalty": 0.5, "frequencyPenalty": 0.5, "penaltyLastN": -1}},
        "generate-tokens-beams": {"jsonrpc": "2.0", "id": 4, "method": "generate", "params": {
            "tokens": [1, 2, 3], "beams": 4, "lengthPenalty": 0.5, "maxTokens": 3, "seed": 0}},
        "score": {"jsonrpc": "2.0", "id": 5, "method": "score", "params": {"text": "The cat sat.", "topLogprobs": 2}},
        "score-continuation": {"jsonrpc": "2.0", "id": 6, "method": "score", "params": {
            "context": "2+2=", "continuation": "4", "addSpecial": F, "parseSpecial": T}},
        "score-tokens": {"jsonrpc": "2.0", "id": 7, "method": "score", "params": {"tokens": [1, 5, 9, 12], "scoreFrom": 2}},
        "encode": {"jsonrpc": "2.0", "id": 8, "method": "encode", "params": {
            "model": "minilm-l6", "input": ["a", "b c"], "pooling": "mean", "normalize": T, "truncate": F}},
        "encode-tokens": {"jsonrpc": "2.0", "id": 9, "method": "encode", "params": {"tokens": [[101, 7592, 102]], "pooling": "cls"}},
        "tokenize": {"jsonrpc": "2.0", "id": 10, "method": "tokenize", "params": {"text": "<|im_start|>hi", "addSpecial": T, "parseSpecial": T}},
        "detokenize": {"jsonrpc": "2.0", "id": 11, "method": "detokenize", "params": {"tokens": [1, 2, 3], "skipSpecial": T}},
        "models-list": {"jsonrpc": "2.0", "id": 12, "method": "models/list", "params": {}},
        "models-load": {"jsonrpc": "2.0", "id": 13, "method": "models/load", "params": {"model": "gemma3-270m", "keepAlive": -1}},
        "models-unload": {"jsonrpc": "2.0", "id": 14, "method": "models/unload", "params": {"model": "gemma3-270m"}},
        "setSeed": {"jsonrpc": "2.0", "id": 15, "method": "setSeed", "params": {"seed": "my secret"}},
        "setSeed-commit": {"jsonrpc": "2.0", "id": 16, "method": "setSeed", "params": {"seed": 12345}},
        "stats": {"jsonrpc": "2.0", "id": 17, "method": "stats"},
        "receipts-get": {"jsonrpc": "2.0", "id": 18, "method": "receipts/get", "params": {"id": "rc-0123456789abcdef0123456789abcdef"}},
        "reproduce-id": {"jsonrpc": "2.0", "id": 19, "method": "reproduce", "params": {"id": "rc-0123456789abcdef0123456789abcdef"}},
        "cancel": {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 2}},
        "shutdown": {"jsonrpc": "2.0", "id": 20, "method": "shutdown"},
        "exit": {"jsonrpc": "2.0", "method": "exit"},
        "response": {"jsonrpc": "2.0", "id": 21, "result": N},
    }
    for n, r in reqs.items():
        put("jsonrpc", n, json.dumps(r))
    put("jsonrpc", "batch", json.dumps([reqs["initialize"], reqs["score"], reqs["cancel"], 5, {"jsonrpc": "1.0"}]))
    put("jsonrpc", "numbers", '{"jsonrpc":"2.0","id":1.5e300,"method":"x","params":[9223372036854775807,'
        '-9223372036854775808,1e-320,0.1,-0.0,"\\ud83d\\ude00\\u0000"]}')
    put("jsonrpc", "nested", "[" * 30 + "]" * 30)

    # frames: byte 0 = forced mode and frame limit, byte 1 = chunking seed, then the stream.
    body = json.dumps(reqs["initialize"]).encode()
    cl = b"Content-Length: %d\r\n\r\n" % len(body) + body
    put("frames", "lsp", b"\x00\x07" + cl + cl)
    put("frames", "lsp-bare-newlines", b"\x00\x21" + b"content-length: %d\nContent-Type: application/vscode-jsonrpc; charset=utf-8\n\n"
        % len(body) + body + b"\n\n" + cl)
    put("frames", "lsp-oversized", b"\x20\x33" + b"Content-Length: 500\r\n\r\n" + b"x" * 500 + cl)
    put("frames", "lsp-malformed", b"\x00\x01" + b"Content-Length: 12x\r\n\r\n{}")
    put("frames", "lsp-truncated", b"\x00\x02" + b"Content-Length: 99\r\n\r\n{\"a\":")
    put("frames", "newline", b"\x00\x05" + body + b"\n\r\n   \n" + body + b"\r\n" + body)
    put("frames", "newline-oversized", b"\x30\x09" + b"{" + b"\"a\":1," * 100 + b"\"b\":2}\n" + body + b"\n")
    put("frames", "forced-newline", b"\x02\x11" + b"Content-Length: 2\r\n\r\n{}\n[1]\n")
    put("frames", "forced-lsp", b"\x03\x13" + b"\r\n\r\nContent-Length: 2\r\n\r\n{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.join(os.environ.get("REPROLM_CACHE_DIR") or
                                                     os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "reprolm"),
                                                     "models"))
    a = ap.parse_args()
    gguf_seeds(a.models)
    bert_seeds(a.models)
    wordpiece_seeds(a.models)
    chat_template_seeds()
    receipt_seeds()
    protocol_seeds()


if __name__ == "__main__":
    main()
