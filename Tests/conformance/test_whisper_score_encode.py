"""score and encode with audio on whisper-base through real processes.

References, all made without reprolm by scripts/make_whisper_score_golden.py
(Tests/conformance/fixtures/whisper-score-encode.json): CTranslate2 4.8.5's own teacher-forced
logits (float32, log-softmax in float64) for faster-whisper's transcripts of the espeak-ng clips and
for a few transcripts with one word changed, and CTranslate2's encoder states of three clips (one
short, one of 0.5 s, one of two windows), pooled over the positions that cover the clip in float64.

Also: greedy generate and score share their logits (generate's logprobs are after Whisper's
suppression, score's are not: the relation is checked exactly, to float32 rounding); the leading
space rule; pooling arithmetic; receipts that replay after a restart from the audio kept beside
the journal, or with the audio alongside; `reprolm verify` on that journal; the same bits for 1
and 2 threads; and every refusal at its parameter's path while the daemon keeps serving."""

import base64
import io
import json
import math
import os
import struct
import subprocess
import wave

import pytest

import receipts_ref as ref
from test_whisper import GOLDEN, clip_path
from wire import assert_error, assert_result

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = json.load(open(os.path.join(ROOT, "Tests/conformance/fixtures/whisper-score-encode.json")))
PROMPT, EOT = REFERENCE["prompt"], REFERENCE["endOfText"]
CONFIG = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                      "reprolm", "models", "whisper-base", "config.json")
WHISPER = ("--model", "whisper-base")
# Measured on x86-64 (AVX-512): 6.3e-5 (score, every position of 15 transcripts), 2.3e-5 (pooled
# means), 1.6e-4 (encoder states, values up to |20|). CTranslate2 runs the same float32 weights in
# another order; its own two teacher-forced paths (generate and align) differ by up to 6e-5 in
# probability.
LOGPROB_TOLERANCE = 1e-3
MEAN_TOLERANCE = 1e-4
STATE_TOLERANCE = 5e-4


def clip(name):
    return next(c for c in GOLDEN["clips"] if c["name"] == name)


def path_of(name):
    return clip_path(clip(name))


def score(d, id, name, **params):
    params = {"model": "whisper-base", "audio": {"path": path_of(name)}, "language": "en", **params}
    return assert_result(d.call("score", params, id=id, timeout=300), id)


def encode(d, id, name, **params):
    params = {"model": "whisper-base", "audio": {"path": path_of(name)}, **params}
    return assert_result(d.call("encode", params, id=id, timeout=300), id)


def f32_ulp(x):
    """The spacing of binary32 numbers at |x| (x itself a binary32 value)."""
    x = abs(x)
    if x < 2.0 ** -126:
        return 2.0 ** -149
    return 2.0 ** (math.floor(math.log2(x)) - 23)


