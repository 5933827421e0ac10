"""Checks protocol/openrpc.json against the real daemon.

(a) openrpc.json is well formed (JSON, OpenRPC 1.2.6 shape, draft-07 schemas, every $ref resolves)
    and its methods are exactly the daemon's method table (initialize's capabilities.methods);
(b) every example in protocol/examples/ is replayed against a fresh daemon: the request's params
    must match the method's params schema and the live result the method's result schema;
    tokenize, detokenize, models/unload and shutdown must also equal the stored example;
(c) bad params for every method give an error response that matches the ErrorResponse schema,
    carries the expected code (one the method documents) and, for -32602, the expected data.path;
    and the params schema rejects exactly those params that the daemon rejects for their shape.

The daemon is `$REPROLM_BIN`, else <repo>/.build/release/reprolm, run as `reprolm serve` over
stdio with newline framing. It needs the default model (smollm2-135m) in the model cache.

    REPROLM_BIN=.build/release/reprolm python3 -m pytest Tests/protocol -q
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

REPO = Path(__file__).resolve().parents[2]
PROTOCOL = REPO / "protocol"
EXAMPLES = PROTOCOL / "examples"
BIN = Path(os.environ.get("REPROLM_BIN") or REPO / ".build" / "release" / "reprolm")
TIMEOUT = 60.0

if not (BIN.is_file() and os.access(BIN, os.X_OK)):
    pytest.skip(
        f"reprolm binary not found at {BIN}: build it (swift build -c release --product reprolm) "
        "or point REPROLM_BIN at one",
        allow_module_level=True,
    )

# --------------------------------------------------------------------------------------------
# The document and its schemas

DOC: dict = json.loads((PROTOCOL / "openrpc.json").read_text(encoding="utf-8"))
DOC_URI = "urn:reprolm:openrpc"
REGISTRY = Registry().with_resource(DOC_URI, Resource(contents=DOC, specification=DRAFT7))
METHODS: dict[str, dict] = {m["name"]: m for m in DOC["methods"]}
NOTIFICATIONS: dict[str, dict] = {n["name"]: n for n in DOC.get("x-notifications", [])}


def validator(ref: str) -> Draft7Validator:
    """A draft-07 validator for a local reference ("#/components/schemas/X") into the document."""
    assert ref.startswith("#/"), ref
    return Draft7Validator({"$ref": DOC_URI + ref}, registry=REGISTRY)


def method_index(name: str) -> int:
    return next(i for i, m in enumerate(DOC["methods"]) if m["name"] == name)


def params_validator(method: str) -> Draft7Validator:
    return validator(METHODS[method]["x-params-schema"]["$ref"])


def result_validator(method: str) -> Draft7Validator:
    return validator(f"#/methods/{method_index(method)}/result/schema")


def resolve(ref: str) -> Any:
    node: Any = DOC
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def documented_codes(method: str) -> set[int]:
    return {resolve(e["$ref"])["code"] if "$ref" in e else e["code"] for e in METHODS[method].get("errors", [])}


def assert_valid(v: Draft7Validator, instance: Any, what: str) -> None:
    errors = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what} does not match its schema:\n" + "\n".join(
        f"  at {list(e.absolute_path)}: {e.message[:300]}" for e in errors
    ) + f"\n  instance: {json.dumps(instance)[:2000]}"


def load_examples() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))}


EXAMPLE_FILES = load_examples()
METHOD_EXAMPLES = {k: v for k, v in EXAMPLE_FILES.items() if k != "progress.json"}
# Methods whose result does not depend on the machine: compared with the stored example exactly.
EXACT = {"tokenize", "detokenize", "models/unload", "shutdown"}

# --------------------------------------------------------------------------------------------
# A daemon on stdio, newline framing


class Daemon:
    def __init__(self, *args: str) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(BIN), "serve", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, *messages: Any) -> None:
        self.send_raw(b"".join(json.dumps(m, ensure_ascii=False).encode() + b"\n" for m in messages))

    def recv(self, timeout: float = TIMEOUT) -> Any:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer within {timeout} s; stderr:\n{self.log()}") from None
        if line is None:
            raise AssertionError(f"the daemon closed its output; stderr:\n{self.log()}")
        return json.loads(line)

    def response(self, id_: Any, notifications: list | None = None) -> dict:
        """The next response with this id; notifications met on the way are collected."""
        while True:
            msg = self.recv()
            if isinstance(msg, dict) and "method" in msg and "id" not in msg:
                if notifications is not None:
                    notifications.append(msg)
                continue
            assert isinstance(msg, dict), f"unexpected batch answer {msg}"
            if msg.get("id") == id_ and type(msg.get("id")) is type(id_):
                return msg

    def responses(self, *ids: Any) -> dict:
        """The responses to these ids, in whatever order they come; notifications are skipped."""
        got: dict = {}
        while len(got) < len(ids):
            msg = self.recv()
            if isinstance(msg, dict) and msg.get("id") in ids and "method" not in msg:
                got[msg["id"]] = msg
        return got

    def call(self, method: str, params: Any = None, id_: Any = 1) -> dict:
        msg: dict = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.response(id_)

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self) -> int:
        """End stdin and wait for the daemon to answer what is in flight and exit."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"daemon did not exit at end of stdin; stderr:\n{self.log()}")
        return self.proc.returncode

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-4000:]


