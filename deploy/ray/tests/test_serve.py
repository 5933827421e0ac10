"""Ray Serve over a local cluster (loopback): 200 requests (greedy, seeded, session-seeded, score,
encode) through the HTTP ingress to 2 replicas; every receipt replays identically on the other
replica's daemon and on a plain local daemon; session seeds are a single daemon's; bad input gets
JSON-RPC errors; streams arrive as server-sent events or JSON lines; a replica whose daemon is
killed is replaced by Ray while requests go on; the Serve path's latency against the socket is
measured and printed; and at the end every journal verifies."""

import concurrent.futures
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from reprolm_client import Client
from reprolm_ray import Fleet, bench, journals, seeds

PROMPTS = ["The old map", "A recipe for bread:", "In the year 2050,", "Dear diary,", "The robot said",
           "Mountains at dusk", "A list of primes:", "Once upon a time"]
TEXTS = [f"Sentence number {i} is about {w}." for i, w in enumerate(["rivers", "stars", "bread", "cats", "trains"] * 8)]
SESSIONS = {"session-int": 20261207, "session-str": "a fleet's session"}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    def __init__(self, port, journal_dir, prefix="/"):
        self.port = port
        self.prefix = prefix
        self.url = f"http://127.0.0.1:{port}"
        self.journal_dir = journal_dir
        self.killed = set()

    def post(self, body, headers=None, raw=False):
        """(status, headers, parsed answer or raw bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            conn.request("POST", self.prefix, data, {"Content-Type": "application/json", **(headers or {})})
            r = conn.getresponse()
            payload = r.read()
            return r.status, dict(r.getheaders()), payload if raw or not payload else json.loads(payload)
        finally:
            conn.close()

    def call(self, method, params, token=None):
        status, _, answer = self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                                      {"Reprolm-Session": token} if token else None)
        assert status == 200 and "result" in answer, answer
        return answer["result"]

    def records(self):
        return {r["journal"]: r for r in journals.replica_records(self.journal_dir)}


@pytest.fixture(scope="module")
def app(ray_cluster, binary):
    from ray import serve

    from reprolm_ray.serve_app import build_app

    journal_dir = tempfile.mkdtemp(prefix="rr-serve-", dir="/tmp")
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    fleet = Fleet(models=["smollm2-135m", "minilm-l6"], binary=binary, journal_dir=journal_dir, threads=1)
    serve.run(build_app(fleet, replicas=2, replica_cpus=1, health_check_period_s=2), name="reprolm", route_prefix="/")
    yield App(port, journal_dir)
    if "reprolm" in serve.status().applications:
        serve.delete("reprolm")
    shutil.rmtree(journal_dir, ignore_errors=True)


def run_specifics_removed(result):
    r = json.loads(json.dumps(result))
    r.pop("timings", None)
    for key in ("id", "created", "engine"):
        r["receipt"].pop(key)
    return r


def replay_all(client, receipts, window=32):
    outcomes = []
    for k in range(0, len(receipts), window):
        futures = [client.call_async("reproduce", {"receipt": r}) for r in receipts[k:k + window]]
        outcomes += [f.result(300) for f in futures]
    return outcomes


def test_200_requests_replay_on_the_other_replica_and_a_local_daemon(app, local_daemon):
    started = time.monotonic()
    free = ([("generate", {"prompt": PROMPTS[i % 8] + " " * (i // 8), "maxTokens": 8, "temperature": 0}) for i in range(40)]
            + [("generate", {"prompt": PROMPTS[i % 8], "maxTokens": 8, "temperature": 0.9, "seed": 1000 + i}) for i in range(40)]
            + [("score", {"text": t}) for t in TEXTS]
            + [("encode", {"model": "minilm-l6", "input": t}) for t in TEXTS])
    random.Random(7).shuffle(free)
    session_params = {token: [{"prompt": PROMPTS[i % 8], "maxTokens": 8, "temperature": 0.8 if i % 3 else 0}
                              for i in range(20)] for token in SESSIONS}

    def run_session(token):
        commitment = app.call("setSeed", {"seed": SESSIONS[token]}, token)["commitment"]
        out = []
        for k in range(0, 20, 4):  # in batches of 4: indices by order within and across bodies
            body = [{"jsonrpc": "2.0", "id": k + j, "method": "generate", "params": p}
                    for j, p in enumerate(session_params[token][k:k + 4])]
            status, _, answer = app.post(body, {"Reprolm-Session": token})
            assert status == 200
            out += [m["result"] for m in sorted(answer, key=lambda m: m["id"])]
        return commitment, out

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        sessions = {t: pool.submit(run_session, t) for t in SESSIONS}
        free_results = list(pool.map(lambda c: app.call(*c), free))
        session_results = {t: f.result() for t, f in sessions.items()}
    results = free_results + [r for _, rs in session_results.values() for r in rs]
    assert len(results) == 200 and all("receipt" in r for r in results)
    print(f"\n[serve] 200 requests through Serve over 2 replicas in {time.monotonic() - started:.1f} s")

    # Session seeds: a single daemon's, for the same setSeed and the same requests in order.
    single = local_daemon("--model", "smollm2-135m")
    for token, (commitment, rs) in session_results.items():
        assert single.set_seed(SESSIONS[token])["commitment"] == commitment == seeds.commitment(SESSIONS[token])
        expected = [single.call("generate", p) for p in session_params[token]]
        assert [run_specifics_removed(r) for r in rs] == [run_specifics_removed(e) for e in expected]
        assert [r["receipt"]["seed"] for r in rs] == [{"source": "session", "commitment": commitment, "index": i} for i in range(20)]

    # Which replica made which receipt, from the journals; both made some.
    made_by = journals.manifest(app.journal_dir, check=False)["receipts"]
    records = app.records()
    assert len(records) == 2
    by_journal = {j: [r["receipt"] for r in results if made_by[r["receipt"]["id"]] == j] for j in records}
    assert all(by_journal.values()) and sum(map(len, by_journal.values())) == 200

    started = time.monotonic()
    journal_a, journal_b = sorted(records)
    for made, other in ((journal_a, journal_b), (journal_b, journal_a)):
        with Client.connect_socket(records[other]["socket"], timeout=300) as c:
            replays = replay_all(c, by_journal[made])
        assert all(r["identical"] for r in replays), [r for r in replays if not r["identical"]][:2]
        assert all(r["journal"] == "absent" for r in replays), "replayed on the other replica, not the maker"
    # A plain daemon on another kernel set than the replicas' (as a node with another CPU would
    # pick): the same bits.
    kernels = records[journal_a]["engine"]["kernels"]
    runnable = records[journal_a]["engine"]["kernelSets"]
    other_set = next(k for k in ("avx2", "portable") if k in runnable and not kernels.endswith("-" + k))
    local = local_daemon("--model", "smollm2-135m", "--model", "minilm-l6", "--kernels", other_set)
    replays = replay_all(local, [r["receipt"] for r in results])
    assert all(r["identical"] for r in replays)
    print(f"[serve] 400 replays identical (on the other replica; on a plain daemon with kernels {other_set}, "
          f"the replicas' being {kernels}) in {time.monotonic() - started:.1f} s")


def test_receipts_by_id_are_found_in_any_replicas_journal(app):
    made = [app.call("score", {"text": f"Find me by id, {i}."}) for i in range(4)]
    for result in made:
        receipt = result["receipt"]
        got = app.call("receipts/get", {"id": receipt["id"]})
        assert got["receipt"] == receipt and {"seq", "prev", "entry"} <= set(got)
        replay = app.call("reproduce", {"id": receipt["id"]})
        assert replay["identical"] and replay["journal"] == "matches" and replay["receiptId"] == receipt["id"]
    missing = "rc-" + "0" * 32
    _, _, answer = app.post({"jsonrpc": "2.0", "id": 9, "method": "receipts/get", "params": {"id": missing}})
    assert (answer["error"]["code"], answer["error"]["data"]) == (-32007, {"id": missing})


@pytest.mark.parametrize("how", ["cancelRequest", "disconnect"])
def test_a_cancelled_request_stops_on_the_replicas_daemon(app, how):
    # Seeds whose story runs the whole 1500 tokens (about 9 s here) when nothing stops it.
    token, seed = f"session-{how}", 424242 if how == "cancelRequest" else 424245
    body = {"jsonrpc": "2.0", "id": "long", "method": "generate",
            "params": {"prompt": "Write a very long story about the sea.", "maxTokens": 1500, "temperature": 0.9, "seed": seed}}
    if how == "cancelRequest":
        outcome = {}
        runner = threading.Thread(target=lambda: outcome.update(answer=app.post(body, {"Reprolm-Session": token})[2]))
        runner.start()
        time.sleep(1.5)
        status, _, _ = app.post({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": "long"}}, {"Reprolm-Session": token})
        runner.join(120)
        assert status == 204
        assert outcome["answer"]["error"]["code"] == -32800, outcome["answer"]
    else:  # the client goes away
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
        conn.request("POST", "/", json.dumps(body).encode(), {"Content-Type": "application/json"})
        time.sleep(1.5)
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
    # The daemon itself stopped: its answer (journaled before it is sent) was cut short.
    deadline = time.monotonic() + 20
    cut = None
    while cut is None and time.monotonic() < deadline:
        for j in app.records():
            for e in journals.journal_lines(j):
                if e["type"] == "receipt" and e["receipt"]["request"].get("seed") == seed:
                    cut = e["receipt"]["output"]
        time.sleep(0.2)
    assert cut is not None and cut["finishReason"] == "cancelled" and len(cut["tokens"]) < 1500, cut and cut["finishReason"]


def test_bad_input_gets_json_rpc_errors(app):
    assert app.post(b"{not json")[2]["error"]["code"] == -32700
    assert app.post(b"\xff\xfe")[2]["error"]["code"] == -32700
    assert app.post(b"5")[2] == {"jsonrpc": "2.0", "id": None,
                                 "error": {"code": -32600, "message": "Invalid request: a message must be an object, not integer"}}
    assert app.post(b"[]")[2]["error"]["code"] == -32600
    unknown = app.post({"jsonrpc": "2.0", "id": "u", "method": "no/such"})[2]
    assert (unknown["id"], unknown["error"]["code"], unknown["error"]["data"]) == ("u", -32601, {"method": "no/such"})
    bad = app.post({"jsonrpc": "2.0", "id": 2, "method": "generate", "params": {"prompt": "a", "maxTokens": 0}})[2]
    assert (bad["error"]["code"], bad["error"]["data"]["path"]) == (-32602, "params.maxTokens")
    forged = app.post({"jsonrpc": "2.0", "id": 3, "method": "generate", "params": {"prompt": "a", "delegatedSeed": {"seed": 1, "index": 5}}})[2]
    assert (forged["error"]["code"], forged["error"]["data"]["path"]) == (-32602, "params.delegatedSeed")
    load = app.post({"jsonrpc": "2.0", "id": 4, "method": "models/load", "params": {"model": "gemma3-270m"}})[2]
    assert load["error"]["code"] == -32601
    status, _, big = app.post(b" " * (16 * 1024 * 1024 + 1))
    assert status == 413 and big["error"]["code"] == -32600 and big["error"]["data"]["limit"] == 16 * 1024 * 1024
    status, _, answer = app.post({"jsonrpc": "2.0", "method": "tokenize", "params": {"text": "unanswered"}})
    assert status == 204 and answer == b""
    status, _, answer = app.post({"jsonrpc": "2.0", "id": 5, "method": "tokenize", "params": {"text": "x"}}, {"Reprolm-Session": ""})
    assert status == 400 and answer["error"]["code"] == -32600
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status == 405 and json.loads(r.read())["error"]["code"] == -32600
    conn.close()


@pytest.mark.parametrize("accept", ["text/event-stream", "application/x-ndjson"])
def test_streams_arrive_before_the_answer(app, accept):
    params = {"prompt": "Once upon a time", "maxTokens": 12, "temperature": 0.7, "seed": 5}
    plain = app.call("generate", params)
    status, headers, raw = app.post({"jsonrpc": "2.0", "id": "s", "method": "generate", "params": {**params, "stream": True}},
                                    {"Accept": accept}, raw=True)
    assert status == 200 and headers["content-type"].startswith(accept)
    if accept == "text/event-stream":
        frames = [json.loads(chunk[len(b"data: "):]) for chunk in raw.split(b"\n\n") if chunk]
    else:
        frames = [json.loads(line) for line in raw.split(b"\n") if line]
    *notes, answer = frames
    assert all(n["method"] == "$/stream" and n["params"]["requestId"] == "s" for n in notes)
    assert "".join(n["params"]["text"] for n in notes) == answer["result"]["text"] == plain["text"]
    assert run_specifics_removed(answer["result"]) == run_specifics_removed(plain)


def test_the_serve_path_latency_against_the_socket(app):
    record = next(iter(app.records().values()))
    results = [bench.measure(app.url, record["socket"], m, p, rounds=60) for m, p in bench.REQUESTS]
    print("\n[serve] latency of a short request, interleaved, 60 rounds each (2-core machine):\n" + bench.table(results))
    for r in results:
        assert r["serve"]["median"] > 0 and r["socket"]["median"] > 0


def test_replicas_scale_with_serves_autoscaling(app, binary):
    """A second application whose replica count is Serve's autoscaler's (1 to 2): under
    concurrent load it adds a replica, and the answers stay the same bits."""
    from ray import serve

    from reprolm_ray.serve_app import build_app

    journal_dir = tempfile.mkdtemp(prefix="rr-auto-", dir="/tmp")
    fleet = Fleet(models=["smollm2-135m"], binary=binary, journal_dir=journal_dir)
    autoscaling = {"min_replicas": 1, "max_replicas": 2, "initial_replicas": 1, "target_ongoing_requests": 1,
                   "upscale_delay_s": 0.5, "downscale_delay_s": 600, "metrics_interval_s": 0.5, "look_back_period_s": 1}
    serve.run(build_app(fleet, autoscaling=autoscaling, health_check_period_s=2), name="auto", route_prefix="/auto")
    auto = App(app.port, journal_dir, prefix="/auto")
    try:
        assert len(auto.records()) == 1
        params = [{"prompt": PROMPTS[i % 8], "maxTokens": 24, "temperature": 0.9, "seed": i} for i in range(8)]
        expected = [auto.call("generate", p) for p in params]
        answers = []
        deadline = time.monotonic() + 90
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while len(auto.records()) < 2 and time.monotonic() < deadline:
                answers.append(list(pool.map(lambda p: auto.call("generate", p), params)))
        assert len(auto.records()) == 2, "Serve's autoscaler added no replica under load"
        answers.append([auto.call("generate", p) for p in params])  # and with two replicas
        for round_ in answers:
            assert [a["receipt"]["output"] for a in round_] == [e["receipt"]["output"] for e in expected]
        print(f"\n[serve] autoscaling: 1 -> 2 replicas after {len(answers) - 1} rounds of 8 concurrent requests")
    finally:
        serve.delete("auto")
        shutil.rmtree(journal_dir, ignore_errors=True)


def test_a_killed_replica_is_replaced_and_requests_go_on(app):
    before = app.records()
    victim = sorted(before.values(), key=lambda r: r["started"])[0]
    os.kill(victim["daemon_pid"], signal.SIGKILL)
    app.killed.add(victim["journal"])
    params = {"prompt": "After the storm", "maxTokens": 6, "temperature": 0}
    expected = app.call("generate", params)
    deadline = time.monotonic() + 90
    answers = []
    while time.monotonic() < deadline:
        answers.append(app.call("generate", params))  # each one answered, retried if it met the dead replica
        if len(app.records()) > len(before):
            break
        time.sleep(0.5)
    assert len(app.records()) == len(before) + 1, "Ray did not replace the replica whose daemon died"
    for _ in range(10):
        answers.append(app.call("generate", params))
    assert all(a["tokens"] == expected["tokens"] and a["receipt"]["output"] == expected["receipt"]["output"] for a in answers)


def test_every_journal_verifies_with_its_delegated_seeds_revealed(app, binary):
    from ray import serve

    # A session's requests of its own, so that there are delegated seeds to reveal.
    app.call("setSeed", {"seed": "to reveal"}, "session-final")
    status, _, answer = app.post([{"jsonrpc": "2.0", "id": i, "method": "generate", "params": {"prompt": "Bells", "maxTokens": 3}}
                                  for i in range(6)], {"Reprolm-Session": "session-final"})
    assert status == 200 and sorted(m["result"]["seedIndex"] for m in answer) == list(range(6))
    serve.delete("reprolm")  # replicas end: their daemons reveal the delegated seeds
    m = journals.manifest(app.journal_dir, binary=binary)
    # The 2 replicas and the one that replaced the killed one: no other replica died on the way.
    assert len(m["journals"]) == 2 + len(app.killed), [j["journal"] for j in m["journals"]]
    assert m["allVerified"], [j["verify"] for j in m["journals"] if not j["verify"]["ok"]]
    for j in m["journals"]:
        session_receipts = sum(1 for e in journals.journal_lines(j["journal"])
                               if e["type"] == "receipt" and e["receipt"]["seed"] and e["receipt"]["seed"]["source"] == "session")
        report = j["verify"]["report"]
        checked = int(report.split("revealed session seeds: ")[1].split()[0])
        unrevealed = int(report.split("not revealed yet: ")[1].split()[0])
        assert checked + unrevealed == session_receipts
        if j["journal"] not in app.killed:
            assert unrevealed == 0, f"{j['journal']} ended gracefully but left seeds unrevealed"
    assert sum(int(j["verify"]["report"].split("revealed session seeds: ")[1].split()[0]) for j in m["journals"]) > 0
