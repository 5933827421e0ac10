"""The client against a real daemon, on stdio and on a Unix socket, in both framings."""

import asyncio
import json
import os
import threading
import time

import pytest

from reprolm_client import (Client, ConnectionClosed, ContextOverflow, DaemonNotRunning, GenerationStream,
                            InvalidParams, InvalidRequest, MethodNotFound, ModelLoadFailed,
                            ModelMismatch, ModelNotFound, ReceiptNotFound, ReprolmError,
                            ShuttingDown)

TEXTS = ["Hello", "Hello, world!", "déjà vu", "1 + 1 = 2", "   spaces   ", "日本語", "emoji 🙂", ""]
# Session seed 42: its commitment and its first two derived seeds (protocol/README.md, "Seeds").
SEED_42_COMMITMENT = "9f771b813506b3e2d30c9b41cb8f2ac085c32f7650bc737ff33ce296a3fc1ea9"
SEED_42_DERIVED = [3272029804031466, 2544199846411249]  # seed scheme 2 (receipts version 2)


def same_answer(result):
    """A generate or score result without what differs between two runs of the same request:
    `timings` (wall clock), and the receipt's `id` (random) and `created` (wall clock)."""
    out = {k: v for k, v in result.items() if k != "timings"}
    out["receipt"] = {k: v for k, v in result["receipt"].items() if k not in ("id", "created")}
    return out


def test_initialize_reports_methods_and_framings(client):
    info = client.initialize(client_name="pytest", client_version="1")
    assert info["serverInfo"]["name"] == "reprolm"
    for method in ("initialize", "shutdown", "exit", "$/cancelRequest", "models/list",
                   "models/load", "models/unload", "tokenize", "detokenize", "generate", "score",
                   "encode", "setSeed", "reproduce", "receipts/get", "stats"):
        assert method in info["capabilities"]["methods"]
    assert set(info["capabilities"]["framings"]) == {"content-length", "newline"}


def test_tokenize_and_detokenize_round_trip(client):
    out = client.tokenize("Hello, world!", add_special=False)
    assert out["model"] == "smollm2-135m"
    assert len(out["tokens"]) == len(out["pieces"]) == len(out["pieceBytes"]) > 0
    assert bytes(b for piece in out["pieceBytes"] for b in piece) == b"Hello, world!"
    assert client.detokenize(out["tokens"])["text"] == "Hello, world!"


def test_generate_greedy_is_reproducible(client):
    first = client.generate("Once upon a time", max_tokens=8, temperature=0)
    assert first["model"] == "smollm2-135m" and first["finishReason"] == "length"
    assert len(first["tokens"]) == first["usage"]["completionTokens"] == 8
    assert first["usage"]["promptTokens"] == len(client.tokenize("Once upon a time")["tokens"])
    assert first["seedSource"] == "entropy" and "logprobs" not in first
    again = client.generate(tokens=client.tokenize("Once upon a time")["tokens"], max_tokens=8, temperature=0)
    assert (again["text"], again["tokens"]) == (first["text"], first["tokens"])
    assert client.detokenize(first["tokens"])["text"] == first["text"]


def test_generate_seed_logprobs_and_stop(client):
    sampled = client.generate("The capital of France is", max_tokens=6, seed=42, top_logprobs=2)
    assert (sampled["seed"], sampled["seedSource"]) == (42, "request")
    assert [e["token"] for e in sampled["logprobs"]] == sampled["tokens"]
    assert all(len(e["top"]) == 2 and e["logprob"] <= 0 for e in sampled["logprobs"])
    replay = client.generate("The capital of France is", max_tokens=6, seed=sampled["seed"], top_logprobs=2)
    assert same_answer(replay) == same_answer(sampled)
    assert replay["receipt"]["id"] != sampled["receipt"]["id"]
    stopped = client.generate("1, 2, 3,", max_tokens=8, temperature=0, stop=", 6")
    assert (stopped["finishReason"], stopped["stopSequence"], stopped["text"]) == ("stop", ", 6", " 4, 5")


