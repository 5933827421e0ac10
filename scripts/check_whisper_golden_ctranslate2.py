#!/usr/bin/env python3
"""Checks the numpy golden of scripts/make_whisper_numpy_golden.py against CTranslate2 itself
(the engine faster-whisper runs), so the float64 reference is known to compute what the model's
own runtime computes: the encoder output on the same synthetic window, and the logits of the
prompt's last position and the greedy steps after it, with compute_type float32.

    python3 -m pip install ctranslate2==4.8.5
    python3 scripts/check_whisper_golden_ctranslate2.py [MODEL_DIR]

Measured with ctranslate2 4.8.5 on x86-64: encoder max |delta| 7.7e-5 (outputs up to |23.7|),
logits max |delta| 3.1e-5, the same greedy tokens and top 5 ids."""

import importlib.util
import json
import os
import sys

import ctranslate2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("golden", os.path.join(ROOT, "scripts", "make_whisper_numpy_golden.py"))
golden_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden_script)

MODEL = sys.argv[1] if len(sys.argv) > 1 else golden_script.MODEL
TOLERANCE = 2e-4


def main():
    gold = json.load(open(golden_script.OUT))
    model = ctranslate2.models.Whisper(MODEL, device="cpu", compute_type="float32", intra_threads=2)
    window = golden_script.synthetic_window()[None]
    encoded = model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(window)), to_cpu=True)
    states = np.array(encoded)[0].reshape(-1)
    enc = gold["encoder"]
    encoder_error = float(np.abs(states[::enc["stride"]] - np.array(enc["sample"])).max())

    tokens, prompt_length = gold["decoder"]["tokens"], gold["decoder"]["promptLength"]
    result = model.generate(encoded, [tokens[:prompt_length]], max_length=len(tokens), beam_size=1,
                            return_logits_vocab=True, suppress_blank=False, suppress_tokens=[])[0]
    assert result.sequences_ids[0] == tokens[prompt_length:], (result.sequences_ids, tokens)
    logit_error = 0.0
    for i, logits in enumerate(result.logits[0]):
        row = np.array(logits).reshape(-1)
        position = gold["decoder"]["positions"][prompt_length - 1 + i]
        logit_error = max(logit_error, float(np.abs(row[::position["stride"]] - np.array(position["sample"])).max()))
        assert list(np.argsort(-row, kind="stable")[:5]) == position["top"][:5], i
    print(f"encoder max |delta| {encoder_error:.3g}, logits max |delta| {logit_error:.3g}")
    assert encoder_error < TOLERANCE and logit_error < TOLERANCE


if __name__ == "__main__":
    main()
