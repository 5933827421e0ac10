"""Models loaded on demand, keep-alive and the memory budget (reprolm serve --memory-budget,
--keep-alive; the keepAlive param). What is checked: a request naming a model that is not loaded
loads it; under a budget, idle models make room for others, least recently used first; a model
unloaded (by the budget or its keep-alive) and loaded again gives the same bits; what can never fit
is refused with -32008 and the numbers, and the daemon goes on serving; requests that do not fit
together wait for each other and still answer the same bits."""

import threading
import time

import wire
from wire import assert_error, assert_result

MIB = 1 << 20
GREEDY = {"prompt": "The lighthouse keeper opened the door and", "maxTokens": 12, "temperature": 0}


def loaded(conn, call_id):
    """{name: ModelInfo} of the loaded models."""
    models = assert_result(conn.call("models/list", {}, id=call_id), call_id)["models"]
    return {m["name"]: m for m in models if m["loaded"]}


def digest(result):
    return result["receipt"]["output"]["digest"]


def test_requests_load_models_on_demand_and_idle_ones_make_room(start_socket):
    daemon = start_socket("--no-model", "--no-journal", "--memory-budget", "300")
    c = daemon.connect()
    first = assert_result(c.call("generate", {**GREEDY, "model": "smollm2-135m"}, id=1, timeout=180), 1)
    models = loaded(c, 2)
    assert list(models) == ["smollm2-135m"]
    smol = models["smollm2-135m"]
    assert smol["residentBytes"] == smol["fileSize"] > 0
    assert smol["activeRequests"] == 0 and smol["lastUsed"] and smol["unloadsAt"]  # --keep-alive 5m
    assert smol["kvBytes"] > 0  # the finished request's sequence, in the prefix cache

    # gemma3-270m (253 MB) and smollm2-135m (98 MB) do not fit 300 MiB together: the idle
    # smollm2 makes room, then comes back (gemma3 idle now) with the same bits.
    other = assert_result(c.call("generate", {**GREEDY, "model": "gemma3-270m"}, id=3, timeout=180), 3)
    assert other["model"] == "gemma3-270m"
    assert list(loaded(c, 4)) == ["gemma3-270m"]
    again = assert_result(c.call("generate", {**GREEDY, "model": "smollm2-135m"}, id=5, timeout=180), 5)
    assert list(loaded(c, 6)) == ["smollm2-135m"]
    assert digest(again) == digest(first) and again["text"] == first["text"]

    memory = assert_result(c.call("stats", {}, id=7), 7)["memory"]
    assert memory["budgetBytes"] == 300 * MIB and 0 < memory["chargedBytes"] <= 300 * MIB
    c.close()
    daemon.stop()


def test_keep_alive_unloads_an_idle_model_and_the_next_request_reloads_it(start_socket):
    daemon = start_socket("--no-model", "--no-journal", "--keep-alive", "1s")
    c = daemon.connect()
    first = assert_result(c.call("generate", {**GREEDY, "model": "smollm2-135m"}, id=1, timeout=180), 1)
    assert "smollm2-135m" in loaded(c, 2)
    deadline = time.time() + 20
    while "smollm2-135m" in loaded(c, 3) and time.time() < deadline:
        time.sleep(0.2)
    assert "smollm2-135m" not in loaded(c, 4), "not unloaded after its keep-alive of 1 s"

    # Reloaded on demand; keepAlive -1 keeps it past the daemon's 1 s.
    again = assert_result(c.call("generate", {**GREEDY, "model": "smollm2-135m", "keepAlive": -1}, id=5, timeout=180), 5)
    assert digest(again) == digest(first)
    time.sleep(2.5)
    kept = loaded(c, 6)
    assert "smollm2-135m" in kept and kept["smollm2-135m"]["unloadsAt"] is None

    # keepAlive 0: unloaded as soon as the request is done; models/load keeps a model until
    # models/unload unless given one.
    assert_result(c.call("tokenize", {"text": "hi", "model": "smollm2-135m", "keepAlive": "0s"}, id=7), 7)
    assert "smollm2-135m" not in loaded(c, 8)
    assert_result(c.call("models/load", {"model": "smollm2-135m"}, id=9, timeout=180), 9)
    time.sleep(1.5)
    assert loaded(c, 10)["smollm2-135m"]["unloadsAt"] is None
    assert_result(c.call("models/load", {"model": "smollm2-135m", "keepAlive": "250ms"}, id=11), 11)
    deadline = time.time() + 20
    while "smollm2-135m" in loaded(c, 12) and time.time() < deadline:
        time.sleep(0.2)
    assert "smollm2-135m" not in loaded(c, 13)

    # Any finite keep-alive is honoured, however long (no overflow counting it down).
    assert_result(c.call("tokenize", {"text": "hi", "model": "smollm2-135m", "keepAlive": 1e300}, id=14, timeout=180), 14)
    assert_result(c.call("tokenize", {"text": "hi", "model": "smollm2-135m", "keepAlive": "9999999999h"}, id=15), 15)
    assert loaded(c, 16)["smollm2-135m"]["unloadsAt"] is not None
    for bad in ["soon", "5 minutes", True, [], "1x"]:
        error = assert_error(c.call("generate", {**GREEDY, "keepAlive": bad}, id=20), -32602, 20)
        assert error["data"]["path"] == "params.keepAlive", error
    c.close()
    daemon.stop()