def test_generate_streams_to_a_callback(client):
    chunks = []
    result = client.generate("1, 2, 3,", max_tokens=8, temperature=0, stop=[", 6"], logprobs=True,
                             on_stream=chunks.append)
    assert chunks and all(c["requestId"] == chunks[0]["requestId"] for c in chunks)
    assert "".join(c["text"] for c in chunks) == result["text"] == " 4, 5"
    assert [t for c in chunks for t in c["tokens"]] == result["tokens"]
    assert [e for c in chunks for e in c["logprobs"]] == result["logprobs"]


def test_generate_stream_iterator_and_cancel(client):
    stream = client.generate_stream("Once upon a time", max_tokens=4000, temperature=0)
    assert isinstance(stream, GenerationStream) and isinstance(stream.request_id, int)
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        if len(chunks) == 2:
            stream.cancel()
    result = stream.result()
    assert result["finishReason"] == "cancelled" and 2 <= len(result["tokens"]) < 4000
    assert "".join(c["text"] for c in chunks) == result["text"]
    assert [t for c in chunks for t in c["tokens"]] == result["tokens"]
    assert list(stream) == []  # exhausted


def test_generate_errors(client):
    with pytest.raises(InvalidParams) as caught:
        client.generate("x", tokens=[1])
    assert caught.value.path == "params.tokens"
    with pytest.raises(InvalidParams) as caught:
        client.generate("x", beams=2, temperature=0.5)
    assert caught.value.path == "params.temperature"
    with pytest.raises(ContextOverflow) as caught:
        client.generate("x", max_tokens=8192)
    assert caught.value.code == -32003
    assert caught.value.data == {"promptTokens": 1, "maxTokens": 8192, "contextLength": 8192}
    with pytest.raises(InvalidParams) as caught:
        for _ in client.generate_stream("x", top_k=-1):
            pass
    assert caught.value.path == "params.topK"
    with pytest.raises(TypeError):
        client.generate_stream("x", max_token=3)


def test_score(client):
    result = client.score(context="The capital of France is", continuation=" Paris.", top_logprobs=2)
    assert (result["contextTokens"], result["scoredTokens"]) == (5, 2)
    scored = result["tokens"][result["contextTokens"]:]
    assert [e["text"] for e in scored] == [" Paris", "."]
    assert all(e["logprob"] is None for e in result["tokens"][:5])
    assert result["sum"] == scored[0]["logprob"] + scored[1]["logprob"]
    assert all(len(e["top"]) == 2 for e in scored)
    whole = client.score("The capital of France is Paris.")
    assert [e["token"] for e in whole["tokens"]] == [e["token"] for e in result["tokens"]]
    assert [e["logprob"] for e in whole["tokens"][5:]] == [e["logprob"] for e in scored]
    assert same_answer(client.score(tokens=[e["token"] for e in whole["tokens"]])) == same_answer(whole)
    # score_from: the first scored token, as a receipt records a context/continuation split.
    split = client.score(tokens=[e["token"] for e in whole["tokens"]], score_from=5, top_logprobs=2)
    assert {k: v for k, v in same_answer(split).items() if k != "receipt"} == \
        {k: v for k, v in same_answer(result).items() if k != "receipt"}
    assert split["receipt"]["request"] == result["receipt"]["request"]
    assert split["receipt"]["output"] == result["receipt"]["output"]
    with pytest.raises(InvalidParams) as caught:
        client.score("x", context="a", continuation="b")
    assert caught.value.path == "params.text"


