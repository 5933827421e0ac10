"""Fixtures: a real reprolm binary, daemons on stdio and on a Unix socket, in both framings.

The binary is $REPROLM_BIN, else <repo>/.build/release/reprolm; every test that needs it is
skipped, with the reason, when neither exists. The package is imported from this checkout when it
is not installed, so `python3 -m pytest clients/python/tests` works before `pip install`.
Every daemon started here keeps its receipt journal in a temporary folder (`--journal`), never
under $XDG_STATE_HOME.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))

try:
    import reprolm_client  # noqa: F401
except ImportError:
    sys.path.insert(0, PACKAGE_ROOT)

from reprolm_client import Client  # noqa: E402

FRAMINGS = ["newline", "content-length"]


def binary_path():
    return os.environ.get("REPROLM_BIN") or os.path.join(REPO_ROOT, ".build", "release", "reprolm")


@pytest.fixture(scope="session")
def reprolm_bin():
    path = binary_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(f"no reprolm binary at {path}: build it (swift build -c release --product reprolm) "
                    "or set REPROLM_BIN")
    return path


def wait_for_socket(path, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"reprolm exited with {process.returncode} before listening on {path}")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
            return
        except OSError:
            time.sleep(0.02)
        finally:
            probe.close()
    raise RuntimeError(f"reprolm did not listen on {path} within {timeout} s")


def with_journal(args, directory):
    """`args` for `reprolm serve`, with a journal in `directory` unless they choose one (or none)."""
    args = list(args)
    if not {"--journal", "--no-journal"} & set(args):
        args += ["--journal", os.path.join(str(directory), "journal.jsonl")]
    return args


@pytest.fixture(scope="session")
def socket_daemon(reprolm_bin):
    """One daemon with the default model on a socket under /tmp, shared by the session."""
    directory = tempfile.mkdtemp(prefix="rlc-", dir="/tmp")
    path = os.path.join(directory, "d.sock")
    log = open(os.path.join(directory, "daemon.log"), "wb")
    process = subprocess.Popen([reprolm_bin, "serve", "--socket", path, *with_journal([], directory)],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        wait_for_socket(path, process)
        yield path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=[("stdio", f) for f in FRAMINGS] + [("socket", f) for f in FRAMINGS],
                ids=lambda p: f"{p[0]}-{p[1]}")
def client(request, reprolm_bin, tmp_path):
    """A client with the default model loaded, on each transport and framing."""
    transport, framing = request.param
    if transport == "stdio":
        c = Client.spawn_stdio(reprolm_bin, args=with_journal([], tmp_path), framing=framing,
                               stderr=subprocess.DEVNULL, timeout=30)
    else:
        c = Client.connect_socket(request.getfixturevalue("socket_daemon"), framing=framing, timeout=30)
    with c:
        yield c


@pytest.fixture
def spawn(reprolm_bin, tmp_path):
    """spawn(*args, framing=...) -> a stdio client; closed at the end of the test."""
    made = []

    def make(*args, framing="newline", **kwargs):
        kwargs.setdefault("timeout", 30)
        c = Client.spawn_stdio(reprolm_bin, args=with_journal(args, tmp_path / f"daemon-{len(made)}"),
                               framing=framing, stderr=subprocess.DEVNULL, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
