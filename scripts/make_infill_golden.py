#!/usr/bin/env python3
"""Golden file for fill-in-the-middle: what llama.cpp's own server answers to `/infill`.

Starts the natively built `llama-server` (from the llama.cpp vendored in the llama-cpp-python
0.3.36 sdist, as Benchmarks/run builds it) on each catalogue GGUF and reads the fill-in-the-middle
tokens (and the end-of-generation tokens, which they join) its vocabulary loader found, from
the lines it logs. On the model that has
them (qwen2.5-coder-0.5b) it sends every snippet of scripts/infill_snippets.json, plus one whose
prefix and suffix are longer than llama-server keeps, to `/infill` with only input_prefix and
input_suffix, greedily (temperature 0), with the top two logprobs of each step, so tests can tell
real disagreements from near-ties (their gap is the gap between the top two logits).

llama-server does not report the prompt tokens it built, so the layout is rebuilt here from its
`/tokenize` of each piece, composed as format_prompt_infill (tools/server/server-common.cpp)
composes them, and proven three ways: its length is the server's `tokens_evaluated`, its
`/detokenize` is the server's echoed `prompt`, and `/completion` of those token ids gives the same
tokens as `/infill`.

Needs only the llama-server build and the models (no Python packages).
Usage: make_infill_golden.py [--llama-server PATH]
"""
import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

