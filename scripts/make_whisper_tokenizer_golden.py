#!/usr/bin/env python3
"""Write the Whisper tokenizer golden file from Hugging Face `tokenizers`.

For whisper-base's tokenizer.json (GPT-2 byte-level BPE plus Whisper's special tokens) and each
text of scripts/tokenizer_texts.json (the texts of the GGUF tokenizer goldens) plus the
Whisper-flavoured texts below, it records what `tokenizers` returns:
  ids             encode(text, add_special_tokens=False)
  ids_template    encode(text, add_special_tokens=True) (the file's TemplateProcessing)
  ids_split       ids with encode_special_tokens=True (special-token text is not parsed)
  decode          decode(ids_template) (skip_special_tokens=True, HF's default)
  decode_special  decode(ids_template, skip_special_tokens=False)
  variants        ids of the same text under each variant of the file (below)
Variants are the file with one section replaced, so that the readers of the other forms a
tokenizer.json can take are checked against HF too; the golden file records each replacement and
the Swift test makes the same file:
  prefix_space         pre_tokenizer ByteLevel with add_prefix_space
  split_then_bytes     pre_tokenizer Sequence [Split(GPT-2 regex, Isolated), ByteLevel(use_regex=false)]
  split_then_bytes_prefix  the same with add_prefix_space (a space before each word without one)
  no_regex             pre_tokenizer ByteLevel(use_regex=false): each piece is one word
  pair_merges_ignore   model.merges as [a, b] pairs, model.ignore_merges true
  extra_added_tokens   more added tokens appended (special or not, normalized or not, overlapping the
                       file's): ids, ids_split, decode and decode_special under it
plus decode-only cases (ids outside the vocabulary such as Whisper's timestamps, which this file
does not list, partial UTF-8 characters, random id sequences), the vocabulary facts (sizes and
every added token), and two digests:
  pieces      FNV-1a 64 over every id in order of: id_to_token(id) in UTF-8, 0xFE,
              decode([id], skip_special_tokens=False) in UTF-8, 0xFF
  codepoints  FNV-1a 64 over every code point c but the surrogates in order of: the length in code
              points of each word pre_tokenize_str gives for PROBE(c), each as one byte, then 0xFF;
              PROBE(c) = "a" c "1" c "!" c " " c "  " c "b", so each of the pre-tokenizer's classes
              (letter, number, whitespace, other) splits it differently.

Usage: python3 scripts/make_whisper_tokenizer_golden.py [--dump FILE]
--dump also writes one line per code point (hex code point, the word lengths): the Swift test
writes the same lines to $REPROLM_WHISPER_DUMP, and `diff` shows where they part.
The model folder is found as the Swift tests find it: $REPROLM_CACHE_DIR, else
$XDG_CACHE_HOME/reprolm, else ~/.cache/reprolm; then models/whisper-base.
"""

import copy
import json
import os
import random
import sys
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

from golden_files import cache_root, compact_json

NAME = "whisper-base"
ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "scripts" / "tokenizer_texts.json"
OUT = ROOT / "Tests" / "TokenizersTests" / "Golden" / "whisper-tokenizer.json"

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

