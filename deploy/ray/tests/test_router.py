"""The router without Ray, against a plain daemon: bodies the router answers itself (envelopes,
parse errors, batches, a client's own delegatedSeed) get the daemon's answers, and a body's
session (setSeed, indices in arrival order, reveals) and a token's session across bodies give a
single daemon's results and receipts. Its backend is a replica daemon (daemon.ReplicaDaemon),
as on a Serve replica."""

import asyncio
import json
import select
import subprocess

import pytest

from reprolm_ray import Fleet, jsonrpc
from reprolm_ray.daemon import ReplicaDaemon
from reprolm_ray.router import Router
from reprolm_ray.sessions import SessionTable


@pytest.fixture
def router(binary, workdir):
    replica = ReplicaDaemon(Fleet(models=["smollm2-135m"], binary=binary, journal_dir=workdir), "test")
    table = SessionTable()

    async def sessions(token, ops):
        return table.apply(token, ops)

    yield Router(lambda method, params, hook: replica.call(method, params, hook and (lambda n, p: hook({"method": n, "params": p}))),
                 sessions)
    replica.close()


def route(router, body: bytes, token=None):
    try:
        parsed = jsonrpc.parse_body(body)
    except jsonrpc.ParseError as error:
        return jsonrpc.parse_error(str(error))
    return asyncio.run(router.handle(parsed, token))


class RawDaemon:
    """A plain daemon on stdio, fed raw newline-framed bodies."""

    def __init__(self, binary):
        self.p = subprocess.Popen([binary, "serve", "--no-journal"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)

    def send(self, body: bytes):
        self.p.stdin.write(body + b"\n")
        self.p.stdin.flush()

    def answer(self, timeout=120):
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        assert ready, "the daemon did not answer"
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        self.p.wait(30)


def without_run_specifics(message):
    """An answer less what differs between two runs: timings, the receipt's id, time and kernels."""
    if isinstance(message, list):
        return [without_run_specifics(m) for m in message]
    m = json.loads(json.dumps(message))
    result = m.get("result")
    if isinstance(result, dict):
        result.pop("timings", None)
        for key in ("id", "created", "engine"):
            result.get("receipt", {}).pop(key, None)
    return m


BAD_BODIES = [
    b"[]",
    b"[1]",
    b'{"jsonrpc":"1.0","id":1,"method":"tokenize"}',
    b'{"jsonrpc":"2.0","id":[1],"method":"tokenize"}',
    b'{"jsonrpc":"2.0","id":true,"method":"tokenize"}',
    b'{"jsonrpc":"2.0","id":1}',
    b'{"jsonrpc":"2.0","id":1,"method":5}',
    b'{"jsonrpc":"2.0","id":1,"method":"tokenize","params":5}',
    b'{"jsonrpc":"2.0","id":"m","method":"no/such/method"}',
    b'{"jsonrpc":"2.0","id":3,"method":"exit"}',
    b'{"jsonrpc":"2.0","id":4,"method":"$/cancelRequest","params":{"id":1}}',
    b'{"jsonrpc":"2.0","id":5,"method":"generate","params":{"prompt":"a","delegatedSeed":{"seed":1,"index":0}}}',
    b'{"jsonrpc":"2.0","id":6,"method":"generate","params":{"prompt":"a","maxTokens":0}}',
    b'{"jsonrpc":"2.0","id":7,"method":"score","params":[1,2]}',
    b'[{"jsonrpc":"2.0","id":8,"method":"tokenize","params":{"text":"Hi"}},{"jsonrpc":"2.0","method":"tokenize","params":{"text":"x"}},{"jsonrpc":"2.0","id":9,"method":"nope"},7]',
    json.dumps([{"jsonrpc": "2.0", "id": i, "method": "tokenize", "params": {"text": "x"}} for i in range(65)]).encode(),
]
PARSE_ERRORS = [b"{bad", b'{"a":1,"a":2}', b'{"id":99999999999999999999}', b'{"x":NaN}', b"\xc3\x28"]


def test_bad_bodies_get_the_daemons_answers(router, binary):
    daemon = RawDaemon(binary)
    try:
        for body in BAD_BODIES:
            mine = route(router, body)
            daemon.send(body)
            assert mine == daemon.answer(), body
        for body in PARSE_ERRORS:
            mine = route(router, body)
            daemon.send(body)
            theirs = daemon.answer()
            # The parse error's detail is each parser's own words.
            assert (mine["id"], mine["error"]["code"]) == (theirs["id"], theirs["error"]["code"]) == (None, -32700), body
        # An empty HTTP body is not JSON either (a daemon skips an empty line).
        assert route(router, b"")["error"]["code"] == -32700
    finally:
        daemon.close()


SESSION_BODY = [
    {"jsonrpc": "2.0", "id": "a", "method": "setSeed", "params": {"seed": 42}},
    {"jsonrpc": "2.0", "id": 1, "method": "generate", "params": {"prompt": "The sea", "maxTokens": 6}},
    {"jsonrpc": "2.0", "id": 2, "method": "generate", "params": {"prompt": "The sea", "maxTokens": 6, "seed": 9}},
    {"jsonrpc": "2.0", "method": "generate", "params": {"prompt": "unanswered", "maxTokens": 2}},
    {"jsonrpc": "2.0", "id": 3, "method": "generate", "params": {"prompt": "The sea", "maxTokens": 6, "seed": None}},
    {"jsonrpc": "2.0", "id": 4, "method": "generate"},
    {"jsonrpc": "2.0", "id": "b", "method": "setSeed", "params": {"seed": "next"}},
    {"jsonrpc": "2.0", "id": 5, "method": "generate", "params": {"prompt": "The sea", "maxTokens": 6, "temperature": 0}},
    {"jsonrpc": "2.0", "id": 6, "method": "score", "params": {"text": "The sea is calm."}},
]


def test_a_bodys_session_is_a_connections_session(router, binary):
    daemon = RawDaemon(binary)
    try:
        body = json.dumps(SESSION_BODY).encode()
        mine = route(router, body)
        daemon.send(body)
        theirs = daemon.answer()
        assert without_run_specifics(mine) == without_run_specifics(theirs)
        by_id = {m["id"]: m for m in mine}
        assert by_id["b"]["result"]["previous"]["requests"] == 3  # ids 1, the notification, 3
        assert by_id[3]["result"]["seedIndex"] == 2 and by_id[5]["result"]["seedIndex"] == 0
    finally:
        daemon.close()


def test_a_tokens_session_spans_bodies(router, binary):
    daemon = RawDaemon(binary)
    try:
        bodies = [SESSION_BODY[:2], SESSION_BODY[2:5], SESSION_BODY[5:]]
        for part in bodies:
            mine = route(router, json.dumps(part).encode(), token="client-7")
            daemon.send(json.dumps(part).encode())
            assert without_run_specifics(mine) == without_run_specifics(daemon.answer())
        # Another token is another session: no seed set there.
        other = route(router, json.dumps(SESSION_BODY[1]).encode(), token="client-8")
        assert other["result"]["seedSource"] == "entropy"
    finally:
        daemon.close()