from golden_files import cache_root

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {
    "smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3-270m": "gemma-3-270m-q4_k_m.gguf",
    "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
}
INFILL_MODEL = "qwen2.5-coder-0.5b"
N_PREDICT = 24
THREADS = 2
# One slot with 8192 positions: the whole repository header fits (format_prompt_infill keeps it
# when n_ctx - n_batch - 2 * n_predict leaves room), as it does at the model's 32768.
# Log level 4 (trace) makes the vocabulary loader print what it found; it changes nothing else.
SERVER_ARGS = ["-t", str(THREADS), "-tb", str(THREADS), "-np", "1", "-c", "8192", "-lv", "4"]
FIM_LOG = re.compile(r"FIM (PRE|SUF|MID|PAD|REP|SEP) token\s*=\s*(\d+)")
EOG_LOG = re.compile(r"print_info: EOG token\s*=\s*(\d+)")
FIM_NAMES = {"PRE": "prefix", "SUF": "suffix", "MID": "middle", "PAD": "pad", "REP": "repository", "SEP": "fileSeparator"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, gguf):
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(binary))
        self.args = SERVER_ARGS
        self.proc = subprocess.Popen([binary, "-m", gguf, *SERVER_ARGS, "--host", "127.0.0.1", "--port", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 180
        while True:
            try:
                if self.get("/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.log.seek(0)
                sys.stderr.write(self.log.read()[-4000:])
                raise RuntimeError("llama-server did not start")
            time.sleep(0.2)

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        conn.request(method, path, json.dumps(body) if body is not None else None, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        status, doc = self.request("POST", path, body)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status}: {doc}")
        return doc

    def vocabulary_log(self):
        """The FIM ids and the end-of-generation ids llama.cpp's vocabulary loader found, from
        its load log."""
        self.log.seek(0)
        text = self.log.read()
        found = {FIM_NAMES[k]: int(v) for k, v in FIM_LOG.findall(text)}
        return {name: found.get(name) for name in FIM_NAMES.values()}, sorted({int(v) for v in EOG_LOG.findall(text)})

    def tokenize(self, text):
        return self.post("/tokenize", {"content": text, "add_special": False, "parse_special": False})["tokens"]

    def close(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def compose(server, fim, add_bos, bos, n_ctx, prefix, suffix, n_batch=2048, n_predict=-1):
    """format_prompt_infill for a request with only input_prefix and input_suffix (no
    input_extra, no prompt), with llama-server's default n_batch, n_predict and spm_infill off."""
    extra = []
    if fim["repository"] is not None:
        extra += [fim["repository"]] + server.tokenize("myproject\n")
    if fim["fileSeparator"] is not None:
        extra += [fim["fileSeparator"]] + server.tokenize("filename\n")
    p, s = server.tokenize(prefix), server.tokenize(suffix)
    n_prefix = min(len(p), 3 * (n_batch // 4))
    n_suffix = min(len(s), max(0, n_batch // 4 - 2))
    n_extra = min(max(0, n_ctx - n_batch - 2 * n_predict), len(extra))
    head = ([bos] if add_bos else []) + [fim["prefix"]] + p[len(p) - n_prefix:]
    return extra[len(extra) - n_extra:] + head + [fim["suffix"]] + s[:n_suffix] + [fim["middle"]]


def long_snippet():
    """A prefix past the 1536 tokens llama-server keeps and a suffix past its 510."""
    funcs = "".join(f"def helper_{i}(x):\n    \"\"\"Step {i} of the pipeline.\"\"\"\n    return x * {i} + {i % 7}\n\n\n" for i in range(90))
    tail = "".join(f"assert helper_{i}(1) == {i + i % 7}\n" for i in range(60))
    return {"name": "python-longer-than-a-batch", "language": "python",
            "prefix": funcs + "def run_all(x):\n    ", "suffix": "\n    return x\n\n\n" + tail}


def steps(probs):
    """Per generated token: the token, the two most likely tokens and the gap between their logprobs."""
    out = []
    for p in probs:
        top = p["top_logprobs"]
        out.append((p["id"], [top[0]["id"], top[1]["id"]], top[0]["logprob"] - top[1]["logprob"]))
    return out


def greedy(n_predict):
    return {"n_predict": n_predict, "temperature": 0, "n_probs": 2, "cache_prompt": False,
            "return_tokens": True, "seed": 0}


def infill(server, fim, add_bos, bos, n_ctx, snippet):
    n_predict = 8 if snippet["name"] == "python-longer-than-a-batch" else N_PREDICT
    r = server.post("/infill", {"input_prefix": snippet["prefix"], "input_suffix": snippet["suffix"], **greedy(n_predict)})
    layout = compose(server, fim, add_bos, bos, n_ctx, snippet["prefix"], snippet["suffix"])
    # The three proofs that `layout` is the prompt llama-server built.
    assert r["tokens_evaluated"] == len(layout), (snippet["name"], r["tokens_evaluated"], len(layout))
    assert server.post("/detokenize", {"tokens": layout})["content"] == r["prompt"], snippet["name"]
    again = server.post("/completion", {"prompt": layout, **greedy(n_predict)})
    assert again["tokens"] == r["tokens"], (snippet["name"], again["tokens"], r["tokens"])
    st = steps(r["completion_probabilities"])
    assert [t for t, _, _ in st] == r["tokens"] == [top[0] for _, top, _ in st], snippet["name"]
    return {"name": snippet["name"], "language": snippet["language"], "prefix": snippet["prefix"],
            "suffix": snippet["suffix"], "maxTokens": n_predict, "promptTokens": layout,
            "tokens": r["tokens"], "top2": [top for _, top, _ in st], "top2Gap": [g for _, _, g in st],
            "content": r["content"],
            "stopType": r["stop_type"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-server", default=os.path.join(cache_root(), "llama.cpp-0.3.36", "build", "bin", "llama-server"))
    args = ap.parse_args()
    with open(os.path.join(ROOT, "scripts", "infill_snippets.json")) as f:
        snippets = json.load(f)["snippets"] + [long_snippet()]

    fim_by_model, eog_by_model, golden = {}, {}, None
    for name, file in MODELS.items():
        server = Server(args.llama_server, os.path.join(cache_root(), "models", name, file))
        try:
            fim, eog = server.vocabulary_log()
            fim_by_model[name], eog_by_model[name] = fim, eog
            print(f"{name}: FIM tokens {fim}, end of generation {eog}")
            if name != INFILL_MODEL:
                continue
            with_bos = server.post("/tokenize", {"content": "x", "add_special": True})["tokens"]
            add_bos = len(with_bos) > len(server.tokenize("x"))
            props = server.get("/props")[1]
            n_ctx = props["default_generation_settings"]["n_ctx"]
            golden = {"model": name, "file": file,
                      "reference": "llama-server /infill (llama.cpp of the llama-cpp-python 0.3.36 sdist), temperature 0",
                      "serverArgs": SERVER_ARGS, "nCtx": n_ctx, "nBatch": 2048, "addBos": add_bos,
                      "snippets": []}
            for s in snippets:
                entry = infill(server, fim, add_bos, with_bos[0] if add_bos else None, n_ctx, s)
                golden["snippets"].append(entry)
                print(f"  {s['name']}: {len(entry['promptTokens'])} prompt tokens -> {entry['content']!r}")
        finally:
            server.close()
    golden["fimTokens"], golden["endOfGeneration"] = fim_by_model, eog_by_model
    out = os.path.join(ROOT, "Tests", "ServerTests", "Golden", f"infill-{INFILL_MODEL}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(golden['snippets'])} snippets -> {out}")


if __name__ == "__main__":
    main()
