"""Framing on the wire: oversized frames, garbage, malformed Content-Length headers, lenient forms,
partial writes, a regular file as stdin, and stdout carrying nothing but frames."""

import os
import subprocess
import time

import pytest

import wire
from wire import assert_error, assert_result, request, notification

LIMIT = 4096  # bare_conn daemons run with --max-frame-bytes 4096

# For tests of one framing only: `bare_conn` on both transports in that framing.
newline_only = pytest.mark.parametrize(
    "bare_conn", [c for c in wire.COMBOS if c[1] == wire.NEWLINE], indirect=True, ids=wire.combo_id)
content_length_only = pytest.mark.parametrize(
    "bare_conn", [c for c in wire.COMBOS if c[1] == wire.CONTENT_LENGTH], indirect=True, ids=wire.combo_id)


def padded_request(size, id):
    """A valid request whose payload is exactly `size` bytes (unknown method, padded params)."""
    base = request("pad/method", {"p": ""}, id=id)
    payload = request("pad/method", {"p": "x" * (size - len(base))}, id=id)
    assert len(payload) == size
    return payload


def check_alive(c, id="alive"):
    c.send(request("models/list", id=id))
    assert_result(c.reply_to(id).json, id)


def frame_too_large(message, announced=None):
    error = assert_error(message, -32600, None)
    data = error.get("data")
    assert isinstance(data, dict) and data.get("limit") == LIMIT, error
    if announced is not None:
        assert data.get("announced") == announced, error
    return error


# ------------------------------------------------------------------------------------------------
# Oversized frames
# ------------------------------------------------------------------------------------------------

def test_oversized_frames_are_refused_and_the_connection_recovers(bare_conn):
    c = bare_conn
    check_alive(c, "first")
    for size in (LIMIT + 1, 10_000, 300_000):
        c.send(padded_request(size, id=size))
        frame_too_large(c.recv().json, announced=size if c.framing == wire.CONTENT_LENGTH else None)
        check_alive(c, f"after-{size}")
    # Exactly at the limit is still a frame: it gets its own answer (method not found).
    c.send(padded_request(LIMIT, id="at-limit"))
    assert_error(c.reply_to("at-limit").json, -32601, "at-limit")
    c.finish()


def test_oversized_first_frame_and_runs_of_them(bare_conn):
    c = bare_conn
    c.send(padded_request(LIMIT + 100, id=1))  # before any valid frame
    frame_too_large(c.recv().json)
    stream = b""
    for i in range(5):
        stream += wire.frame(padded_request(LIMIT * 2, id=100 + i), c.framing)
        stream += wire.frame(request("models/list", id=i), c.framing)
    c.send_bytes(stream)
    errors, answered = 0, set()
    for _ in range(10):
        m = c.recv().json
        if m.get("id") is None:
            frame_too_large(m)
            errors += 1
        else:
            assert_result(m, m["id"])
            answered.add(m["id"])
    assert errors == 5 and answered == set(range(5))
    c.finish()


@newline_only
def test_an_endless_line_is_cut_at_the_limit(bare_conn):
    """Newline framing: the error comes as soon as the limit is crossed, before the line ends."""
    c = bare_conn
    check_alive(c)
    c.send_bytes(b'{"jsonrpc":"2.0","id":1,"method":"x","params":{"p":"' + b"y" * (LIMIT * 4))
    frame_too_large(c.recv().json)
    c.send_bytes(b"y" * 100_000 + b'"}}\n')
    check_alive(c, "after")
    c.finish()


# ------------------------------------------------------------------------------------------------
# Garbage
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("garbage", [b"this is not json", b"\x00\x01\x02\x03", b"\xff\xfe\xfd", b"}{", b"[1,2"])
def test_garbage_frames_get_parse_errors_and_the_stream_goes_on(bare_conn, garbage):
    c = bare_conn
    check_alive(c)
    c.send(garbage)
    assert_error(c.recv().json, -32700, None)
    check_alive(c, "after")
    c.finish()


@content_length_only
def test_empty_content_length_body_is_a_parse_error(bare_conn):
    c = bare_conn
    check_alive(c)
    c.send_bytes(b"Content-Length: 0\r\n\r\n")
    assert_error(c.recv().json, -32700, None)
    check_alive(c, "after")
    c.finish()


# ------------------------------------------------------------------------------------------------
# Malformed Content-Length headers: -32700, then the connection closes; the daemon lives on
# ------------------------------------------------------------------------------------------------

MALFORMED_HEADERS = [
    b"Content-Length: abc\r\n\r\n{}",
    b"Content-Length: -5\r\n\r\n",
    b"Content-Length: +5\r\n\r\n{}",
    b"Content-Length: 1 2\r\n\r\n",
    b"Content-Length: 0x10\r\n\r\n",
    b"Content-Length: 99999999999999999999999\r\n\r\n",
    b"Content-Length:\r\n\r\n",
    b"Content-Type: application/json\r\n\r\n{}",
    b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
    b"Garbage without a colon\r\n\r\n",
    b"Bad Name: 2\r\n\r\n{}",
    b"X-Pad: " + b"a" * 9000 + b"\r\nContent-Length: 2\r\n\r\n{}",
]


