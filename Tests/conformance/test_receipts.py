"""Provable reproducibility through real processes: session seeds and their commitments, receipts
re-derived independently (receipts_ref.py), the journal across restarts and SIGKILL, tampering,
`reprolm verify`, and `reproduce` under load with 1 and 2 threads."""

import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import receipts_ref as ref
import wire
from wire import assert_error, assert_result

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLED = {"prompt": "The old map showed a path through the forest to", "maxTokens": 64, "temperature": 0.8,
           "seed": 20261127}


def worked_example():
    """The worked example of protocol/README.md (the JSON between its markers)."""
    with open(os.path.join(REPO, "protocol", "README.md"), encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"<!-- worked-example:begin -->\s*```json\n(.*?)```\s*<!-- worked-example:end -->", text, re.S)
    assert block, "protocol/README.md lost its worked example"
    return json.loads(block.group(1))


def journal_args(workdir, name="journal.jsonl"):
    path = os.path.join(workdir, name)
    return path, ("--journal", path)


def verify(binary, path):
    return subprocess.run([binary, "verify", path], capture_output=True, text=True, timeout=120)


def receipts_in(path):
    lines, torn = ref.read_journal(path)
    entries = ref.check_journal(lines)
    return {e["receipt"]["id"]: e["receipt"] for e in entries if e["type"] == "receipt"}, torn


# -- the specification, re-derived


def test_worked_example_with_hashlib_and_the_daemon(start_stdio, workdir):
    ex = worked_example()
    assert ref.seed_field(ex["sessionSeed"]).hex() == ex["seedField"]
    assert ref.commitment(ex["sessionSeed"]) == ex["commitment"]
    assert [ref.derived_seed(ex["sessionSeed"], i) for i in range(len(ex["derivedSeeds"]))] == ex["derivedSeeds"]
    assert ref.commitment(ex["stringSeed"]) == ex["stringCommitment"]
    assert ref.canonical(ex["request"]).decode() == ex["requestCanonical"]
    assert ref.canonical(ex["output"]).decode() == ex["outputCanonical"]
    assert ref.output_digest(ex["output"]) == ex["outputDigest"]

    # The same figures from the daemon: setSeed, then the example's generate.
    path, args = journal_args(workdir)
    d = start_stdio(*args)
    assert assert_result(d.call("setSeed", {"seed": ex["sessionSeed"]}, id=1), 1) == {"commitment": ex["commitment"], "previous": None}
    result = assert_result(d.call("generate", ex["generate"], id=2, timeout=60), 2)
    receipt = result["receipt"]
    assert (result["seed"], result["seedSource"], result["seedCommitment"], result["seedIndex"]) == \
        (ex["derivedSeeds"][0], "session", ex["commitment"], 0)
    assert receipt["request"] == ex["request"]
    assert ref.canonical(receipt["request"]).decode() == ex["requestCanonical"]
    assert {k: v for k, v in receipt["output"].items() if k != "digest"} == ex["output"]
    assert receipt["output"]["digest"] == ex["outputDigest"]
    assert receipt["seed"] == {"source": "session", "commitment": ex["commitment"], "index": 0}
    d.finish()
    assert d.process.wait(10) == 0
    entries = ref.check_journal(ref.read_journal(path)[0])
    assert [e["type"] for e in entries] == ["commit", "receipt", "reveal"]
    assert entries[2]["seed"] == ex["sessionSeed"] and entries[2]["requests"] == 1


