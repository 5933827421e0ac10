"""Lifecycle: shutdown then -32005 then exit (code 0), exit without shutdown (code 1), SIGTERM and
SIGINT (with requests in flight, and right after an answer), end of input with requests in
flight, overload, cancellation."""

import os
import signal
import time

import pytest

import wire
from wire import COMBOS, assert_error, assert_result, combo_id, notification, request

BIG = "word " * 20_000  # tokenizing this takes a noticeable while (tenths of a second)


def open_session(transport, framing, start_stdio, start_socket, *args):
    """(connection, socket daemon or None)."""
    if transport == "stdio":
        return start_stdio(*args, framing=framing), None
    daemon = start_socket(*args)
    return daemon.connect(framing), daemon


def wait_exit(c, daemon):
    """Exit code of the daemon behind `c`, after checking every byte it wrote was a frame."""
    if daemon is None:
        return c.wait()
    c.drain()
    code = daemon.wait()
    assert daemon.stdout_bytes() == b""
    return code


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_shutdown_then_requests_are_refused_then_exit_is_zero(combo, start_stdio, start_socket):
    c, daemon = open_session(*combo, start_stdio, start_socket, "--no-model")
    reply = c.call("shutdown", id=1)
    assert reply == {"jsonrpc": "2.0", "id": 1, "result": None}, reply
    assert_error(c.call("models/list", id=2), -32005, 2)
    assert_error(c.call("tokenize", {"text": "x"}, id=3), -32005, 3)
    assert_error(c.call("models/load", {"model": "smollm2-135m"}, id=4), -32005, 4)
    c.send(b"[" + request("models/list", id=5) + b"," + request("tokenize", {"text": "y"}, id=6) + b"]")
    batch = c.recv().json
    assert isinstance(batch, list) and sorted(m["id"] for m in batch) == [5, 6], batch
    for m in batch:
        assert_error(m, -32005, m["id"])
    c.send(notification("models/list"))  # still never answered
    c.send(notification("exit"))
    assert wait_exit(c, daemon) == 0
    if daemon is not None:
        assert not os.path.exists(daemon.path), "the socket file must be removed at exit"


@pytest.mark.parametrize("transport", ["stdio", "socket"])
def test_initialize_after_shutdown_is_refused_too(transport, start_stdio, start_socket):
    """Every request after shutdown gets -32005, initialize included."""
    c, daemon = open_session(transport, wire.NEWLINE, start_stdio, start_socket, "--no-model")
    assert c.call("shutdown", id=1)["result"] is None
    reply = c.call("initialize", id=2)
    assert_error(reply, -32005, 2)
    c.send(notification("exit"))
    assert wait_exit(c, daemon) == 0


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_exit_without_shutdown_is_code_one(combo, start_stdio, start_socket):
    c, daemon = open_session(*combo, start_stdio, start_socket, "--no-model")
    assert_result(c.call("models/list", id=1), 1)
    c.send(notification("exit"))
    assert wait_exit(c, daemon) == 1
    if daemon is not None:
        assert not os.path.exists(daemon.path)


@pytest.mark.parametrize("framing", wire.FRAMINGS)
def test_shutdown_exit_pipelined_in_one_write(framing, start_stdio):
    """A script writes `shutdown`, a request and `exit` at once (`printf ... | reprolm serve`):
    shutdown is answered null, the request after it gets -32005, and the exit code is 0.
    Repeated, because the order of handling must not depend on scheduling luck."""
    for attempt in range(15):
        c = start_stdio("--no-model", framing=framing)
        c.send_bytes(b"".join(wire.frame(m, framing) for m in (
            request("shutdown", id=1), request("models/list", id=2), notification("exit"))))
        frames = c.drain()
        code = c.process.wait(wire.DEFAULT_TIMEOUT)
        got = {f.json.get("id"): f.json for f in frames}
        assert 1 in got, f"attempt {attempt}: no reply to shutdown; frames {frames}, exit code {code}"
        assert got[1] == {"jsonrpc": "2.0", "id": 1, "result": None}, got[1]
        assert 2 in got, f"attempt {attempt}: no reply to the request after shutdown; frames {frames}"
        assert_error(got[2], -32005, 2)
        assert code == 0, f"attempt {attempt}: exit after shutdown gave exit code {code}; frames {frames}"
        c.kill()


def test_shutdown_from_one_socket_client_refuses_the_others(start_socket):
    daemon = start_socket("--no-model")
    a, b = daemon.connect(wire.NEWLINE), daemon.connect(wire.CONTENT_LENGTH)
    assert_result(b.call("models/list", id=1), 1)
    assert a.call("shutdown", id="s")["result"] is None
    assert_error(b.call("models/list", id=2), -32005, 2)
    a.send(notification("exit"))
    assert a.drain() == [] and b.drain() == []  # both connections end
    assert daemon.wait() == 0
    assert not os.path.exists(daemon.path)


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_shutdown_waits_for_requests_in_flight(combo, start_stdio, start_socket):
    """The LSP flow: a request in flight, then `shutdown`; on its answer the client sends `exit`.
    `shutdown` finishes what is in flight before answering, so the request's answer must reach
    the client before the daemon exits."""
    c, daemon = open_session(*combo, start_stdio, start_socket)
    c.send_bytes(wire.frame(request("tokenize", {"text": BIG}, id=1), c.framing) +
                 wire.frame(request("shutdown", id=2), c.framing))
    order = []
    while 2 not in order:
        order.append(c.recv().json.get("id"))
    c.send(notification("exit"))
    order += [f.json.get("id") for f in c.drain()]
    assert wait_exit(c, daemon) == 0
    assert order == [1, 2], \
        f"replies in order {order}: the request in flight must be answered before shutdown's null"