@pytest.mark.parametrize("transport", ["stdio", "socket"])
@pytest.mark.parametrize("header", MALFORMED_HEADERS, ids=lambda h: h[:40].decode(errors="replace"))
def test_malformed_content_length_header_closes_the_connection_cleanly(transport, header, start_stdio, start_socket):
    valid = wire.frame(request("models/list", id=1), wire.CONTENT_LENGTH)
    if transport == "stdio":
        c = start_stdio("--no-model", framing=wire.CONTENT_LENGTH)
    else:
        daemon = start_socket("--no-model")
        other = daemon.connect(wire.NEWLINE)
        check_alive(other, "before")
        c = daemon.connect(wire.CONTENT_LENGTH)
    c.send_bytes(valid + header)
    assert_result(c.reply_to(1).json, 1)  # what came before the bad header is answered
    assert_error(c.recv().json, -32700, None)
    assert c.drain() == [], "nothing may follow the framing error"  # EOF: the daemon closed the stream
    if transport == "stdio":
        assert c.process.wait(wire.DEFAULT_TIMEOUT) == 0, c.stderr_text()
    else:
        c.close()
        check_alive(other, "during")  # a client connected before is still served
        third = daemon.connect(wire.CONTENT_LENGTH)  # and new clients are accepted
        check_alive(third, "after")
        third.finish()
        other.finish()
        assert daemon.process.poll() is None


@pytest.mark.parametrize("transport", ["stdio", "socket"])
@pytest.mark.parametrize("tail", [b"Content-Length: 100\r\n\r\n{\"jsonrpc\"", b"Content-Length: 10\r\n", b"Content-Len"])
def test_input_ending_inside_a_frame(transport, tail, start_stdio, start_socket):
    if transport == "stdio":
        c = start_stdio("--no-model", framing=wire.CONTENT_LENGTH)
    else:
        c = start_socket("--no-model").connect(wire.CONTENT_LENGTH)
    c.send_bytes(wire.frame(request("models/list", id=1), wire.CONTENT_LENGTH) + tail)
    c.close_input()
    assert_result(c.reply_to(1).json, 1)
    assert_error(c.recv().json, -32700, None)
    assert c.drain() == []
    if transport == "stdio":
        assert c.process.wait(wire.DEFAULT_TIMEOUT) == 0


# ------------------------------------------------------------------------------------------------
# Lenient forms that real clients send, partial writes, several frames per write
# ------------------------------------------------------------------------------------------------

@content_length_only
def test_lenient_content_length_forms(bare_conn):
    c = bare_conn
    body = request("models/list", id=1)
    c.send_bytes(b"\r\n\r\n")  # blank lines before the first header (framing detection skips them)
    c.send_bytes(b"content-length: %d\n\n" % len(body) + body)  # bare LF, lower case
    assert_result(c.recv().json, 1)
    body = request("models/list", id=2)
    c.send_bytes(b"\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:   %d  \r\n"
                 b"X-Other: 1\r\n\r\n" % len(body) + body)
    assert_result(c.recv().json, 2)
    c.finish()


@newline_only
def test_lenient_newline_forms(bare_conn):
    c = bare_conn
    c.send_bytes(b"\n\r\n  \t\n" + request("models/list", id=1) + b"\r\n")
    assert_result(c.recv().json, 1)
    c.send_bytes(b"   " + request("models/list", id=2) + b"   \n\n\n")
    assert_result(c.recv().json, 2)
    c.send_bytes(b'{"jsonrpc":"2.0",\t"id" : 3 ,\r"method":"models/list"}\n')  # whitespace inside JSON
    assert_result(c.recv().json, 3)
    c.finish()


@newline_only
def test_last_line_without_newline_is_still_a_frame(bare_conn):
    c = bare_conn
    c.send_bytes(request("models/list", id=1))
    c.close_input()
    assert_result(c.reply_to(1).json, 1)
    assert c.drain() == []


def test_frames_split_across_writes_and_many_per_write(bare_conn):
    c = bare_conn
    stream = b"".join(wire.frame(request("models/list", id=i), c.framing) for i in range(3))
    for i in range(len(stream)):
        c.send_bytes(stream[i:i + 1])
        if i % 16 == 0:
            time.sleep(0.001)
    assert sorted(c.recv().json["id"] for _ in range(3)) == [0, 1, 2]
    c.send_bytes(b"".join(wire.frame(request("models/list", id=i), c.framing) for i in range(40)))
    assert sorted(c.recv().json["id"] for _ in range(40)) == list(range(40))
    c.finish()


# ------------------------------------------------------------------------------------------------
# A regular file as stdin
# ------------------------------------------------------------------------------------------------