def test_receipts_and_journal_lines_re_derive_independently(start_stdio, workdir):
    path, args = journal_args(workdir)
    d = start_stdio(*args)
    gen = assert_result(d.call("generate", {"prompt": "Rain on the", "maxTokens": 12, "seed": 5, "logprobs": True,
                                            "topLogprobs": 2, "stop": ["\n"], "repeatPenalty": 1.1}, id=1, timeout=60), 1)
    beam = assert_result(d.call("generate", {"prompt": "Rain on the", "maxTokens": 6, "beams": 3}, id=2, timeout=60), 2)
    score = assert_result(d.call("score", {"context": "Two plus two is", "continuation": " four.", "topLogprobs": 1}, id=3), 3)
    d.finish()
    for result in (gen, beam, score):
        receipt = result["receipt"]
        assert ref.output_digest(receipt["output"]) == receipt["output"]["digest"]
        assert receipt["model"]["sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    # The output record holds the exact bits of every float the result reports.
    assert gen["receipt"]["output"]["tokens"] == gen["tokens"]
    assert gen["receipt"]["output"]["logprobs"] == [ref.float_bits(e["logprob"]) for e in gen["logprobs"]]
    assert gen["receipt"]["output"]["top"] == [[[t["token"], ref.float_bits(t["logprob"])] for t in e["top"]] for e in gen["logprobs"]]
    assert gen["receipt"]["request"]["repeatPenalty"] == 1.1 and gen["receipt"]["seed"] == {"source": "request"}
    assert "temperature" not in beam["receipt"]["request"] and beam["receipt"]["request"]["lengthPenalty"] == 1
    assert beam["seedSource"] == "entropy" and beam["receipt"]["seed"] == {"source": "entropy"}
    assert score["receipt"]["seed"] is None
    assert score["receipt"]["request"]["scoreFrom"] == score["contextTokens"]
    assert score["receipt"]["output"]["logprobs"] == [None if e["logprob"] is None else ref.float_bits(e["logprob"])
                                                      for e in score["tokens"]]
    lines, torn = ref.read_journal(path)
    assert torn == b""
    entries = ref.check_journal(lines)
    assert [e["receipt"] for e in entries] == [gen["receipt"], beam["receipt"], score["receipt"]]


# -- sessions


def test_session_seeds_commit_reveal_and_index_in_arrival_order(start_stdio, start_socket, workdir):
    _, args = journal_args(workdir)
    d = start_stdio(*args)
    drawn = assert_result(d.call("setSeed", {}, id=1), 1)
    assert drawn["previous"] is None and re.fullmatch(r"[0-9a-f]{64}", drawn["commitment"])
    # A batch: its requests take indices in the order they appear; one with its own seed takes none.
    prompts = [{"prompt": "A", "maxTokens": 2}, {"prompt": "B", "maxTokens": 2, "seed": 9}, {"prompt": "C", "maxTokens": 2}]
    d.send([{"jsonrpc": "2.0", "id": 10 + i, "method": "generate", "params": p} for i, p in enumerate(prompts)])
    batch = d.recv(timeout=60).json
    by_id = {m["id"]: m["result"] for m in batch}
    assert [(by_id[i]["seedSource"], by_id[i].get("seedIndex")) for i in (10, 11, 12)] == \
        [("session", 0), ("request", None), ("session", 1)]
    replaced = assert_result(d.call("setSeed", {"seed": "second"}, id=2), 2)
    revealed = replaced["previous"]
    assert revealed["commitment"] == drawn["commitment"] and revealed["requests"] == 2 and revealed["fromEntropy"]
    assert re.fullmatch(r"[0-9a-f]{64}", revealed["seed"]) and ref.commitment(revealed["seed"]) == drawn["commitment"]
    assert [ref.derived_seed(revealed["seed"], i) for i in (0, 1)] == [by_id[10]["seed"], by_id[12]["seed"]]
    assert replaced["commitment"] == ref.commitment("second")
    d.finish()

    # Sessions are per connection: another client of the same socket daemon has none.
    sock = start_socket("--no-journal")
    a, b = sock.connect(), sock.connect()
    assert_result(a.call("setSeed", {"seed": 1}, id=1), 1)
    assert assert_result(a.call("generate", {"prompt": "x", "maxTokens": 1}, id=2, timeout=60), 2)["seed"] == ref.derived_seed(1, 0)
    assert assert_result(b.call("generate", {"prompt": "x", "maxTokens": 1}, id=2, timeout=60), 2)["seedSource"] == "entropy"
    for c in (a, b):
        c.finish()
        c.close()


def test_the_same_seeded_series_in_two_daemon_runs_gives_the_same_digests(start_stdio, workdir):
    def series(label):
        _, args = journal_args(workdir, f"{label}.jsonl")
        d = start_stdio(*args, "--threads", "1" if label == "a" else "2")
        assert_result(d.call("setSeed", {"seed": "series"}, id=0), 0)
        out = []
        for i, prompt in enumerate(["The river", "A quiet street", "Under the bridge", "The river"]):
            r = assert_result(d.call("generate", {"prompt": prompt, "maxTokens": 16, "logprobs": True}, id=i + 1, timeout=60), i + 1)
            out.append((r["receipt"]["output"]["digest"], r["seed"], r["receipt"]["request"]))
        d.finish()
        return out

    a, b = series("a"), series("b")
    assert a == b
    assert len({digest for digest, _, _ in a}) == 4, "each request of the series draws from its own derived seed"


# -- replay


def test_a_receipt_replays_identically_after_a_restart(start_stdio, binary, workdir):
    path, args = journal_args(workdir)
    d = start_stdio(*args)
    gen = assert_result(d.call("generate", dict(SAMPLED, logprobs=True, topLogprobs=3), id=1, timeout=60), 1)
    score = assert_result(d.call("score", {"context": "The capital of France is", "continuation": " Paris."}, id=2), 2)
    d.finish()
    assert d.process.wait(10) == 0

    again = start_stdio(*args)
    for n, receipt in enumerate((gen["receipt"], score["receipt"])):
        by_id = assert_result(again.call("reproduce", {"id": receipt["id"]}, id=10 + n, timeout=60), 10 + n)
        assert by_id["identical"] is True and by_id["journal"] == "matches", by_id
        assert by_id["expected"] == {"digest": receipt["output"]["digest"], "intact": True}
        assert by_id["actual"]["digest"] == receipt["output"]["digest"]
        assert by_id["divergence"] is None and by_id["maxLogprobDifference"] in (0, 0.0)
        given = assert_result(again.call("reproduce", {"receipt": receipt}, id=20 + n, timeout=60), 20 + n)
        assert given["identical"] is True and given["journal"] == "matches"
        got = assert_result(again.call("receipts/get", {"id": receipt["id"]}, id=30 + n), 30 + n)
        assert got["receipt"] == receipt
    again.finish()
    report = verify(binary, path)
    assert report.returncode == 0, report.stderr
    assert "replays 4" in report.stdout and "receipts 2" in report.stdout
    # Replays are journaled as replays, never as new receipts.
    assert len(receipts_in(path)[0]) == 2


def test_a_cancelled_generation_reproduces_as_far_as_it_got(start_stdio):
    d = start_stdio("--no-journal")
    d.send(wire.request("generate", {"prompt": "1, 2, 3, 4, 5,", "maxTokens": 2000, "temperature": 0.5, "seed": 3,
                                     "stream": True, "logprobs": True}, id=1))
    d.recv(timeout=60)  # the first $/stream: it is under way
    d.send(wire.notification("$/cancelRequest", {"id": 1}))
    result = assert_result(d.reply_to(1, timeout=60).json, 1)
    assert result["finishReason"] == "cancelled" and 0 < len(result["tokens"]) < 2000
    assert all(f.json.get("method") == "$/stream" for f in d.frames)
    d.frames = []  # the stream notes that came before the answer
    replay = assert_result(d.call("reproduce", {"receipt": result["receipt"]}, id=2, timeout=120), 2)
    assert replay["identical"] is True and replay["journal"] == "disabled", replay
    d.finish()


def test_tampered_receipts_are_detected(start_stdio):
    d = start_stdio("--no-journal")
    original = assert_result(d.call("generate", dict(SAMPLED, maxTokens=24, logprobs=True), id=1, timeout=60), 1)["receipt"]

    def replay(receipt, id):
        return d.call("reproduce", {"receipt": receipt}, id=id, timeout=60)

    # A token changed, digest left alone: the receipt contradicts itself, and the replay says where.
    forged = json.loads(json.dumps(original))
    forged["output"]["tokens"][5] += 1
    r = assert_result(replay(forged, 2), 2)
    assert r["identical"] is False and r["expected"]["intact"] is False
    assert (r["divergence"]["position"], r["divergence"]["expectedToken"], r["divergence"]["actualToken"]) == \
        (5, original["output"]["tokens"][5] + 1, original["output"]["tokens"][5])

    # The same change with the digest recomputed: consistent on its face, refuted by the replay.
    forged["output"]["digest"] = ref.output_digest(forged["output"])
    r = assert_result(replay(forged, 3), 3)
    assert r["identical"] is False and r["expected"]["intact"] is True and r["divergence"]["position"] == 5
    assert r["actual"]["digest"] == original["output"]["digest"]

    # A parameter changed: the replay of the changed request gives other bits.
    changed = json.loads(json.dumps(original))
    changed["request"]["temperature"] = 1.3
    r = assert_result(replay(changed, 4), 4)
    assert r["identical"] is False and r["divergence"] is not None
    assert r["maxLogprobDifference"] is None or r["maxLogprobDifference"] >= 0

    # The model's hash changed: refused, not replayed on another file.
    other = json.loads(json.dumps(original))
    other["model"]["sha256"] = "0" * 64
    assert_error(replay(other, 5), -32006, 5)
    other["model"]["name"] = "no-such-model"
    error = assert_error(replay(other, 6), -32001, 6)
    assert error["data"]["sha256"] == "0" * 64

    # A request the model cannot run is refused at its place in the receipt.
    bad = json.loads(json.dumps(original))
    bad["request"]["tokens"][0] = 10**9
    assert assert_error(replay(bad, 8), -32602, 8)["data"]["path"] == "params.receipt.request.tokens[0]"

    # A one-token score scores nothing, and its receipt replays all the same.
    single = assert_result(d.call("score", {"text": "Hello", "addSpecial": False}, id=9), 9)
    assert single["scoredTokens"] == 0 and single["receipt"]["request"]["scoreFrom"] == 1
    assert assert_result(replay(single["receipt"], 10), 10)["identical"] is True

    # The untouched receipt still replays identically.
    assert assert_result(replay(original, 7), 7)["identical"] is True
    d.finish()


# -- the journal on disk


def test_an_edited_journal_line_fails_verify_at_that_line(start_stdio, binary, workdir):
    path, args = journal_args(workdir)
    d = start_stdio(*args)
    for i in range(5):
        assert_result(d.call("generate", {"prompt": f"Line {i}", "maxTokens": 3, "seed": i}, id=i, timeout=60), i)
    d.finish()
    assert verify(binary, path).returncode == 0
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    entry = json.loads(lines[2])
    entry["receipt"]["output"]["tokens"][0] += 1
    lines[2] = ref.canonical(entry)
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))
    report = verify(binary, path)
    assert report.returncode == 1
    assert "line 3:" in report.stderr, report.stderr
    # The daemon will not extend a broken chain: it says where, and stops.
    broken = subprocess.run([binary, "serve", "--no-model", *args], input=b"", capture_output=True, timeout=60)
    assert broken.returncode == 1 and b"broken at line 3" in broken.stderr, broken.stderr