def test_set_seed_gives_the_session_seeds(client):
    answer = client.set_seed(42)
    assert answer == {"commitment": SEED_42_COMMITMENT, "previous": None}
    first = client.generate("Once upon a time", max_tokens=4)
    second = client.generate("Once upon a time", max_tokens=4)
    for index, result in enumerate((first, second)):
        assert (result["seedSource"], result["seedIndex"], result["seed"]) == ("session", index, SEED_42_DERIVED[index])
        assert result["seedCommitment"] == SEED_42_COMMITMENT
        assert result["receipt"]["seed"] == {"source": "session", "commitment": SEED_42_COMMITMENT, "index": index}
    own = client.generate("Once upon a time", max_tokens=4, seed=SEED_42_DERIVED[1])
    assert own["seedSource"] == "request" and "seedIndex" not in own
    assert own["tokens"] == second["tokens"]  # a derived seed is an ordinary seed
    replaced = client.set_seed("another seed")
    assert replaced["previous"] == {"seed": 42, "commitment": SEED_42_COMMITMENT, "requests": 2, "fromEntropy": False}
    drawn = client.set_seed()
    assert drawn["previous"]["seed"] == "another seed" and len(drawn["commitment"]) == 64
    with pytest.raises(InvalidParams) as caught:
        client.set_seed(1.5)
    assert caught.value.path == "params.seed"


def test_reproduce_and_get_receipt(client):
    result = client.generate("The capital of France is", max_tokens=6, seed=42, top_logprobs=2)
    receipt = result["receipt"]
    replay = client.reproduce(receipt=receipt)
    assert replay["identical"] is True and replay["divergence"] is None, replay
    assert (replay["receiptId"], replay["method"], replay["journal"]) == (receipt["id"], "generate", "matches")
    assert replay["actual"]["tokens"] == result["tokens"] and replay["maxLogprobDifference"] == 0
    assert client.reproduce(id=receipt["id"]) == replay
    got = client.get_receipt(receipt["id"])
    assert got["receipt"] == receipt
    assert got["seq"] >= 0 and len(got["prev"]) == len(got["entry"]) == 64
    scored = client.score("The capital of France is Paris.")
    assert client.reproduce(receipt=scored["receipt"])["identical"] is True
    # An altered receipt is not identical, and says where it parts from the replay.
    altered = dict(receipt, output=dict(receipt["output"], tokens=[0] + receipt["output"]["tokens"][1:]))
    replay = client.reproduce(receipt=altered)
    assert replay["identical"] is False and replay["expected"]["intact"] is False
    assert replay["divergence"]["position"] == 0 and replay["journal"] == "differs"
    with pytest.raises(ReceiptNotFound) as caught:
        client.get_receipt("rc-" + "0" * 32)
    assert caught.value.code == -32007 and caught.value.data == {"id": "rc-" + "0" * 32}
    with pytest.raises(ReceiptNotFound):
        client.reproduce(id="rc-" + "0" * 32)
    with pytest.raises(ModelMismatch) as caught:
        client.reproduce(receipt=dict(receipt, model=dict(receipt["model"], sha256="0" * 64)))
    assert caught.value.data["loadedSha256"] == receipt["model"]["sha256"]
    with pytest.raises(InvalidParams) as caught:
        client.reproduce()
    assert caught.value.path == "params.receipt"


def test_sessions_are_per_connection(socket_daemon):
    with Client.connect_socket(socket_daemon, timeout=30) as a, Client.connect_socket(socket_daemon, timeout=30) as b:
        a.set_seed(42)
        assert b.generate("Hi", max_tokens=2)["seedSource"] == "entropy"
        assert (a.generate("Hi", max_tokens=2)["seedIndex"], a.generate("Hi", max_tokens=2)["seedIndex"]) == (0, 1)


def test_without_a_journal_receipts_cannot_be_looked_up(spawn):
    c = spawn("--no-journal")
    result = c.generate("Hi", max_tokens=2, seed=1)
    with pytest.raises(InvalidParams) as caught:
        c.get_receipt(result["receipt"]["id"])
    assert caught.value.path == "params.id"
    replay = c.reproduce(receipt=result["receipt"])
    assert replay["identical"] is True and replay["journal"] == "disabled"


