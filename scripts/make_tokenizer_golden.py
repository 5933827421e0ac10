#!/usr/bin/env python3
"""Write the tokenizer golden files from llama.cpp (through llama-cpp-python).

For each model and each text of scripts/tokenizer_texts.json it records what llama.cpp returns:
  plain    ids of llama_tokenize(add_special=False, parse_special=False)
  special  ids of llama_tokenize(add_special=True,  parse_special=True)
  *_detok  llama_detokenize of those ids with remove_special=False, unparse_special=True
           (what Tokenizer.decode(ids) must give), as text (invalid UTF-8 replaced by U+FFFD),
           and as exact bytes in *_detok_hex when they are not valid UTF-8
  special_detok_skip  llama_detokenize(special ids, remove_special=True, unparse_special=False)
           (what Tokenizer.decode(ids, skipSpecial: true) must give)
and, per model, the vocabulary facts (size, BOS/EOS/EOT, add flags, every end-of-generation id)
and the piece (llama_token_to_piece, special=True) of every id that occurs.

llama_detokenize is called directly: llama-cpp-python's Llama.detokenize reads pieces through a
32-byte buffer (longer pieces come back truncated) and drops a space after BOS on its own.

Usage: /root/refenv/venv/bin/python scripts/make_tokenizer_golden.py [--texts FILE] [--out DIR] [model-name ...]
(--texts/--out make extra corpora, e.g. a large random one; the Swift golden test reads such a
directory when REPROLM_TOKENIZER_GOLDEN_DIR names it.)
Models are found as the Swift code finds them: $REPROLM_CACHE_DIR, else $XDG_CACHE_HOME/reprolm,
else ~/.cache/reprolm; then models/<name>/<file>.
"""

import ctypes
import json
import os
import sys
from pathlib import Path

import llama_cpp
from llama_cpp import Llama

from golden_files import cache_root, compact_json

MODELS = {
    "smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    "gemma3-270m": "gemma-3-270m-q4_k_m.gguf",
}

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "scripts" / "tokenizer_texts.json"
OUT_DIR = ROOT / "Tests" / "TokenizersTests" / "Golden"


def detokenize(vocab, ids, remove_special, unparse_special) -> bytes:
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 256 + 64 * len(ids)
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, remove_special, unparse_special)
        if n >= 0:
            return buf.raw[:n]
        size = -n + 16


def piece(vocab, token) -> bytes:
    size = 64
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, True)
        if n >= 0:
            return buf.raw[:n]
        size = -n + 16


def add_bytes(case: dict, key: str, data: bytes) -> None:
    """Bytes as text; when they are not valid UTF-8, the exact bytes too (key + "_hex")."""
    case[key] = data.decode("utf-8", errors="replace")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        case[key + "_hex"] = data.hex()


def make(name: str, filename: str, texts: list) -> Path:
    path = cache_root() / "models" / name / filename
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `reprolm pull {name}` first")
    llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)

    def opt(token):
        return None if token < 0 else token

    facts = {
        "n_tokens": n_vocab,
        "bos": opt(llama_cpp.llama_vocab_bos(vocab)),
        "eos": opt(llama_cpp.llama_vocab_eos(vocab)),
        "eot": opt(llama_cpp.llama_vocab_eot(vocab)),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(vocab)),
        "eog": [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)],
    }

    cases = []
    used = set()
    for entry in texts:
        text = entry["text"]
        data = text.encode("utf-8")
        plain = llm.tokenize(data, add_bos=False, special=False)
        special = llm.tokenize(data, add_bos=True, special=True)
        used.update(plain)
        used.update(special)
        plain_detok = detokenize(vocab, plain, False, True)
        special_detok = detokenize(vocab, special, False, True)
        skip_detok = detokenize(vocab, special, True, False)
        case = {"note": entry["note"], "text": text, "plain": plain, "special": special}
        add_bytes(case, "plain_detok", plain_detok)
        add_bytes(case, "special_detok", special_detok)
        add_bytes(case, "special_detok_skip", skip_detok)
        cases.append(case)

    pieces = {str(t): piece(vocab, t).hex() for t in sorted(used)}
    golden = {
        "model": name,
        "file": filename,
        "generator": f"scripts/make_tokenizer_golden.py, llama-cpp-python {llama_cpp.__version__}",
        "vocab": facts,
        "cases": cases,
        "pieces": pieces,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"{name}.json"
    with open(out, "w", encoding="utf-8") as f:
        f.write(compact_json(golden))
    return out


def main() -> None:
    global OUT_DIR
    args = sys.argv[1:]
    texts_path = TEXTS
    names = []
    while args:
        arg = args.pop(0)
        if arg in ("--texts", "--out") and args:
            value = Path(args.pop(0))
            if arg == "--texts":
                texts_path = value
            else:
                OUT_DIR = value
        else:
            names.append(arg)
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)["texts"]
    for name in names or list(MODELS):
        if name not in MODELS:
            raise SystemExit(f"unknown model {name}; known: {', '.join(MODELS)}")
        out = make(name, MODELS[name], texts)
        print(f"wrote {out} ({len(texts)} texts)")


if __name__ == "__main__":
    main()
