"""JSON-RPC 2.0 envelopes, on stdio and on a socket, in both framings: valid calls, ids, batches,
notifications and every error the envelope can earn."""

import pytest

import wire
from wire import assert_error, assert_result, request, notification

SENTINEL = "sentinel"


def raw_text(value):
    """JSON text of a value from `Frame.raw` (numbers kept as the daemon wrote them)."""
    return str(value) if isinstance(value, wire.Raw) else wire.json.dumps(value)


def sentinel(c):
    """A request after the ones under test: its reply proves the earlier ones were processed."""
    c.send(request("models/list", id=SENTINEL))
    return c.reply_to(SENTINEL)


# ------------------------------------------------------------------------------------------------
# Valid calls
# ------------------------------------------------------------------------------------------------

def test_valid_calls(conn):
    init = assert_result(conn.call("initialize", {"clientInfo": {"name": "conformance"}}, id=1), 1)
    assert init["serverInfo"]["name"] == "reprolm"
    assert {"initialize", "shutdown", "exit", "$/cancelRequest", "models/list", "models/load",
            "models/unload", "tokenize", "detokenize"} <= set(init["capabilities"]["methods"])

    models = assert_result(conn.call("models/list", id=2), 2)["models"]
    assert any(m["name"] == "smollm2-135m" and m["loaded"] for m in models)

    tok = assert_result(conn.call("tokenize", {"text": "Hello world"}, id=3), 3)
    assert tok["model"] == "smollm2-135m" and tok["tokens"]
    assert len(tok["tokens"]) == len(tok["pieces"]) == len(tok["pieceBytes"])

    no_special = assert_result(conn.call("tokenize", {"text": "Hello world", "addSpecial": False,
                                                      "parseSpecial": False, "model": "smollm2-135m"}, id=4), 4)
    assert bytes(b for piece in no_special["pieceBytes"] for b in piece) == b"Hello world"

    text = assert_result(conn.call("detokenize", {"tokens": no_special["tokens"]}, id=5), 5)
    assert text == {"model": "smollm2-135m", "text": "Hello world"}

    # Params may be omitted where none are required, or given as an empty object.
    assert_result(conn.call("models/list", {}, id=6), 6)


def test_request_params_absent_and_initialize_without_params(conn):
    conn.send(b'{"jsonrpc":"2.0","id":1,"method":"initialize"}')
    assert_result(conn.reply_to(1).json, 1)


# ------------------------------------------------------------------------------------------------
# Ids of every legal type, echoed exactly
# ------------------------------------------------------------------------------------------------

RAW_IDS = [
    '"abc"', '""', '"with \\"quotes\\" and \\\\ and unicode \u00e9\u65e5"', '"1"',
    "0", "7", "-1", "-42", "9007199254740993", "9223372036854775807", "-9223372036854775808",
    "1.5", "-0.25", "1.0", "1234.5", "null",
]

# Reals whose usual spelling is not the one the daemon writes (jansson prints 17 significant
# digits): they must come back as the same IEEE double, though not as the same text.
NON_CANONICAL_REAL_IDS = ["0.1", "2.5e-05", "1e3", "-1E-7", "3.141592653589793"]


@pytest.mark.parametrize("method", ["models/list", "no/such/method"])
def test_ids_are_echoed_exactly(conn, method):
    """Every id is sent as literal JSON text and must come back as the same JSON value; numbers are
    compared as the raw text the daemon wrote (1.5 must not become 1.5000000000000000)."""
    for raw in RAW_IDS:
        conn.send(request(method, raw_id=raw))
        reply = conn.recv()
        sent = wire.json.loads(raw, parse_int=wire.Raw, parse_float=wire.Raw)
        got = reply.raw.get("id", "<missing>") if isinstance(reply.raw, dict) else "<not an object>"
        assert got == sent and type(got) is type(sent), \
            f"id {raw} came back as {got!r}: sent {request(method, raw_id=raw)!r}, got {reply.payload!r}"
        if method == "models/list":
            assert "result" in reply.json, reply
        else:
            assert reply.json["error"]["code"] == -32601, reply