def wav_bytes(samples):
    """A 16 kHz mono PCM16 WAV of these integer samples."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return base64.b64encode(out.getvalue()).decode()


def test_score_agrees_with_ctranslate2(start_stdio):
    d = start_stdio(*WHISPER, "--no-journal")
    worst, means = 0.0, {}
    for n, case in enumerate(REFERENCE["score"]):
        r = score(d, n, case["clip"], text=case["text"], topLogprobs=5)
        assert [e["token"] for e in r["tokens"]] == PROMPT + case["tokens"] + [EOT], case["text"]
        assert r["contextTokens"] == 4 and r["scoredTokens"] == len(case["tokens"]) + 1
        assert all(e["logprob"] is None and "top" not in e for e in r["tokens"][:4])
        assert r["language"] == "en" and r["languageDetected"] is False
        for i, (ours, theirs) in enumerate(zip(r["tokens"][4:], case["positions"])):
            delta = abs(ours["logprob"] - theirs["logprob"])
            assert delta <= LOGPROB_TOLERANCE, (case["text"], i, ours, theirs)
            worst = max(worst, delta)
            top = ours["top"]
            # The most likely token is theirs too, unless ours were a near-tie.
            assert top[0]["token"] == theirs["top"][0] or top[0]["logprob"] - top[1]["logprob"] < 1e-3, (case["text"], i)
        # The figures add up: Σ in token order (the daemon sums the same binary32 values in binary64).
        total = 0.0
        for e in r["tokens"][4:]:
            total += e["logprob"]
        assert r["sum"] == total and r["mean"] == total / r["scoredTokens"]
        assert math.isclose(r["perplexity"], math.exp(-r["mean"]), rel_tol=1e-12)
        means[(case["clip"], case["reference"])] = r["mean"]
    print(f"\nscore vs CTranslate2: max |delta logprob| {worst:.3g} over {len(REFERENCE['score'])} transcripts")
    # What the audio says scores better than the same words with one changed.
    for (name, reference), mean in means.items():
        if not reference:
            assert means[(name, True)] > mean + 0.2, (name, means[(name, True)], mean)
    d.finish()


def test_the_leading_space_and_the_same_ids_as_tokens(start_stdio):
    d = start_stdio(*WHISPER, "--no-journal")
    case = REFERENCE["score"][0]
    spaced = score(d, 1, case["clip"], text=case["text"])
    assert case["text"].startswith(" ")
    bare = score(d, 2, case["clip"], text=case["text"][1:])
    ids = score(d, 3, case["clip"], tokens=case["tokens"])
    assert spaced["receipt"]["output"] == bare["receipt"]["output"] == ids["receipt"]["output"]
    assert spaced["receipt"]["request"] == bare["receipt"]["request"] == ids["receipt"]["request"]
    # A text that already begins with a space gets no second one.
    doubled = score(d, 4, case["clip"], text=" " + case["text"])
    assert [e["token"] for e in doubled["tokens"]][4] == 220  # " " then " Please"
    d.finish()


def test_greedy_generate_and_score_share_their_logits(start_stdio):
    """Both take the log-softmax of the same logits (one-token steps in generate, a teacher-forced
    pass in score; the same bits by batch invariance), generate after Whisper's suppression (the
    config's suppress_ids, and suppress_ids_begin at the first token, set to -inf), score without.
    So at position i, for every token t both list, generate's logprob minus score's is the same
    d_i = log Z_all - log Z_allowed >= 0, up to rounding each to binary32, and generate's ranking is
    score's without the suppressed ids."""
    config = json.load(open(CONFIG))
    suppressed, begin = set(config["suppress_ids"]), set(config["suppress_ids_begin"])
    d = start_stdio(*WHISPER, "--no-journal")
    shifts = []
    for n, name in enumerate(("stella", "fox", "umbrella", "yes")):
        g = assert_result(d.call("generate", {"model": "whisper-base", "audio": {"path": path_of(name)}, "language": "en",
                                              "temperature": 0, "logprobs": True, "topLogprobs": 5}, id=n, timeout=300), n)
        assert g["tokens"][-1] == EOT and g["finishReason"] == "stop"
        s = score(d, 10 + n, name, tokens=g["tokens"][:-1], topLogprobs=20)
        by_text = score(d, 20 + n, name, text=g["text"], topLogprobs=20)
        # The tokenizer gives generate's own ids for generate's text (the restored merge).
        assert by_text["receipt"]["output"] == s["receipt"]["output"], name
        assert [e["token"] for e in s["tokens"][4:]] == g["tokens"]
        for i, (gen, sc) in enumerate(zip(g["logprobs"], s["tokens"][4:])):
            blocked = suppressed | (begin if i == 0 else set())
            shift = gen["logprob"] - sc["logprob"]
            assert shift >= -f32_ulp(gen["logprob"]), (name, i, shift)
            allowed = [t for t in sc["top"] if t["token"] not in blocked]
            # Score's top 20 lists at least generate's top 5 unless suppressed ids crowd them out.
            k = min(len(gen["top"]), len(allowed))
            assert [t["token"] for t in gen["top"][:k]] == [t["token"] for t in allowed[:k]], (name, i)
            assert gen["top"][0]["token"] == gen["token"]
            for a, b in zip(gen["top"][:k], allowed[:k]):
                slack = 2 * (f32_ulp(a["logprob"]) + f32_ulp(b["logprob"]) + f32_ulp(gen["logprob"]) + f32_ulp(sc["logprob"]))
                assert abs((a["logprob"] - b["logprob"]) - shift) <= slack, (name, i, a, b, shift)
            shifts.append(shift)
    print(f"\ngenerate - score logprob (the suppressed mass): {sum(1 for x in shifts if x == 0)} of {len(shifts)} "
          f"positions exactly 0, largest {max(shifts):.3g}")
    d.finish()


