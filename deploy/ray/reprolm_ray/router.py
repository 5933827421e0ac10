"""The router: one HTTP request body (a JSON-RPC message or a batch) in, the daemon's answer out,
the requests run on whichever replica is free. Independent of Ray: serve_app.py gives it a
backend (a Serve handle to the replicas) and a session table (a Serve deployment).

What it does itself, and why:
- `setSeed`: sessions are the router's (a replica sees requests of many sessions). A session is
  the `Reprolm-Session` token of the HTTP request, or without one the body alone (as one
  connection to a daemon). Its answer is a daemon's, computed by seeds.Session.
- `generate` without `seed` in a session with a seed takes the next index on arrival, in the
  order of the body's messages, and goes to a replica with `delegatedSeed` (protocol/README.md,
  "Delegated session seeds"), so its result and receipt are those of a single daemon. A client's
  own `delegatedSeed` is refused as a plain daemon refuses it: only the router may delegate.
- `receipts/get` and `reproduce {id}`: looked up in every journal of the fleet (journals.py),
  not only the one replica a request reaches.
- `models/load` and `models/unload` would change one replica of many: refused (-32601); the
  fleet's models are its configuration. `shutdown` answers null and `exit` is ignored: neither
  stops the fleet, which Ray manages. `$/cancelRequest` cancels a request in flight of the same
  session (it then answers -32800 rather than a cut-short result).
Everything else (params of every other method included) is forwarded as sent, so errors are the
daemon's own."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from . import jsonrpc
from .journals import JournalIndex
from .seeds import SeedParamsError, Session, read_set_seed_params

# backend(method, params, on_notification or None) -> {"result": ...} or {"error": {...}}
Backend = Callable[[str, Any, Optional[Callable[[Dict[str, Any]], None]]], Awaitable[Dict[str, Any]]]
# sessions(token, ops) -> results, in order (SessionTable.apply, possibly remote)
Sessions = Callable[[str, List[Tuple[str, Any]]], Awaitable[List[Any]]]

FLEET_MANAGED = {"models/load", "models/unload"}
DELEGATED = "delegatedSeed"


class Router:
    def __init__(self, backend: Backend, sessions: Sessions, journals: Optional[JournalIndex] = None,
                 max_batch: int = 64) -> None:
        self.backend = backend
        self.sessions = sessions
        self.journals = journals
        self.max_batch = max_batch
        self._in_flight: Dict[Tuple[str, Any], asyncio.Task] = {}

    @staticmethod
    def wants_stream(parsed: Any) -> bool:
        """Whether a parsed body holds a request (not a notification) to `generate` with
        `stream: true`: its `$/stream` notifications then go out before the answer."""
        messages = parsed if isinstance(parsed, list) else [parsed]
        return any(isinstance(m, dict) and "id" in m and m.get("method") == "generate"
                   and isinstance(m.get("params"), dict) and m["params"].get("stream") is True for m in messages)

    async def handle(self, parsed: Any, token: Optional[str],
                     on_notification: Optional[Callable[[Dict[str, Any]], None]] = None) -> Any:
        """The answer to a parsed body (an object, an array, or None when nothing is answered).
        `on_notification(message)` gets the requests' `$/stream` and `$/progress` notifications,
        their `requestId` the client's id."""
        split = jsonrpc.split_body(parsed, self.max_batch)
        if isinstance(split, dict):
            return split
        batch = isinstance(split, list)
        messages = split if batch else [split]
        # Arrival: every session operation of the body, in its order, at once.
        answers: List[Any] = [None] * len(messages)
        work: List[Optional[Tuple[str, Any]]] = [None] * len(messages)
        ops: List[Tuple[str, Any]] = []
        op_owner: List[int] = []
        for i, m in enumerate(messages):
            answers[i], work[i] = self._arrive(m, token, ops, op_owner, i)
        if ops:
            try:
                results = await self._session_ops(token, ops)
            except Exception as error:  # the session table is full, or restarting
                code = -32004 if isinstance(error, OverflowError) else -32603
                message = f"Overloaded: {error}" if code == -32004 else "Internal error: the session table did not answer"
                for i in op_owner:
                    work[i] = None
                    answers[i] = jsonrpc.error_response(messages[i].id, code, message) if messages[i].has_id else None
                results = None
            for i, (op, result) in zip(op_owner, zip(ops, results or [])):
                if op[0] == "set":
                    answers[i] = jsonrpc.result_response(messages[i].id, result) if messages[i].has_id else None
                elif result is not None:
                    method, params = work[i]
                    work[i] = (method, {**params, DELEGATED: result})
        # Then the work, concurrently, each on a replica.
        tasks = {}
        for i, w in enumerate(work):
            if w is not None:
                tasks[i] = asyncio.ensure_future(self._run(messages[i], w[0], w[1], token, on_notification))
        try:
            for i, task in tasks.items():
                answers[i] = await task
        except asyncio.CancelledError:  # the client went away: so does its work
            for task in tasks.values():
                task.cancel()
            raise
        answers = [a for a in answers if a is not None]
        if batch:
            return answers or None
        return answers[0] if answers else None

    def _arrive(self, m: jsonrpc.Message, token: Optional[str], ops: List[Tuple[str, Any]], op_owner: List[int],
                i: int) -> Tuple[Any, Any]:
        """(immediate answer, work) for one message; adds its session operation to `ops`."""
        if m.kind == "invalid":
            return m.error, None
        if m.kind == "response":
            return None, None
        reply = (lambda r: r if m.has_id else None)
        if m.method == "setSeed":
            try:
                seed, _ = read_set_seed_params(m.params)
            except SeedParamsError as e:
                return reply(jsonrpc.invalid_params(m.id, e.path, e.reason)), None
            ops.append(("set", seed))
            op_owner.append(i)
            return None, None
        if m.method in FLEET_MANAGED:
            return reply(jsonrpc.method_not_found(
                m.id, m.method, " (a fleet's models are set by its deployment; a request naming a catalogue model loads it on demand)")), None
        if m.method == "shutdown":
            return reply(jsonrpc.result_response(m.id, None)), None
        if m.method == "exit":
            return (jsonrpc.invalid_request(m.id, "exit is a notification and takes no id") if m.has_id else None), None
        if m.method == "$/cancelRequest":
            if m.has_id:
                return jsonrpc.invalid_request(m.id, "$/cancelRequest is a notification and takes no id"), None
            self._cancel(token, m.params)
            return None, None
        params = m.params
        if m.method == "generate" and isinstance(params, dict):
            params = dict(params)
            if params.pop(DELEGATED, None) is not None:
                return reply(jsonrpc.invalid_params(
                    m.id, f"params.{DELEGATED}", "is accepted only by a daemon started with --accept-delegated-seeds (a router's replica)")), None
            if params.get("seed") is None:
                ops.append(("take", None))
                op_owner.append(i)
        return None, (m.method, params)

    async def _session_ops(self, token: Optional[str], ops: List[Tuple[str, Any]]) -> List[Any]:
        if token is None:  # the body is the session, as one connection to a daemon
            return Session().apply(ops)
        return await self.sessions(token, ops)

    async def _run(self, m: jsonrpc.Message, method: str, params: Any, token: Optional[str],
                   on_notification: Optional[Callable[[Dict[str, Any]], None]]) -> Any:
        key = (token, m.id) if token is not None and m.has_id and m.id is not None else None
        if key is not None:
            self._in_flight[key] = asyncio.current_task()
        try:
            outcome = await self._outcome(m, method, params, on_notification)
        except asyncio.CancelledError:
            if key is None:
                raise
            # `$/cancelRequest` (or the client went away, and nobody reads this).
            outcome = {"error": jsonrpc.error_object(-32800, "Request cancelled")}
        finally:
            if key is not None:
                self._in_flight.pop(key, None)
        return {"jsonrpc": "2.0", "id": m.id, **outcome} if m.has_id else None

    async def _outcome(self, m: jsonrpc.Message, method: str, params: Any,
                       on_notification: Optional[Callable[[Dict[str, Any]], None]]) -> Dict[str, Any]:
        found = self._by_id(method, params)
        if found is not None:
            if isinstance(found, dict) and "error" in found:
                return found
            if method == "receipts/get":
                return {"result": found}
            reproduce = {k: v for k, v in params.items() if k != "id"}
            outcome = await self.backend("reproduce", {**reproduce, "receipt": found["receipt"]}, None)
            if "result" in outcome:  # found in the fleet's journal: it matches by construction
                outcome["result"]["journal"] = "matches"
            return outcome
        hook = None
        if on_notification is not None and m.has_id:
            def hook(n: Dict[str, Any]) -> None:
                n = dict(n)
                n["params"] = {**n.get("params", {}), "requestId": m.id}
                on_notification(n)
        return await self.backend(method, params, hook)

    def _by_id(self, method: str, params: Any) -> Optional[Dict[str, Any]]:
        """For `receipts/get {id}` and `reproduce {id}` with the fleet's journals at hand: the
        journal entry, or a -32007 outcome; None to forward the request as it is."""
        if self.journals is None or method not in ("receipts/get", "reproduce") or not isinstance(params, dict):
            return None
        receipt_id = params.get("id")
        if not isinstance(receipt_id, str) or params.get("receipt") is not None:
            return None
        if method == "receipts/get" and set(params) != {"id"}:
            return None
        found = self.journals.find(receipt_id)
        if found is None:
            return {"error": jsonrpc.error_object(
                -32007, f"no receipt with id {receipt_id} in the fleet's journals ({self.journals.journal_dir})", {"id": receipt_id})}
        return found

    def _cancel(self, token: Optional[str], params: Any) -> None:
        if token is None or not isinstance(params, dict) or "id" not in params:
            return
        task = self._in_flight.get((token, params["id"]))
        if task is not None:
            task.cancel()
