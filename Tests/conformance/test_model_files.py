"""A loaded model's file changing on disk (truncated, rewritten in place, replaced by a rename)
while requests run on it: the daemon stays up, every request is answered, a model loaded from
another file is not disturbed, later requests naming the path get the new file, and no receipt
ever names a sha256 whose bytes were not the ones computed with.

The check for the last point: generation here is greedy, so a file's bytes fix its text. Each
answer's text must be the one the file its receipt names gives; the old sha256 with the new bytes
(weights changed under a loaded model) would give another text, or a crash.

Works on a copy of SmolLM2 in a temp folder; the cached catalogue files are only read."""

import hashlib
import os
import shutil
import signal
import threading
import time

import pytest

import wire
from wire import assert_result

MODELS = os.path.join(os.path.expanduser("~"), ".cache", "reprolm", "models")
SMOL = os.path.join(MODELS, "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf")
GEMMA = os.path.join(MODELS, "gemma3-270m", "gemma-3-270m-q4_k_m.gguf")
GREEDY = {"prompt": "The lighthouse keeper opened the door and", "maxTokens": 6, "temperature": 0}
#: Errors a request on the changing file may get: the path names no loadable model for a moment.
CLEAR_ERRORS = (-32001, -32002)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def truncate(path):
    os.truncate(path, 1_000_000)


def rewrite_in_place(path):
    """Another model's bytes written over the file through an ordinary open for writing."""
    with open(GEMMA, "rb") as source:
        opening = time.monotonic()
        with open(path, "r+b") as target:  # held until the daemon has let the file go
            print(f"open for writing held {time.monotonic() - opening:.3f} s; ", end="")
            shutil.copyfileobj(source, target, 1 << 22)


def replace_by_rename(path):
    staged = path + ".new"
    shutil.copyfile(GEMMA, staged)
    os.replace(staged, path)


def generate(conn, model, id):
    return conn.call("generate", {**GREEDY, "model": model}, id=id, timeout=120)


def receipt_sha(result):
    return result["receipt"]["model"]["sha256"]


class Loop(threading.Thread):
    """Sends generate requests for `model` one after another on its own connection until stopped;
    keeps (time sent, reply) of each."""

    def __init__(self, daemon, model):
        super().__init__(daemon=True)
        self.conn, self.model = daemon.connect(), model
        self.replies, self.failure = [], None
        self.stop = threading.Event()

    def run(self):
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                sent = time.monotonic()
                self.replies.append((sent, generate(self.conn, self.model, n)))
        except BaseException as error:  # a lost connection (the daemon died) ends the loop
            self.failure = error

    def finish(self):
        self.stop.set()
        self.join(180)
        assert not self.is_alive(), f"requests on {self.model} stopped being answered"
        self.conn.close()


@pytest.mark.skipif(not (os.path.isfile(SMOL) and os.path.isfile(GEMMA)), reason="SmolLM2 and Gemma 3 not cached")
@pytest.mark.parametrize("change", [truncate, rewrite_in_place, replace_by_rename], ids=lambda f: f.__name__)
def test_a_loaded_model_file_changing_on_disk(start_socket, workdir, change):
    path = os.path.join(workdir, "smol.gguf")
    shutil.copyfile(SMOL, path)
    smol_sha, gemma_sha = sha256_of(SMOL), sha256_of(GEMMA)
    daemon = start_socket("--no-model", "--threads", "1")
    conn = daemon.connect()
    assert assert_result(conn.call("models/load", {"model": path}, id="load-copy", timeout=120), "load-copy")["sha256"] == smol_sha
    assert assert_result(conn.call("models/load", {"model": "gemma3-270m"}, id="load-gemma", timeout=120), "load-gemma")["sha256"] == gemma_sha
    # What each file's bytes generate: the reference every answer is held to.
    text_of = {smol_sha: assert_result(generate(conn, path, "ref-smol"), "ref-smol")["text"],
               gemma_sha: assert_result(generate(conn, "gemma3-270m", "ref-gemma"), "ref-gemma")["text"]}
    assert text_of[smol_sha] != text_of[gemma_sha]

    on_copy, on_gemma = Loop(daemon, path), Loop(daemon, "gemma3-270m")
    on_copy.start()
    on_gemma.start()
    time.sleep(1.5)  # requests running on the copy when it changes
    started = time.monotonic()
    change(path)
    changed = time.monotonic()
    time.sleep(2.0)  # requests naming the path after the change
    on_copy.finish()
    on_gemma.finish()

    assert daemon.process.poll() is None, f"the daemon died ({daemon.process.returncode}):\n{daemon.stderr_text()[-3000:]}"
    assert on_copy.failure is None and on_gemma.failure is None, (on_copy.failure, on_gemma.failure)
    # The writer was held only while the daemon moved off the file, far less than the kernel's
    # lease-break time (45 s).
    print(f"{change.__name__}: the writer took {changed - started:.3f} s")
    assert changed - started < 10

    assert on_gemma.replies, "no request ran on the other model"
    for _, reply in on_gemma.replies:
        result = assert_result(reply, reply["id"])
        assert receipt_sha(result) == gemma_sha and result["text"] == text_of[gemma_sha], result

    assert any(sent < started for sent, _ in on_copy.replies), "no request on the copy before the change"
    outcomes = {}
    for _, reply in on_copy.replies:
        key = reply["error"]["code"] if "error" in reply else receipt_sha(reply["result"])[:12]
        outcomes[key] = outcomes.get(key, 0) + 1
    print(f"requests naming the path: {outcomes}")
    for _, reply in on_copy.replies:
        if "error" in reply:
            assert reply["error"]["code"] in CLEAR_ERRORS and reply["error"]["message"], reply
            continue
        result = assert_result(reply, reply["id"])
        sha = receipt_sha(result)
        assert sha in text_of, f"a receipt names {sha}, neither file"
        assert result["text"] == text_of[sha], f"receipt names {sha[:12]} but the text is another model's: {result}"

    # Now the path names the new file (or a truncated one that cannot load).
    after = generate(conn, path, "after")
    if change is truncate:
        wire.assert_error(after, -32002, "after")
        wire.assert_error(conn.call("models/load", {"model": path}, id="reload"), -32002, "reload")
    else:
        result = assert_result(after, "after")
        assert receipt_sha(result) == gemma_sha and result["text"] == text_of[gemma_sha], result
    # The other model never left.
    listed = assert_result(conn.call("models/list", id="list"), "list")
    assert any(m["name"] == "gemma3-270m" and m["loaded"] for m in listed["models"]), listed
    conn.close()

    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.stderr_text()[-3000:]
    assert SMOL != path and sha256_of(SMOL) == smol_sha
