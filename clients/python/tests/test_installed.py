"""The client as a user gets it: `pip install`ed (here with `--target`, into a temporary folder),
imported from outside the repository. It finds the daemon binary as clients/reprolm-call does
(REPROLM_BIN, else PATH), says exactly what to set when it finds none, and names the socket path
(and how to start a daemon) when none listens, or starts one when asked."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)

# Run by a fresh interpreter that sees only the installed copy; prints one JSON line.
PROBE = r"""
import json, os, sys
import reprolm_client
from reprolm_client import Client, BinaryNotFound, DaemonNotRunning
out = {"module": reprolm_client.__file__}
try:
    with Client.spawn_stdio(args=["--no-model", "--no-journal"], timeout=60) as c:
        out["spawned"] = c.initialize()["serverInfo"]["name"]
except BinaryNotFound as e:
    out["binary_not_found"] = str(e)
socket_path = os.environ["PROBE_SOCKET"]
try:
    Client.connect_socket(socket_path)
except DaemonNotRunning as e:
    out["not_running"] = (str(e), e.path)
if os.environ.get("PROBE_START"):
    with Client.connect_socket(socket_path, start=True, start_timeout=60, timeout=60) as c:
        out["started"] = c.initialize()["serverInfo"]["name"]
        c.shutdown()
        c.exit()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`pip install --target` of a copy of the package (so no build files land in the checkout)."""
    work = tmp_path_factory.mktemp("installed")
    source = work / "source"
    shutil.copytree(PACKAGE_ROOT, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    target = work / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def probe(installed, *, path_dirs=(), bin=None, start=False):
    outside = tempfile.mkdtemp(prefix="rlc-out-", dir="/tmp")  # short: it holds a socket
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("REPROLM_BIN", "PYTHONPATH", "REPROLM_SOCKET")}
        env["PYTHONPATH"] = str(installed)
        # PATH keeps what python3 needs but loses any reprolm on it.
        keep = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not os.path.exists(os.path.join(d, "reprolm"))]
        env["PATH"] = os.pathsep.join([*path_dirs, *keep])
        env["PROBE_SOCKET"] = os.path.join(outside, "d.sock")
        if bin:
            env["REPROLM_BIN"] = bin
        if start:
            env["PROBE_START"] = "1"
        done = subprocess.run([sys.executable, "-c", PROBE], cwd=outside, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1]), env["PROBE_SOCKET"]
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_without_a_binary_it_says_what_to_set(installed):
    out, socket_path = probe(installed)
    assert out["module"].startswith(str(installed)), out
    assert "REPROLM_BIN" in out["binary_not_found"] and "PATH" in out["binary_not_found"], out
    message, path = out["not_running"]
    assert path == socket_path and socket_path in message and "reprolm serve --socket" in message, out


def test_with_reprolm_bin_or_on_path_it_spawns_from_outside_the_repository(installed, reprolm_bin, tmp_path):
    out, _ = probe(installed, bin=reprolm_bin)
    assert out["spawned"] == "reprolm", out
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "reprolm").symlink_to(reprolm_bin)
    out, _ = probe(installed, path_dirs=[str(on_path)])
    assert out["spawned"] == "reprolm", out
    out, _ = probe(installed, bin=str(tmp_path / "missing"))
    assert "REPROLM_BIN=" in out["binary_not_found"] and "not an executable file" in out["binary_not_found"], out


def test_connect_socket_starts_a_daemon_when_asked(installed, reprolm_bin):
    out, _ = probe(installed, bin=reprolm_bin, start=True)
    assert out["started"] == "reprolm", out