def stop(d: Daemon) -> None:
    if d.proc.poll() is None:
        d.proc.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=10)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait()


@pytest.fixture
def spawn():
    """Starts daemons (`spawn("--no-model")`); any still running at the end are stopped."""
    started: list[Daemon] = []

    def start(*args: str) -> Daemon:
        started.append(Daemon(*args))
        return started[-1]

    yield start
    for d in started:
        stop(d)


@pytest.fixture
def daemon(spawn):
    return spawn()


@pytest.fixture(scope="module")
def shared_daemon():
    d = Daemon()
    yield d
    try:
        assert d.close() == 0
    finally:
        stop(d)


# --------------------------------------------------------------------------------------------
# (a) the document


def walk_refs(node: Any, path: str = "#"):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield path, v
            else:
                yield from walk_refs(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_refs(v, f"{path}/{i}")


def test_document_shape():
    assert DOC["openrpc"] == "1.2.6"
    assert DOC["x-json-schema-dialect"] == "http://json-schema.org/draft-07/schema#"
    assert DOC["servers"] == []
    assert {"title", "version"} <= DOC["info"].keys()
    names = [m["name"] for m in DOC["methods"]]
    assert len(names) == len(set(names)), "duplicate method names"


def test_every_ref_resolves_and_every_schema_is_draft07():
    resolver = REGISTRY.resolver(DOC_URI)
    for where, ref in walk_refs(DOC):
        assert ref.startswith("#/"), f"{where}: only local references are used, not {ref}"
        resolver.lookup(DOC_URI + ref)  # raises if unresolvable
    for name, schema in DOC["components"]["schemas"].items():
        Draft7Validator.check_schema(schema)
    for m in [*DOC["methods"], *DOC.get("x-notifications", [])]:
        for cd in m["params"]:
            Draft7Validator.check_schema(cd["schema"])
        if "result" in m:
            Draft7Validator.check_schema(m["result"]["schema"])


@pytest.mark.parametrize("name", [*METHODS, *NOTIFICATIONS])
def test_params_descriptors_match_params_schema(name):
    m = METHODS.get(name) or NOTIFICATIONS[name]
    if name in METHODS:
        assert m["paramStructure"] == "by-name"
        assert ("result" in m) != bool(m.get("x-notification")), "a method has a result unless it is a notification"
    whole = resolve(m["x-params-schema"]["$ref"])
    assert whole["type"] == "object"
    props = whole.get("properties", {})
    assert [cd["name"] for cd in m["params"]] == list(props), "params descriptors and x-params-schema differ"
    for cd in m["params"]:
        assert cd["schema"] == {"$ref": f"{m['x-params-schema']['$ref']}/properties/{cd['name']}"}
        assert bool(cd.get("required")) == (cd["name"] in whole.get("required", [])), cd["name"]
    # Strict unless documented otherwise (initialize accepts and ignores anything).
    assert whole.get("additionalProperties") is (name == "initialize"), name
    if name in METHODS and name != "initialize":
        for prop, schema in props.items():
            if prop not in whole.get("required", []):
                assert "default" in schema, f"{name}: optional param {prop} has no default"


def test_error_table():
    errors = DOC["components"]["errors"]
    codes = {e["code"] for e in errors.values()}
    assert codes == set(resolve("#/components/schemas/ErrorObject")["properties"]["code"]["enum"])
    assert codes == {-32700, -32600, -32601, -32602, -32603, -32800, -32001, -32002, -32003, -32004, -32005}
    for m in DOC["methods"]:
        for e in m.get("errors", []):
            assert e["$ref"].startswith("#/components/errors/"), e
            resolve(e["$ref"])


def test_method_names_equal_daemon_method_table(daemon):
    answer = daemon.call("initialize", {}, id_="init")
    assert_valid(result_validator("initialize"), answer["result"], "initialize result")
    table = answer["result"]["capabilities"]["methods"]
    assert len(table) == len(set(table)), f"duplicate names in the daemon's table: {table}"
    assert sorted(table) == sorted(METHODS), (
        f"openrpc.json methods differ from the daemon's method table: "
        f"missing from the document {sorted(set(table) - set(METHODS))}, "
        f"not in the daemon {sorted(set(METHODS) - set(table))}"
    )
    assert daemon.close() == 0


def test_every_method_has_an_example():
    covered = {ex["request"]["method"] for ex in METHOD_EXAMPLES.values()}
    assert covered == set(METHODS), f"examples missing for {sorted(set(METHODS) - covered)}"
    assert "progress.json" in EXAMPLE_FILES


# --------------------------------------------------------------------------------------------
# (b) the examples, replayed


@pytest.mark.parametrize("fname", sorted(METHOD_EXAMPLES))
def test_example(fname, daemon):
    ex = METHOD_EXAMPLES[fname]
    req, stored = ex["request"], ex["response"]
    method = req["method"]
    assert_valid(params_validator(method), req.get("params", {}), f"{fname}: request params")

    if METHODS[method].get("x-notification"):
        assert "id" not in req and stored is None, "a notification has no id and no response"
        daemon.send(req)
        if method == "exit":
            # Without a shutdown first: status 1, and nothing written.
            assert daemon.wait() == 1
            assert daemon.lines.get(timeout=TIMEOUT) is None, "exit must not be answered"
            return
        # No answer: the next thing written is the answer to the next request.
        daemon.send({"jsonrpc": "2.0", "id": "after", "method": "models/list"})
        assert daemon.recv().get("id") == "after", f"{method} must not be answered"
        assert daemon.close() == 0
        return

    # The stored response is itself a valid response.
    assert_valid(validator("#/components/schemas/ResultResponse"), stored, f"{fname}: stored response")
    assert_valid(result_validator(method), stored["result"], f"{fname}: stored result")

    daemon.send(req)
    live = daemon.response(req["id"])
    assert "error" not in live, f"{fname}: {live}"
    assert_valid(validator("#/components/schemas/ResultResponse"), live, f"{fname}: live response")
    assert_valid(result_validator(method), live["result"], f"{fname}: live result")
    if method in EXACT:
        assert live == stored, f"{fname}: the daemon's answer differs from the stored example"

    if method == "shutdown":
        daemon.send({"jsonrpc": "2.0", "method": "exit"})
        assert daemon.wait() == 0, "exit after shutdown must end with status 0"
    else:
        assert daemon.close() == 0


def test_progress_notifications(spawn):
    ex = EXAMPLE_FILES["progress.json"]
    for n in ex["notifications"]:
        assert_valid(validator("#/x-notifications/0/x-params-schema"), n["params"], "stored $/progress")
    d = spawn("--no-model")
    notes: list = []
    d.send(ex["request"])
    live = d.response(ex["request"]["id"], notes)
    assert_valid(result_validator("models/load"), live["result"], "models/load result")
    assert notes, "a load on a daemon started with --no-model reports progress"
    for n in notes:
        assert set(n) == {"jsonrpc", "method", "params"} and n["jsonrpc"] == "2.0"
        assert n["method"] in NOTIFICATIONS
        assert_valid(validator(NOTIFICATIONS[n["method"]]["x-params-schema"]["$ref"]), n["params"], "$/progress")
        assert n["params"]["requestId"] == ex["request"]["id"]
    # The hash stage appears only when the file's sha256 is not cached yet; the load stage always.
    assert notes[-2:] == ex["notifications"][-2:]
    assert d.close() == 0


# --------------------------------------------------------------------------------------------
# (c) errors

N = None  # no data.path expected
# (method, params, expected code, expected data.path, does the params schema reject these params?)
# schema_rejects None: not a params question (a notification sent with an id).
ERROR_CASES = [
    ("initialize", [1], -32602, "params", True),
    ("models/list", {"x": 1}, -32602, "params.x", True),
    ("models/list", [], -32602, "params", True),
    ("models/load", {}, -32602, "params.model", True),
    ("models/load", {"model": ""}, -32602, "params.model", True),
    ("models/load", {"model": 5}, -32602, "params.model", True),
    ("models/load", {"model": "smollm2-135m", "alias": ""}, -32602, "params.alias", True),
    ("models/load", {"model": "smollm2-135m", "bogus": True}, -32602, "params.bogus", True),
    ("models/load", {"model": "no-such-model"}, -32001, N, False),
    ("models/unload", {}, -32602, "params.model", True),
    ("models/unload", {"model": ["x"]}, -32602, "params.model", True),
    ("models/unload", {"model": "no-such-model"}, -32001, N, False),
    ("tokenize", {}, -32602, "params.text", True),
    ("tokenize", {"text": None}, -32602, "params.text", True),
    ("tokenize", {"text": 1}, -32602, "params.text", True),
    ("tokenize", {"text": "a", "max_tokens": 1}, -32602, "params.max_tokens", True),
    ("tokenize", {"text": "a", "addSpecial": "yes"}, -32602, "params.addSpecial", True),
    ("tokenize", {"text": "a", "model": "no-such-model"}, -32001, N, False),
    ("detokenize", {}, -32602, "params.tokens", True),
    ("detokenize", {"tokens": "1 2"}, -32602, "params.tokens", True),
    ("detokenize", {"tokens": [1, 1.5]}, -32602, "params.tokens[1]", True),
    ("detokenize", {"tokens": [-1]}, -32602, "params.tokens[0]", True),
    ("detokenize", {"tokens": [2147483648]}, -32602, "params.tokens[0]", True),
    ("detokenize", {"tokens": [0, 49152]}, -32602, "params.tokens[1]", False),  # past the vocabulary
    ("detokenize", {"tokens": [1], "skipSpecial": 0}, -32602, "params.skipSpecial", True),
    ("detokenize", {"tokens": [1], "model": "no-such-model"}, -32001, N, False),
    ("exit", None, -32600, N, None),
    ("$/cancelRequest", {"id": 1}, -32600, N, None),
]


@pytest.mark.parametrize(
    "method,params,code,path,schema_rejects",
    ERROR_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(ERROR_CASES)],
)
def test_error_response(shared_daemon, method, params, code, path, schema_rejects):
    if schema_rejects is not None:
        rejected = not params_validator(method).is_valid(params)
        assert rejected == schema_rejects, (
            f"the params schema of {method} {'accepts' if not rejected else 'rejects'} {params!r}, "
            f"but the daemon {'rejects' if schema_rejects else 'accepts'} their shape"
        )
    id_ = f"err-{method}-{json.dumps(params)}"
    answer = shared_daemon.call(method, params, id_=id_)
    assert_valid(validator("#/components/schemas/ErrorResponse"), answer, f"{method} error response")
    err = answer["error"]
    assert err["code"] == code, answer
    assert code in documented_codes(method), f"{method} answers {code}, which openrpc.json does not list"
    if code == -32602:
        assert err["data"]["path"] == path, answer
        assert err["message"] == f"Invalid params: {path} {err['data']['reason']}"


