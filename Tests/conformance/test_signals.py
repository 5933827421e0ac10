"""SIGTERM is never lost, whenever it arrives: during start-up (journal, socket binding), right
after the socket appears, while a request runs. 200 daemons on CPUs kept busy by other processes,
each signalled at a random moment once it has started logging; every one must exit 0, answer
the request it had taken and remove its socket. (A SIGTERM made pending before the handler
existed used to be discarded: 1 in 60 daemons kept running.)"""
import os
import random
import signal
import subprocess
import sys
import time

import wire
from wire import request

RUNS = 200


def busy_cpus(count):
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def wait_for_log(daemon, text, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in daemon.stderr_text():
            return
        assert daemon.process.poll() is None, daemon.stderr_text()
        time.sleep(0.002)
    raise AssertionError(f"no '{text}' in the log within {timeout} s")


def test_sigterm_at_random_moments_always_exits_zero(binary, workdir):
    rng = random.Random(1234)
    load = busy_cpus(os.cpu_count() or 2)
    failures = []
    try:
        for run in range(RUNS):
            path = os.path.join(workdir, f"r{run}.sock")
            daemon = wire.SocketDaemon(binary, path, ["--no-model", "--no-journal"],
                                       os.path.join(workdir, f"r{run}.log"))
            connection = None
            try:
                with_request = run % 2 == 1
                if with_request:
                    # Signalled just after a request was sent (50 ms: read by then even on busy
                    # CPUs): its answer must still arrive before the daemon exits.
                    daemon.wait_listening()
                    connection = daemon.connect()
                    connection.send(request("models/list", id=1))
                    time.sleep(rng.uniform(0.05, 0.1))
                else:
                    # Anywhere from the first log line through binding to serving.
                    wait_for_log(daemon, "kernels")
                    time.sleep(rng.uniform(0, 0.25))
                daemon.signal(signal.SIGTERM)
                try:
                    code = daemon.wait(15)
                except subprocess.TimeoutExpired:
                    failures.append(f"run {run}: still running 15 s after SIGTERM")
                    daemon.process.kill()
                    continue
                if code != 0:
                    failures.append(f"run {run}: exit {code}\n{daemon.stderr_text()[-2000:]}")
                if connection is not None:
                    answers = [f.json for f in connection.drain()]
                    if [a.get("id") for a in answers] != [1]:
                        failures.append(f"run {run}: the request in flight got {answers}")
                if os.path.exists(path):
                    failures.append(f"run {run}: the socket file was left behind")
            finally:
                if connection is not None:
                    connection.close()
                daemon.stop()
    finally:
        for p in load:
            p.kill()
            p.wait()
    assert failures == [], f"{len(failures)} of {RUNS} runs failed:\n" + "\n".join(failures[:10])