WHISPER_TEXTS = [
    ("transcript sentence", " And so, my fellow Americans, ask not what your country can do for you."),
    ("numbers", "In 1999, 3.14159 and 1,000,000 people paid $42.50 (about 12%) at 10:30 a.m. on 2024-01-05."),
    ("digit runs", "1234567890" * 5 + " 0 00 000 0000 00000"),
    ("ordinals and units", "1st 2nd 3rd 4th 21st 100km/h 5kg 3.5GHz 98.6°F -40°C ½ ¾ ²³"),
    ("leading space word", " Hello"),
    ("leading spaces words", "  two leading spaces,   three"),
    ("space before punctuation", "Wait , what ? Really ! Yes ."),
    ("punctuation", "Well... I don't know — maybe?! \"Quoted\" 'single' (parens) [brackets] {braces}"),
    ("unicode punctuation", "“Smart quotes” ‘single’ … – — ¿Qué? ¡Hola! «guillemets» 「括弧」"),
    ("apostrophes", "'S 'LL 's 've 're 'd 'm 't rock'n'roll '''' ' s 'x"),
    ("annotations", "[Music] (applause) [BLANK_AUDIO] ♪ la la la ♪ *laughs* >> Speaker 2:"),
    ("german", "Über die Brücke gehen Männer; Straße, Größe, Ähnlichkeit."),
    ("french", "À l'école, où êtes-vous ? Ça va très bien, merci !"),
    ("spanish", "¿Dónde está el niño? Mañana será otro día."),
    ("russian", "Привет, как дела? Всё хорошо, спасибо."),
    ("chinese", "我们今天去公园散步，天气非常好。"),
    ("japanese", "今日はいい天気ですね。カタカナとひらがな、漢字。"),
    ("korean", "안녕하세요, 만나서 반갑습니다."),
    ("arabic", "مرحبا بكم في هذا البرنامج."),
    ("hindi", "नमस्ते, आप कैसे हैं?"),
    ("emoji", "Great job 👍🏽🎉🔥 😂😂 ❤️ 🇺🇸 👨‍👩‍👧"),
    ("combining", "e\u0301 a\u0300\u0301 n\u0303 \u0301start o\u0308"),
    ("unicode whitespace", "a\u00a0b\u2009c\u3000d\u2028e\u2029f\u0085g\u1680h \u00a0 i\u202fj\u205fk"),
    ("whitespace runs", "a \t\n b\n\n\n  c\r\n\r\n d   \n"),
    ("special token alone", "<|en|>"),
    ("whisper prompt text", "<|startoftranscript|><|en|><|transcribe|><|notimestamps|> Hello world.<|endoftext|>"),
    ("special tokens with spaces", " <|de|> Hallo <|translate|> hello <|endoftext|> "),
    ("special tokens glued", "a<|en|>b<|fr|><|fr|>c<|nocaptions|>d<|startoflm|><|startofprev|>"),
    ("timestamp text", "<|0.00|> Hello<|1.50|><|30.00|>"),
    ("special lookalikes", "<|EN|> <|en |> <|en| <|en <en|> <<|en|>> <||> <|> |en|> <|xx|>"),
    ("endoftext in words", "before<|endoftext|>after<|endoftext|><|endoftext|>"),
    ("byte-level characters", "ĠĊĉ Ġhello âĢĶ Ã© ĳ"),
    ("control characters", "a\x00b\x01c\x7fd\u200be\u200df\ufeffg\u00adh"),
    ("long word", "Pneumonoultramicroscopicsilicovolcanoconiosis " * 3),
    ("url", "Visit https://example.com/path?q=1&lang=en#top or mail someone@example.org."),
]


def fnv1a(h: int, data: bytes) -> int:
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


FNV_OFFSET = 0xCBF29CE484222325


def variants(vocab: dict, next_id: int) -> list:
    """Each variant: its name and the replacements the Swift test applies to the file."""
    extra = [
        # Not special: decode keeps them even with skip_special_tokens.
        {"content": "ing", "special": False, "normalized": True},
        {"content": "ab", "special": False, "normalized": True},
        # Matched before "ab" (not normalized tokens are extracted first), so "abc" -> a, bc.
        {"content": "bc", "special": False, "normalized": False},
        # Inside "<|en|>": found only where the special token is not.
        {"content": "|en|", "special": False, "normalized": False},
        # Characters outside the byte-level alphabet: decoded as their own UTF-8.
        {"content": "naïve ☃", "special": False, "normalized": False},
        # A special token that is not in the model's vocabulary.
        {"content": "<|custom|>", "special": True, "normalized": False},
        # Longer than a file token it starts with: leftmost-longest takes it.
        {"content": "<|en|>!", "special": True, "normalized": False},
    ]
    added = []
    for token in extra:
        # HF's rule: a content in the model's vocabulary keeps that id, others take the next.
        if token["content"] in vocab:
            token_id = vocab[token["content"]]
        else:
            token_id = next_id
            next_id += 1
        added.append({"id": token_id, "content": token["content"], "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": token["normalized"], "special": token["special"]})
    return [
        {"name": "prefix_space",
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}},
        {"name": "split_then_bytes",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"Regex": GPT2_PATTERN}, "behavior": "Isolated", "invert": False},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}},
        {"name": "split_then_bytes_prefix",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"Regex": GPT2_PATTERN}, "behavior": "Isolated", "invert": False},
             {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}]}},
        {"name": "no_regex",
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}},
        {"name": "pair_merges_ignore", "merges_as_pairs": True, "model": {"ignore_merges": True}},
        {"name": "extra_added_tokens", "append_added_tokens": added},
    ]


def apply_variant(data: dict, variant: dict) -> dict:
    """The Swift test does the same (WhisperTokenizerGoldenTests.variantFile)."""
    data = copy.deepcopy(data)
    if "pre_tokenizer" in variant:
        data["pre_tokenizer"] = variant["pre_tokenizer"]
    data["added_tokens"] += variant.get("append_added_tokens", [])
    for key, value in variant.get("model", {}).items():
        data["model"][key] = value
    if variant.get("merges_as_pairs"):
        data["model"]["merges"] = [m.split(" ") for m in data["model"]["merges"]]
    return data


def encode(tok: Tokenizer, text: str, template=False, split=False) -> list:
    tok.encode_special_tokens = split
    try:
        return tok.encode(text, add_special_tokens=template).ids
    finally:
        tok.encode_special_tokens = False