def session_file(framing, with_model):
    """Requests (with the ids that must be answered) for `reprolm serve < file`."""
    messages = [
        request("initialize", {"clientInfo": {"name": "file"}}, id=1),
        request("models/list", id=2),
        notification("models/list"),
        request("no/such/method", id=3),
        request("tokenize", {"txt": "x"}, id=4),
        b'{"jsonrpc":"2.0","id":5,"method":"tokenize","params":{"text":"\xff"}}',  # -32700, id null
        b"[" + request("models/list", id=6) + b"," + notification("x") + b"," + request("y", id=7) + b"]",
        b"[]",
    ]
    answered = [1, 2, 3, 4, None, [6, 7], None]
    if with_model:
        messages += [request("tokenize", {"text": "Hello from a file"}, id=8),
                     request("detokenize", {"tokens": [19556]}, id=9)]
        answered += [8, 9]
    messages += [request("models/list", id=10)]
    answered += [10]
    return b"".join(wire.frame(m, framing) for m in messages), answered


@pytest.mark.parametrize("with_model", [False, True], ids=["no-model", "default-model"])
@pytest.mark.parametrize("framing, trailing_newline", [
    (wire.NEWLINE, True), (wire.NEWLINE, False), (wire.CONTENT_LENGTH, True),
], ids=["newline", "newline-no-final-eol", "content-length"])
def test_regular_file_as_stdin(binary, workdir, framing, with_model, trailing_newline):
    data, answered = session_file(framing, with_model)
    if not trailing_newline:
        data = data[:-1]
    path = os.path.join(workdir, "requests.jsonl")
    with open(path, "wb") as f:
        f.write(data)
    args = [binary, "serve"] + ([] if with_model else ["--no-model"])
    with open(path, "rb") as stdin:
        done = subprocess.run(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=wire.DEFAULT_TIMEOUT)
    reader = wire.StrictReader(framing)
    frames = reader.feed(done.stdout)
    reader.finish()
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    got = []
    for f in frames:
        if isinstance(f.json, list):
            got.append(sorted(m["id"] for m in f.json))
        else:
            got.append(f.json["id"])
    # Answers come in completion order; compare as multisets of ids.
    key = lambda x: repr(x)
    assert sorted(got, key=key) == sorted(answered, key=key), frames


# ------------------------------------------------------------------------------------------------
# stdout carries only protocol bytes
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("framing", wire.FRAMINGS)
def test_stdout_is_only_frames_through_a_noisy_session(start_stdio, framing):
    """Loads (with $/progress), errors, oversized and garbage frames, a batch: every byte on stdout
    must parse as a frame (the Connection reader is strict), and the logs go to stderr."""
    c = start_stdio("--no-model", "--max-frame-bytes", "4096", "--log-level", "trace", framing=framing)
    c.send(request("models/load", {"model": "smollm2-135m"}, id=1))
    reply = c.reply_to(1)
    progress = [f.json for f in c.frames if f.json.get("method") == "$/progress"]
    c.frames = [f for f in c.frames if f.json.get("method") != "$/progress"]
    assert progress and all(p["params"]["requestId"] == 1 for p in progress), progress
    assert set(progress[0]["params"]) == {"requestId", "stage", "message", "done", "total"}, progress
    assert_result(reply.json, 1)
    c.send(request("models/load", {"model": "/nonexistent/model.gguf"}, id=2))
    assert_error(c.reply_to(2).json, -32001, 2)
    c.send(padded_request(5000, id=3))
    frame_too_large(c.recv().json)
    c.send(b"garbage")
    assert_error(c.recv().json, -32700, None)
    c.send(b"[" + request("tokenize", {"text": "x"}, id=4) + b"," + request("models/unload", {"model": "x"}, id=5) + b"]")
    assert isinstance(c.recv().json, list)
    c.send(request("models/unload", {"model": "smollm2-135m"}, id=6))
    assert_result(c.reply_to(6).json, 6)
    c.finish()
    assert c.process.wait(wire.DEFAULT_TIMEOUT) == 0
    assert "loaded smollm2-135m" in c.stderr_text()


def test_stdout_closed_by_the_reader_ends_the_daemon_cleanly(start_stdio):
    c = start_stdio("--no-model")
    c.process.stdout.close()
    for _ in range(20):  # bounded: the daemon notices on its first write
        try:
            c.send(request("models/list", id=1))
        except BrokenPipeError:
            break
        time.sleep(0.05)
    code = c.process.wait(wire.DEFAULT_TIMEOUT)
    assert code == 0, f"exit code {code} (a negative code is death by signal, e.g. SIGPIPE)"


def test_socket_daemon_writes_nothing_on_stdout(start_socket):
    daemon = start_socket("--log-level", "trace")
    c = daemon.connect()
    c.send(request("tokenize", {"text": "x"}, id=1))
    assert_result(c.reply_to(1).json, 1)
    c.finish()
    daemon.signal()
    assert daemon.wait() == 0
    assert daemon.stdout_bytes() == b""
    assert daemon.stderr_text()