def test_stats_counts_requests_tokens_and_prefix_cache_hits(spawn):
    with spawn() as c:
        prompt = "A long shared context about rivers and bridges. " * 8
        first = c.generate(prompt, max_tokens=4, temperature=0)
        second = c.generate(prompt + "And then", max_tokens=4, temperature=0)
        with pytest.raises(InvalidParams):
            c.call("tokenize", {"text": "x", "bogus": 1})
        stats = c.stats()
    assert second["timings"]["cachedPromptTokens"] > first["usage"]["promptTokens"] // 2
    assert stats["requests"]["generate"] == {"ok": 2}
    assert stats["requests"]["tokenize"] == {"-32602": 1}
    assert stats["tokens"]["completion"] == len(first["tokens"]) + len(second["tokens"])
    assert stats["tokens"]["cachedPrompt"] == second["timings"]["cachedPromptTokens"]
    assert stats["inFlight"] == 1 and stats["uptimeSeconds"] > 0
    [model] = stats["models"]
    assert model["name"] == "smollm2-135m" and model["weightBytes"] > 50_000_000
    assert model["prefixCache"]["hits"] == 1 and model["prefixCache"]["entries"] >= 1


def test_list_models_names_the_default(client):
    models = client.list_models()
    default = [m for m in models if m["default"]]
    assert [m["name"] for m in default] == ["smollm2-135m"] and default[0]["loaded"]


def test_invalid_params_carries_the_path(client):
    with pytest.raises(InvalidParams) as caught:
        client.call("tokenize", {"text": "x", "bogus": 1})
    assert caught.value.code == -32602 and caught.value.path == "params.bogus"
    with pytest.raises(InvalidParams) as caught:
        client.call("tokenize", {})
    assert caught.value.path == "params.text" and caught.value.reason


def test_method_not_found(client):
    with pytest.raises(MethodNotFound) as caught:
        client.call("no/such/method")
    assert caught.value.code == -32601 and isinstance(caught.value, ReprolmError)


def test_model_not_found(client):
    with pytest.raises(ModelNotFound):
        client.tokenize("x", model="no-such-model")
    with pytest.raises(ModelNotFound):
        client.unload_model("no-such-model")


def test_model_load_failure(client, tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelLoadFailed):
        client.load_model(str(bogus))


def test_concurrent_threads_get_their_own_answers(client):
    expected = {text: client.tokenize(text)["tokens"] for text in TEXTS}
    failures = []

    def worker(seed):
        try:
            for i in range(25):
                text = TEXTS[(seed + i) % len(TEXTS)]
                got = client.tokenize(text)["tokens"]
                if got != expected[text]:
                    failures.append((text, got))
        except Exception as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert failures == []


def test_call_async_and_asyncio(client):
    futures = [client.call_async("tokenize", {"text": t}) for t in TEXTS]
    ids = [f.request_id for f in futures]
    assert len(set(ids)) == len(ids)
    sequential = [f.result(30)["tokens"] for f in futures]

    async def gather():
        return await asyncio.gather(*(client.acall("tokenize", {"text": t}) for t in TEXTS))

    assert [r["tokens"] for r in asyncio.run(gather())] == sequential


def test_a_cancelled_future_leaves_the_connection_working(client):
    """A caller that gives up on a Future (as asyncio.wait_for does through acall) leaves its
    answer to be dropped when it comes; the reader goes on for everyone else."""
    slow = client.call_async("generate", {"prompt": "A long story:", "maxTokens": 64, "temperature": 0})
    assert slow.cancel()

    async def give_up():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.acall("generate", {"prompt": "Another:", "maxTokens": 64}), 0.001)

    asyncio.run(give_up())
    # Until both answers have come, to futures already cancelled (`stats` counts itself).
    deadline = time.monotonic() + 60
    while client.stats()["inFlight"] > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.stats()["inFlight"] == 1
    assert not client.closed
    assert client.tokenize("still here")["tokens"]


