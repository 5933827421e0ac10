"""What JSON clients other than Python need (issue 13, "Interop"): integers every reader holds
exactly (I-JSON, RFC 7493), `"params": null` and `"params": []` read as no params, and receipts
made before seed scheme 2 (version 1) still replayed and verified exactly."""

import json
import os
import shutil
import subprocess

import pytest

import receipts_ref as ref
import wire
from wire import assert_error, assert_result

HERE = os.path.dirname(os.path.abspath(__file__))
#: A journal written by the daemon before seed scheme 2: setSeed 42, one sampled generate with
#: the session's seed 0 (804912763475979754, above 2^53), the seed's reveal.
JOURNAL_V1 = os.path.join(HERE, "fixtures", "journal-v1.jsonl")


def as_javascript_would(text):
    """A JSON text read and written again the way JavaScript's JSON (and Neovim's) does: every
    number becomes a double, and integral doubles are written back as integers."""
    def write_back(node):
        if isinstance(node, float) and node.is_integer() and abs(node) < 1e21:
            return int(node)
        if isinstance(node, dict):
            return {k: write_back(v) for k, v in node.items()}
        if isinstance(node, list):
            return [write_back(v) for v in node]
        return node
    return write_back(json.loads(text, parse_int=float))


def test_the_i_json_check_catches_large_integers_but_not_echoed_ids():
    wire.check_i_json('{"id":9223372036854775807,"jsonrpc":"2.0","result":{"seed":9007199254740991}}')
    wire.check_i_json('{"jsonrpc":"2.0","method":"$/stream","params":{"requestId":-9223372036854775808,"tokens":[1]}}')
    for text in ('{"id":1,"result":{"seed":9007199254740992}}', '[{"id":1,"result":[-9007199254740992]}]',
                 '{"jsonrpc":"2.0","method":"$/stream","params":{"requestId":1,"tokens":[18446744073709551615]}}'):
        with pytest.raises(wire.WireError):
            wire.check_i_json(text)


def test_a_sampled_receipt_survives_a_client_that_reads_numbers_as_doubles(start_stdio):
    """The failure that made seed scheme 2: Neovim read a receipt's seed 595160811342330000 as
    5.9516081134233e+17, and the receipt it sent back to `reproduce` diverged. Every seed the
    daemon makes (drawn, derived, session) now survives that round trip."""
    d = start_stdio("--no-journal")
    prompt = {"prompt": "The old map showed a path through", "maxTokens": 8, "temperature": 1.0}
    drawn = d.call("generate", prompt, id=1, timeout=60)
    assert_result(d.call("setSeed", {"seed": "nvim"}, id=2), 2)
    derived = d.call("generate", prompt, id=3, timeout=60)
    for n, answer in enumerate((drawn, derived)):
        result = assert_result(answer, answer["id"])
        assert 0 <= result["seed"] <= wire.MAX_EXACT_INTEGER
        receipt = as_javascript_would(json.dumps(result["receipt"]))
        replay = assert_result(d.call("reproduce", {"receipt": receipt}, id=10 + n, timeout=60), 10 + n)
        assert replay["identical"] is True, replay
    d.finish()


@pytest.mark.parametrize("method,params", [
    ("generate", {"prompt": "a", "maxTokens": 1, "seed": 2**53}),
    ("generate", {"prompt": "a", "maxTokens": 1, "seed": 2**63 - 1}),
    ("generate", {"prompt": "a", "maxTokens": 1, "seed": 1e19}),
    ("setSeed", {"seed": 2**53}),
    ("setSeed", {"seed": -2**53}),
])
def test_a_seed_beyond_2_to_the_53_is_refused_at_its_path(start_stdio, method, params):
    d = start_stdio("--no-journal")
    error = assert_error(d.call(method, params, id=1), -32602, 1)
    assert error["data"]["path"] == "params.seed"
    assert "9007199254740991" in error["data"]["reason"], error
    # The largest exact integer is still a seed.
    edge = dict(params, seed=2**53 - 1)
    assert_result(d.call(method, edge, id=2, timeout=60), 2)
    d.finish()


@pytest.mark.parametrize("combo", wire.COMBOS, ids=wire.combo_id)
def test_null_and_empty_array_params_mean_none(combo, start_stdio, start_socket):
    """pygls sends `"params": null` with shutdown and exit; Neovim writes an empty table as `[]`."""
    transport, framing = combo
    daemon = None
    if transport == "stdio":
        c = start_stdio("--no-journal", framing=framing)
    else:
        daemon = start_socket("--no-journal")
        c = daemon.connect(framing)
    c.send(b'{"jsonrpc":"2.0","id":1,"method":"setSeed","params":[]}')
    assert assert_result(c.reply_to(1).json, 1)["previous"] is None
    c.send(b'{"jsonrpc":"2.0","id":2,"method":"models/list","params":null}')
    assert assert_result(c.reply_to(2).json, 2)["models"]
    c.send(b'{"jsonrpc":"2.0","id":3,"method":"stats","params":[]}')
    assert_result(c.reply_to(3).json, 3)
    c.send(b'{"jsonrpc":"2.0","id":4,"method":"setSeed","params":[42]}')  # by position: still refused
    assert assert_error(c.reply_to(4).json, -32602, 4)["data"]["path"] == "params"
    c.send(b'{"jsonrpc":"2.0","id":5,"method":"shutdown","params":null}')
    assert assert_result(c.reply_to(5).json, 5) is None
    c.send(b'{"jsonrpc":"2.0","method":"exit","params":null}')
    if transport == "stdio":
        assert c.wait() == 0
    else:
        assert daemon.wait() == 0
        c.close()


def test_version_1_receipts_still_verify_and_replay(start_stdio, binary, workdir):
    report = subprocess.run([binary, "verify", JOURNAL_V1], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    assert "re-derived from revealed session seeds: 1" in report.stdout, report.stdout

    with open(JOURNAL_V1, "rb") as f:
        entries = ref.check_journal(f.read().rstrip(b"\n").split(b"\n"))
    receipt = entries[1]["receipt"]
    assert receipt["version"] == 1 and receipt["request"]["seed"] > wire.MAX_EXACT_INTEGER
    assert receipt["request"]["seed"] == ref.derived_seed(entries[2]["seed"], 0, version=1)

    journal = os.path.join(workdir, "journal.jsonl")
    shutil.copy(JOURNAL_V1, journal)
    d = start_stdio("--journal", journal)
    by_id = assert_result(d.call("reproduce", {"id": receipt["id"]}, id=1, timeout=60), 1)
    assert (by_id["identical"], by_id["journal"], by_id["divergence"]) == (True, "matches", None), by_id
    given = assert_result(d.call("reproduce", {"receipt": receipt}, id=2, timeout=60), 2)
    assert given["identical"] is True, given
    # A version 2 receipt cannot carry such a seed: it is refused where it stands.
    forged = dict(receipt, version=2)
    error = assert_error(d.call("reproduce", {"receipt": forged}, id=3, timeout=60), -32602, 3)
    assert error["data"]["path"] == "params.receipt.request.seed"
    d.finish()
    report = subprocess.run([binary, "verify", journal], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0 and "replays 2" in report.stdout, report.stdout + report.stderr