def test_a_torn_last_line_is_reported_and_set_aside(start_stdio, binary, workdir):
    path, args = journal_args(workdir)
    d = start_stdio(*args)
    first = assert_result(d.call("generate", {"prompt": "Before", "maxTokens": 2, "seed": 1}, id=1, timeout=60), 1)
    d.finish()
    with open(path, "ab") as f:
        f.write(b'{"entry":"5d1c')  # a crash in the middle of an append
    assert verify(binary, path).returncode == 1
    again = start_stdio(*args)
    assert_result(again.call("receipts/get", {"id": first["receipt"]["id"]}, id=1), 1)
    assert_result(again.call("generate", {"prompt": "After", "maxTokens": 2, "seed": 2}, id=2, timeout=60), 2)
    again.finish()
    assert "is torn" in again.stderr_text() and "set aside in" in again.stderr_text()
    aside = [name for name in os.listdir(workdir) if name.startswith("journal.jsonl.torn-")]
    assert len(aside) == 1
    with open(os.path.join(workdir, aside[0]), "rb") as f:
        assert f.read() == b'{"entry":"5d1c'
    assert verify(binary, path).returncode == 0
    assert len(receipts_in(path)[0]) == 2


def test_sigkill_during_a_burst_keeps_every_acknowledged_receipt(start_socket, binary, workdir):
    path, args = journal_args(workdir)
    daemon = start_socket(*args)
    acked, lock, failures = {}, threading.Lock(), []
    enough = threading.Event()

    # Enough work that the kill lands mid-burst however fast the daemon answers, within the
    # daemon's 256 requests in flight. The daemon decodes concurrent requests in one batch, so
    # requests of one length would all end at the same step: their lengths differ, so that the
    # answers come one after another and the kill finds most of them unanswered.
    per_client = 60

    def client(n):
        try:
            c = daemon.connect()
            for i in range(per_client):
                c.send(wire.request("generate", {"prompt": f"Burst {n}.{i}:", "maxTokens": 16 + 8 * i, "seed": i}, id=i))
            for _ in range(per_client):
                reply = c.recv(timeout=120).json
                with lock:
                    acked[(n, reply["id"])] = reply["result"]["receipt"]["id"]
                    if len(acked) >= 80:
                        enough.set()
        except (wire.WireError, OSError, KeyError):
            pass  # the kill cut this client off
        except Exception as e:  # noqa: BLE001
            failures.append(repr(e))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    assert enough.wait(240), "the burst did not get going"
    daemon.process.send_signal(signal.SIGKILL)
    for t in threads:
        t.join(60)
    assert not failures, failures
    with lock:
        acknowledged = set(acked.values())
    assert 80 <= len(acknowledged) < 4 * per_client, len(acknowledged)

    # Every answer a client saw has its receipt on disk, in a valid chain (a torn last line may follow).
    on_disk, _ = receipts_in(path)
    assert acknowledged <= set(on_disk)

    # The restarted daemon sets a torn line aside, checks the chain, and finds every receipt.
    again = start_socket(*args)
    c = again.connect()
    for n, receipt_id in enumerate(sorted(acknowledged)):
        assert assert_result(c.call("receipts/get", {"id": receipt_id}, id=n), n)["receipt"]["id"] == receipt_id
    assert_result(c.call("generate", {"prompt": "after the crash", "maxTokens": 2}, id="after", timeout=60), "after")
    c.finish()
    c.close()
    again.stop()
    report = verify(binary, path)
    assert report.returncode == 0, report.stderr + report.stdout


