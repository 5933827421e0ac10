"""Ray Data over a local cluster (loopback): 1,000 `score` rows on a pool of 2 daemon actors are
bit for bit a plain local daemon's answers, each row with exactly one receipt, found in the
journal the row names, every journal verified; and an actor killed mid-batch is restarted by
Ray, the job completes with nothing lost or duplicated, and every journal still verifies."""

import json
import os
import signal
import threading
import time

import pytest

from reprolm_ray import Fleet, data, journals

COLOURS = ["red", "green", "blue", "amber", "violet", "grey", "white", "black"]
THINGS = ["boat", "house", "river", "cloud", "lamp", "horse", "garden", "bridge", "letter", "song"]
TEXTS = [f"{i}: the {COLOURS[i % 8]} {THINGS[(i // 8) % 10]} waits." for i in range(1000)]


def comparable(result, receipt):
    r = dict(result)
    r.pop("timings", None)
    r.pop("receipt", None)
    rc = {k: v for k, v in receipt.items() if k not in ("id", "created", "engine")}
    return r, rc


@pytest.fixture(scope="module")
def local_answers(binary, tmp_path_factory):
    """The 1,000 texts scored by one plain daemon (2 threads, as many as the fleet's two daemons)."""
    from reprolm_client import Client

    folder = tmp_path_factory.mktemp("local")
    started = time.monotonic()
    with Client.spawn_stdio(binary=binary, args=["--journal", str(folder / "j.jsonl"), "--threads", "2"],
                            stderr=open(folder / "log", "ab"), timeout=600) as c:
        answers = []
        for k in range(0, len(TEXTS), 32):
            futures = [c.call_async("score", {"text": t}) for t in TEXTS[k:k + 32]]
            answers += [f.result(300) for f in futures]
    seconds = time.monotonic() - started
    print(f"\n[data] one local daemon (2 threads): 1,000 score rows in {seconds:.1f} s ({len(TEXTS) / seconds:.0f} rows/s)")
    return [comparable(a, a["receipt"]) for a in answers]


def rows_of(ray, n):
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray.data.from_items([{"id": i, "text": TEXTS[i]} for i in range(n)], override_num_blocks=10)


def check_rows(rows, n, local_answers, journal_dir, binary):
    """Every row once, each the local daemon's answer with its own receipt; the manifest finds
    each receipt in the journal the row names; every journal verifies. Returns the manifest."""
    assert sorted(r["id"] for r in rows) == list(range(n)), "rows lost or duplicated"
    assert all(r["error"] is None for r in rows)
    for r in rows:
        assert comparable(json.loads(r["result"]), json.loads(r["receipt"])) == local_answers[r["id"]], r["id"]
        assert json.loads(r["receipt"])["id"] == r["receipt_id"]
    assert len({r["receipt_id"] for r in rows}) == n, "a receipt shared by two rows"
    m = journals.manifest(journal_dir, delivered=[(r["receipt_id"], r["journal"]) for r in rows], binary=binary)
    assert m["missing"] == [] and m["duplicateDeliveries"] == [] and m["delivered"] == n
    assert m["allVerified"], [j["verify"] for j in m["journals"] if not j["verify"]["ok"]]
    return m


def test_1000_score_rows_are_a_local_daemons_answers(ray_cluster, binary, local_answers, workdir):
    fleet = Fleet(models=["smollm2-135m"], binary=binary, journal_dir=os.path.join(workdir, "journals"))
    started = time.monotonic()
    rows = data.score(rows_of(ray_cluster, 1000), fleet, concurrency=2, batch_size=25).take_all()
    seconds = time.monotonic() - started
    print(f"[data] Ray Data, 2 actors (1 thread each): 1,000 score rows in {seconds:.1f} s "
          f"({len(rows) / seconds:.0f} rows/s, actor start-up included)")
    m = check_rows(rows, 1000, local_answers, fleet.journal_dir, binary)
    assert len(m["journals"]) == 2 and all(j["receipts"] > 0 for j in m["journals"])
    assert sum(j["receipts"] for j in m["journals"]) == 1000 and all(j["undelivered"] == [] for j in m["journals"])