def test_real_ids_come_back_as_the_same_double(conn):
    for raw in NON_CANONICAL_REAL_IDS:
        conn.send(request("models/list", raw_id=raw))
        reply = conn.recv()
        got = reply.json.get("id")
        assert type(got) is float and got == float(raw), \
            f"id {raw} came back as {reply.raw.get('id')!r} (value {got!r})"


def test_ids_of_concurrent_requests_are_not_confused(conn):
    """Same-looking ids of different types are different requests: 1, "1", 1.0."""
    conn.send_bytes(b"".join(wire.frame(request("tokenize", {"text": t}, raw_id=i), conn.framing)
                             for i, t in (("1", "a"), ('"1"', "bb"), ("1.0", "ccc"))))
    replies = [conn.recv() for _ in range(3)]
    by_raw = {raw_text(r.raw["id"]): r.json for r in replies}
    assert set(by_raw) == {"1", '"1"', "1.0"}, replies
    lengths = {k: len(bytes(x for p in v["result"]["pieceBytes"] for x in p)) for k, v in by_raw.items()}
    assert lengths == {"1": 1, '"1"': 2, "1.0": 3}, by_raw


# ------------------------------------------------------------------------------------------------
# Notifications
# ------------------------------------------------------------------------------------------------

def test_notifications_are_never_answered(conn):
    for message in [
        notification("models/list"),                       # a request method sent as notification
        notification("tokenize", {"text": "hi"}),
        notification("tokenize", {}),                       # invalid params: still no answer
        notification("tokenize", {"text": "x", "bogus": 1}),
        notification("no/such/method"),                     # unknown: ignored
        notification("$/cancelRequest", {"id": 12345}),     # nothing to cancel
        notification("$/cancelRequest", {}),                # bad params
        notification("$/someExtension", {"a": [1, 2]}),
    ]:
        conn.send(message)
    assert_result(sentinel(conn).json, SENTINEL)
    conn.expect_no_frames(0.3)


def test_exit_sent_with_an_id_is_refused_and_does_not_exit(conn):
    conn.send(request("exit", id=9))
    assert_error(conn.reply_to(9).json, -32600, 9)
    conn.send(request("$/cancelRequest", {"id": 1}, id=10))
    assert_error(conn.reply_to(10).json, -32600, 10)
    assert_result(sentinel(conn).json, SENTINEL)


# ------------------------------------------------------------------------------------------------
# Batches
# ------------------------------------------------------------------------------------------------

def test_batch_mixing_requests_notifications_and_invalid_elements(conn):
    batch = (b"[" + b",".join([
        request("tokenize", {"text": "Hello"}, id=1),
        notification("tokenize", {"text": "ignored"}),
        b"1",
        b'{"jsonrpc":"2.0"}',
        request("no/such/method", id="b"),
        b'{"foo":"bar"}',
        request("tokenize", {"txt": "x"}, id=-3),
        notification("no/such/notification"),
    ]) + b"]")
    conn.send(batch)
    reply = conn.recv()
    assert isinstance(reply.json, list), f"a batch must get one array reply, got {reply}"
    assert len(reply.json) == 6, f"expected 6 replies (3 requests, 3 invalid elements), got {reply}"
    by_id = {}
    nulls = []
    for m in reply.json:
        if m.get("id") is None:
            nulls.append(m)
        else:
            by_id[m["id"]] = m
    assert set(by_id) == {1, "b", -3}, reply
    assert assert_result(by_id[1], 1)["pieces"]
    assert_error(by_id["b"], -32601, "b")
    assert assert_error(by_id[-3], -32602, -3)["data"]["path"] == "params.text"
    assert len(nulls) == 3, reply
    for m in nulls:
        assert_error(m, -32600, None)


def test_batch_of_only_notifications_gets_no_reply(conn):
    conn.send(b"[" + b",".join([notification("models/list"), notification("tokenize", {"text": "x"}),
                                notification("nope")]) + b"]")
    assert_result(sentinel(conn).json, SENTINEL)
    conn.expect_no_frames(0.3)


