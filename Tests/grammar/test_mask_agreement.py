"""reprolm's allowed-token masks against a second implementation no one here wrote: llguidance
(PyPI, pinned below; Microsoft's constrained-decoding engine, its own GBNF reader and its own
token-trie walk) over the same vocabulary, for llama.cpp's grammars and for the GBNF of JSON
Schemas, after every token of sample texts.

Both answer the same question: which tokens' bytes keep the text a valid prefix of the grammar.
reprolm's answer comes from `reprolm grammar --batch` (the constraint generate uses); the
vocabulary is the one it constrains over (control tokens are never text: llguidance gets them as
special tokens, bytes starting with 0xFF, its own convention). End of generation is compared
apart: reprolm allows its end-of-generation tokens exactly when llguidance allows its EOS.
"""
import json
import os
import subprocess

import pytest

import llama_suites as suites

# scripts/test installs llguidance (pinned there); outside it the test is skipped without it.
llguidance = __import__("llguidance") if os.environ.get("REPROLM_LLAMA_SOURCE") else pytest.importorskip("llguidance")

BIN = os.environ.get("REPROLM_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release", "reprolm")
MODELS = ["smollm2-135m", "qwen2.5-coder-0.5b"]

# (grammar file of llama.cpp's grammars/, a text in its language)
SAMPLES = [
    ("json.gbnf", '{"name": "Zoë", "tags": ["a", "b\\n"], "n": -12.5e3, "ok": true, "none": null}'),
    ("json_arr.gbnf", '[\n{"a": 1},\n{"b": [2, 3]}]'),
    # Not arithmetic.gbnf: its `ws ::= [ \t\n]*` after a term overlaps the "\n" that ends a line,
    # and llguidance lexes GBNF terminals greedily (longest match), so after "x = y\n" it wants
    # another "\n" where llama.cpp's grammar semantics (and reprolm's) also allow the end.
    ("list.gbnf", "- eggs\n- café au lait\n"),
    ("english.gbnf", "Hello, world! It's 9 o'clock."),
    ("japanese.gbnf", "こんにちは 世界、カタカナ"),
    ("chess.gbnf", "1. e4 e5\n2. Nf3 Nc6\n"),
]
SCHEMAS = [
    ({"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer", "minimum": 18, "maximum": 99}},
      "required": ["name", "age"]}, '{"name": "Ann", "age": 42}'),
    ({"type": "array", "items": {"enum": ["red", "green", 3]}, "maxItems": 3}, '["green", 3]'),
]


def batch(lines):
    text = "".join(json.dumps(l) + "\n" for l in lines)
    out = subprocess.run([BIN, "grammar", "--batch"], input=text.encode(), capture_output=True, check=True, timeout=600)
    return [json.loads(l) for l in out.stdout.decode().splitlines()]


def tokenize(model, text):
    out = subprocess.run([BIN, "tokenize", "--model", model, "--no-special", "--", text], capture_output=True, check=True, timeout=120)
    return [int(t) for t in out.stdout.split()]


class Vocabulary:
    """What llguidance's TokenizerWrapper asks of a tokenizer: token bytes, EOS, and an encoder
    (used only for forced tokens, never for masks: greedy longest match is enough)."""

    def __init__(self, pieces, eos):
        self.tokens = pieces
        self.eos_token_id = eos
        self.bos_token_id = None
        self.special_token_ids = [i for i, p in enumerate(pieces) if p.startswith(b"\xff")]
        self._by_bytes = {p: i for i, p in enumerate(pieces) if not p.startswith(b"\xff")}
        self._longest = max(len(p) for p in self._by_bytes)

    def __call__(self, data):
        out, i = [], 0
        while i < len(data):
            for n in range(min(self._longest, len(data) - i), 0, -1):
                t = self._by_bytes.get(bytes(data[i:i + n]))
                if t is not None:
                    out.append(t)
                    i += n
                    break
            else:
                raise ValueError("untokenizable byte")
        return out


@pytest.mark.parametrize("model", MODELS)
def test_masks_agree_with_llguidance(model):
    vocab = batch([{"model": model, "vocabulary": True}])[0]
    assert vocab["ok"], vocab
    end = set(vocab["end"])
    eos = min(end)
    pieces = []
    for i, h in enumerate(vocab["pieces"]):
        if h is None or i in end:
            pieces.append(b"\xff" + f"<special {i}>".encode())   # never text: special to llguidance
        else:
            pieces.append(bytes.fromhex(h))
    tokenizer = llguidance.LLTokenizer(llguidance.TokenizerWrapper(Vocabulary(pieces, eos)))

    cases = [(name, open(os.path.join(suites.source_root(), "grammars", name), encoding="utf-8").read(), text)
             for name, text in SAMPLES]
    schema_gbnf = batch([{"schema": s} for s, _ in SCHEMAS])
    cases += [(f"schema {i}", g["gbnf"], text) for i, (g, (_, text)) in enumerate(zip(schema_gbnf, SCHEMAS))]

    lines = []
    for name, gbnf, text in cases:
        ids = tokenize(model, text)
        lines.append({"model": model, "gbnf": gbnf, "prefixes": [ids[:k] for k in range(len(ids) + 1)]})
    ours = batch(lines)

    compared = 0
    for (name, gbnf, text), line, answer in zip(cases, lines, ours):
        assert answer["ok"], (name, answer)
        # no_forcing: where the grammar forces bytes, llguidance by default allows only the
        # forced text's own tokenization; reprolm (like llama.cpp) allows any tokens spelling it.
        grammar = llguidance.grammar_from("gbnf", gbnf).replace("%llguidance {}", '%llguidance { "no_forcing": true }', 1)
        assert '"no_forcing"' in grammar
        for prefix, allowed in zip(line["prefixes"], answer["allowed"]):
            assert allowed is not None, f"{name}: reprolm refuses the sample's own prefix {prefix}"
            matcher = llguidance.LLMatcher(tokenizer, grammar)
            assert not matcher.is_error(), matcher.get_error()
            assert matcher.consume_tokens(prefix), f"{name}: llguidance refuses {prefix}"
            theirs = set(allowed_tokens(matcher, len(pieces)))
            mine = set(allowed)
            assert (eos in theirs) == bool(mine & end), f"{name} after {len(prefix)} tokens: end of generation differs"
            theirs.discard(eos)
            mine -= end
            only_ours, only_theirs = sorted(mine - theirs)[:10], sorted(theirs - mine)[:10]
            assert mine == theirs, (f"{name} after {len(prefix)} tokens ({text!r}): {len(mine)} vs {len(theirs)} allowed; "
                                    f"only reprolm {[pieces[t] for t in only_ours]}, only llguidance {[pieces[t] for t in only_theirs]}")
            compared += 1
    print(f"\n{model}: {compared} masks over {len(pieces)} tokens agree with llguidance {llguidance.get_version()} "
          f"({len(cases)} grammars)")


def allowed_tokens(matcher, n_vocab):
    """The token ids llguidance's mask allows (its bitmask: 32 tokens per int32 word)."""
    import numpy as np
    from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask
    bitmask = allocate_token_bitmask(1, n_vocab)
    fill_next_token_bitmask(matcher, bitmask, 0)
    words = bitmask[0].view(np.uint32)
    bits = np.unpackbits(words.view(np.uint8), bitorder="little")[:n_vocab]
    return np.nonzero(bits)[0].tolist()
