"""clients/reprolm-call against a real daemon it starts itself.

The binary is $REPROLM_BIN, else <repo>/.build/release/reprolm; the tests skip, saying so, when
neither exists. Run: REPROLM_BIN=... python3 -m pytest clients/tests -q
The daemons keep their receipt journals in a temporary folder ($XDG_STATE_HOME is pointed there
for the daemons reprolm-call starts), never in the user's state folder.
"""

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(REPO_ROOT, "clients", "reprolm-call")
# Where the daemons of these tests keep their journals.
STATE = tempfile.mkdtemp(prefix="rcc-state-", dir="/tmp")


@pytest.fixture(scope="module", autouse=True)
def state_folder():
    yield STATE
    shutil.rmtree(STATE, ignore_errors=True)


@pytest.fixture(scope="module")
def binary():
    path = os.environ.get("REPROLM_BIN") or os.path.join(REPO_ROOT, ".build", "release", "reprolm")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(f"no reprolm binary at {path}: set REPROLM_BIN or build it")
    return path


@pytest.fixture
def folder():
    path = tempfile.mkdtemp(prefix="rcc-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run(args, binary=None, stdin=None, timeout=60, env_extra=None):
    env = dict(os.environ)
    env.pop("REPROLM_SOCKET", None)
    env["XDG_STATE_HOME"] = STATE
    if binary is not None:
        env["REPROLM_BIN"] = binary
    env.update(env_extra or {})
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=timeout)


def started_pid(stderr):
    match = re.search(r"\(pid (\d+)\)", stderr)
    return int(match.group(1)) if match else None


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except (OSError, IndexError):
        return False


def stop(pid):
    """Stops a daemon that reprolm-call started (not our child: it runs in its own session)."""
    if pid is None or not alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def test_starts_a_daemon_then_reuses_it(binary, folder):
    sock = os.path.join(folder, "d.sock")
    first = run(["--socket", sock, "tokenize", '{"text": "Hello"}'], binary)
    pid = started_pid(first.stderr)
    try:
        assert first.returncode == 0, first.stderr
        assert pid is not None, first.stderr
        result = json.loads(first.stdout)
        assert result["model"] == "smollm2-135m" and result["tokens"]
        assert stat.S_IMODE(os.lstat(sock).st_mode) == 0o600
        assert os.path.getsize(os.path.join(folder, "d.log")) > 0  # the daemon's log

        second = run(["--socket", sock, "detokenize", "-"], binary,
                     stdin=json.dumps({"tokens": result["tokens"], "skipSpecial": True}))
        assert second.returncode == 0, second.stderr
        assert "started" not in second.stderr  # the running daemon answered
        assert json.loads(second.stdout)["text"] == "Hello"

        env_socket = run(["models/list"], binary, env_extra={"REPROLM_SOCKET": sock})
        assert env_socket.returncode == 0 and "started" not in env_socket.stderr
        assert any(m["loaded"] for m in json.loads(env_socket.stdout)["models"])

        assert run(["--socket", sock, "shutdown"], binary).returncode == 0
        refused = run(["--socket", sock, "models/list"], binary)
        assert refused.returncode == 2 and "-32005" in refused.stderr
        assert run(["--socket", sock, "exit"], binary).returncode == 0
        deadline = time.monotonic() + 10
        while os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(sock)
    finally:
        stop(pid)


