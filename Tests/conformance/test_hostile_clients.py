"""Hostile and careless clients cannot take the daemon down or lock others out: a NUL in a model
path, batch frames of a million elements, a client that pipelines requests and never reads its
answers, clients that trickle half a header or sit idle, more connections than allowed, and a
descriptor limit reached. Each holds a bound (memory, time, descriptors) and the daemon goes on
serving a well-behaved client meanwhile."""
import os
import resource
import socket
import subprocess
import time

import wire
from wire import assert_error, assert_result, request

ONE_TOKENIZE = 50_000  # bytes of text per request: each answer is about 336 KB


def rss_mib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def read_until_eof(s, timeout):
    s.settimeout(timeout)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_a_nul_in_a_model_path_is_refused(start_socket):
    c = start_socket("--no-model").connect()
    for method, params in [("models/load", {"model": "/tmp/a.gguf\u0000/x"}),
                           ("tokenize", {"text": "x", "model": "smollm2-135m\u0000"}),
                           ("models/load", {"model": "smollm2-135m", "alias": "a\u0000b"})]:
        reply = c.call(method, params, id=1)
        assert_error(reply, -32602, 1)
        assert "NUL" in reply["error"]["message"], reply
    assert_result(c.call("models/list", id=2), 2)


def test_a_batch_of_a_million_elements_is_refused_before_it_is_parsed(start_socket):
    daemon = start_socket("--no-model")
    c = daemon.connect()
    before = rss_mib(daemon.process.pid)
    c.send_bytes(b"[" + b",".join([b"{}"] * 1_000_000) + b"]\n")
    reply = c.recv().json
    assert_error(reply, -32600, None)
    assert reply["error"]["data"]["limit"] == 64, reply
    peak = rss_mib(daemon.process.pid, "VmHWM")
    assert peak - before < 100, f"a refused batch frame raised the daemon's peak RSS from {before:.0f} to {peak:.0f} MiB"
    # A batch within the limit is answered whole, every element (tokenize takes a request slot).
    c.send_bytes(b"[" + b",".join(request("tokenize", {"text": "x"}, id=i) for i in range(64)) + b"]\n")
    replies = c.recv().json
    assert len(replies) == 64 and all(r.get("error", {}).get("code") != -32004 for r in replies), replies
    assert_result(c.call("models/list", id="after"), "after")


