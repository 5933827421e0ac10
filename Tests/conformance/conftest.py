"""Fixtures for the protocol conformance suite: real `reprolm serve` processes, raw pipes and sockets.

The binary is $REPROLM_BIN, else <repo>/.build/release/reprolm. Socket paths live in short temp
folders under /tmp (sockaddr_un holds about 100 bytes).
"""

import os
import shutil
import subprocess
import tempfile

import pytest

import wire

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMBOS, combo_id = wire.COMBOS, wire.combo_id


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("REPROLM_BIN") or os.path.join(REPO_ROOT, ".build", "release", "reprolm")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(f"no reprolm binary at {path}: set REPROLM_BIN or build with "
                    "`swift build -c release --product reprolm`")
    return path


def _short_tmpdir():
    return tempfile.mkdtemp(prefix="rc-", dir="/tmp")


@pytest.fixture
def workdir():
    path = _short_tmpdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_stdio(binary, workdir):
    """start_stdio(*args, framing=..., stdin=PIPE) -> StdioDaemon (killed at teardown if alive)."""
    made = []

    def start(*args, framing=wire.NEWLINE, stdin=subprocess.PIPE):
        daemon = wire.StdioDaemon(binary, list(args), framing,
                                  os.path.join(workdir, f"stdio{len(made)}.log"), stdin=stdin)
        made.append(daemon)
        return daemon

    yield start
    for daemon in made:
        daemon.kill()


@pytest.fixture
def start_socket(binary, workdir):
    """start_socket(*args, path=None) -> SocketDaemon listening (stopped at teardown)."""
    made = []

    def start(*args, path=None, wait=True):
        path = path or os.path.join(workdir, f"s{len(made)}.sock")
        daemon = wire.SocketDaemon(binary, path, list(args), os.path.join(workdir, f"sock{len(made)}.log"))
        made.append(daemon)
        return daemon.wait_listening() if wait else daemon

    yield start
    for daemon in made:
        daemon.stop()


@pytest.fixture(scope="session")
def shared_socket(binary):
    """One socket daemon with the default model, shared by the envelope tests."""
    directory = _short_tmpdir()
    daemon = wire.SocketDaemon(binary, os.path.join(directory, "shared.sock"), [],
                               os.path.join(directory, "shared.log"))
    try:
        yield daemon.wait_listening()
        assert daemon.process.poll() is None, "the shared daemon died:\n" + daemon.stderr_text()
        assert daemon.stdout_bytes() == b"", "a socket daemon wrote to stdout"
    finally:
        daemon.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=COMBOS, ids=combo_id)
def conn(request, start_stdio):
    """A connection to a daemon with the default model, on each transport and framing.

    At teardown the session must end cleanly: after EOF every remaining byte is a frame, no frame
    is left that the test did not take, and a stdio daemon exits with 0."""
    transport, framing = request.param
    if transport == "stdio":
        c = start_stdio(framing=framing)
    else:
        c = request.getfixturevalue("shared_socket").connect(framing)
    c.transport = transport
    yield c
    c.finish()
    if transport == "stdio":
        assert c.process.wait(wire.DEFAULT_TIMEOUT) == 0, c.stderr_text()
    else:
        c.close()


@pytest.fixture(params=COMBOS, ids=combo_id)
def bare_conn(request, start_stdio, start_socket):
    """Like `conn`, but each test gets its own daemon started with `--no-model`
    and `--max-frame-bytes 4096`; no teardown checks (the test decides how the session ends)."""
    transport, framing = request.param
    args = ("--no-model", "--max-frame-bytes", "4096")
    if transport == "stdio":
        c = start_stdio(*args, framing=framing)
        c.daemon = None
    else:
        daemon = start_socket(*args)
        c = daemon.connect(framing)
        c.daemon = daemon
    c.transport = transport
    yield c
    if transport == "socket":
        c.close()
