"""The Ray Serve application: an HTTP ingress that speaks the daemon's JSON-RPC 2.0 (router.py),
a deployment of replicas each running one daemon (daemon.py), and the session table
(sessions.py) as a one-replica deployment that every ingress replica shares.

    POST /  body: one JSON-RPC message or a batch   header Reprolm-Session: <token> (optional)
    200 application/json: the answer; 204: nothing to answer (notifications only);
    with a `generate` that has `stream: true`: `$/stream` notifications first, then the answer,
    as server-sent events (`Accept: text/event-stream`) or as JSON lines (application/x-ndjson).

Run it with `serve run reprolm_ray.serve_app:app_builder models=smollm2-135m replicas=2`, or
`python3 -m reprolm_ray.serve_app --help` on a machine of its own (deploy/ray/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

from ray import serve
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from . import jsonrpc
from .daemon import DaemonGone, ReplicaDaemon
from .fleet import Fleet
from .journals import JournalIndex
from .router import Router
from .sessions import SessionTable

log = logging.getLogger("reprolm_ray")

SESSION_HEADER = "reprolm-session"
MAX_TOKEN = 256
_DONE = object()


@serve.deployment(name="ReprolmReplica", max_ongoing_requests=64, health_check_period_s=10)
class Replica:
    """One daemon. Serve restarts a replica whose daemon is gone (check_health)."""

    def __init__(self, fleet: Fleet) -> None:
        self.daemon = ReplicaDaemon(fleet, "serve")

    async def call(self, method: str, params: Any) -> Dict[str, Any]:
        try:
            return await self.daemon.call(method, params)
        except DaemonGone:
            _end_replica(self.daemon)
            raise

    async def call_stream(self, method: str, params: Any):
        """Yields ("notification", method, params) for each of the request's notifications, then
        ("outcome", outcome)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        task = asyncio.ensure_future(self.daemon.call(
            method, params, lambda name, p: loop.call_soon_threadsafe(queue.put_nowait, (name, p))))
        task.add_done_callback(lambda _: queue.put_nowait(_DONE))
        try:
            while (item := await queue.get()) is not _DONE:
                yield ("notification", item[0], item[1])
            yield ("outcome", task.result())
        except DaemonGone:
            _end_replica(self.daemon)
            raise
        finally:
            if not task.done():
                task.cancel()

    def record(self) -> Dict[str, Any]:
        return dict(self.daemon.record.__dict__)

    def check_health(self) -> None:
        self.daemon.check()

    def __del__(self) -> None:
        daemon = getattr(self, "daemon", None)
        if daemon is not None:
            daemon.close()


def _end_replica(daemon: ReplicaDaemon) -> None:
    """The daemon died: end this replica's process at once, so that Ray sees a dead replica (its
    requests fail over to the others, which the router retries) and starts a new one, rather than
    routing more requests here until a health check fails."""
    log.error("the daemon of %s is gone; ending the replica so that Ray replaces it", daemon.name)
    os._exit(1)


@serve.deployment(name="ReprolmSessions", num_replicas=1, max_ongoing_requests=1000)
class Sessions:
    def __init__(self, idle_seconds: float) -> None:
        self.table = SessionTable(idle_seconds)

    def apply(self, token: str, ops: List[Tuple[str, Any]]) -> List[Any]:
        return self.table.apply(token, ops)


