"""clients/nvim, the Neovim plugin, through its headless test (clients/nvim/tests/run.lua).

Runs `nvim --headless -u NONE -i NONE -n -c 'set rtp+=clients/nvim' -c 'luafile
clients/nvim/tests/run.lua'` against a real daemon: the test starts $REPROLM_BIN (else
<repo>/.build/release/reprolm) through the plugin, on stdio and then on a socket, with its journal
in a temporary folder, and exits 0 only if every check passed. Its log is shown on failure.
Skips, saying why, without a binary or without Neovim 0.7 or later (scripts/test installs
Debian's `neovim`, 0.7.2 on bookworm, the oldest the plugin supports).
Run: REPROLM_BIN=... python3 -m pytest clients/tests/test_nvim.py -q
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 600


@pytest.fixture(scope="module")
def binary():
    path = os.environ.get("REPROLM_BIN") or os.path.join(REPO_ROOT, ".build", "release", "reprolm")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(f"no reprolm binary at {path}: set REPROLM_BIN or build it")
    return os.path.abspath(path)


@pytest.fixture(scope="module")
def nvim():
    path = shutil.which("nvim")
    if path is None:
        pytest.skip("nvim is not installed: the Neovim plugin is not tested "
                    "(apt-get install neovim; scripts/test installs it)")
    first = subprocess.run([path, "--version"], capture_output=True, text=True,
                           timeout=30).stdout.splitlines()[:1]
    match = re.match(r"NVIM v(\d+)\.(\d+)\.(\d+)", first[0] if first else "")
    if not match or tuple(map(int, match.groups())) < (0, 7, 0):
        pytest.skip(f"the plugin needs Neovim 0.7 or later, {path} is {first}")
    return path


def test_plugin_headless(binary, nvim):
    state = tempfile.mkdtemp(prefix="nvim-state-", dir="/tmp")
    env = dict(os.environ)
    env["REPROLM_BIN"] = binary
    env["XDG_STATE_HOME"] = state  # journals are passed explicitly; nothing lands in ~/.local/state
    for name in ("REPROLM_SOCKET", "NVIM", "NVIM_LISTEN_ADDRESS", "VIMINIT", "MYVIMRC"):
        env.pop(name, None)
    command = [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n",
               "-c", "set rtp+=clients/nvim", "-c", "luafile clients/nvim/tests/run.lua"]
    started = time.monotonic()
    try:
        run = subprocess.run(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        def text(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        pytest.fail(f"the headless test did not finish within {TIMEOUT} s; its log:\n"
                    f"{text(e.stdout)}\n--- stderr ---\n{text(e.stderr)}")
    finally:
        shutil.rmtree(state, ignore_errors=True)
    elapsed = time.monotonic() - started
    log = f"{run.stdout}\n--- stderr (Neovim's messages) ---\n{run.stderr}"
    assert run.returncode == 0, f"exit status {run.returncode} after {elapsed:.1f} s; the test's log:\n{log}"
    assert re.search(r"\d+ checks, 0 failed", run.stdout), log
    assert "ok   no Lua error" in run.stdout, log
