#!/usr/bin/env python3
"""reprolm's daemon beside llama.cpp's own `llama-server`: same GGUF file, same threads, N slots.

Measures, for each engine in turn (never both at once):
- aggregate decode tokens/s with 1, 4 and 8 concurrent streams: each client asks for 128 sampled
  tokens (temperature 0.8, its own seed) after a short prompt of its own; the figure is every
  token generated divided by the wall time from the first request to the last answer (a stream
  that ends early contributes the tokens it made: counted honestly, not assumed). The prompt asks
  for a long numbered list, which SmolLM2 does not end early: a story prompt ended half the
  streams after 40-120 tokens, so "8 streams" decoded with about 6 at a time;
- a repeated context: a code context of about 2,000 tokens answered with one token, then the same
  context plus a few tokens (what an editor sends on every pause): both times;
- time to first token of a short streamed request sent while a 4,000-token prompt is prefilled;
- the server's peak RSS (VmHWM) at the end.
Each engine runs --runs times (default 3) on a fresh server, interleaved with the other; the table
shows the medians.

llama-server runs with `-np` equal to the largest stream count and a context of 8,192 tokens per
slot, `cache_prompt` on (its default). reprolm runs `serve --socket` with its defaults (prefix
cache 256 MiB). Run through Benchmarks/run --serve, which builds both.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from reprolm_client import Client  # noqa: E402

CONTEXT_LINE = "def parse_{i}(line):\n    fields = line.split(',')\n    return [f.strip() for f in fields if f]\n\n"


def code_context(lines):
    return "".join(CONTEXT_LINE.format(i=i) for i in range(lines))


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Reprolm:
    name = "reprolm"

    def __init__(self, binary, model, threads, _slots):
        self.dir = tempfile.mkdtemp(prefix="rs-", dir="/tmp")
        self.socket = os.path.join(self.dir, "s.sock")
        self.proc = subprocess.Popen([binary, "serve", "--socket", self.socket, "--model", model, "--threads",
                                      str(threads), "--no-journal"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while True:
            try:
                with Client.connect_socket(self.socket) as c:
                    c.call("models/list")
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("reprolm serve did not start")
                time.sleep(0.2)

    def generate(self, prompt, max_tokens, temperature, seed, on_first=None):
        """(generated token count, seconds)."""
        with Client.connect_socket(self.socket) as c:
            t0 = time.time()
            hook = (lambda _s: on_first(time.time() - t0)) if on_first else None
            r = c.generate(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed,
                           stream=True if on_first else None, on_stream=hook)
            return len(r["tokens"]), time.time() - t0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


class LlamaServer:
    name = "llama-server"

    def __init__(self, binary, gguf, threads, slots):
        self.port = 18080 + os.getpid() % 1000
        self.proc = subprocess.Popen([binary, "-m", gguf, "-t", str(threads), "-tb", str(threads), "-np", str(slots),
                                      "-c", str(8192 * slots), "--port", str(self.port), "--host", "127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("llama-server did not start")
            time.sleep(0.2)

    def generate(self, prompt, max_tokens, temperature, seed, on_first=None):
        body = {"prompt": prompt, "n_predict": max_tokens, "temperature": temperature, "seed": seed,
                "cache_prompt": True, "stream": bool(on_first)}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        t0 = time.time()
        conn.request("POST", "/completion", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        if on_first:
            count, first = 0, False
            for raw in resp:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                chunk = json.loads(line[5:])
                if not first and chunk.get("content"):
                    on_first(time.time() - t0)
                    first = True
                count += 0 if chunk.get("stop") else 1
            return count, time.time() - t0
        r = json.loads(resp.read())
        return r.get("tokens_predicted", 0), time.time() - t0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def aggregate(server, streams, tokens):
    counts = [0] * streams
    def run(i):
        counts[i], _ = server.generate(f"A numbered list of {200 + i} animals, one per line:\n1.", tokens, 0.8, 100 + i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.time() - t0)


def repeated_context(server):
    context = code_context(62)   # about 2,000 tokens (SmolLM2; 32 per function)
    _, cold = server.generate(context, 1, 0, 1)
    _, again = server.generate(context + "def main():\n", 1, 0, 1)
    return cold, again


def first_token_during_prefill(server):
    long_prompt = code_context(125)   # about 4,000 tokens
    worker = threading.Thread(target=server.generate, args=(long_prompt + "# end\n", 1, 0, 2))
    worker.start()
    time.sleep(0.3)
    seen = []
    server.generate("Hello", 4, 0, 3, on_first=seen.append)
    worker.join()
    return seen[0] if seen else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reprolm", required=True)
    ap.add_argument("--llama-server", required=True)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--streams", type=int, nargs="*", default=[1, 4, 8])
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3, help="runs per engine, interleaved; the table shows medians")
    args = ap.parse_args()
    gguf = subprocess.run([args.reprolm, "pull", args.model], capture_output=True, text=True, check=True).stdout.strip()
    slots = max(args.streams)
    samples = {"reprolm": [], "llama-server": []}

    def measure(kind):
        if kind is Reprolm:
            server = Reprolm(args.reprolm, args.model, args.threads, slots)
        else:
            server = LlamaServer(args.llama_server, gguf, args.threads, slots)
        try:
            figures = {f"decode x{n}": aggregate(server, n, args.tokens) for n in args.streams}
            cold, again = repeated_context(server)
            figures["2k context, first (s)"] = cold
            figures["2k context + a few tokens (s)"] = again
            figures["first token during a 4k prefill (s)"] = first_token_during_prefill(server)
            figures["peak RSS (MiB)"] = peak_rss_mib(server.proc.pid)
        finally:
            server.stop()
        return figures

    # Interleaved (one engine, then the other, the first alternating), each run on a fresh
    # server: a slow spell of the machine falls on both.
    for run in range(args.runs):
        for kind in ((Reprolm, LlamaServer) if run % 2 == 0 else (LlamaServer, Reprolm)):
            samples[kind.name].append(measure(kind))
            print(f"run {run + 1}/{args.runs} {kind.name}: " + ", ".join(f"{k} {v:.3f}" for k, v in samples[kind.name][-1].items()),
                  file=sys.stderr)
    rows = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in samples.items()}
    print(f"model {args.model}, {args.threads} threads, llama-server -np {slots}; decode figures are total tokens/s "
          f"over {args.tokens}-token sampled generations; medians of {args.runs} interleaved runs")
    print()
    print("| measure | reprolm | llama-server |")
    print("|---|---|---|")
    for key in rows["reprolm"]:
        a, b = rows["reprolm"][key], rows["llama-server"][key]
        print(f"| {key} | {a:.3f} | {b:.3f} |" if key.endswith("(s)") else f"| {key} | {a:.1f} | {b:.1f} |")
    one = rows["reprolm"].get("decode x1")
    for n in args.streams[1:]:
        if one:
            print(f"reprolm decode x{n} / x1: {rows['reprolm'][f'decode x{n}'] / one:.2f}x")


if __name__ == "__main__":
    main()