# -- determinism under load, end to end


def test_same_request_among_others_same_digest_and_each_reproduces(start_socket, workdir):
    """8 clients send one seeded sampling request while 8 others send different ones: the 8 get
    one output digest, each reproduces, and a daemon with --threads 1 gives the digest of one
    with --threads 2."""
    digest_by_threads = {}
    for threads in ("2", "1"):
        daemon = start_socket(*journal_args(workdir, f"load{threads}.jsonl")[1], "--threads", threads)
        results = run_clients(daemon, 16, lambda n: SAMPLED if n < 8 else {
            "prompt": f"Item {n} on the list of things to pack:", "maxTokens": 8 + 4 * n, "temperature": 0.9, "seed": n})
        digests = {results[n]["receipt"]["output"]["digest"] for n in range(8)}
        assert len(digests) == 1, f"--threads {threads}: the same seeded request gave different outputs under load"
        assert len(results[0]["tokens"]) == 64
        c = daemon.connect()
        for n in range(8):
            r = assert_result(c.call("reproduce", {"id": results[n]["receipt"]["id"]}, id=n, timeout=120), n)
            assert r["identical"] is True, r
        c.finish()
        c.close()
        daemon.stop()
        digest_by_threads[threads] = digests.pop()
    assert digest_by_threads["1"] == digest_by_threads["2"], digest_by_threads


