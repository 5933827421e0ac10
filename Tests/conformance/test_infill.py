"""Fill in the middle (generate {prompt, suffix}) through real processes: the receipt holds the
laid-out prompt's token ids, so it replays after a restart with no field of its own, and the
errors come at params.suffix. The layout and the tokens themselves are compared with llama-server
in Tests/ServerTests/InfillGoldenTests.swift."""

import os

from wire import assert_error, assert_result

QWEN = "qwen2.5-coder-0.5b"
# Qwen2.5-Coder's fill-in-the-middle tokens, and the repository header llama-server writes.
REPO_NAME, FILE_SEP, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = 151663, 151664, 151659, 151660, 151661


def test_an_infill_receipt_replays_after_a_restart(start_stdio, workdir):
    journal = ("--journal", os.path.join(workdir, "journal.jsonl"))
    d = start_stdio("--model", QWEN, *journal)
    prefix, suffix = "def area(r):\n    ", "\n\nprint(area(2.0))\n"
    params = {"prompt": prefix, "suffix": suffix, "maxTokens": 12, "temperature": 0.7, "seed": 11, "logprobs": True}
    r = assert_result(d.call("generate", params, id=1, timeout=120), 1)
    request = r["receipt"]["request"]
    assert "suffix" not in request and "prompt" not in request
    tok = lambda text, n: assert_result(d.call("tokenize", {"text": text, "addSpecial": False}, id=n), n)["tokens"]
    header = [REPO_NAME] + tok("myproject\n", 2) + [FILE_SEP] + tok("filename\n", 3)
    assert request["tokens"] == header + [FIM_PREFIX] + tok(prefix, 4) + [FIM_SUFFIX] + tok(suffix, 5) + [FIM_MIDDLE]
    assert r["usage"]["promptTokens"] == len(request["tokens"])
    # The same ids as a token prompt give the same answer.
    same = assert_result(d.call("generate", {**{k: v for k, v in params.items() if k not in ("prompt", "suffix")},
                                             "tokens": request["tokens"]}, id=6, timeout=120), 6)
    assert same["receipt"]["output"] == r["receipt"]["output"]
    d.finish()

    again = start_stdio("--model", QWEN, *journal)
    replay = assert_result(again.call("reproduce", {"id": r["receipt"]["id"]}, id=10, timeout=120), 10)
    assert replay["identical"] is True and replay["journal"] == "matches", replay
    assert replay["actual"]["tokens"] == r["tokens"] and replay["maxLogprobDifference"] == 0
    again.finish()


def test_suffix_errors_name_their_path(start_stdio):
    d = start_stdio("--model", "smollm2-135m", "--no-journal")
    cases = [
        ({"prompt": "def f():", "suffix": "\n"}, "fill-in-the-middle"),  # smollm2 has only <reponame>
        ({"tokens": [1, 2], "suffix": "\n"}, "tokens"),
        ({"messages": [{"role": "user", "content": "hi"}], "suffix": "\n"}, "messages"),
        ({"prompt": "a", "suffix": 5}, "string"),
    ]
    for n, (params, word) in enumerate(cases):
        error = assert_error(d.call("generate", {**params, "maxTokens": 1}, id=n), -32602, n)
        assert error["data"]["path"] == "params.suffix" and word in error["data"]["reason"], error
    # Only generate fills in the middle.
    error = assert_error(d.call("score", {"text": "a", "suffix": "b"}, id=9), -32602, 9)
    assert error["data"]["path"] == "params.suffix"
    d.finish()