def test_a_future_cancelled_while_its_answer_is_set_leaves_the_connection_working(client):
    """The caller may cancel a Future between the reader's look at it and its answer being set
    (a Ray Serve replica lost its daemon connection so): the answer is dropped all the same."""
    raced = client.call_async("generate", {"prompt": "A long story:", "maxTokens": 64, "temperature": 0})
    assert raced.cancel()
    raced.cancelled = lambda: False   # as if the cancel came just after the reader looked
    deadline = time.monotonic() + 30
    while client.stats()["inFlight"] > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.closed
    assert client.tokenize("still here")["tokens"]


def test_batch_mixes_results_errors_and_notifications(client):
    out = client.batch([("tokenize", {"text": "Hello"}), ("nope", None), ("tokenize", {"text": "x"}, True),
                        ("tokenize", {"txt": "x"})])
    assert out[0]["tokens"] == client.tokenize("Hello")["tokens"]
    assert isinstance(out[1], MethodNotFound)
    assert out[2] is None
    assert isinstance(out[3], InvalidParams) and out[3].path == "params.text"


def test_notify_and_cancel_of_unknown_id_are_harmless(client):
    client.notify("no/such/notification", {"x": 1})
    client.cancel_request(123456)
    assert client.tokenize("ok")["tokens"]


@pytest.mark.parametrize("framing", ["newline", "content-length"])
def test_progress_notifications_reach_the_hooks(spawn, framing):
    seen, per_request = [], []
    c = spawn("--no-model", framing=framing)
    c.add_notification_handler(lambda method, params: seen.append((method, params)))
    info = c.load_model("smollm2-135m", on_progress=per_request.append)
    assert info["loaded"] and info["name"] == "smollm2-135m"
    assert per_request, "no $/progress for the load"
    assert all(p["requestId"] == per_request[0]["requestId"] for p in per_request)
    assert [m for m, _ in seen] == ["$/progress"] * len(per_request)
    assert per_request[-1]["done"] == per_request[-1]["total"]


def test_shutdown_then_refused_then_exit_zero(spawn):
    c = spawn("--no-model")
    assert c.shutdown() is None
    with pytest.raises(ShuttingDown) as caught:
        c.list_models()
    assert caught.value.code == -32005
    c.exit()
    assert c.wait(10) == 0


def test_exit_without_shutdown_is_code_one(spawn):
    c = spawn("--no-model", framing="content-length")
    c.exit()
    assert c.wait(10) == 1


def test_pending_calls_fail_when_the_daemon_dies(spawn):
    c = spawn("--no-model")
    c.list_models()
    c.process.kill()
    with pytest.raises(ConnectionClosed):
        for _ in range(100):  # bounded: the reader notices EOF within a few calls at most
            c.list_models()
    assert c.closed


def test_oversized_frame_is_an_unaddressed_error(spawn):
    got = threading.Event()
    c = spawn("--no-model", "--max-frame-bytes", "1024", on_unaddressed_error=lambda e: got.set())
    future = c.call_async("tokenize", {"text": "x" * 4000})
    assert got.wait(10)
    error = c.unaddressed_errors[-1]
    assert isinstance(error, InvalidRequest) and error.data["limit"] == 1024
    assert not future.done()
    assert c.list_models()  # the connection goes on


def test_socket_client_uses_env_default_path(socket_daemon, monkeypatch):
    monkeypatch.setenv("REPROLM_SOCKET", socket_daemon)
    with Client.connect_socket() as c:
        assert c.tokenize("Hello")["tokens"]
    absent = os.path.join(os.path.dirname(socket_daemon), "absent.sock")
    with pytest.raises(DaemonNotRunning) as raised:  # not a bare FileNotFoundError: it names the path
        Client.connect_socket(absent)
    assert raised.value.path == absent and absent in str(raised.value) and "reprolm serve --socket" in str(raised.value)
    assert isinstance(raised.value, ConnectionError)


def test_calls_after_close_raise(socket_daemon):
    c = Client.connect_socket(socket_daemon)
    c.close()
    with pytest.raises(ConnectionClosed):
        c.list_models()