def test_an_actor_killed_mid_batch_is_restarted_and_nothing_is_lost(ray_cluster, binary, local_answers, workdir):
    n = 600
    fleet = Fleet(models=["smollm2-135m"], binary=binary, journal_dir=os.path.join(workdir, "journals"))
    outcome = {}

    def job():
        try:
            outcome["rows"] = data.score(rows_of(ray_cluster, n), fleet, concurrency=2, batch_size=10).take_all()
        except BaseException as error:  # reported below
            outcome["error"] = error

    runner = threading.Thread(target=job)
    runner.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and runner.is_alive():
        records = journals.replica_records(fleet.journal_dir)
        made = sum(1 for r in records for e in journals.journal_lines(r["journal"]) if e["type"] == "receipt")
        if len(records) == 2 and made >= 60:
            victim = records[0]
            os.kill(victim["pid"], signal.SIGKILL)  # the actor's process; its daemon follows (PR_SET_PDEATHSIG)
        time.sleep(0.02)
    runner.join(300)
    assert victim is not None, "the job ended before an actor could be killed"
    assert "error" not in outcome, outcome.get("error")
    m = check_rows(outcome["rows"], n, local_answers, fleet.journal_dir, binary)
    records = journals.replica_records(fleet.journal_dir)
    assert len(records) >= 3, "Ray did not restart the killed actor"
    undelivered = sum(len(j["undelivered"]) for j in m["journals"])
    print(f"[data] killed actor pid {victim['pid']} mid-batch: {n} rows answered once each, {len(records)} daemon lives, "
          f"{undelivered} receipts of redone work in the journals")


def test_generate_and_encode_rows_are_a_local_daemons_answers(ray_cluster, binary, local_daemon, workdir):
    """The other two methods of the batch API: generations with each row's own params (a seed
    per row, from a JSON column) and embeddings on the encoder, against a plain daemon."""
    fleet = Fleet(models=["smollm2-135m", "minilm-l6"], binary=binary, journal_dir=os.path.join(workdir, "journals"))
    ray_cluster.data.DataContext.get_current().enable_progress_bars = False
    prompts = [{"id": i, "prompt": TEXTS[i], "params": json.dumps({"seed": 500 + i, "temperature": 0.8})} for i in range(24)]
    generated = data.generate(ray_cluster.data.from_items(prompts), fleet, params_column="params",
                              params={"maxTokens": 8}, concurrency=2, batch_size=6).take_all()
    encoded = data.encode(ray_cluster.data.from_items([{"id": i, "text": TEXTS[i]} for i in range(24)]), fleet,
                          params={"model": "minilm-l6"}, concurrency=2, batch_size=6).take_all()
    local = local_daemon("--model", "smollm2-135m", "--model", "minilm-l6")
    for r in generated:
        expected = local.call("generate", {"prompt": TEXTS[r["id"]], "maxTokens": 8, "seed": 500 + r["id"], "temperature": 0.8})
        assert comparable(json.loads(r["result"]), json.loads(r["receipt"])) == comparable(expected, expected["receipt"])
    for r in encoded:
        expected = local.call("encode", {"model": "minilm-l6", "input": TEXTS[r["id"]]})
        assert comparable(json.loads(r["result"]), json.loads(r["receipt"])) == comparable(expected, expected["receipt"])
    assert sorted(r["id"] for r in generated) == sorted(r["id"] for r in encoded) == list(range(24))
    m = journals.manifest(fleet.journal_dir, delivered=[(r["receipt_id"], r["journal"]) for r in generated + encoded],
                          binary=binary)
    assert m["missing"] == [] and m["duplicateDeliveries"] == [] and m["allVerified"]