def test_empty_batch_is_one_invalid_request(conn):
    conn.send(b"[]")
    reply = conn.recv()
    assert isinstance(reply.json, dict), f"an empty batch gets a single error, not an array: {reply}"
    assert_error(reply.json, -32600, None)
    conn.send(b" [ ] ")
    assert_error(conn.recv().json, -32600, None)


@pytest.mark.parametrize("payload, count", [(b"[1]", 1), (b"[1,2,3]", 3), (b"[[]]", 1), (b'[null,"x",{}]', 3)])
def test_batch_of_invalid_elements(conn, payload, count):
    conn.send(payload)
    reply = conn.recv()
    assert isinstance(reply.json, list) and len(reply.json) == count, reply
    for m in reply.json:
        assert_error(m, -32600, None)


def test_batch_replies_carry_each_id(conn):
    ids = [1, "two", -3, 4.5, None]
    conn.send(b"[" + b",".join(request("models/list", id=i) if i is not None else
                               request("models/list", raw_id="null") for i in ids) + b"]")
    reply = conn.recv()
    assert isinstance(reply.json, list) and len(reply.json) == len(ids), reply
    got = sorted((repr(m["id"]) for m in reply.json))
    assert got == sorted(repr(i) for i in ids), reply
    for m in reply.json:
        assert "result" in m, reply


# ------------------------------------------------------------------------------------------------
# Parse errors
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    b'{"jsonrpc": "2.0", "method": "foo", "params": "bar", "baz]',
    b'[{"jsonrpc":"2.0","method":"models/list","id":1},{"jsonrpc":"2.0","method"',
    b"{",
    b'{"jsonrpc":"2.0","id":1,"method":"models/list"} trailing',
    b'{"jsonrpc":"2.0","id":1,"method":"models/list"}{"jsonrpc":"2.0","id":2,"method":"models/list"}',
    b"{'jsonrpc':'2.0','id':1,'method':'models/list'}",
    b'{"jsonrpc":"2.0","id":1,"method":"models/list",}',
    b'{"jsonrpc":"2.0","id":NaN,"method":"models/list"}',
    b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than any parser should follow
], ids=lambda p: p[:50].decode(errors="replace"))
def test_unparseable_json_is_parse_error_with_null_id(conn, payload):
    conn.send(payload)
    assert_error(conn.recv().json, -32700, None)
    assert_result(sentinel(conn).json, SENTINEL)


@pytest.mark.parametrize("bad", [
    b"\xff\xfe",            # never valid in UTF-8
    b"\xc3",                # truncated sequence
    b"\x80",                # lone continuation byte
    b"\xc0\xaf",            # overlong "/"
    b"\xed\xa0\x80",        # an encoded surrogate
    b"\xf4\x90\x80\x80",    # beyond U+10FFFF
])
def test_invalid_utf8_is_parse_error_with_null_id(conn, bad):
    conn.send(b'{"jsonrpc":"2.0","id":1,"method":"tokenize","params":{"text":"a' + bad + b'"}}')
    assert_error(conn.recv().json, -32700, None)
    conn.send(b'{"jsonrpc":"2.0","id":"x' + bad + b'","method":"models/list"}')
    assert_error(conn.recv().json, -32700, None)
    assert_result(sentinel(conn).json, SENTINEL)


# ------------------------------------------------------------------------------------------------
# Invalid requests
# ------------------------------------------------------------------------------------------------

