#!/usr/bin/env python3
"""Write the WordPiece tokenizer golden file from Hugging Face `tokenizers`.

For all-MiniLM-L6-v2's tokenizer.json and each text of scripts/tokenizer_texts.json (the texts of
the GGUF tokenizer goldens) plus the BERT-specific texts below, it records what `tokenizers` returns
with truncation to the model's maximum length (model_max_length of tokenizer_config.json) and no
padding (the file itself asks for truncation and padding to 128; WordPieceTokenizer takes its
maximum length from the caller and never pads):
  ids / truncated          encode(text, add_special_tokens=True): ids, and whether any overflowed
  plain / plain_truncated  the same with add_special_tokens=False
  decode                   decode(ids) (skip_special_tokens=True, HF's default)
  decode_special           decode(ids, skip_special_tokens=False)
plus decode-only cases (ids outside the vocabulary, the decoder's clean-up rules), the vocabulary
facts, and a digest of the normalizer and pre-tokenizer over every code point: FNV-1a 64 over, for
each code point but the surrogates in order, the UTF-8 of normalize_str(c), a 0xFF byte, and
W / P / - as pre_tokenize_str("a" + c + "b") drops c as whitespace, isolates it as punctuation,
or keeps it inside the word.

Usage: /root/refenv/venv/bin/python scripts/make_wordpiece_golden.py [--dump FILE]
--dump also writes one line per code point (hex code point, hex UTF-8 of the normalized text, class):
the Swift test writes the same lines to $REPROLM_WORDPIECE_DUMP, and `diff` shows where they part.
The model folder is found as the Swift tests find it: $REPROLM_CACHE_DIR, else
$XDG_CACHE_HOME/reprolm, else ~/.cache/reprolm; then models/minilm-l6.
"""

import json
import os
import sys
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

from golden_files import cache_root, compact_json

NAME = "minilm-l6"
ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "scripts" / "tokenizer_texts.json"
OUT = ROOT / "Tests" / "TokenizersTests" / "Golden" / f"{NAME}.json"

SENTENCE = "The quick brown fox jumps over the lazy dog, and the dog does not mind at all. "

BERT_TEXTS = [
    ("accents", "Café naïve résumé Ångström façade coöperate São Paulo Zürich"),
    ("accented capitals", "ÀÉÎÕÜ àéîõü ÇÑ çñ ØÆŒ øæœ ß ẞ"),
    ("combining sequences", "e\u0301 a\u0300\u0301 n\u0303 o\u0308\u0304 q\u0323\u0307 \u0301start"),
    ("special lowercase", "İstanbul ΣΑΣ ὈΔΥΣΣΕΎΣ ǅ ǈ ﬁ ligature ǰ"),
    ("hangul decomposes", "한국어 텍스트 각"),
    ("vietnamese", "Tiếng Việt có dấu: Nguyễn Thị Minh Khai"),
    ("cjk ideographs", "我爱北京天安门，日本語のテキストと漢字"),
    ("cjk extensions", "𠀀𠀁 𪜀 𫝀 𫠠 𬺰 㐀 豈更 丽"),
    ("cjk mixed", "BERT模型很好用abc中文def"),
    ("punctuation runs bert", "!!!???...,,,;;;::: ---___ a-b_c/d\\e|f~g^h`i"),
    ("unicode punctuation", "¿Qué? ¡Hola! «quote» „low“ —dash– …ellipsis ‹x› 〈y〉 【z】 ・"),
    ("ascii symbols", "$5 + 3% = #hashtag @user & co. <tag> a*b 'x' \"y\""),
    ("nested brackets", "(((nested)))[[[x]]]{{{y}}}"),
    ("control characters bert", "a\u0000b\u0001c\u007fd\u200be\u200df\ufeffg\u00adh\u2060i"),
    ("whitespace controls", "tab\there\nnew\rline\u000bvt\u000cff\u0085nel\u001cfs\u001fus"),
    ("private use and replacement", "\ue000 private \uf8ff \U000f0000 \ufffd replacement \U000e0001 tag"),
    ("late unicode", "🥰 🫠 \U0001fae8 ꭰ \u0378 unassigned \u1734 \u1885 \U000111c9 \u166d"),
    ("word of 100 characters", "a" * 100),
    ("word of 101 characters", "a" * 101),
    ("long words", "supercalifragilisticexpialidocious" * 4 + " " + "x" * 300 + " short"),
    ("long accented word", "é" * 101 + " " + "é" * 100),
    ("unknown pieces", "qzxv zzzzzzz ˇˇˇ ⌘⌥ xyzzyqwv"),
    ("special tokens inline", "[CLS] hello [SEP] world [MASK] [PAD] [UNK] [cls] [Sep]"),
    ("special tokens glued", "a[SEP]b[[SEP]][CLS][CLS]x[MASK"),
    ("decode cleanup", "I don't know, isn't it? I'm here. We've seen they're it's do not stop ' quoted '"),
    ("empty bert", ""),
    ("whitespace only", "   \t\n  \u3000 "),
    ("exactly 510 words", "a " * 510),
    ("exactly 511 words", "a " * 511),
    ("exactly 512 words", "a " * 512),
    ("exactly 513 words", "a " * 513),
    ("longer than 512 tokens", SENTENCE * 40),
    ("truncation inside a word", "word " * 509 + "unbelievably"),
]

