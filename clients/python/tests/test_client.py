"""The client against a real daemon, on stdio and on a Unix socket, in both framings."""

import asyncio
import os
import threading

import pytest

from reprolm_client import (Client, ConnectionClosed, InvalidParams, InvalidRequest,
                            MethodNotFound, ModelLoadFailed, ModelNotFound, ReprolmError,
                            ShuttingDown)

TEXTS = ["Hello", "Hello, world!", "déjà vu", "1 + 1 = 2", "   spaces   ", "日本語", "emoji 🙂", ""]


def test_initialize_reports_methods_and_framings(client):
    info = client.initialize(client_name="pytest", client_version="1")
    assert info["serverInfo"]["name"] == "reprolm"
    for method in ("initialize", "shutdown", "exit", "$/cancelRequest", "models/list",
                   "models/load", "models/unload", "tokenize", "detokenize"):
        assert method in info["capabilities"]["methods"]
    assert set(info["capabilities"]["framings"]) == {"content-length", "newline"}


def test_tokenize_and_detokenize_round_trip(client):
    out = client.tokenize("Hello, world!", add_special=False)
    assert out["model"] == "smollm2-135m"
    assert len(out["tokens"]) == len(out["pieces"]) == len(out["pieceBytes"]) > 0
    assert bytes(b for piece in out["pieceBytes"] for b in piece) == b"Hello, world!"
    assert client.detokenize(out["tokens"])["text"] == "Hello, world!"


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
    with pytest.raises(OSError):
        Client.connect_socket(os.path.join(os.path.dirname(socket_daemon), "absent.sock"))


def test_calls_after_close_raise(socket_daemon):
    c = Client.connect_socket(socket_daemon)
    c.close()
    with pytest.raises(ConnectionClosed):
        c.list_models()