def test_shutdown_rejects_unknown_params(daemon):
    assert not params_validator("shutdown").is_valid({"bogus": 1})
    answer = daemon.call("shutdown", {"bogus": 1}, id_="s")
    assert "error" in answer and answer["error"]["code"] == -32602, answer


def test_cancelled_request_answers_32800(spawn):
    d = spawn("--no-model")
    # tokenize waits behind the models/load barrier, so the cancel reaches it before it starts.
    d.send(
        {"jsonrpc": "2.0", "id": 1, "method": "models/load", "params": {"model": "smollm2-135m"}},
        {"jsonrpc": "2.0", "id": 2, "method": "tokenize", "params": {"text": "x"}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 2}},
    )
    answers = d.responses(1, 2)
    answer = answers[2]
    assert_valid(validator("#/components/schemas/ErrorResponse"), answer, "cancelled tokenize")
    assert answer["error"] == {"code": -32800, "message": "Request cancelled"}
    assert -32800 in documented_codes("tokenize")
    assert "result" in answers[1]
    assert d.close() == 0


def test_shutting_down_and_overloaded(spawn):
    d = spawn("--max-requests", "1")
    text = "reproducible " * 2000
    d.send([{"jsonrpc": "2.0", "id": i, "method": "tokenize", "params": {"text": text}} for i in range(20)])
    batch = d.recv()
    assert isinstance(batch, list) and [r["id"] for r in batch] == list(range(20))
    overloaded = [r for r in batch if "error" in r]
    assert overloaded, "with --max-requests 1, a batch of 20 must see -32004"
    for r in overloaded:
        assert_valid(validator("#/components/schemas/ErrorResponse"), r, "overloaded")
        assert r["error"]["code"] == -32004 and r["error"]["data"] == {"limit": 1}
    assert d.call("shutdown", id_="s")["result"] is None
    answer = d.call("tokenize", {"text": "x"}, id_="late")
    assert_valid(validator("#/components/schemas/ErrorResponse"), answer, "shutting down")
    assert answer["error"]["code"] == -32005
    assert -32005 in documented_codes("tokenize") and -32004 in documented_codes("tokenize")
    answer = d.call("initialize", id_="init")
    assert_valid(validator("#/components/schemas/ErrorResponse"), answer, "initialize after shutdown")
    assert answer["error"]["code"] == -32005 and -32005 in documented_codes("initialize")
    d.send({"jsonrpc": "2.0", "method": "exit"})
    assert d.wait() == 0


