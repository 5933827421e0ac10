"""The Unix socket: many clients at once, clients that vanish, the socket file's mode, a second
daemon on the same path, a stale socket file."""

import os
import signal
import socket
import stat
import threading
import time

import pytest

import wire
from wire import assert_result, request

TEXTS = ["Hello", "Hello, world!", "déjà vu", "1 + 1 = 2", "日本語のテキスト", "emoji 🙂🙂", "a" * 300,
         "The quick brown fox jumps over the lazy dog."]


def expected_tokens(daemon):
    c = daemon.connect()
    out = {}
    for i, text in enumerate(TEXTS):
        out[text] = assert_result(c.call("tokenize", {"text": text}, id=i), i)["tokens"]
    c.finish()
    c.close()
    return out


def test_fifty_concurrent_clients_get_exactly_their_own_answers(start_socket):
    daemon = start_socket()
    expected = expected_tokens(daemon)
    clients = 50
    per_client = 6
    failures = []
    barrier = threading.Barrier(clients, timeout=30)

    def run(n):
        framing = wire.FRAMINGS[n % 2]
        try:
            c = daemon.connect(framing)
            barrier.wait()
            # Every client uses the same ids (1..per_client): ids are per connection.
            mine = {i: TEXTS[(n + i) % len(TEXTS)] + f" #{n}" for i in range(1, per_client + 1)}
            c.send_bytes(b"".join(wire.frame(request("tokenize", {"text": t, "addSpecial": False}, id=i), framing)
                                  for i, t in mine.items()))
            seen = set()
            for _ in range(per_client):
                reply = c.recv()
                i = reply.json.get("id")
                result = assert_result(reply.json, i)
                text = bytes(b for p in result["pieceBytes"] for b in p).decode("utf-8")
                if text != mine[i] or i in seen:
                    failures.append(f"client {n} id {i}: got text {text!r}, sent {mine.get(i)!r}")
                seen.add(i)
            c.finish()
            c.close()
        except Exception as error:  # collected, reported below
            failures.append(f"client {n}: {error!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "clients still waiting after 60 s"
    assert failures == [], "\n".join(failures[:20])
    # The token ids match what a lone client gets for the same text.
    c = daemon.connect()
    for i, text in enumerate(TEXTS):
        assert assert_result(c.call("tokenize", {"text": text}, id=i), i)["tokens"] == expected[text]
    c.finish()
    assert daemon.process.poll() is None


@pytest.mark.parametrize("how", ["close", "reset"])
def test_client_killed_mid_request_while_others_are_served(start_socket, how):
    daemon = start_socket()
    steady = daemon.connect()
    stop = threading.Event()
    failures, served = [], [0]

    def keep_calling():
        i = 0
        while not stop.is_set() and i < 10_000:
            i += 1
            try:
                assert_result(steady.call("tokenize", {"text": f"steady {i}"}, id=i), i)
                served[0] += 1
            except Exception as error:
                failures.append(repr(error))
                return

    worker = threading.Thread(target=keep_calling)
    worker.start()
    try:
        big = "word " * 20_000
        for n in range(12):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(daemon.path)
            framing = wire.FRAMINGS[n % 2]
            s.sendall(b"".join(wire.frame(request("tokenize", {"text": big if k == 0 else "x"}, id=k), framing)
                               for k in range(5)))
            if how == "reset":  # RST instead of FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        # Half-sent frames too: a header promising more than ever comes, a line cut short.
        for partial in (b"Content-Length: 500\r\n\r\n{\"jsonrpc\"", b'{"jsonrpc":"2.0","id":1,"meth'):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(daemon.path)
            s.sendall(partial)
            s.close()
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join(30)
    assert failures == [] and served[0] > 0, failures
    assert daemon.process.poll() is None, daemon.stderr_text()
    fresh = daemon.connect(wire.CONTENT_LENGTH)
    assert_result(fresh.call("tokenize", {"text": "after"}, id=1), 1)
    fresh.finish()
    steady.finish()


def test_socket_file_mode_is_0600_and_missing_folders_are_made_0700(start_socket, workdir):
    path = os.path.join(workdir, "a", "b", "d.sock")
    daemon = start_socket("--no-model", path=path)
    info = os.lstat(path)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600, oct(info.st_mode)
    for folder in (os.path.join(workdir, "a"), os.path.join(workdir, "a", "b")):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    daemon.signal()
    assert daemon.wait() == 0
    assert not os.path.exists(path), "the socket file must be removed at exit"


def test_a_second_daemon_on_the_same_path_is_refused(start_socket):
    first = start_socket("--no-model")
    inode = os.lstat(first.path).st_ino
    second = start_socket("--no-model", path=first.path, wait=False)
    assert second.wait(30) != 0, "a second daemon must not take over a live socket"
    assert "another reprolm daemon is listening" in second.stderr_text(), second.stderr_text()
    assert os.lstat(first.path).st_ino == inode, "the first daemon's socket file was replaced"
    c = first.connect()
    assert_result(c.call("models/list", id=1), 1)
    c.finish()


def test_a_stale_socket_left_by_a_killed_daemon_is_replaced(start_socket):
    first = start_socket("--no-model")
    first.signal(signal.SIGKILL)
    first.wait()
    assert stat.S_ISSOCK(os.lstat(first.path).st_mode), "SIGKILL should leave the socket file behind"
    refused = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with pytest.raises(ConnectionRefusedError):
        refused.connect(first.path)
    refused.close()
    second = start_socket("--no-model", path=first.path)
    c = second.connect()
    assert_result(c.call("models/list", id=1), 1)
    c.finish()
    assert stat.S_IMODE(os.lstat(first.path).st_mode) == 0o600


def test_a_file_that_is_not_a_socket_is_never_removed(start_socket, workdir):
    path = os.path.join(workdir, "plain.sock")
    with open(path, "w") as f:
        f.write("precious")
    daemon = start_socket("--no-model", path=path, wait=False)
    assert daemon.wait(30) != 0
    with open(path) as f:
        assert f.read() == "precious"


def test_socket_path_too_long_is_refused(start_socket, workdir):
    path = os.path.join(workdir, "x" * 120 + ".sock")
    daemon = start_socket("--no-model", path=path, wait=False)
    assert daemon.wait(30) != 0
    assert not os.path.exists(path)


def test_half_close_after_requests_still_gets_every_answer(start_socket):
    daemon = start_socket()
    for framing in wire.FRAMINGS:
        c = daemon.connect(framing)
        c.send_bytes(b"".join(wire.frame(request("tokenize", {"text": "word " * (2000 * i)}, id=i), framing)
                              for i in range(1, 6)))
        c.close_input()
        frames = c.drain()
        assert sorted(f.json["id"] for f in frames) == [1, 2, 3, 4, 5], frames
        for f in frames:
            assert_result(f.json, f.json["id"])
        c.close()
