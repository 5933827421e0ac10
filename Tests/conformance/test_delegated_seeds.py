"""Delegated session seeds (protocol/README.md, "Delegated session seeds") through real processes:
a daemon started with --accept-delegated-seeds, handed a session seed and an index, answers what
a daemon holding that session answers for the same request number, on stdio and on a socket and
in any order of arrival; its journal commits and reveals the seed so that `reprolm verify`
re-derives every delegated seed; a daemon without the flag refuses the parameter."""

import os
import subprocess

import pytest

import receipts_ref as ref
from wire import assert_error, assert_result

PROMPTS = ["The harbour at dawn", "A list of colours:", "The harbour at dawn", "Once, in a small town,"]


def request(i):
    # Sampled (so the seed matters) and greedy (which still takes a session index).
    return {"prompt": PROMPTS[i], "maxTokens": 12, "logprobs": True,
            "temperature": 0 if i == 3 else 0.9}


def comparable(result):
    """What a single daemon and a replica must agree on: all but timings and the receipt's id,
    time and kernel set."""
    out = {k: v for k, v in result.items() if k not in ("timings", "receipt")}
    receipt = result["receipt"]
    out["receipt"] = {k: v for k, v in receipt.items() if k not in ("id", "created", "engine")}
    return out


def session_answers(start_stdio, seed):
    d = start_stdio("--no-journal")
    assert assert_result(d.call("setSeed", {"seed": seed}, id="s"), "s")["commitment"] == ref.commitment(seed)
    answers = [assert_result(d.call("generate", request(i), id=i, timeout=60), i) for i in range(len(PROMPTS))]
    d.finish()
    return answers


@pytest.mark.parametrize("seed", [20261207, "a fleet's session"])
@pytest.mark.parametrize("transport", ["stdio", "socket"])
def test_a_replica_answers_as_the_daemon_holding_the_session(start_stdio, start_socket, transport, seed):
    expected = session_answers(start_stdio, seed)
    if transport == "stdio":
        replica = start_stdio("--no-journal", "--accept-delegated-seeds")
    else:
        replica = start_socket("--no-journal", "--accept-delegated-seeds").connect()
    # In another order than the session's: the index, not the arrival, decides the seed.
    order = [2, 0, 3, 1]
    replica.send([{"jsonrpc": "2.0", "id": i, "method": "generate",
                   "params": {**request(i), "delegatedSeed": {"seed": seed, "index": i}}} for i in order])
    batch = {m["id"]: m["result"] for m in replica.recv(timeout=120).json}
    for i, single in enumerate(expected):
        got = batch[i]
        assert (got["seedSource"], got["seedIndex"], got["seedCommitment"], got["seed"]) == \
            ("session", i, ref.commitment(seed), ref.derived_seed(seed, i))
        assert got["receipt"]["seed"] == {"source": "session", "commitment": ref.commitment(seed), "index": i}
        assert comparable(got) == comparable(single)
    # The connection's own session is untouched: without a delegation it has no seed.
    plain = assert_result(replica.call("generate", {"prompt": "x", "maxTokens": 1}, id="p", timeout=60), "p")
    assert plain["seedSource"] == "entropy"
    replica.finish()
    if transport == "socket":
        replica.close()


def test_the_journal_commits_and_reveals_a_delegated_seed(start_stdio, binary, workdir):
    path = os.path.join(workdir, "replica.jsonl")
    d = start_stdio("--journal", path, "--accept-delegated-seeds")
    answers = []
    for n, (seed, index) in enumerate([("s1", 3), ("s2", 0), ("s1", 1)]):
        params = {"prompt": "Rivers", "maxTokens": 4, "temperature": 0.7,
                  "delegatedSeed": {"seed": seed, "index": index, "fromEntropy": seed == "s2"}}
        answers.append(assert_result(d.call("generate", params, id=n, timeout=60), n))
    d.finish()
    assert d.process.wait(10) == 0
    entries = ref.check_journal(ref.read_journal(path)[0])
    assert [e["type"] for e in entries] == ["commit", "receipt", "commit", "receipt", "receipt", "reveal", "reveal"]
    assert [(e["commitment"], e["fromEntropy"]) for e in entries if e["type"] == "commit"] == \
        [(ref.commitment("s1"), False), (ref.commitment("s2"), True)]
    reveals = {e["seed"]: e["requests"] for e in entries if e["type"] == "reveal"}
    assert reveals == {"s1": 4, "s2": 1}, "requests is one past the highest index the connection served"
    assert [e["receipt"] for e in entries if e["type"] == "receipt"] == [a["receipt"] for a in answers]
    report = subprocess.run([binary, "verify", path], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    assert "derived seeds re-derived from revealed session seeds: 3" in report.stdout
    assert "chain valid" in report.stdout


def test_a_delegated_receipt_replays_on_a_plain_daemon(start_stdio):
    replica = start_stdio("--no-journal", "--accept-delegated-seeds")
    made = assert_result(replica.call("generate", {"prompt": "Snow", "maxTokens": 8, "temperature": 1.0,
                                                   "delegatedSeed": {"seed": -5, "index": 7}}, id=1, timeout=60), 1)
    replica.finish()
    plain = start_stdio("--no-journal")
    replay = assert_result(plain.call("reproduce", {"receipt": made["receipt"]}, id=2, timeout=60), 2)
    assert replay["identical"] is True
    plain.finish()


def test_refused_without_the_flag_and_malformed_with_it(start_stdio):
    plain = start_stdio("--no-model", "--no-journal")
    answer = plain.call("generate", {"prompt": "x", "delegatedSeed": {"seed": 1, "index": 0}}, id=1)
    assert assert_error(answer, -32602, id=1)["data"]["path"] == "params.delegatedSeed"
    plain.finish()
    replica = start_stdio("--no-model", "--no-journal", "--accept-delegated-seeds")
    for n, (delegation, path) in enumerate([
            ({"seed": 1}, "params.delegatedSeed.index"),
            ({"seed": 1, "index": 2 ** 53}, "params.delegatedSeed.index"),
            ({"seed": 2 ** 53, "index": 0}, "params.delegatedSeed.seed"),
            ({"seed": "x" * 1025, "index": 0}, "params.delegatedSeed.seed"),
            ({"seed": True, "index": 0}, "params.delegatedSeed.seed"),
            ({"seed": 1, "index": 0, "commitment": "0" * 64}, "params.delegatedSeed.commitment")]):
        answer = replica.call("generate", {"prompt": "x", "delegatedSeed": delegation}, id=n)
        assert assert_error(answer, -32602, id=n)["data"]["path"] == path
    answer = replica.call("generate", {"prompt": "x", "seed": 3, "delegatedSeed": {"seed": 1, "index": 0}}, id="both")
    assert assert_error(answer, -32602, id="both")["data"]["path"] == "params.delegatedSeed"
    replica.finish()