def test_envelope_errors(shared_daemon):
    error_response = validator("#/components/schemas/ErrorResponse")
    cases = [
        (b"{not json}\n", None, -32700),
        (b'{"jsonrpc":"2.0","id":1,"id":2,"method":"models/list"}\n', None, -32700),
        (b"[]\n", None, -32600),
        (b'{"jsonrpc":"1.0","id":"v1","method":"models/list"}\n', "v1", -32600),
        (b'{"jsonrpc":"2.0","id":{"a":1},"method":"models/list"}\n', None, -32600),
        (b'{"jsonrpc":"2.0","id":"p","method":"models/list","params":null}\n', "p", -32600),
        (b'{"jsonrpc":"2.0","id":"m","method":"generate"}\n', "m", -32601),
    ]
    for raw, id_, code in cases:
        shared_daemon.send_raw(raw)
        answer = shared_daemon.recv()
        assert_valid(error_response, answer, raw.decode())
        assert answer["id"] == id_ and answer["error"]["code"] == code, (raw, answer)
    assert answer["error"]["data"] == {"method": "generate"}


def test_ids_echoed_and_batches(shared_daemon):
    ids = ["s", "", 0, -7, 2**53 + 1, 1.5, None]
    batch = [{"jsonrpc": "2.0", "id": i, "method": "tokenize", "params": {"text": "a"}} for i in ids]
    batch.insert(2, {"jsonrpc": "2.0", "method": "tokenize", "params": {"text": "notification"}})
    shared_daemon.send(batch)
    answer = shared_daemon.recv()
    assert isinstance(answer, list), answer
    assert [(r["id"], type(r["id"])) for r in answer] == [(i, type(i)) for i in ids], "one answer per request, in order"
    for r in answer:
        assert_valid(validator("#/components/schemas/ResultResponse"), r, "batch element")
        assert_valid(result_validator("tokenize"), r["result"], "batch element result")


def test_content_length_framing_and_oversized_frames(spawn):
    ex = METHOD_EXAMPLES["tokenize.json"]
    body = json.dumps(ex["request"], ensure_ascii=False).encode()
    big = b"{" + b" " * 2000 + b"}"
    d = spawn("--max-frame-bytes", "1024")
    d.send_raw(
        b"Content-Length: %d\r\n\r\n%s" % (len(big), big)
        + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    d.proc.stdin.close()
    frames = b""
    while True:
        line = d.lines.get(timeout=TIMEOUT)
        if line is None:
            break
        frames += line
    assert d.wait() == 0
    answers = []
    while frames:
        head, _, rest = frames.partition(b"\r\n\r\n")
        assert head.startswith(b"Content-Length: "), frames[:80]
        n = int(head[len(b"Content-Length: "):])
        answers.append(json.loads(rest[:n]))
        frames = rest[n:]
    too_large = next(a for a in answers if a.get("id") is None)
    assert_valid(validator("#/components/schemas/ErrorResponse"), too_large, "oversized frame")
    assert too_large["error"]["code"] == -32600
    assert too_large["error"]["data"] == {"limit": 1024, "announced": len(big)}
    assert next(a for a in answers if a.get("id") == ex["request"]["id"]) == ex["response"]
