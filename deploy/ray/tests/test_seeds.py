"""The router's session seeds against a real daemon's (no Ray): commitments and derived seeds
(seeds.py against a replica's `delegatedSeed` answers), `setSeed` answers with their reveals
(seeds.Session against a daemon's session), and `setSeed`'s params errors, path, reason and
message alike."""

import pytest

from reprolm_ray import seeds

SEEDS = [0, 1, -1, 42, 20261207, 2**53 - 1, -(2**53 - 1), "x", "a fleet's session", "ünïcödé ✓", "z" * 1024]
INDICES = [0, 1, 7, 2**32, 2**53 - 1]


def test_commitments_and_derived_seeds_equal_the_daemons(local_daemon):
    replica = local_daemon("--no-model", "--accept-delegated-seeds")
    replica.load_model("smollm2-135m")
    calls = [("generate", {"tokens": [1], "maxTokens": 1, "delegatedSeed": {"seed": s, "index": i}})
             for s in SEEDS for i in INDICES]
    answers = [a for k in range(0, len(calls), 32) for a in replica.batch(calls[k:k + 32])]
    for (_, params), answer in zip(calls, answers):
        assert not isinstance(answer, Exception), answer
        s, i = params["delegatedSeed"]["seed"], params["delegatedSeed"]["index"]
        assert (answer["seedCommitment"], answer["seed"], answer["seedIndex"]) == \
            (seeds.commitment(s), seeds.derived_seed(s, i), i), (s, i)


def test_set_seed_answers_and_reveals_equal_a_daemons_session(local_daemon):
    daemon = local_daemon("--accept-delegated-seeds")
    session = seeds.Session()
    for seed, generates in [(7, 3), ("second", 0), (-3, 2), (None, 1), ("last", 0)]:
        params = {} if seed is None else {"seed": seed}
        mine, theirs = session.set(seed), daemon.call("setSeed", params)
        if seed is None:
            # Both draw from entropy: the commitments differ, the reveals' shapes do not.
            assert len(mine["commitment"]) == len(theirs["commitment"]) == 64
        else:
            assert mine == theirs
        for _ in range(generates):
            taken = session.take()
            answer = daemon.generate(tokens=[1], max_tokens=1)
            if seed is not None:
                assert (answer["seed"], answer["seedIndex"]) == (seeds.derived_seed(taken["seed"], taken["index"]), taken["index"])
        # What the next setSeed reveals: the same request count on both sides.
        follow = session.set("probe"), daemon.call("setSeed", {"seed": "probe"})
        assert follow[0]["previous"]["requests"] == follow[1]["previous"]["requests"] == generates
        assert follow[0]["previous"]["fromEntropy"] == follow[1]["previous"]["fromEntropy"] == (seed is None)
        session.current = None  # the probe is not part of the series
        daemon.call("setSeed", {"seed": "reset"})
        session.set("reset")


@pytest.mark.parametrize("params", [
    {"seed": 2**53}, {"seed": -(2**53)}, {"seed": 1.5}, {"seed": True}, {"seed": ""}, {"seed": "x" * 1025},
    {"seed": [1]}, {"seed": {"a": 1}}, {"seed": 1e300}, {"seed": 3, "extra": 1}, {"zeta": 1, "alpha": 2}, [5],
])
def test_set_seed_errors_equal_the_daemons(local_daemon, params):
    daemon = local_daemon("--no-model", "--no-journal")
    with pytest.raises(seeds.SeedParamsError) as mine:
        seeds.read_set_seed_params(params)
    answer = daemon.batch([("setSeed", params)])[0]
    assert answer.code == -32602
    assert answer.data == {"path": mine.value.path, "reason": mine.value.reason}
    assert answer.message == f"Invalid params: {mine.value.path} {mine.value.reason}"


def test_accepted_set_seed_params_equal_the_daemons(local_daemon):
    daemon = local_daemon("--no-model", "--no-journal")
    for params in [{"seed": 3.0}, {"seed": None}, None, [], {"seed": 2**53 - 1}]:
        seed, _ = seeds.read_set_seed_params(params)
        answer = daemon.call("setSeed", params)
        if seed is not None:
            assert answer["commitment"] == seeds.commitment(seed)
