"""encode and chat through real processes: vectors that are the same bits alone or in a batch,
receipts that replay after a restart (encode and chat alike), and the errors of both."""

import json
import os

import wire
from wire import assert_error, assert_result

MODELS = ("--model", "smollm2-135m", "--model", "qwen2.5-coder-0.5b", "--model", "minilm-l6")
TEXTS = [("short " * (1 + (i * 5) % 17)) + ("é東" if i % 4 == 0 else "") + f" sentence number {i}." for i in range(16)]


def test_encode_batch_alone_and_replay_after_restart(start_stdio, workdir):
    journal = ("--journal", os.path.join(workdir, "journal.jsonl"))
    d = start_stdio(*MODELS, *journal)
    batch = assert_result(d.call("encode", {"model": "minilm-l6", "input": TEXTS}, id=1, timeout=60), 1)
    assert batch["dimensions"] == 384 and batch["pooling"] == "mean" and batch["normalize"] is True
    assert len(set(batch["tokenCounts"])) > 6 and batch["truncated"] == [False] * 16
    for i, text in enumerate(TEXTS):
        alone = assert_result(d.call("encode", {"model": "minilm-l6", "input": text}, id=10 + i, timeout=60), 10 + i)
        assert alone["embeddings"][0] == batch["embeddings"][i], f"input {i} differs alone and in the batch"
        assert alone["receipt"]["output"]["embeddings"][0] == batch["receipt"]["output"]["embeddings"][i]
    tokens = assert_result(d.call("encode", {"model": "minilm-l6", "tokens": batch["receipt"]["request"]["tokens"]}, id=2, timeout=60), 2)
    assert tokens["receipt"]["output"]["digest"] == batch["receipt"]["output"]["digest"]
    decoder = assert_result(d.call("encode", {"model": "qwen2.5-coder-0.5b", "input": ["a b c", "hello"], "pooling": "last"}, id=3, timeout=60), 3)
    assert decoder["dimensions"] == 896 and len(decoder["embeddings"]) == 2
    chat = assert_result(d.call("generate", {"model": "smollm2-135m", "messages": [{"role": "user", "content": "What is 2 + 2?"}],
                                             "maxTokens": 24, "temperature": 0}, id=4, timeout=120), 4)
    assert "4" in chat["text"], chat["text"]
    d.finish()

    again = start_stdio(*MODELS, *journal)
    for n, receipt in enumerate((batch["receipt"], decoder["receipt"], chat["receipt"])):
        r = assert_result(again.call("reproduce", {"id": receipt["id"]}, id=20 + n, timeout=120), 20 + n)
        assert r["identical"] is True and r["journal"] == "matches", r
        if receipt["method"] == "encode":
            assert r["maxEmbeddingDifference"] == 0 and r["divergence"] is None
    # A tampered vector is caught at its place.
    forged = json.loads(json.dumps(batch["receipt"]))
    vector = forged["output"]["embeddings"][3]
    vector[7] = "3f800000"
    r = assert_result(again.call("reproduce", {"receipt": forged}, id=30, timeout=60), 30)
    assert r["identical"] is False and r["expected"]["intact"] is False
    assert (r["divergence"]["input"], r["divergence"]["index"], r["divergence"]["expected"]) == (3, 7, 1.0)
    again.finish()


def test_truncation_is_reported_or_refused(start_stdio):
    d = start_stdio("--model", "minilm-l6", "--no-journal")
    long = "word " * 400
    r = assert_result(d.call("encode", {"input": [long, "short"]}, id=1, timeout=60), 1)
    assert r["truncated"] == [True, False] and r["tokenCounts"][0] == 256
    assert len(r["receipt"]["request"]["tokens"][0]) == 256
    error = assert_error(d.call("encode", {"input": [long, "short"], "truncate": False}, id=2), -32003, 2)
    assert error["data"] == {"path": "params.input[0]", "contextLength": 256}
    none = assert_result(d.call("encode", {"input": "two words", "pooling": "none", "normalize": False}, id=3), 3)
    assert len(none["embeddings"][0]) == none["tokenCounts"][0] == 4 and len(none["embeddings"][0][0]) == 384
    # An encoder cannot generate; tokenize works with its WordPiece tokenizer.
    assert_error(d.call("generate", {"prompt": "hi"}, id=4), -32602, 4)
    tok = assert_result(d.call("tokenize", {"text": "Hello world, this is a test."}, id=5), 5)
    assert tok["tokens"] == [101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 1012, 102]
    d.finish()


def test_chat_on_two_instruct_models_and_its_errors(start_stdio):
    d = start_stdio("--model", "smollm2-135m", "--model", "qwen2.5-coder-0.5b", "--no-journal")
    question = [{"role": "user", "content": "What is 2 + 2?"}]
    # SmolLM2-135M is small enough that its own default system prompt suits it best (with
    # another it wanders); Qwen2.5 gets one of ours.
    for n, (model, messages) in enumerate((("smollm2-135m", question),
                                           ("qwen2.5-coder-0.5b", [{"role": "system", "content": "You are a concise assistant."}] + question))):
        r = assert_result(d.call("generate", {"model": model, "messages": messages, "maxTokens": 24, "temperature": 0},
                                 id=n, timeout=120), n)
        assert "4" in r["text"], (model, r["text"])
        again = assert_result(d.call("reproduce", {"receipt": r["receipt"]}, id=10 + n, timeout=120), 10 + n)
        assert again["identical"] is True
    error = assert_error(d.call("generate", {"messages": [{"role": "user", "content": "x"}], "prompt": "y"}, id=20), -32602, 20)
    assert error["data"]["path"] == "params.prompt"
    error = assert_error(d.call("generate", {"messages": [{"role": "user"}]}, id=21), -32602, 21)
    assert error["data"]["path"] == "params.messages[0].content"
    d.finish()
