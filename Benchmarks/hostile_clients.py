#!/usr/bin/env python3
"""The hostile-client attack of issue 12, re-measured: a socket daemon with the default model, and
(1) a client that pipelines 50 KB tokenize requests for 60 s and never reads an answer,
(2) one batch frame of 10^6 empty objects, (3) 700 connections trickling half a header one byte
every 3 s plus 500 idle ones. Prints the daemon's RSS (now and peak) and the latency of a polite
client's `models/list` meanwhile. Figures, not assertions (the conformance tests assert bounds).

    python3 Benchmarks/hostile_clients.py [--binary .build/release/reprolm] [--seconds 60]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time


def rss(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class Polite:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.n = 0

    def latency(self):
        self.n += 1
        t0 = time.monotonic()
        self.s.sendall(json.dumps({"jsonrpc": "2.0", "id": self.n, "method": "models/list"}).encode() + b"\n")
        line = self.f.readline()
        assert json.loads(line)["id"] == self.n, line
        return time.monotonic() - t0


def report(name, pid, latencies):
    print(f"{name}: RSS {rss(pid, 'VmRSS'):.0f} MiB, peak {rss(pid, 'VmHWM'):.0f} MiB; polite client "
          f"models/list median {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
          f"({len(latencies)} calls)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "reprolm"))
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="rhc-", dir="/tmp")
    path = os.path.join(folder, "d.sock")
    daemon = subprocess.Popen([args.binary, "serve", "--socket", path, "--no-journal"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(folder, "log"), "wb"))
    while not os.path.exists(path):
        time.sleep(0.05)
    time.sleep(0.5)
    pid = daemon.pid
    polite = Polite(path)
    print(f"idle daemon: RSS {rss(pid, 'VmRSS'):.0f} MiB", flush=True)

    # 1. Pipelining 50 KB tokenize requests, reading nothing.
    greedy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    greedy.connect(path)
    greedy.setblocking(False)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tokenize", "params": {"text": "word " * 10000}}).encode() + b"\n"
    sent, latencies, t0 = 0, [], time.monotonic()
    pending = memoryview(body)
    while time.monotonic() - t0 < args.seconds:
        try:
            n = greedy.send(pending)
            sent += n
            pending = pending[n:] or memoryview(body)
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:
            break  # closed by the daemon (--write-timeout)
        if len(latencies) < (time.monotonic() - t0) * 4:
            latencies.append(polite.latency())
    greedy.close()
    print(f"non-reading client sent {sent / 1e6:.1f} MB of requests in {args.seconds:.0f} s", flush=True)
    report("non-reading client", pid, latencies)

    # 2. One batch frame of a million empty objects.
    batch = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    batch.connect(path)
    batch.sendall(b"[" + b",".join([b"{}"] * 1_000_000) + b"]\n")
    answer = batch.makefile("rb").readline()
    batch.close()
    print(f"batch of 10^6: answered {json.loads(answer)['error']['message']!r}", flush=True)
    report("batch frame", pid, [polite.latency() for _ in range(10)])

    # 3. 700 slow connections trickling a header, 500 idle ones.
    slow, refused = [], 0
    for i in range(1200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            slow.append(s)
        except OSError:
            refused += 1
    latencies, t0 = [], time.monotonic()
    header = b"Content-Length: 1"
    step = 0
    while time.monotonic() - t0 < min(args.seconds, 40):
        for s in slow[:700]:
            try:
                s.send(header[step % len(header):step % len(header) + 1])
            except OSError:
                pass
        step += 1
        for _ in range(3):
            latencies.append(polite.latency())
            time.sleep(1)
    open_now = sum(1 for s in slow if s.fileno() >= 0)
    print(f"1200 slow or idle connections ({refused} refused at connect)", flush=True)
    report("slow connections", pid, latencies)
    for s in slow:
        s.close()
    daemon.terminate()
    print(f"daemon exit status {daemon.wait(30)}")


if __name__ == "__main__":
    main()