@pytest.fixture
def daemon(binary, folder):
    sock = os.path.join(folder, "d.sock")
    process = subprocess.Popen([binary, "serve", "--socket", sock, "--journal", os.path.join(folder, "journal.jsonl")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(sock)
            break
        except OSError:
            time.sleep(0.02)
        finally:
            probe.close()
    yield sock
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def test_errors_go_to_stderr_with_data_and_exit_2(daemon):
    out = run(["--socket", daemon, "tokenize", '{"text": "x", "bogus": 1}'])
    assert out.returncode == 2 and out.stdout == ""
    assert "-32602" in out.stderr and '"path": "params.bogus"' in out.stderr
    out = run(["--socket", daemon, "no/such/method"])
    assert out.returncode == 2 and "-32601" in out.stderr


def test_generate_and_score(daemon):
    out = run(["--socket", daemon, "generate", '{"prompt": "1, 2, 3,", "maxTokens": 8, "temperature": 0, "stop": ", 6"}'])
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["text"], result["finishReason"], result["stopSequence"]) == (" 4, 5", "stop", ", 6")
    assert result["tokens"] == [216, 36, 28, 216, 37, 28, 216, 38]
    scored = run(["--socket", daemon, "score", "-"],
                 stdin=json.dumps({"context": "The capital of France is", "continuation": " Paris", "topLogprobs": 1}))
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert (result["contextTokens"], result["scoredTokens"]) == (5, 1)
    assert result["tokens"][-1]["text"] == " Paris" and result["sum"] == result["tokens"][-1]["logprob"]
    overflow = run(["--socket", daemon, "generate", '{"prompt": "x", "maxTokens": 8192}'])
    assert overflow.returncode == 2 and overflow.stdout == ""
    assert "-32003" in overflow.stderr and '"contextLength": 8192' in overflow.stderr


def test_receipts_get_and_reproduce(daemon):
    out = run(["--socket", daemon, "generate", '{"prompt": "Once upon a time", "maxTokens": 4, "seed": 42}'])
    assert out.returncode == 0, out.stderr
    receipt = json.loads(out.stdout)["receipt"]
    ask = json.dumps({"id": receipt["id"]})
    got = run(["--socket", daemon, "receipts/get", ask])
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["receipt"] == receipt
    for params in (ask, json.dumps({"receipt": receipt})):
        replay = run(["--socket", daemon, "reproduce", "-"], stdin=params)
        assert replay.returncode == 0, replay.stderr
        result = json.loads(replay.stdout)
        assert result["identical"] is True and result["journal"] == "matches", result
    missing = run(["--socket", daemon, "receipts/get", '{"id": "rc-00000000000000000000000000000000"}'])
    assert missing.returncode == 2 and "-32007" in missing.stderr and '"id": "rc-0000' in missing.stderr


def test_chat_and_encode(daemon):
    out = run(["--socket", daemon, "generate",
               '{"messages": [{"role": "user", "content": "What is 2 + 2?"}], "temperature": 0, "maxTokens": 24}'])
    assert out.returncode == 0, out.stderr
    chat = json.loads(out.stdout)
    assert "4" in chat["text"] and chat["finishReason"] == "stop"
    replay = run(["--socket", daemon, "reproduce", "-"], stdin=json.dumps({"receipt": chat["receipt"]}))
    assert replay.returncode == 0 and json.loads(replay.stdout)["identical"] is True, replay.stderr
    refused = run(["--socket", daemon, "generate", '{"messages": [], "maxTokens": 1}'])
    assert refused.returncode == 2 and '"path": "params.messages"' in refused.stderr

    assert run(["--socket", daemon, "models/load", '{"model": "minilm-l6"}']).returncode == 0
    sentences = ["A man is eating food.", "A man is eating a piece of bread."]
    out = run(["--socket", daemon, "encode", "-"], stdin=json.dumps({"model": "minilm-l6", "input": sentences}))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["dimensions"], result["tokenCounts"]) == (384, [8, 11])
    a, b = result["embeddings"]
    assert abs(sum(x * y for x, y in zip(a, b)) - 0.755) < 1e-3
    replay = run(["--socket", daemon, "reproduce", "-"], stdin=json.dumps({"id": result["receipt"]["id"]}))
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["identical"] is True and json.loads(replay.stdout)["maxEmbeddingDifference"] == 0
    overflow = run(["--socket", daemon, "encode", "-"],
                   stdin=json.dumps({"model": "minilm-l6", "input": "word " * 300, "truncate": False}))
    assert overflow.returncode == 2 and "-32003" in overflow.stderr and '"contextLength": 256' in overflow.stderr