def decode_cases(tok: Tokenizer) -> list:
    emoji = encode(tok, "😀日本語👍🏽")
    cases = [
        ("empty", []),
        ("outside the vocabulary (Whisper timestamps and beyond)", [50364, 1002, 50414, 51864, 51865, 100000, 2425]),
        ("special tokens", [50258, 50259, 50359, 50363, 2425, 50257, 50257]),
        ("every prefix of emoji ids", emoji),
    ]
    cases += [(f"emoji ids, first {n}", emoji[:n]) for n in range(1, len(emoji))]
    cases += [(f"emoji ids, last {n}", emoji[-n:]) for n in range(1, len(emoji))]
    cases.append(("lone byte tokens", [i for i in range(188, 256)]))
    rng = random.Random(20240605)
    for i in range(40):
        # Byte tokens (ids below 256) often, so that broken UTF-8 sequences are common.
        ids = [rng.randrange(256) if rng.random() < 0.5 else rng.randrange(50364) for _ in range(rng.randint(1, 12))]
        cases.append((f"random {i}", ids))
    return [{"note": note, "ids": ids, "decode": tok.decode(ids),
             "decode_special": tok.decode(ids, skip_special_tokens=False)} for note, ids in cases]


def pieces_digest(tok: Tokenizer) -> dict:
    h = FNV_OFFSET
    n = tok.get_vocab_size()
    for i in range(n):
        h = fnv1a(h, tok.id_to_token(i).encode("utf-8") + b"\xfe")
        h = fnv1a(h, tok.decode([i], skip_special_tokens=False).encode("utf-8") + b"\xff")
    return {"count": n, "fnv1a64": f"{h:016x}"}


def codepoint_digest(tok: Tokenizer, dump=None) -> dict:
    h = FNV_OFFSET
    count = 0
    pre = tok.pre_tokenizer
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        probe = "a" + c + "1" + c + "!" + c + " " + c + "  " + c + "b"
        lengths = [end - start for _, (start, end) in pre.pre_tokenize_str(probe)]
        if sum(lengths) != len(probe):
            raise SystemExit(f"U+{cp:04X}: words do not cover the probe: {lengths}")
        h = fnv1a(h, bytes(lengths) + b"\xff")
        if dump:
            dump.write(f"{cp:04X} {' '.join(map(str, lengths))}\n")
        count += 1
    return {"count": count, "fnv1a64": f"{h:016x}"}


def main() -> None:
    args = sys.argv[1:]
    dump_path = args[1] if len(args) == 2 and args[0] == "--dump" else None
    if args and not dump_path:
        raise SystemExit("usage: make_whisper_tokenizer_golden.py [--dump FILE]")
    path = cache_root() / "models" / NAME / "tokenizer.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `reprolm pull {NAME}` first")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    tok = Tokenizer.from_file(str(path))
    size = tok.get_vocab_size()

    specs = variants(data["model"]["vocab"], size)
    variant_tokenizers = {v["name"]: Tokenizer.from_str(json.dumps(apply_variant(data, v))) for v in specs}

    with open(TEXTS, encoding="utf-8") as f:
        texts = [(t["note"], t["text"]) for t in json.load(f)["texts"]] + WHISPER_TEXTS

    cases = []
    for note, text in texts:
        template = encode(tok, text, template=True)
        case = {
            "note": note,
            "text": text,
            "ids": encode(tok, text),
            "ids_template": template,
            "ids_split": encode(tok, text, split=True),
            "decode": tok.decode(template),
            "decode_special": tok.decode(template, skip_special_tokens=False),
            "variants": {},
        }
        for name, vtok in variant_tokenizers.items():
            ids = encode(vtok, text)
            if name == "extra_added_tokens":
                case["variants"][name] = {"ids": ids, "ids_split": encode(vtok, text, split=True),
                                          "decode": vtok.decode(ids),
                                          "decode_special": vtok.decode(ids, skip_special_tokens=False)}
            else:
                case["variants"][name] = {"ids": ids}
        cases.append(case)

    if dump_path:
        with open(dump_path, "w", encoding="utf-8") as dump:
            codepoints = codepoint_digest(tok, dump)
    else:
        codepoints = codepoint_digest(tok)

    golden = {
        "model": NAME,
        "file": "tokenizer.json",
        "generator": f"scripts/make_whisper_tokenizer_golden.py, tokenizers {tokenizers.__version__}",
        "vocab": {
            "size": size,
            "model_size": tok.get_vocab_size(with_added_tokens=False),
            "added": {t.content: i for i, t in sorted(tok.get_added_tokens_decoder().items())},
            "special": sorted(i for i, t in tok.get_added_tokens_decoder().items() if t.special),
        },
        "pieces": pieces_digest(tok),
        "codepoints": codepoints,
        "variants": specs,
        "decodes": decode_cases(tok),
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(compact_json(golden, ("cases", "decodes", "variants")))
    print(f"wrote {OUT} ({len(cases)} texts, {len(golden['decodes'])} decode cases, {len(specs)} variants)")


if __name__ == "__main__":
    main()