# Decode-only cases: ids HF's encoder would not produce next to each other.
DECODE_IDS = [
    ("outside the vocabulary", [101, 7592, 40000, 2088, 102]),
    ("continuation first", [11057, 2088, 11057]),
    ("cleanup", [1045, 2123, 1005, 1056, 2113, 1010, 2003, 1050, 1005, 1056, 2009, 1029, 1045, 1005, 1049, 1012]),
    ("specials only", [101, 102, 0, 103, 100]),
    ("empty", []),
]


def codepoint_digest(tok: Tokenizer, dump=None) -> dict:
    h = 0xCBF29CE484222325
    count = 0
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        words = [w for w, _ in tok.pre_tokenizer.pre_tokenize_str("a" + c + "b")]
        if words == ["a", "b"]:
            kind = b"W"
        elif words == ["a", c, "b"]:
            kind = b"P"
        elif words == ["a" + c + "b"]:
            kind = b"-"
        else:
            raise SystemExit(f"U+{cp:04X}: unexpected pre-tokenization {words!r}")
        normalized = tok.normalizer.normalize_str(c).encode("utf-8")
        for byte in normalized + b"\xff" + kind:
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        if dump:
            dump.write(f"{cp:04X} {normalized.hex()} {kind.decode()}\n")
        count += 1
    return {"count": count, "fnv1a64": f"{h:016x}"}


def main() -> None:
    args = sys.argv[1:]
    dump_path = args[1] if len(args) == 2 and args[0] == "--dump" else None
    if args and not dump_path:
        raise SystemExit("usage: make_wordpiece_golden.py [--dump FILE]")
    folder = cache_root() / "models" / NAME
    if not (folder / "tokenizer.json").exists():
        raise SystemExit(f"{folder} is missing: run `reprolm pull {NAME}` first")
    with open(folder / "tokenizer_config.json", encoding="utf-8") as f:
        max_length = json.load(f)["model_max_length"]
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)

    with open(TEXTS, encoding="utf-8") as f:
        texts = [(t["note"], t["text"]) for t in json.load(f)["texts"]] + BERT_TEXTS

    cases = []
    for note, text in texts:
        special = tok.encode(text, add_special_tokens=True)
        plain = tok.encode(text, add_special_tokens=False)
        cases.append({
            "note": note,
            "text": text,
            "ids": special.ids,
            "truncated": len(special.overflowing) > 0,
            "plain": plain.ids,
            "plain_truncated": len(plain.overflowing) > 0,
            "decode": tok.decode(special.ids),
            "decode_special": tok.decode(special.ids, skip_special_tokens=False),
        })
    decodes = [{"note": note, "ids": ids, "decode": tok.decode(ids),
                "decode_special": tok.decode(ids, skip_special_tokens=False)} for note, ids in DECODE_IDS]

    if dump_path:
        with open(dump_path, "w", encoding="utf-8") as dump:
            digest = codepoint_digest(tok, dump)
    else:
        digest = codepoint_digest(tok)

    golden = {
        "model": NAME,
        "file": "tokenizer.json",
        "generator": f"scripts/make_wordpiece_golden.py, tokenizers {tokenizers.__version__}",
        "max_length": max_length,
        "vocab": {
            "size": tok.get_vocab_size(),
            "cls": tok.token_to_id("[CLS]"),
            "sep": tok.token_to_id("[SEP]"),
            "pad": tok.token_to_id("[PAD]"),
            "unk": tok.token_to_id("[UNK]"),
        },
        "codepoints": digest,
        "decodes": decodes,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(compact_json(golden, ("cases", "decodes")))
    print(f"wrote {OUT} ({len(cases)} texts, {len(decodes)} decode cases)")


if __name__ == "__main__":
    main()