# --- encode and chat ------------------------------------------------------------------------------
# The client fixture's daemons start with the default model only: these tests load what they need
# (on the shared socket daemon the model then stays loaded; loading it again answers at once).

SENTENCES = ["A man is eating food.", "A man is eating a piece of bread."]
QUESTION = [{"role": "user", "content": "What is 2 + 2?"}]


def test_encode_two_sentences_on_minilm(client):
    info = client.load_model("minilm-l6", timeout=120)
    assert (info["loaded"], info["architecture"], info["contextLength"]) == (True, "bert", 256)
    result = client.encode(SENTENCES, model="minilm-l6")
    assert (result["model"], result["dimensions"], result["pooling"], result["normalize"]) == \
        ("minilm-l6", 384, "mean", True)
    assert result["tokenCounts"] == [8, 11] and result["truncated"] == [False, False]
    a, b = result["embeddings"]
    assert len(a) == len(b) == 384
    assert abs(sum(x * x for x in a) - 1) < 1e-5 and abs(sum(x * x for x in b) - 1) < 1e-5
    assert abs(sum(x * y for x, y in zip(a, b)) - 0.755) < 1e-3  # cosine (the vectors are normalised)
    # The receipt records the token ids encoded; the same ids, or one sentence alone, give the same bits.
    receipt = result["receipt"]
    assert (receipt["method"], receipt["seed"]) == ("encode", None)
    assert receipt["request"]["tokens"] == [client.tokenize(s, model="minilm-l6")["tokens"] for s in SENTENCES]
    again = client.encode(tokens=receipt["request"]["tokens"], model="minilm-l6")
    assert again["receipt"]["output"] == receipt["output"]
    alone = client.encode(SENTENCES[1], model="minilm-l6")
    assert alone["embeddings"] == [b]
    replay = client.reproduce(receipt=receipt)
    assert replay["identical"] is True and replay["divergence"] is None, replay
    assert (replay["method"], replay["maxEmbeddingDifference"]) == ("encode", 0)
    assert client.reproduce(id=receipt["id"]) == replay
    # Per-token vectors, truncation and its refusal.
    tokens = client.encode(SENTENCES[0], model="minilm-l6", pooling="none")
    assert len(tokens["embeddings"][0]) == 8 and all(len(v) == 384 for v in tokens["embeddings"][0])
    cut = client.encode("word " * 300, model="minilm-l6")
    assert (cut["tokenCounts"], cut["truncated"]) == ([256], [True])
    with pytest.raises(ContextOverflow) as caught:
        client.encode("word " * 300, model="minilm-l6", truncate=False)
    assert caught.value.data == {"path": "params.input", "contextLength": 256}
    with pytest.raises(InvalidParams) as caught:
        client.encode(tokens=[[101, 102]], model="minilm-l6", add_special=False)
    assert caught.value.path == "params.addSpecial"
    with pytest.raises(InvalidParams) as caught:
        client.generate("Hi", model="minilm-l6")  # an encoder does not generate
    assert caught.value.path == "params.model"


def test_encode_on_the_default_decoder(client):
    result = client.encode(["Hello world", "Hi"])
    assert (result["model"], result["dimensions"], result["pooling"], result["normalize"]) == \
        ("smollm2-135m", 576, "mean", True)
    assert result["tokenCounts"] == [len(client.tokenize(t)["tokens"]) for t in ("Hello world", "Hi")]
    assert client.encode("Hi")["embeddings"] == result["embeddings"][1:]  # the same bits alone
    with pytest.raises(InvalidParams) as caught:
        client.encode("Hi", pooling="cls")  # a decoder has no [CLS]
    assert caught.value.path == "params.pooling"
    with pytest.raises(InvalidParams) as caught:
        client.encode(["Hi", ""], add_special=False)
    assert caught.value.path == "params.input[1]"