@serve.deployment(name="ReprolmRouter", max_ongoing_requests=1000, ray_actor_options={"num_cpus": 0})
class Ingress:
    def __init__(self, replicas: Any, sessions: Any, journal_dir: str, max_body_bytes: int, max_batch: int,
                 retries: int) -> None:
        self.replicas = replicas
        self.sessions = sessions
        self.max_body_bytes = max_body_bytes
        self.retries = retries
        # The replicas make the folder; a node that does not mount it finds no receipt by id.
        self.router = Router(self._backend, self._apply_sessions, JournalIndex(journal_dir), max_batch)

    async def _apply_sessions(self, token: str, ops: List[Tuple[str, Any]]) -> List[Any]:
        return await self.sessions.apply.remote(token, ops)

    async def _backend(self, method: str, params: Any,
                       hook: Optional[Callable[[Dict[str, Any]], None]]) -> Dict[str, Any]:
        """One request on a replica. A replica that dies before answering is replaced by Ray; the
        request is sent again (same request, same bits: a derived or given seed is in its
        params), unless part of its stream was already sent on."""
        failure = ""
        for attempt in range(self.retries + 1):
            streamed = False
            response = None
            try:
                if hook is None:
                    response = self.replicas.call.remote(method, params)
                    return await response
                response = self.replicas.options(stream=True).call_stream.remote(method, params)
                async for item in response:
                    if item[0] == "outcome":
                        return item[1]
                    streamed = True
                    hook({"jsonrpc": "2.0", "method": item[1], "params": item[2]})
                raise RuntimeError("the replica's stream ended without an answer")
            except asyncio.CancelledError:
                # Awaiting is not the request: cancel it on the replica too, which cancels it
                # on the daemon (`$/cancelRequest`).
                if response is not None:
                    response.cancel()
                raise
            except Exception as error:  # the replica or its daemon died
                failure = type(error).__name__
                log.warning("%s failed on a replica (attempt %d): %s", method, attempt + 1, error)
                if streamed:
                    break
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        return {"error": jsonrpc.error_object(-32603, f"Internal error: no replica answered {method} ({failure})")}

    async def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            return _json(jsonrpc.invalid_request(None, "send one JSON-RPC message or a batch with POST"), 405, {"Allow": "POST"})
        token = request.headers.get(SESSION_HEADER)
        if token is not None and not (0 < len(token) <= MAX_TOKEN and all("!" <= ch <= "~" for ch in token)):
            return _json(jsonrpc.invalid_request(None, f"the Reprolm-Session header must be 1 to {MAX_TOKEN} visible ASCII characters"), 400)
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        try:
            parsed = jsonrpc.parse_body(body)
        except jsonrpc.ParseError as error:
            return _json(jsonrpc.parse_error(str(error)))
        if Router.wants_stream(parsed):
            sse = "text/event-stream" in request.headers.get("accept", "")
            return StreamingResponse(self._stream(parsed, token, sse),
                                     media_type="text/event-stream" if sse else "application/x-ndjson")
        answer = await self.router.handle(parsed, token)
        return Response(status_code=204) if answer is None else _json(answer)

    async def _body(self, request: Request) -> Any:
        limit = self.max_body_bytes
        announced = request.headers.get("content-length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            return _too_large(limit, int(announced))
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return _too_large(limit, None)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _stream(self, parsed: Any, token: Optional[str], sse: bool):
        queue: asyncio.Queue = asyncio.Queue()
        task = asyncio.ensure_future(self.router.handle(parsed, token, queue.put_nowait))
        task.add_done_callback(lambda _: queue.put_nowait(_DONE))
        try:
            while (item := await queue.get()) is not _DONE:
                yield _frame(item, sse)
            answer = task.result()
            if answer is not None:
                yield _frame(answer, sse)
        finally:
            if not task.done():
                task.cancel()


def _frame(message: Any, sse: bool) -> bytes:
    payload = jsonrpc.dumps(message)
    return b"data: " + payload + b"\n\n" if sse else payload + b"\n"


def _json(message: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> Response:
    return Response(jsonrpc.dumps(message), status_code=status, media_type="application/json", headers=headers)


def _too_large(limit: int, announced: Optional[int]) -> Response:
    data: Dict[str, Any] = {"limit": limit}
    if announced is not None:
        data["announced"] = announced
    return _json(jsonrpc.invalid_request(None, f"body larger than {limit} bytes", data), 413)


def build_app(fleet: Fleet, *, replicas: int = 2, autoscaling: Optional[Dict[str, Any]] = None,
              replica_cpus: float = 1.0, replica_max_ongoing: int = 64, health_check_period_s: float = 10.0,
              ingress_replicas: int = 1, max_body_bytes: int = 16 << 20, max_batch: int = 64,
              session_idle_seconds: float = 600.0, retries: int = 6):
    """The application: `replicas` daemons (or Serve's autoscaling between its bounds, e.g.
    `{"min_replicas": 1, "max_replicas": 8, "target_ongoing_requests": 8}`), each with
    `replica_cpus` CPUs, behind `ingress_replicas` routers."""
    scale: Dict[str, Any] = {"autoscaling_config": autoscaling} if autoscaling else {"num_replicas": replicas}
    replica = Replica.options(ray_actor_options={"num_cpus": replica_cpus}, max_ongoing_requests=replica_max_ongoing,
                              health_check_period_s=health_check_period_s, **scale).bind(fleet)
    sessions = Sessions.options(ray_actor_options={"num_cpus": 0}).bind(session_idle_seconds)
    return Ingress.options(num_replicas=ingress_replicas).bind(replica, sessions, fleet.journal_dir, max_body_bytes,
                                                               max_batch, retries)


def app_builder(args: Dict[str, str]):
    """For `serve run reprolm_ray.serve_app:app_builder key=value...` and Serve config files:
    models (comma-separated), replicas, min_replicas and max_replicas (autoscaling instead of a
    fixed count), target_ongoing_requests, replica_cpus, threads, journal_dir, binary."""
    fleet = Fleet(models=[m for m in args.get("models", "smollm2-135m").split(",") if m],
                  binary=args.get("binary"), threads=int(args.get("threads", "1")))
    if "journal_dir" in args:
        fleet.journal_dir = args["journal_dir"]
    autoscaling = None
    if "max_replicas" in args:
        autoscaling = {"min_replicas": int(args.get("min_replicas", "1")), "max_replicas": int(args["max_replicas"]),
                       "target_ongoing_requests": float(args.get("target_ongoing_requests", "8"))}
    return build_app(fleet, replicas=int(args.get("replicas", "2")), autoscaling=autoscaling,
                     replica_cpus=float(args.get("replica_cpus", "1")))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python3 -m reprolm_ray.serve_app",
                                     description="Serve a reprolm fleet over HTTP on this machine's Ray (a local one when none runs).")
    parser.add_argument("--models", default="smollm2-135m", help="comma-separated catalogue names or GGUF paths")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="forward-pass threads per daemon")
    parser.add_argument("--journal-dir", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--address", default=None, help="a running Ray cluster's address (default: start a local one)")
    a = parser.parse_args(argv)
    import ray

    if a.address is None and os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") != "0":
        # Ray read its settings when this module imported it: start again with them set.
        from .fleet import single_machine_ray_env

        single_machine_ray_env()
        os.execv(sys.executable, [sys.executable, "-m", "reprolm_ray.serve_app", *(sys.argv[1:] if argv is None else argv)])
    ray.init(address=a.address, include_dashboard=False, **({"_node_ip_address": "127.0.0.1"} if a.address is None else {}))
    serve.start(http_options={"host": a.host, "port": a.port})
    args = {"models": a.models, "replicas": str(a.replicas), "threads": str(a.threads), "replica_cpus": "1"}
    if a.journal_dir:
        args["journal_dir"] = a.journal_dir
    serve.run(app_builder(args), blocking=True)


if __name__ == "__main__":
    main()