def test_verbose_shows_stream_notifications(daemon):
    quiet = run(["--socket", daemon, "generate", '{"prompt": "1, 2, 3,", "maxTokens": 3, "temperature": 0, "stream": true}'])
    assert quiet.returncode == 0 and quiet.stderr == ""
    loud = run(["--socket", daemon, "--verbose", "generate",
                '{"prompt": "1, 2, 3,", "maxTokens": 3, "temperature": 0, "stream": true}'])
    assert loud.returncode == 0, loud.stderr
    streamed = [json.loads(line.split("notification $/stream: ", 1)[1])
                for line in loud.stderr.splitlines() if "notification $/stream: " in line]
    result = json.loads(loud.stdout)
    assert json.loads(quiet.stdout)["tokens"] == result["tokens"]
    assert "".join(n["text"] for n in streamed) == result["text"]
    assert [t for n in streamed for t in n["tokens"]] == result["tokens"]


def test_verbose_shows_progress_notifications(daemon):
    loud = run(["--socket", daemon, "--verbose", "models/load", '{"model": "gemma3-270m"}'])
    assert loud.returncode == 0, loud.stderr
    assert "[load]" in loud.stderr and "-> " in loud.stderr
    assert json.loads(loud.stdout)["loaded"] is True
    run(["--socket", daemon, "models/unload", '{"model": "gemma3-270m"}'])
    quiet = run(["--socket", daemon, "models/load", '{"model": "gemma3-270m"}'])
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_usage_errors_exit_64(daemon):
    assert run(["--socket", daemon, "tokenize", "not json"]).returncode == 64
    assert run(["--socket", daemon, "tokenize", '"a string"']).returncode == 64
    assert run(["--socket", daemon]).returncode == 64
    assert run(["--socket", daemon, "--bogus", "tokenize"]).returncode == 64
    assert run(["--socket", daemon, "--timeout", "soon", "models/list"]).returncode == 64
    helped = run(["--help"])
    assert helped.returncode == 0 and "Usage: reprolm-call" in helped.stdout
    assert "reprolm-call encode" in helped.stdout and '"messages"' in helped.stdout


def test_no_daemon_and_no_binary_is_a_clear_error(folder):
    sock = os.path.join(folder, "none.sock")
    out = run(["--socket", sock, "models/list"], binary=os.path.join(folder, "missing-binary"))
    assert out.returncode == 3 and "REPROLM_BIN" in out.stderr and "not an executable" in out.stderr
    out = run(["--socket", sock, "--no-start", "models/list"])
    assert out.returncode == 3 and "no reprolm daemon is listening" in out.stderr
    out = run(["--socket", sock, "shutdown"])
    assert out.returncode == 3 and "no reprolm daemon is listening" in out.stderr


def test_a_daemon_that_dies_at_start_is_reported_with_its_log(folder):
    fake = os.path.join(folder, "fake-reprolm")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho 'fake daemon: cannot load model' >&2\nexit 1\n")
    os.chmod(fake, 0o755)
    out = run(["--socket", os.path.join(folder, "d.sock"), "models/list"], binary=fake)
    assert out.returncode == 3
    assert "exited before listening" in out.stderr and "cannot load model" in out.stderr


def test_a_daemon_that_never_listens_times_out(folder):
    fake = os.path.join(folder, "slow-reprolm")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nexec sleep 30\n")
    os.chmod(fake, 0o755)
    started = time.monotonic()
    out = run(["--socket", os.path.join(folder, "d.sock"), "--start-timeout", "1", "models/list"], binary=fake)
    pid = started_pid(out.stderr)
    try:
        assert out.returncode == 3 and "did not listen" in out.stderr
        assert time.monotonic() - started < 20
    finally:
        stop(pid)


def test_a_stale_socket_file_is_replaced_by_the_started_daemon(binary, folder):
    sock = os.path.join(folder, "d.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(sock)  # bound, never listening, closed: what a SIGKILLed daemon leaves
    stale.close()
    out = run(["--socket", sock, "models/list"], binary)
    pid = started_pid(out.stderr)
    try:
        assert out.returncode == 0, out.stderr
        assert pid is not None
    finally:
        stop(pid)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the socket to another user")
def test_a_socket_of_another_user_is_not_trusted(folder):
    """An impostor listening at the path (here: the socket file given to uid 12345) gets nothing."""
    sock = os.path.join(folder, "impostor.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock)
    listener.listen(4)
    os.chown(sock, 12345, 12345)
    try:
        out = run(["--socket", sock, "--no-start", "models/list"])
        assert out.returncode == 3 and "belongs to uid 12345" in out.stderr, out.stderr
    finally:
        listener.close()