def test_encode_agrees_with_ctranslate2(start_stdio):
    d = start_stdio(*WHISPER, "--no-journal")
    worst_mean, worst_state = 0.0, 0.0
    for n, case in enumerate(REFERENCE["encode"]):
        raw = encode(d, n, case["clip"], normalize=False)
        assert raw["pooling"] == "mean" and raw["normalize"] is False and raw["dimensions"] == 512
        assert raw["audio"]["windows"] == len(case["windowFrames"]) and raw["audio"]["positions"] == case["positions"]
        assert raw["tokenCounts"] == [case["positions"]] and raw["truncated"] == [False]
        # ceil(frames / 2) positions per window: the clip's ⌊samples / 160⌋ frames, 3000 a window.
        frames = clip(case["clip"])["samples"] // 160
        assert case["positions"] == sum((min(3000, frames - s) + 1) // 2 for s in range(0, frames, 3000))
        mean = raw["embeddings"][0]
        worst_mean = max(worst_mean, max(abs(a - b) for a, b in zip(mean, case["mean"])))
        # The default normalizes the same vector: v / max(|v|, 1e-12).
        unit = encode(d, 10 + n, case["clip"])
        assert unit["normalize"] is True and unit["pooling"] == "mean"
        norm = math.sqrt(math.fsum(x * x for x in mean))
        assert max(abs(u - x / norm) for u, x in zip(unit["embeddings"][0], mean)) < 1e-6
        if case["clip"] != "yes":
            every = encode(d, 20 + n, case["clip"], pooling="none", normalize=False)
            states = every["embeddings"][0]
            assert len(states) == case["positions"] and every["tokenCounts"] == [case["positions"]]
            flat = [x for row in states for x in row]
            sample = case["states"]
            worst_state = max(worst_state, max(abs(a - b) for a, b in zip(flat[::sample["stride"]], sample["sample"])))
            # Mean pooling is the mean of these vectors (summed in binary32 in time order by the daemon).
            for j in range(0, 512, 37):
                column = math.fsum(row[j] for row in states) / len(states)
                assert abs(column - mean[j]) <= 1e-5 + 1e-5 * abs(column), (case["clip"], j)
    print(f"\nencode vs CTranslate2: pooled means max |delta| {worst_mean:.3g}, states max |delta| {worst_state:.3g}")
    assert worst_mean <= MEAN_TOLERANCE and worst_state <= STATE_TOLERANCE
    d.finish()


def test_receipts_replay_after_a_restart_and_with_the_audio_alongside(start_stdio, workdir, binary):
    journal = os.path.join(workdir, "journal.jsonl")
    d = start_stdio(*WHISPER, "--journal", journal)
    stella, yes = clip("stella"), clip("yes")
    with open(clip_path(stella), "rb") as f:
        wav = base64.b64encode(f.read()).decode()
    # Inline audio, the language detected and recorded.
    scored = assert_result(d.call("score", {"model": "whisper-base", "audio": {"wav": wav}, "topLogprobs": 2,
                                            "text": stella["transcript"]}, id=1, timeout=300), 1)
    assert scored["language"] == "en" and scored["languageDetected"] is True
    request = scored["receipt"]["request"]
    assert request == {"audio": {"sha256": stella["decoded_sha256"]}, "language": "en", "task": "transcribe",
                       "tokens": [e["token"] for e in scored["tokens"][4:-1]], "topLogprobs": 2}
    output = scored["receipt"]["output"]
    assert output["tokens"] == [e["token"] for e in scored["tokens"]]
    assert output["logprobs"] == [None if e["logprob"] is None else ref.float_bits(e["logprob"]) for e in scored["tokens"]]
    assert output["digest"] == ref.output_digest(output)
    assert scored["audio"] == {"sha256": stella["decoded_sha256"], "seconds": stella["samples"] / 16000}
    encoded = encode(d, 2, "long-lighthouse", pooling="none")
    assert encoded["receipt"]["request"] == {"audio": {"sha256": clip("long-lighthouse")["decoded_sha256"]},
                                             "pooling": "none", "normalize": True}
    short = encode(d, 3, "yes")
    translated = score(d, 4, "yes", text="Yes.", task="translate")
    assert translated["receipt"]["request"]["task"] == "translate"
    d.finish()

    again = start_stdio(*WHISPER, "--journal", journal)
    # The audio kept beside the journal serves {sha256} after the restart.
    stored = assert_result(again.call("encode", {"model": "whisper-base", "audio": {"sha256": yes["decoded_sha256"]}},
                                      id=9, timeout=300), 9)
    assert stored["receipt"]["output"] == short["receipt"]["output"]
    for n, r in enumerate((scored, encoded, short, translated)):
        replay = assert_result(again.call("reproduce", {"id": r["receipt"]["id"]}, id=10 + n, timeout=300), 10 + n)
        assert replay["identical"] is True and replay["divergence"] is None, replay
    # An altered logprob is found at its position, named with its token.
    forged = json.loads(json.dumps(scored["receipt"]))
    forged["output"]["logprobs"][6] = "00000000"
    replay = assert_result(again.call("reproduce", {"receipt": forged}, id=20, timeout=300), 20)
    assert replay["identical"] is False and replay["expected"]["intact"] is False
    assert replay["divergence"]["position"] == 6 and replay["divergence"]["token"] == scored["tokens"][6]["token"]
    assert replay["divergence"]["expectedLogprob"] == 0.0
    again.finish()
    report = subprocess.run([binary, "verify", journal], capture_output=True, text=True, timeout=120)
    assert report.returncode == 0 and "chain valid" in report.stdout, report.stdout + report.stderr

    other = start_stdio(*WHISPER, "--journal", os.path.join(workdir, "other.jsonl"))
    for n, r in enumerate((scored, encoded)):
        error = assert_error(other.call("reproduce", {"receipt": r["receipt"]}, id=30 + n, timeout=300), -32602, 30 + n)
        # The audio is what reproduce's own `audio` brings.
        assert error["data"]["path"] == "params.audio" and "send the audio" in error["data"]["reason"], error
    for n, (r, name) in enumerate(((scored, "stella"), (encoded, "long-lighthouse"))):
        replay = assert_result(other.call("reproduce", {"receipt": r["receipt"], "audio": {"path": path_of(name)}},
                                          id=40 + n, timeout=300), 40 + n)
        assert replay["identical"] is True, replay
    error = assert_error(other.call("reproduce", {"receipt": translated["receipt"], "audio": {"path": path_of("stella")}},
                                    id=50, timeout=300), -32602, 50)
    assert error["data"]["path"] == "params.audio", error
    other.finish()


def test_the_same_bits_for_one_and_two_threads(start_stdio):
    outputs = []
    for threads in ("1", "2"):
        d = start_stdio(*WHISPER, "--no-journal", "--threads", threads)
        outputs.append((score(d, 1, "fox", text=clip("fox")["transcript"], topLogprobs=3)["receipt"]["output"],
                        score(d, 2, "yes", text="Yes.")["receipt"]["output"],
                        encode(d, 3, "long-lighthouse")["receipt"]["output"]))
        d.finish()
    assert outputs[0] == outputs[1]


def test_errors_name_their_path_and_the_daemon_keeps_serving(start_stdio):
    d = start_stdio(*WHISPER, "--model", "smollm2-135m", "--no-journal")
    stella = {"path": path_of("stella")}
    long = {"path": path_of("long-lighthouse")}
    cases = [
        ("score", {"text": "Please call Stella."}, "params.audio"),
        ("score", {"audio": stella}, "params.text"),
        ("score", {"audio": stella, "text": ""}, "params.text"),
        ("score", {"audio": stella, "tokens": []}, "params.tokens"),
        ("score", {"audio": stella, "text": "a", "tokens": [257]}, "params.tokens"),
        ("score", {"audio": stella, "text": "a", "language": "xx"}, "params.language"),
        ("score", {"audio": stella, "text": "a", "task": "summarize"}, "params.task"),
        ("score", {"audio": stella, "text": "a", "context": "b"}, "params.context"),
        ("score", {"audio": stella, "text": "a", "scoreFrom": 1}, "params.scoreFrom"),
        ("score", {"audio": stella, "text": "a", "addSpecial": True}, "params.addSpecial"),
        ("score", {"audio": stella, "tokens": [2555, EOT]}, "params.tokens[1]"),
        ("score", {"audio": stella, "tokens": [51000]}, "params.tokens[0]"),
        ("score", {"audio": long, "text": "The lighthouse keeper"}, "params.audio"),
        ("score", {"audio": {"wav": wav_bytes([0] * 100)}, "text": "a"}, "params.audio"),
        ("score", {"audio": {"sha256": "0" * 64}, "text": "a"}, "params.audio.sha256"),
        ("score", {"text": "a", "language": "en"}, "params.language"),
        ("encode", {"input": "hello"}, "params.audio"),
        ("encode", {"audio": stella, "pooling": "cls"}, "params.pooling"),
        ("encode", {"audio": stella, "pooling": "last"}, "params.pooling"),
        ("encode", {"audio": stella, "input": "x"}, "params.input"),
        ("encode", {"audio": stella, "truncate": True}, "params.truncate"),
        ("encode", {"audio": stella, "language": "en"}, "params.language"),
        ("encode", {"audio": {"wav": wav_bytes([0] * 100)}}, "params.audio"),
    ]
    for n, (method, params, path) in enumerate(cases):
        error = assert_error(d.call(method, {"model": "whisper-base", **params}, id=n, timeout=120), -32602, n)
        assert error["data"]["path"] == path, (method, params, error)
    # A transcript longer than the decoder's 448 positions hold (4 of them the prompt's).
    error = assert_error(d.call("score", {"model": "whisper-base", "audio": stella, "tokens": [2555] * 445}, id=40, timeout=120),
                         -32003, 40)
    assert error["data"] == {"promptTokens": 449, "maxTokens": 0, "contextLength": 448}, error
    # Audio on a text model.
    for n, method in enumerate(("score", "encode")):
        params = {"model": "smollm2-135m", "audio": stella, **({"text": "a"} if method == "score" else {})}
        error = assert_error(d.call(method, params, id=50 + n, timeout=120), -32602, 50 + n)
        assert error["data"]["path"] == "params.model" and "speech model" in error["data"]["reason"], error
    # Still serving: the longest transcript that fits is scored.
    fits = assert_result(d.call("score", {"model": "whisper-base", "audio": stella, "tokens": [2555] * 444}, id=60, timeout=300), 60)
    assert fits["scoredTokens"] == 445
    d.finish()


def test_params_and_results_match_openrpc_json(start_stdio, workdir):
    """protocol/openrpc.json documents audio: the params sent here and every answer (with its
    receipt, whose request and output record have their own schemas) must match it."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT7
    doc = json.load(open(os.path.join(ROOT, "protocol", "openrpc.json")))
    registry = referencing.Registry().with_resource("urn:doc", referencing.Resource(contents=doc, specification=DRAFT7))
    index = {m["name"]: i for i, m in enumerate(doc["methods"])}

    def check(ref_, instance, what):
        v = jsonschema.Draft7Validator({"$ref": "urn:doc" + ref_}, registry=registry)
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in v.iter_errors(instance)]
        assert not errors, (what, errors)

    def call(d, id, method, params):
        check(doc["methods"][index[method]]["x-params-schema"]["$ref"], params, f"{method} params")
        result = assert_result(d.call(method, params, id=id, timeout=300), id)
        check(f"#/methods/{index[method]}/result/schema", result, f"{method} result")
        return result

    d = start_stdio(*WHISPER, "--journal", os.path.join(workdir, "journal.jsonl"))
    stella = {"path": path_of("stella")}
    answers = [
        call(d, 1, "generate", {"model": "whisper-base", "audio": stella, "temperature": 0, "logprobs": True, "topLogprobs": 2}),
        call(d, 2, "generate", {"model": "whisper-base", "audio": {"path": path_of("long-lighthouse")}, "language": "en",
                                "task": "transcribe", "temperature": 0, "maxTokens": 8}),
        call(d, 7, "generate", {"model": "whisper-base", "audio": stella, "language": "en", "timestamps": True,
                                "temperature": 0}),
        call(d, 8, "generate", {"model": "whisper-base", "audio": stella, "language": "en", "beams": 2, "logprobs": True}),
        call(d, 3, "score", {"model": "whisper-base", "audio": stella, "text": "Please call Stella.", "topLogprobs": 1}),
        call(d, 4, "score", {"model": "whisper-base", "audio": stella, "tokens": [2555, 818], "language": "en", "task": "translate"}),
        call(d, 5, "encode", {"model": "whisper-base", "audio": stella}),
        call(d, 6, "encode", {"model": "whisper-base", "audio": {"path": path_of("yes")}, "pooling": "none", "normalize": False}),
    ]
    assert len(answers[1]["segments"]) == 2 and all(s["finishReason"] == "length" for s in answers[1]["segments"])
    for n, a in enumerate(answers):
        call(d, 10 + n, "reproduce", {"id": a["receipt"]["id"], "audio": None})
    call(d, 20, "reproduce", {"receipt": answers[2]["receipt"], "audio": stella})
    d.finish()