def run_clients(daemon, count, params_of):
    """`count` socket clients, released together, each sending one generate; their results."""
    results, failures = {}, []
    barrier = threading.Barrier(count, timeout=60)

    def run(n):
        try:
            c = daemon.connect(wire.FRAMINGS[n % 2])
            barrier.wait()
            results[n] = assert_result(c.call("generate", params_of(n), id=n, timeout=300), n)
            c.finish()
            c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"client {n}: {e!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(400)
    assert not failures, failures
    return results


def test_a_prefix_cached_by_another_connection_gives_the_cold_digests(start_socket, workdir):
    """Connection A sends a long prompt; connection B then sends it extended, which the daemon
    answers from A's cached prefix (greedy, sampled and beam search, a second chat turn, and a
    score of a continuation of the context).
    Every output digest equals that of a daemon keeping no cache (--kv-cache-budget 0), and
    each answer reproduces."""
    context = "def parse(line):\n    fields = line.split(',')\n    return [f.strip() for f in fields]\n" * 12
    follow_ups = [
        {"prompt": context + "\n# Tests\n", "maxTokens": 12, "temperature": 0},
        {"prompt": context + "\n# Usage\n", "maxTokens": 12, "temperature": 0.9, "seed": 5, "logprobs": True},
        {"prompt": context + "\n# Notes\n", "maxTokens": 8, "beams": 3},
    ]

    def answers(label, *extra):
        daemon = start_socket(*journal_args(workdir, f"{label}.jsonl")[1], *extra)
        a, b = daemon.connect(), daemon.connect()
        assert_result(a.call("generate", {"prompt": context, "maxTokens": 1, "temperature": 0}, id=1, timeout=120), 1)
        out = [assert_result(b.call("generate", p, id=10 + i, timeout=120), 10 + i) for i, p in enumerate(follow_ups)]
        # A second turn: the first follow-up's prompt and answer, then more.
        turn = {"prompt": follow_ups[0]["prompt"] + out[0]["text"] + "\n# More tests\n", "maxTokens": 10, "temperature": 0}
        out.append(assert_result(a.call("generate", turn, id=2, timeout=120), 2))
        scored = {"context": context, "continuation": "\n# Done", "topLogprobs": 2}
        out.append(assert_result(b.call("score", scored, id=3, timeout=120), 3))
        for i, r in enumerate(out):
            replay = assert_result(b.call("reproduce", {"id": r["receipt"]["id"]}, id=100 + i, timeout=120), 100 + i)
            assert replay["identical"] is True, replay
        for c in (a, b):
            c.finish()
            c.close()
        daemon.stop()
        return [r["receipt"]["output"]["digest"] for r in out], [r["timings"]["cachedPromptTokens"] for r in out[:4]]

    cached, reused = answers("cached")
    cold, none = answers("cold", "--kv-cache-budget", "0")
    assert cached == cold
    assert none == [0, 0, 0, 0]
    # The follow-ups reuse the whole context (all but its last token when the context's last
    # token merges with what follows); the second turn reuses the first follow-up and its answer.
    context_tokens = reused[0]
    assert all(n >= context_tokens - 1 > 100 for n in reused[:3]), reused
    assert reused[3] > reused[0], reused