def test_a_client_that_never_reads_is_held_in_bounded_memory_and_locks_no_one_out(start_socket):
    daemon = start_socket("--write-timeout", "4")
    greedy = raw_socket(daemon.path)
    greedy.setblocking(False)
    body = wire.frame(request("tokenize", {"text": "word " * (ONE_TOKENIZE // 5)}, id=1), wire.NEWLINE)
    baseline = rss_mib(daemon.process.pid)
    polite = daemon.connect()
    sent, latencies, peak = 0, [], baseline
    started = time.monotonic()
    while time.monotonic() - started < 3:
        try:
            sent += greedy.send(body)
        except BlockingIOError:
            time.sleep(0.01)  # the daemon stopped reading: that is the backpressure
        if int((time.monotonic() - started) * 10) % 5 == 0:
            t0 = time.monotonic()
            assert_result(polite.call("models/list", id=1), 1)
            latencies.append(time.monotonic() - t0)
        peak = max(peak, rss_mib(daemon.process.pid))
    assert sent > 10 * len(body), "the greedy client could not even send a few requests"
    assert peak - baseline < 400, f"RSS grew from {baseline:.0f} to {peak:.0f} MiB for a client that reads nothing"
    assert max(latencies) < 1.0, f"a polite client waited {max(latencies):.2f} s meanwhile"
    # Unread for longer than --write-timeout: the connection is closed and its work cancelled.
    deadline = time.monotonic() + 15
    closed = False
    while time.monotonic() < deadline and not closed:
        time.sleep(0.5)
        closed = f"answers went unread" in daemon.stderr_text()
    assert closed, "the non-reading connection was not closed after --write-timeout"
    greedy.close()
    assert_result(polite.call("models/list", id=2), 2)


def test_one_connection_cannot_take_every_request_slot(start_socket):
    daemon = start_socket("--no-model", "--max-requests", "8", "--max-requests-per-connection", "4")
    a = daemon.connect()
    # A load of a missing file is quick, so hold the slots with barriers queued behind a slow one.
    a.send_bytes(b"".join(wire.frame(request("models/load", {"model": "smollm2-135m"}, id=i), wire.NEWLINE)
                          for i in range(10)))
    b = daemon.connect()
    assert_result(b.call("models/list", id="b"), "b")
    replies = [a.recv().json for _ in range(10)]
    refused = [r for r in replies if "error" in r and r["error"]["code"] == -32004]
    assert refused and all(r["error"]["data"]["scope"] == "connection" for r in refused), replies


def test_a_header_trickled_byte_by_byte_times_out(start_socket):
    daemon = start_socket("--no-model", "--header-timeout", "1")
    s = raw_socket(daemon.path)
    s.setblocking(False)
    started = time.monotonic()
    received, closed = b"", False
    for b in b"Content-Length: 10" + b" " * 30:  # 48 bytes at 5 per second: 10 s if never cut
        try:
            s.send(bytes([b]))
        except OSError:
            closed = True
        time.sleep(0.2)
        try:
            chunk = s.recv(65536)
            received += chunk
            closed = closed or chunk == b""
        except BlockingIOError:
            pass
        except OSError:
            closed = True
        if closed:
            break
    elapsed = time.monotonic() - started
    assert closed and elapsed < 5, f"a trickled header held the connection {elapsed:.1f} s"
    assert b"-32700" in received and b"no complete frame" in received, received
    assert daemon.connect().call("models/list", id=1)["id"] == 1


def test_an_idle_connection_is_closed_and_a_busy_one_is_not(start_socket):
    daemon = start_socket("--idle-timeout", "1")
    idle = raw_socket(daemon.path)
    started = time.monotonic()
    assert read_until_eof(idle, 5) == b""
    assert 0.9 < time.monotonic() - started < 4
    busy = daemon.connect()
    reply = busy.call("generate", {"prompt": "def fibonacci(n):", "maxTokens": 200, "temperature": 0}, id=1, timeout=60)
    assert_result(reply, 1)


def test_connections_past_the_limit_are_refused_and_the_daemon_recovers(start_socket):
    daemon = start_socket("--no-model", "--max-connections", "3")
    time.sleep(0.5)  # the probe connection of wait_listening is gone
    held = [daemon.connect() for _ in range(3)]
    for i, c in enumerate(held):
        assert_result(c.call("models/list", id=i), i)
    extra = daemon.connect()
    reply = extra.recv().json
    assert_error(reply, -32004, None)
    assert reply["error"]["data"] == {"limit": 3, "scope": "connections"}, reply
    held.pop().close()
    deadline = time.monotonic() + 5
    while True:
        try:
            assert_result(daemon.connect().call("models/list", id="again", timeout=2), "again")
            break
        except Exception:
            assert time.monotonic() < deadline, "no connection accepted after one closed"
            time.sleep(0.1)


def test_descriptor_exhaustion_backs_off_logs_once_and_recovers(binary, workdir):
    path = os.path.join(workdir, "fd.sock")
    log = os.path.join(workdir, "fd.log")

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))

    with open(log, "wb") as err:
        process = subprocess.Popen([binary, "serve", "--socket", path, "--no-model", "--no-journal"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=low_limit)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        held = []
        for _ in range(60):
            try:
                held.append(raw_socket(path))
            except OSError:
                break
        time.sleep(0.5)
        cpu0 = cpu_seconds(process.pid)
        time.sleep(2)
        spent = cpu_seconds(process.pid) - cpu0
        assert spent < 0.3, f"the daemon spent {spent:.2f} CPU-seconds in 2 s while out of descriptors"
        text = open(log, "rb").read().decode()
        assert text.count("cannot accept connections") == 1, text[-3000:]
        for s in held:
            s.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                c = wire.SocketConnection(path, wire.NEWLINE)
                assert_result(c.call("models/list", id=1, timeout=3), 1)
                c.close()
                break
            except Exception:
                assert time.monotonic() < deadline, "the daemon did not accept again once descriptors freed"
                time.sleep(0.2)
    finally:
        process.terminate()
        assert process.wait(15) == 0


def test_answers_left_unread_past_the_byte_bound_close_the_connection(start_socket):
    """Small requests with large answers (4 KB of text, 27 KB of tokens each) read in one go are
    all answered before backpressure can stop anything: the byte bound closes the connection."""
    daemon = start_socket("--write-timeout", "0", "--max-unread-mib", "1")
    greedy = raw_socket(daemon.path)
    greedy.sendall(b"".join(wire.frame(request("tokenize", {"text": "word " * 800}, id=i), wire.NEWLINE)
                            for i in range(64)))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "bytes of answers unread" not in daemon.stderr_text():
        time.sleep(0.1)
    assert "bytes of answers unread" in daemon.stderr_text(), "the connection was not closed past --max-unread-mib"
    greedy.close()
    # A client that reads gets a big answer whole, however large against the bound.
    polite = daemon.connect()
    reply = polite.call("tokenize", {"text": "word " * 300_000}, id=2, timeout=60)
    assert_result(reply, 2)
    assert len(reply["result"]["tokens"]) > 100_000