INVALID_ENVELOPES = [
    # (payload, id the error must carry: the request's id when it is a legal id, else null)
    (b'{"id":1,"method":"models/list"}', 1),                         # jsonrpc missing
    (b'{"jsonrpc":"1.0","id":1,"method":"models/list"}', 1),         # jsonrpc "1.0"
    (b'{"jsonrpc":2.0,"id":1,"method":"models/list"}', 1),           # jsonrpc a number
    (b'{"jsonrpc":null,"id":1,"method":"models/list"}', 1),
    (b'{"jsonrpc":"2.0","id":1,"method":1}', 1),                     # method not a string
    (b'{"jsonrpc":"2.0","id":1,"method":null}', 1),
    (b'{"jsonrpc":"2.0","id":1,"method":["models/list"]}', 1),
    (b'{"jsonrpc":"2.0","id":1}', 1),                                # method missing
    (b'{"jsonrpc":"2.0","id":1,"method":"tokenize","params":"Hello"}', 1),  # params a string
    (b'{"jsonrpc":"2.0","id":1,"method":"models/list","params":5}', 1),
    (b'{"jsonrpc":"2.0","id":1,"method":"models/list","params":true}', 1),
    (b'{"jsonrpc":"2.0","id":{"a":1},"method":"models/list"}', None),  # id an object
    (b'{"jsonrpc":"2.0","id":[1],"method":"models/list"}', None),      # id an array
    (b'{"jsonrpc":"2.0","id":true,"method":"models/list"}', None),     # id a boolean
    (b'{"jsonrpc":"1.0","method":"models/list"}', None),               # invalid, even without id
    (b'{"jsonrpc":"2.0","method":7}', None),
    (b'{"jsonrpc":"2.0","method":"models/list","params":"x"}', None),
    (b"1", None), (b'"models/list"', None), (b"null", None), (b"true", None), (b"{}", None),
]


@pytest.mark.parametrize("payload, expected_id", INVALID_ENVELOPES,
                         ids=[p.decode() for p, _ in INVALID_ENVELOPES])
def test_invalid_envelope_is_invalid_request(conn, payload, expected_id):
    # Framing is detected from the first byte, and a letter (null, true) means LSP headers: so a
    # valid request goes first, fixing the framing, as it would in any real session.
    assert_result(sentinel(conn).json, SENTINEL)
    conn.send(payload)
    assert_error(conn.recv().json, -32600, expected_id)
    assert_result(sentinel(conn).json, SENTINEL)


def test_unknown_method(conn):
    error = assert_error(conn.call("no/such/method", {"a": 1}, id=5), -32601, 5)
    assert error.get("data", {}).get("method") == "no/such/method"
    assert_error(conn.call("Tokenize", {"text": "a"}, id=6), -32601, 6)  # names are case-sensitive
    assert_error(conn.call("", id=7), -32601, 7)


@pytest.mark.parametrize("method, params, path", [
    ("tokenize", {}, "params.text"),
    ("tokenize", {"text": 1}, "params.text"),
    ("tokenize", {"text": "a", "addSpecial": "yes"}, "params.addSpecial"),
    ("tokenize", {"text": "a", "bogus": 1}, "params.bogus"),
    ("tokenize", ["Hello"], "params"),
    ("detokenize", {"tokens": [-1]}, "params.tokens[0]"),
    ("detokenize", {"tokens": [1, "2"]}, "params.tokens[1]"),
    ("detokenize", {"tokens": [1, 99999999]}, "params.tokens[1]"),
    ("detokenize", {}, "params.tokens"),
    ("models/list", {"x": 1}, "params.x"),
    ("models/load", {"model": ""}, "params.model"),
    ("models/load", {"model": 5}, "params.model"),
    ("models/unload", {}, "params.model"),
])
def test_invalid_params_carry_the_path(conn, method, params, path):
    error = assert_error(conn.call(method, params, id=11), -32602, 11)
    data = error.get("data")
    assert isinstance(data, dict) and data.get("path") == path, f"{method} {params}: {error}"
    assert isinstance(data.get("reason"), str) and data["reason"], error


def test_model_not_found(conn):
    assert_error(conn.call("tokenize", {"text": "a", "model": "no-such-model"}, id=12), -32001, 12)
    assert_error(conn.call("models/unload", {"model": "no-such-model"}, id=13), -32001, 13)


def test_two_requests_with_one_id_get_one_reply_each(conn):
    """Two requests with one id, sent together: each gets exactly one reply (the second may be
    refused with -32600 while the first is in flight)."""
    conn.send_bytes(wire.frame(request("tokenize", {"text": "a" * 2000}, id=77), conn.framing) +
                    wire.frame(request("tokenize", {"text": "b"}, id=77), conn.framing))
    first, second = conn.reply_to(77).json, conn.reply_to(77).json
    results = [m for m in (first, second) if "result" in m]
    assert len(results) >= 1, (first, second)
    for m in (first, second):
        if "error" in m:
            assert_error(m, -32600, 77)