def sigterm_workload(framing):
    """Big tokenizes (freestanding), a model load (a barrier), then small tokenizes queued behind
    it: some requests finish, some are cancelled, all must be answered."""
    messages = [request("tokenize", {"text": BIG}, id=i) for i in range(1, 4)]
    messages.append(request("models/load", {"model": "qwen2.5-coder-0.5b"}, id="load"))
    messages += [request("tokenize", {"text": f"small {i}"}, id=i) for i in range(10, 30)]
    ids = list(range(1, 4)) + ["load"] + list(range(10, 30))
    return b"".join(wire.frame(m, framing) for m in messages), ids


@pytest.mark.parametrize("delay", [0.0, 0.2], ids=["at-once", "after-200ms"])
@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_sigterm_answers_every_request_in_flight_and_exits_zero(combo, delay, start_stdio, start_socket):
    c, daemon = open_session(*combo, start_stdio, start_socket)
    assert_result(c.call("models/list", id="ready"), "ready")  # the default model is loaded
    data, ids = sigterm_workload(c.framing)
    c.send_bytes(data)
    time.sleep(delay)
    (daemon.process if daemon else c.process).send_signal(signal.SIGTERM)
    frames = c.drain()
    answers = {}
    for f in frames:
        m = f.json
        if m.get("method") == "$/progress":
            continue
        assert m.get("id") not in answers, f"two answers for id {m.get('id')}"
        answers[m.get("id")] = m
    missing = [i for i in ids if i not in answers]
    assert missing == [], f"requests sent before SIGTERM got no answer: {missing}"
    for i, m in answers.items():
        if "error" in m:
            assert m["error"]["code"] in (-32800, -32005), m
        else:
            assert_result(m, i)
    code = daemon.wait() if daemon else c.process.wait(wire.DEFAULT_TIMEOUT)
    assert code == 0
    if daemon is not None:
        assert not os.path.exists(daemon.path), "the socket file must be removed after SIGTERM"
        assert daemon.stdout_bytes() == b""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("transport", ["stdio", "socket"])
def test_signal_right_after_an_answer_exits_zero(transport, sig, start_stdio, start_socket):
    """The signal comes just after the daemon answered (a supervisor stopping an idle daemon).
    Repeated: a signal lost to a thread that does not block it shows up as a daemon still
    running seconds later."""
    for attempt in range(6):
        c, daemon = open_session(transport, wire.NEWLINE, start_stdio, start_socket, "--no-model")
        assert_result(c.call("models/list", id=1), 1)
        process = daemon.process if daemon else c.process
        process.send_signal(sig)
        try:
            code = process.wait(5)
        except Exception:
            raise AssertionError(f"attempt {attempt}: {signal.Signals(sig).name} sent right after an answer was "
                                 f"ignored: the daemon ({transport}) is still running 5 s later") from None
        assert code == 0
        assert c.drain() == []
        if daemon is not None:
            assert not os.path.exists(daemon.path)
            c.close()


@pytest.mark.parametrize("framing", wire.FRAMINGS)
def test_end_of_input_answers_requests_in_flight_then_exits_zero(framing, start_stdio):
    c = start_stdio(framing=framing)
    c.send_bytes(b"".join(wire.frame(request("tokenize", {"text": BIG if i == 0 else "x"}, id=i), framing)
                          for i in range(4)))
    c.close_input()
    frames = c.drain()
    assert sorted(f.json["id"] for f in frames) == [0, 1, 2, 3], frames
    assert c.process.wait(wire.DEFAULT_TIMEOUT) == 0


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_cancel_a_request_waiting_behind_a_load(combo, start_stdio, start_socket):
    c, daemon = open_session(*combo, start_stdio, start_socket, "--no-model")
    c.send_bytes(b"".join(wire.frame(m, c.framing) for m in (
        request("models/load", {"model": "smollm2-135m"}, id="load"),
        request("tokenize", {"text": "cancel me"}, id=7),
        notification("$/cancelRequest", {"id": 7}),
    )))
    assert_result(c.reply_to("load").json, "load")
    assert_error(c.reply_to(7).json, -32800, 7)
    progress = [f for f in c.frames if f.json.get("method") == "$/progress"]
    c.frames = [f for f in c.frames if f not in progress]
    assert progress, "a load sends $/progress"
    c.finish()
    if daemon is None:
        assert c.process.wait(wire.DEFAULT_TIMEOUT) == 0


@pytest.mark.parametrize("transport", ["stdio", "socket"])
def test_overload_is_refused_with_its_limit(transport, start_stdio, start_socket):
    c, daemon = open_session(transport, wire.NEWLINE, start_stdio, start_socket, "--max-requests", "2")
    c.send_bytes(b"".join(wire.frame(request("tokenize", {"text": BIG if i < 2 else "x"}, id=i), c.framing)
                          for i in range(10)))
    replies = {}
    for _ in range(10):
        m = c.recv().json
        replies[m["id"]] = m
    assert sorted(replies) == list(range(10))
    overloaded = [m for m in replies.values() if "error" in m]
    assert overloaded, "10 requests at once with --max-requests 2: some must be refused"
    for m in overloaded:
        assert assert_error(m, -32004, m["id"]).get("data", {}).get("limit") == 2, m
    assert_result(replies[0], 0)
    assert_result(c.call("models/list", id="later"), "later")  # slots are given back
    c.finish()