@pytest.mark.parametrize("model", ["smollm2-135m", "qwen2.5-coder-0.5b"])
def test_chat_answers_and_replays(client, model):
    client.load_model(model, timeout=120)
    answer = client.generate(messages=QUESTION, temperature=0, max_tokens=24, model=model)
    assert answer["model"] == model and "4" in answer["text"], answer["text"]
    assert answer["finishReason"] == "stop"
    replay = client.reproduce(receipt=answer["receipt"])
    assert replay["identical"] is True and replay["divergence"] is None, replay
    assert replay["actual"]["tokens"] == answer["tokens"] and replay["maxLogprobDifference"] is None
    # The same conversation streamed: the same answer.
    stream = client.generate_stream(messages=QUESTION, temperature=0, max_tokens=24, model=model)
    chunks = list(stream)
    assert "".join(c["text"] for c in chunks) == stream.result()["text"] == answer["text"]


def test_chat_errors(client):
    with pytest.raises(InvalidParams) as caught:
        client.generate("x", messages=QUESTION)
    assert caught.value.path == "params.prompt"
    with pytest.raises(InvalidParams) as caught:
        client.generate(messages=[{"role": "", "content": "x"}])
    assert caught.value.path == "params.messages[0].role"
    with pytest.raises(InvalidParams) as caught:
        client.generate("x", add_generation_prompt=False)
    assert caught.value.path == "params.addGenerationPrompt"


def test_fill_in_the_middle(client):
    client.load_model("qwen2.5-coder-0.5b", timeout=120)
    answer = client.generate("def add(a, b):\n    ", suffix="\n\nprint(add(2, 3))\n", model="qwen2.5-coder-0.5b",
                             temperature=0, max_tokens=16, stop="\n")
    assert answer["text"] == "return a + b" and answer["finishReason"] == "stop", answer["text"]
    assert client.reproduce(receipt=answer["receipt"])["identical"] is True
    with pytest.raises(InvalidParams) as caught:
        client.generate("def add(a, b):\n    ", suffix="\n", model="smollm2-135m")  # no FIM tokens
    assert caught.value.path == "params.suffix"


def test_constrained_output(client):
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
                                               "legs": {"type": "integer", "minimum": 0, "maximum": 8}},
              "required": ["name", "legs"]}
    out = client.generate("An animal as JSON:", json_schema=schema, temperature=1, seed=4, max_tokens=48)
    assert out["finishReason"] == "stop"
    value = json.loads(out["text"])
    assert set(value) == {"name", "legs"} and 0 <= value["legs"] <= 8 and len(value["name"]) <= 12
    assert out["receipt"]["request"]["jsonSchema"] == schema
    assert client.reproduce(receipt=out["receipt"])["identical"] is True
    colours = client.generate("Colours:", grammar='root ::= ("red" | "blue") (", " ("red" | "blue"))*',
                              temperature=0, max_tokens=8)
    assert set(colours["text"].split(", ")) <= {"red", "blue"}
    any_json = client.generate("A cat as JSON:", format="json", temperature=0, max_tokens=48)
    assert any_json["finishReason"] == "stop"
    json.loads(any_json["text"])  # parses
    with pytest.raises(InvalidParams) as e:
        client.generate("x", grammar="root ::= missing")
    assert e.value.path == "params.grammar"


def test_tool_calls(client):
    client.load_model("qwen2.5-coder-0.5b", timeout=120)
    weather = {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    ask = [{"role": "user", "content": "What is the weather like in Paris today?"}]
    answer = client.generate(messages=ask, tools=[weather], tool_choice="required", model="qwen2.5-coder-0.5b",
                             temperature=0, max_tokens=48)
    assert answer["toolCalls"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}], answer["text"]
    assert client.reproduce(receipt=answer["receipt"])["identical"] is True
    with pytest.raises(InvalidParams) as caught:
        client.generate(messages=ask, tools=[weather], model="smollm2-135m")  # its template does not use tools
    assert caught.value.path == "params.tools"