def test_what_can_never_fit_is_refused_with_the_numbers_and_the_daemon_serves_on(start_socket):
    daemon = start_socket("--no-model", "--no-journal", "--memory-budget", "150")
    c = daemon.connect()
    # A model larger than the budget (gemma3-270m: 253 MB).
    error = assert_error(c.call("models/load", {"model": "gemma3-270m"}, id=1, timeout=180), -32008, 1)
    assert error["data"]["budgetBytes"] == 150 * MIB and error["data"]["neededBytes"] > 150 * MIB
    assert "gemma3-270m" not in loaded(c, 2)
    error = assert_error(c.call("generate", {**GREEDY, "model": "gemma3-270m"}, id=3, timeout=180), -32008, 3)
    # A request whose KV cache (4,096 positions of smollm2-135m: 180 MiB) with the weights
    # (98 MB) can never fit 150 MiB.
    error = assert_error(c.call("generate", {**GREEDY, "model": "smollm2-135m", "maxTokens": 4000}, id=4, timeout=180),
                         -32008, 4)
    smol = loaded(c, 5)["smollm2-135m"]
    assert error["data"]["neededBytes"] > 150 * MIB > smol["residentBytes"]
    assert "KV cache" in error["message"] and "150.0 MiB" in error["message"], error
    # Everything that fits still runs.
    ok = assert_result(c.call("generate", {**GREEDY, "model": "smollm2-135m"}, id=6, timeout=180), 6)
    assert ok["tokens"]
    assert assert_result(c.call("stats", {}, id=7), 7)["requests"]["generate"]["-32008"] == 2
    c.close()
    daemon.stop()


def test_requests_that_do_not_fit_together_wait_for_each_other_and_answer_the_same_bits(start_socket):
    """Under 160 MiB, smollm2-135m's weights (98 MB) leave room for one KV reservation of 1,024
    positions (prompt plus maxTokens 960: 47 MB) at a time: four such requests from four
    connections run one after another (the prefix cache giving way), and each answers the same
    bits as alone on a daemon without a budget."""
    # Counting goes on for hundreds of tokens (greedy), so the first request is still running
    # when the others arrive; the sampled ones may end early.
    requests = [{"prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", "maxTokens": 960, "temperature": 0}]
    requests += [{"prompt": f"Story {n}: the lighthouse keeper", "maxTokens": 960, "temperature": 0.8, "seed": n}
                 for n in range(1, 4)]

    def alone():
        daemon = start_socket("--no-journal")
        c = daemon.connect()
        out = [digest(assert_result(c.call("generate", r, id=i, timeout=600), i)) for i, r in enumerate(requests)]
        c.close()
        daemon.stop()
        return out

    budgeted = start_socket("--no-journal", "--memory-budget", "160")
    results = [None] * len(requests)
    failures = []

    def run(n):
        try:
            conn = budgeted.connect()
            results[n] = digest(assert_result(conn.call("generate", requests[n], id=n, timeout=600), n))
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"{n}: {e!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(requests))]
    threads[0].start()
    time.sleep(0.5)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(600)
    assert not failures, failures
    c = budgeted.connect()
    memory = assert_result(c.call("stats", {}, id=99), 99)["memory"]
    assert memory["budgetBytes"] == 160 * MIB and memory["chargedBytes"] <= 160 * MIB
    assert memory["waiting"] == 0 and memory["waited"] >= 1, memory
    c.close()
    budgeted.stop()
    assert results == alone()


def test_requests_waiting_on_each_others_models_do_not_deadlock(start_socket):
    """Under 400 MiB with smollm2-135m (98 MB) and gemma3-270m (253 MB) loaded, request 0 decodes
    on smollm2 (47 MB of KV); request 2 (gemma3, 75 MB of KV) and then request 1 (smollm2, 6 MB)
    wait for room, each holding its model. When request 0 ends, its cache given up, request 2
    still does not fit while request 1 holds smollm2, and nothing runs: without a way out they
    would wait for ever. Request 2 is refused as overloaded (-32004 with the numbers) and request
    1 runs."""
    daemon = start_socket("--no-model", "--no-journal", "--memory-budget", "400")
    c0, c1, c2 = daemon.connect(), daemon.connect(), daemon.connect()
    for i, name in enumerate(["smollm2-135m", "gemma3-270m"]):
        assert_result(c0.call("models/load", {"model": name}, id=100 + i, timeout=180), 100 + i)
    counting = {"prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", "temperature": 0}
    # 930 positions: a cache of 1,024 (47 MB), which fits beside both models.
    c0.send(wire.request("generate", {**counting, "model": "smollm2-135m", "maxTokens": 900}, id=0))
    time.sleep(0.5)
    c2.send(wire.request("generate", {**counting, "model": "gemma3-270m", "maxTokens": 2000}, id=2))
    time.sleep(0.3)
    c1.send(wire.request("generate", {**counting, "model": "smollm2-135m", "maxTokens": 40}, id=1))
    first = assert_result(c0.reply_to(0, timeout=300).json, 0)
    assert first["usage"]["completionTokens"] > 100  # it was still running when the others came
    reply = c2.reply_to(2, timeout=300).json
    assert "error" in reply, ("answered", reply.get("result", {}).get("usage"))
    refused = assert_error(reply, -32004, 2)
    assert refused["data"] == {"neededBytes": 2048 * 36864, "budgetBytes": 400 * MIB}, refused
    ran = assert_result(c1.reply_to(1, timeout=300).json, 1)
    assert ran["tokens"]
    for conn in (c0, c1, c2):
        conn.close()
    daemon.stop()
