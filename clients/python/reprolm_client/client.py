"""The client: one connection to a reprolm daemon, over a Unix socket or a spawned process's pipes.

Design:
- One reader thread per connection reads frames and hands each response to the caller waiting for
  its id (a ``concurrent.futures.Future``), so any number of threads may call at once; replies
  arrive in whatever order the daemon finishes them.
- Request ids are integers from a per-connection counter taken under a lock: unique while in flight.
- Writes go out whole under a lock, so frames from different threads never interleave.
- Notifications from the daemon (``$/progress``, ``$/stream``) go to the hooks registered with
  ``add_notification_handler`` (and a per-request ``on_progress`` / ``on_stream``); hooks run on
  the reader thread, so they must be quick; an exception in a hook is logged and does not stop the
  reader. A request's notifications reach its hooks before its answer resolves its Future.
- Errors answered with ``id: null`` (a frame the daemon could not parse or that was too large)
  cannot be matched to a request: they go to ``unaddressed_errors`` and the ``on_unaddressed_error``
  hook.

Adding an RPC method is one small method at the bottom of ``Client`` that calls ``self.call``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import json
import logging
import os
import queue
import shutil
import socket
import struct
import subprocess
import threading
import time
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from . import framing as _framing
from .errors import BinaryNotFound, ConnectionClosed, DaemonNotRunning, ProtocolError, ReprolmError, UntrustedSocket

__all__ = ["Client", "GenerationStream", "default_socket_path", "find_binary", "start_daemon"]

log = logging.getLogger("reprolm_client")

NotificationHandler = Callable[[str, Any], None]
ParamsHook = Callable[[Dict[str, Any]], None]
# The notifications that carry a ``requestId`` and reach that request's own hook.
_PROGRESS, _STREAM = "$/progress", "$/stream"


# ---------------------------------------------------------------------------------------------
# Locating the daemon
# ---------------------------------------------------------------------------------------------

def check_socket_owner(path: str, sock: socket.socket) -> None:
    """Raises ``UntrustedSocket`` unless the socket file and the process listening on it (its
    credentials, where the system reports them) belong to this user: another user who listens at
    the path first must not receive your prompts or answer in your daemon's name."""
    uid = os.getuid()
    owner = os.stat(path).st_uid
    if owner != uid:
        raise UntrustedSocket(f"the socket {path} belongs to uid {owner}, not to you (uid {uid}); not using it")
    if hasattr(socket, "SO_PEERCRED"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, peer, _gid = struct.unpack("3i", creds)
        if peer != uid:
            raise UntrustedSocket(f"the process listening on {path} runs as uid {peer}, not as you (uid {uid}); not using it")


def default_socket_path() -> str:
    """``$REPROLM_SOCKET``, else the daemon's default: ``$XDG_RUNTIME_DIR/reprolm.sock`` when that
    variable is an absolute path, else ``/tmp/reprolm-<uid>/reprolm.sock``."""
    explicit = os.environ.get("REPROLM_SOCKET")
    if explicit:
        return explicit
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/"):
        runtime = runtime.rstrip("/") or "/"
        return ("" if runtime == "/" else runtime) + "/reprolm.sock"
    return f"/tmp/reprolm-{os.getuid()}/reprolm.sock"


def _checkout_build() -> Optional[str]:
    """``.build/release/reprolm`` of the checkout this package is imported from, if it is (an
    installed copy lives in site-packages and cannot know where a checkout is)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for _ in range(6):
        if os.path.exists(os.path.join(here, "Package.swift")):
            candidate = os.path.join(here, ".build", "release", "reprolm")
            return candidate if os.access(candidate, os.X_OK) else None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
    return None


def find_binary() -> str:
    """The reprolm binary, looked for as ``clients/reprolm-call`` does: ``$REPROLM_BIN`` (which
    must then be an executable file), else ``reprolm`` on PATH, else ``.build/release/reprolm`` of
    the checkout this package is imported from. Raises ``BinaryNotFound`` saying what to set."""
    explicit = os.environ.get("REPROLM_BIN")
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise BinaryNotFound(f"REPROLM_BIN={explicit} is not an executable file: point REPROLM_BIN at the "
                                 "reprolm binary (a checkout's is .build/release/reprolm)")
        return explicit
    on_path = shutil.which("reprolm")
    if on_path:
        return on_path
    built = _checkout_build()
    if built:
        return built
    raise BinaryNotFound(
        "cannot find the reprolm binary: set REPROLM_BIN to its path (in a checkout, after "
        "`swift build -c release --product reprolm`: REPROLM_BIN=<checkout>/.build/release/reprolm) "
        "or put a reprolm executable on PATH")


def _connect(path: str, timeout: float) -> socket.socket:
    """A connection to the daemon at ``path``, its owner checked; OSError when none listens."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.settimeout(None)
        check_socket_owner(path, sock)
    except BaseException:
        sock.close()
        raise
    return sock


def _log_tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            return "".join(f"  | {line}\n" for line in f.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""


#: Daemons started by ``start_daemon``: they outlive their client on purpose (as those of
#: ``reprolm-call`` do); kept here so that they are not reported as leaked processes.
_started: List[subprocess.Popen] = []


def start_daemon(path: Optional[str] = None, binary: Optional[str] = None, timeout: float = 60.0,
                 args: Sequence[str] = ()) -> int:
    """Starts ``BINARY serve --socket PATH ARGS...`` in the background, as ``reprolm-call`` does
    when no daemon answers: in its own session (Ctrl-C in this process does not stop it), logging
    to ``<socket folder>/<socket name>.log``, and waits until it listens. Returns its pid.
    ``binary`` defaults to ``find_binary()``, ``path`` to ``default_socket_path()``. Raises
    ``DaemonNotRunning`` (with the end of its log) if it exits first or does not listen within
    ``timeout`` seconds; a daemon that another client started meanwhile is as good."""
    path = path or default_socket_path()
    binary = binary or find_binary()
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)
    name = os.path.basename(path)
    log = os.path.join(folder, (name[:-5] if name.endswith(".sock") else name) + ".log")
    with open(log, "ab") as out:
        process = subprocess.Popen([binary, "serve", "--socket", path, *args], stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=out, start_new_session=True, close_fds=True)
    _started.append(process)
    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect(path, 2.0).close()
            return process.pid
        except UntrustedSocket:
            raise
        except OSError:
            pass
        if process.poll() is not None:
            try:  # another client's daemon won the race: fine
                _connect(path, 2.0).close()
                return process.pid
            except OSError:
                pass
            raise DaemonNotRunning(f"the daemon ({binary}, pid {process.pid}) exited with {process.returncode} "
                                   f"before listening on {path}; its log ({log}) ends with:\n{_log_tail(log)}", path)
        if time.monotonic() >= deadline:
            raise DaemonNotRunning(f"the daemon (pid {process.pid}) did not listen on {path} within {timeout:g} s "
                                   f"(still loading? see {log}, or raise start_timeout)", path)
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# Transports: bytes in, bytes out
# ---------------------------------------------------------------------------------------------

class _SocketTransport:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.description = f"socket {sock.getpeername()!r}"

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> bytes:
        return self.sock.recv(65536)

    def close_input(self) -> None:
        """Half-close: the daemon sees EOF, answers what is in flight, then closes."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self, timeout: float) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader blocked in recv
        except OSError:
            pass
        self.sock.close()


class _PipeTransport:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.description = f"process {process.pid}"
        self._in = process.stdin.fileno()
        self._out = process.stdout.fileno()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._in, view)
            view = view[written:]

    def read(self) -> bytes:
        return os.read(self._out, 65536)

    def close_input(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass

    def close(self, timeout: float) -> None:
        """EOF on stdin lets the daemon finish and exit; past ``timeout`` it is terminated."""
        self.close_input()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        try:
            self.process.stdout.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------

class Client:
    """A JSON-RPC 2.0 connection to reprolm. Use ``connect_socket`` or ``spawn_stdio`` to make one,
    preferably as a context manager. Every method is safe to call from any thread."""

    def __init__(self, transport: Any, framing: str = _framing.NEWLINE,
                 on_notification: Optional[NotificationHandler] = None,
                 on_unaddressed_error: Optional[Callable[[ReprolmError], None]] = None,
                 timeout: Optional[float] = None) -> None:
        """``timeout``: default seconds to wait for a response (None: wait forever)."""
        self._transport = transport
        self.framing = _framing.check_framing(framing)
        self.timeout = timeout
        self._decoder = _framing.FrameDecoder(framing)
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._next_id = 1
        self._pending: Dict[int, concurrent.futures.Future] = {}
        # request id -> {notification method: hook} for $/progress and $/stream.
        self._request_hooks: Dict[int, Dict[str, ParamsHook]] = {}
        self._handlers: List[NotificationHandler] = [on_notification] if on_notification else []
        self._on_unaddressed_error = on_unaddressed_error
        #: Errors the daemon answered with ``id: null`` (the last 100).
        self.unaddressed_errors: Deque[ReprolmError] = collections.deque(maxlen=100)
        self._closed_reason: Optional[ReprolmError] = None
        self._closing = False
        self._reader = threading.Thread(target=self._read_loop, name="reprolm-client-reader",
                                        daemon=True)
        self._reader.start()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def connect_socket(cls, path: Optional[str] = None, framing: str = _framing.NEWLINE,
                       connect_timeout: float = 10.0, start: bool = False, start_timeout: float = 60.0,
                       binary: Optional[str] = None, **kwargs: Any) -> "Client":
        """Connects to a daemon's Unix socket (default: ``default_socket_path()``).

        When no daemon listens there: with ``start=True`` one is started (``start_daemon``, with
        ``binary`` or ``find_binary()``, waiting up to ``start_timeout`` seconds), as
        ``reprolm-call`` does; otherwise ``DaemonNotRunning`` says so, naming the path and how to
        start one."""
        path = path or default_socket_path()
        try:
            sock = _connect(path, connect_timeout)
        except (FileNotFoundError, ConnectionRefusedError) as error:
            if not start:
                raise DaemonNotRunning(
                    f"no reprolm daemon is listening on {path} ({error.strerror}): start one with "
                    f"`reprolm serve --socket {path}`, or connect with Client.connect_socket(start=True) "
                    "to start one in the background", path) from None
            start_daemon(path, binary=binary, timeout=start_timeout)
            sock = _connect(path, connect_timeout)
        return cls(_SocketTransport(sock), framing=framing, **kwargs)

    @classmethod
    def spawn_stdio(cls, binary: Optional[str] = None, args: Sequence[str] = (),
                    framing: str = _framing.NEWLINE, stderr: Any = None,
                    env: Optional[Dict[str, str]] = None, **kwargs: Any) -> "Client":
        """Starts ``BINARY serve ARGS...`` with pipes and talks to it over stdin/stdout.

        ``binary`` defaults to ``find_binary()``; ``args`` are what follows ``serve`` (for example
        ``["--no-model"]``); ``stderr`` goes to ``subprocess.Popen`` (default: inherited, so the
        daemon's log shows on this process's stderr).
        """
        binary = binary or find_binary()
        process = subprocess.Popen([binary, "serve", *args], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=stderr, env=env, bufsize=0)
        client = cls(_PipeTransport(process), framing=framing, **kwargs)
        return client

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def process(self) -> Optional[subprocess.Popen]:
        """The daemon process, for a client made by ``spawn_stdio``."""
        return getattr(self._transport, "process", None)

    @property
    def closed(self) -> bool:
        return self._closed_reason is not None

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """For ``spawn_stdio``: waits for the daemon to exit and returns its exit code."""
        process = self.process
        if process is None:
            return None
        code = process.wait(timeout)
        self._reader.join(timeout)
        return code

    def close_input(self) -> None:
        """Tells the daemon no more requests follow (EOF); answers still arrive."""
        self._transport.close_input()

    def close(self, timeout: float = 10.0) -> None:
        """Ends the connection (for ``spawn_stdio``: EOF, then waits up to ``timeout`` seconds for
        the daemon to exit, then terminates it). Calls still waiting get ``ConnectionClosed``."""
        with self._state_lock:
            if self._closing:
                return
            self._closing = True
        self._transport.close(timeout)
        self._reader.join(timeout)
        self._fail_pending(ConnectionClosed("the connection was closed by the client"))

    # -- low level -----------------------------------------------------------------------------

    def call_async(self, method: str, params: Any = None,
                   on_progress: Optional[ParamsHook] = None,
                   on_stream: Optional[ParamsHook] = None) -> concurrent.futures.Future:
        """Sends a request; returns a Future for its result (``future.request_id`` is its id).
        The Future raises the ``ReprolmError`` subclass for the daemon's error code.
        ``on_progress`` / ``on_stream`` get the params of each ``$/progress`` / ``$/stream``
        notification of this request, on the reader thread, before the Future resolves."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        hooks = {name: hook for name, hook in ((_PROGRESS, on_progress), (_STREAM, on_stream))
                 if hook is not None}
        with self._state_lock:
            if self._closed_reason is not None or self._closing:
                raise self._closed_reason or ConnectionClosed("the connection is closed")
            request_id = self._next_id
            self._next_id += 1
            self._pending[request_id] = future
            if hooks:
                self._request_hooks[request_id] = hooks
        future.request_id = request_id  # type: ignore[attr-defined]
        try:
            self._send(self._envelope(method, params, request_id))
        except BaseException:
            self._forget(request_id)
            raise
        return future

    def call(self, method: str, params: Any = None, timeout: Optional[float] = None,
             on_progress: Optional[ParamsHook] = None, on_stream: Optional[ParamsHook] = None) -> Any:
        """Sends a request and waits for its result. On timeout the request is cancelled on the
        daemon (``$/cancelRequest``) and ``TimeoutError`` is raised."""
        future = self.call_async(method, params, on_progress=on_progress, on_stream=on_stream)
        timeout = self.timeout if timeout is None else timeout
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            request_id = future.request_id  # type: ignore[attr-defined]
            self._forget(request_id)
            try:
                self.cancel_request(request_id)
            except (OSError, ReprolmError):
                pass
            raise TimeoutError(f"no answer to {method} (id {request_id}) within {timeout} s") from None

    async def acall(self, method: str, params: Any = None) -> Any:
        """``call`` for asyncio code: awaits the answer without blocking the event loop."""
        return await asyncio.wrap_future(self.call_async(method, params))

    def notify(self, method: str, params: Any = None) -> None:
        """Sends a notification (no id, no answer)."""
        self._send(self._envelope(method, params, None))

    def batch(self, calls: Iterable[Tuple[Any, ...]], timeout: Optional[float] = None) -> List[Any]:
        """Sends ``[(method, params), ...]`` as one batch and returns, in order, each call's result
        or its exception (as an object, not raised). ``(method, params, True)`` is a notification,
        whose slot is None."""
        messages: List[Dict[str, Any]] = []
        futures: List[Optional[concurrent.futures.Future]] = []
        with self._state_lock:
            if self._closed_reason is not None or self._closing:
                raise self._closed_reason or ConnectionClosed("the connection is closed")
            for entry in calls:
                method, params = entry[0], entry[1] if len(entry) > 1 else None
                if len(entry) > 2 and entry[2]:
                    messages.append(self._envelope(method, params, None))
                    futures.append(None)
                    continue
                request_id = self._next_id
                self._next_id += 1
                future: concurrent.futures.Future = concurrent.futures.Future()
                future.request_id = request_id  # type: ignore[attr-defined]
                self._pending[request_id] = future
                messages.append(self._envelope(method, params, request_id))
                futures.append(future)
        if not messages:
            raise ValueError("a batch must not be empty")
        self._send(messages)
        timeout = self.timeout if timeout is None else timeout
        out: List[Any] = []
        for future in futures:
            if future is None:
                out.append(None)
                continue
            try:
                out.append(future.result(timeout))
            except concurrent.futures.TimeoutError:
                raise TimeoutError(f"no answer to the batch within {timeout} s") from None
            except ReprolmError as error:
                out.append(error)
        return out

    def add_notification_handler(self, handler: NotificationHandler) -> None:
        """``handler(method, params)`` for every notification the daemon sends."""
        with self._state_lock:
            self._handlers.append(handler)

    def remove_notification_handler(self, handler: NotificationHandler) -> None:
        with self._state_lock:
            self._handlers.remove(handler)

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _envelope(method: str, params: Any, request_id: Optional[int]) -> Dict[str, Any]:
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if request_id is not None:
            message["id"] = request_id
        return message

    def _send(self, message: Any) -> None:
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"),
                             allow_nan=False).encode("utf-8")
        frame = _framing.encode(payload, self.framing)
        failure: Optional[ConnectionClosed] = None
        with self._write_lock:
            if self._closed_reason is not None:
                raise self._closed_reason
            try:
                self._transport.write(frame)
            except OSError as error:
                failure = ConnectionClosed(f"cannot write to {self._transport.description}: {error}")
        if failure is not None:
            # A failed write means the connection is gone even if the reader has not seen EOF
            # yet: mark it closed now (outside the write lock), so `closed` agrees with the error.
            self._fail_pending(failure)
            raise failure

    def _forget(self, request_id: int) -> None:
        with self._state_lock:
            self._pending.pop(request_id, None)
            self._request_hooks.pop(request_id, None)

    def _fail_pending(self, error: ReprolmError) -> None:
        with self._state_lock:
            if self._closed_reason is None:
                self._closed_reason = error
            pending = list(self._pending.values())
            self._pending.clear()
            self._request_hooks.clear()
        for future in pending:
            if not future.done():
                future.set_exception(error)

    def _read_loop(self) -> None:
        reason: ReprolmError = ConnectionClosed(f"{self._transport.description} closed the connection")
        try:
            while True:
                data = self._transport.read()
                if not data:
                    break
                for frame in self._decoder.feed(data):
                    self._dispatch_frame(frame)
        except _framing.FramingError as error:
            reason = ProtocolError(f"unreadable frame from the daemon: {error}")
            log.error("%s", reason)
        except ProtocolError as error:
            reason = error
            log.error("%s", reason)
        except OSError as error:
            if not self._closing:
                reason = ConnectionClosed(f"reading from {self._transport.description}: {error}")
        finally:
            self._fail_pending(reason)

    def _dispatch_frame(self, frame: bytes) -> None:
        try:
            message = json.loads(frame.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise ProtocolError(f"the daemon sent a frame that is not JSON ({error}): {frame[:200]!r}")
        for item in message if isinstance(message, list) else [message]:
            if isinstance(item, dict):
                self._dispatch_message(item)
            else:
                log.warning("ignoring a message that is not an object: %r", item)

    def _dispatch_message(self, message: Dict[str, Any]) -> None:
        if "method" in message:
            self._notification(message.get("method"), message.get("params"))
            return
        if "id" not in message:
            log.warning("ignoring a message with neither method nor id: %r", message)
            return
        request_id = message["id"]
        error = message.get("error")
        if request_id is None:
            failure = ReprolmError.from_error(error) if error is not None else \
                ProtocolError(f"a response with id null: {message!r}")
            self.unaddressed_errors.append(failure)
            log.warning("error not addressed to a request: %s", failure)
            if self._on_unaddressed_error:
                self._run_hook(self._on_unaddressed_error, failure)
            return
        with self._state_lock:
            future = self._pending.pop(request_id, None) if type(request_id) is int else None
            self._request_hooks.pop(request_id, None) if type(request_id) is int else None
        if future is None:
            log.debug("ignoring a response to an unknown id %r", request_id)
            return
        # Its caller may have given up on it (asyncio.wrap_future cancels it on cancel), before
        # now or while it is being set: either way the answer is dropped, and the reader goes on.
        try:
            if error is not None:
                future.set_exception(ReprolmError.from_error(error, request_id))
            elif "result" in message:
                future.set_result(message["result"])
            else:
                future.set_exception(ProtocolError(f"a response with neither result nor error: {message!r}"))
        except concurrent.futures.InvalidStateError:
            log.debug("dropping the answer to id %r: its future was cancelled", request_id)

    def _notification(self, method: Any, params: Any) -> None:
        with self._state_lock:
            handlers = list(self._handlers)
            hook = None
            if method in (_PROGRESS, _STREAM) and isinstance(params, dict):
                request_id = params.get("requestId")
                if type(request_id) is int:
                    hook = self._request_hooks.get(request_id, {}).get(method)
        if hook is not None:
            self._run_hook(hook, params)
        for handler in handlers:
            self._run_hook(handler, method, params)

    @staticmethod
    def _run_hook(hook: Callable[..., Any], *args: Any) -> None:
        try:
            hook(*args)
        except Exception:  # a hook's bug must not stop the reader
            log.exception("notification hook failed")

    # -- the RPC methods (one small function each) -----------------------------------------------

    def initialize(self, client_name: Optional[str] = None, client_version: Optional[str] = None,
                   **extra: Any) -> Dict[str, Any]:
        """Optional handshake: returns serverInfo, engine, capabilities and models."""
        params: Dict[str, Any] = dict(extra)
        if client_name is not None:
            params["clientInfo"] = _compact({"name": client_name, "version": client_version})
        return self.call("initialize", params)

    def shutdown(self) -> None:
        """The daemon refuses new requests (-32005), finishes those in flight, answers null."""
        return self.call("shutdown")

    def exit(self) -> None:
        """Notification: the daemon exits (code 0 after ``shutdown``, 1 without)."""
        self.notify("exit")

    def cancel_request(self, request_id: Any) -> None:
        """Notification: cancels a request of this connection still in flight."""
        self.notify("$/cancelRequest", {"id": request_id})

    def stats(self) -> Dict[str, Any]:
        """What the daemon has done since it started and holds now: requests by method and
        outcome, tokens, requests in flight, each loaded model's weights and prefix cache."""
        return self.call("stats")

    def list_models(self) -> List[Dict[str, Any]]:
        """Every model the daemon knows (catalogued or loaded)."""
        return self.call("models/list")["models"]

    def load_model(self, model: str, alias: Optional[str] = None,
                   on_progress: Optional[Callable[[Dict[str, Any]], None]] = None,
                   timeout: Optional[float] = None,
                   keep_alive: Union[float, str, None] = None) -> Dict[str, Any]:
        """Loads a model (catalogue name, alias or GGUF path); ``on_progress`` gets each
        ``$/progress`` params object of this load. ``keep_alive`` (seconds or a duration such
        as ``"5m"``; 0: unload once idle; negative: never) bounds how long it stays loaded
        once idle; without it the model stays until ``unload_model``. Every method that takes
        ``model`` also takes ``keep_alive`` and loads a model it names on demand."""
        return self.call("models/load", _compact({"model": model, "alias": alias, "keepAlive": keep_alive}),
                         timeout=timeout, on_progress=on_progress)

    def unload_model(self, model: str) -> Dict[str, Any]:
        return self.call("models/unload", {"model": model})

    def tokenize(self, text: str, model: Optional[str] = None, add_special: Optional[bool] = None,
                 parse_special: Optional[bool] = None,
                 keep_alive: Union[float, str, None] = None) -> Dict[str, Any]:
        """Returns ``{model, tokens, pieces, pieceBytes}``."""
        return self.call("tokenize", _compact({"text": text, "model": model,
                                               "addSpecial": add_special,
                                               "parseSpecial": parse_special, "keepAlive": keep_alive}))

    def detokenize(self, tokens: Sequence[int], model: Optional[str] = None,
                   skip_special: Optional[bool] = None) -> Dict[str, Any]:
        """Returns ``{model, text}``."""
        return self.call("detokenize", _compact({"tokens": list(tokens), "model": model,
                                                 "skipSpecial": skip_special}))

    def generate(self, prompt: Optional[str] = None, *, tokens: Optional[Sequence[int]] = None,
                 messages: Optional[Sequence[Dict[str, Any]]] = None, suffix: Optional[str] = None,
                 add_generation_prompt: Optional[bool] = None,
                 tools: Optional[Sequence[Dict[str, Any]]] = None, tool_choice: Union[str, Dict[str, Any], None] = None,
                 model: Optional[str] = None, max_tokens: Optional[int] = None,
                 stop: Union[str, Sequence[str], None] = None, temperature: Optional[float] = None,
                 top_k: Optional[int] = None, top_p: Optional[float] = None,
                 min_p: Optional[float] = None, repeat_penalty: Optional[float] = None,
                 presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
                 penalty_last_n: Optional[int] = None, beams: Optional[int] = None,
                 length_penalty: Optional[float] = None, seed: Optional[int] = None,
                 logprobs: Optional[bool] = None, top_logprobs: Optional[int] = None,
                 stream: Optional[bool] = None, add_special: Optional[bool] = None,
                 parse_special: Optional[bool] = None, on_stream: Optional[ParamsHook] = None,
                 keep_alive: Union[float, str, None] = None, format: Optional[str] = None,
                 json_schema: Union[Dict[str, Any], bool, None] = None, grammar: Optional[str] = None,
                 timeout: Optional[float] = None) -> Dict[str, Any]:
        """Continues ``prompt`` (or ``tokens``, or the conversation ``messages``); returns
        ``{model, text, tokens, finishReason, stopSequence, logprobs?, toolCalls?, usage, timings,
        seed, seedSource, seedCommitment?, seedIndex?, receipt}``.

        ``messages`` is a list of ``{"role": ..., "content": ...}`` dicts (``prompt`` is then left
        out): the daemon renders them with the model's chat template, ending with the opening of
        an assistant turn unless ``add_generation_prompt`` is False, and the receipt records the
        rendered prompt's tokens. ``suffix`` fills in the middle: ``prompt`` is the text before
        the gap and ``suffix`` the text after it, laid out with the model's fill-in-the-middle
        tokens as llama-server's ``/infill`` does (qwen2.5-coder-0.5b has them; other models
        raise ``InvalidParams`` at ``params.suffix``). ``format="json"``, ``json_schema`` (a JSON
        Schema) or ``grammar`` (GBNF) constrain the text: it is always a valid prefix, and whole
        when ``finishReason`` is ``"stop"``.
        ``tools`` are OpenAI-style function
        definitions the chat template shows the model; on qwen2.5-coder-0.5b the answer's calls
        come back in ``toolCalls`` (``[{name, arguments}]``), and ``tool_choice="required"`` makes
        the answer one call whose arguments validate against the tool's ``parameters``
        (``"none"`` hides the tools). Messages may carry an assistant's ``tool_calls`` and tool
        results (``{"role": "tool", "content": ..., "tool_call_id": ...}``). Each keyword is the generate param of the
        same name in camelCase (``max_tokens`` is ``maxTokens``); None leaves it out, so the
        daemon's default applies. Without ``seed`` the seed is the session's next derived seed after ``set_seed`` (``seedSource``
        ``"session"``), else one the daemon draws (``"entropy"``). ``on_stream`` gets
        the params of each ``$/stream`` notification (``{requestId, text, tokens, logprobs?}``)
        and turns ``stream`` on. A generation cancelled while it runs still returns its result,
        with ``finishReason`` ``"cancelled"``. ``receipt`` is what ``reproduce`` replays.
        """
        options = {name: value for name, value in locals().items() if name in _GENERATE_OPTIONS}
        params = _generate_params(prompt, on_stream is not None, options)
        return self.call("generate", params, timeout=timeout, on_stream=on_stream)

    def generate_stream(self, prompt: Optional[str] = None, *, timeout: Optional[float] = None,
                        **options: Any) -> "GenerationStream":
        """``generate`` with ``stream`` on: iterate over the returned ``GenerationStream`` for the
        params of each ``$/stream`` notification, then call ``.result()``. The keywords are
        ``generate``'s (without ``on_stream``)."""
        params = _generate_params(prompt, True, {**options, "stream": True})
        return GenerationStream(self, params, self.timeout if timeout is None else timeout)

    def score(self, text: Optional[str] = None, *, tokens: Optional[Sequence[int]] = None,
              context: Optional[str] = None, continuation: Optional[str] = None,
              model: Optional[str] = None, top_logprobs: Optional[int] = None,
              add_special: Optional[bool] = None, parse_special: Optional[bool] = None,
              score_from: Optional[int] = None, keep_alive: Union[float, str, None] = None,
              timeout: Optional[float] = None) -> Dict[str, Any]:
        """The logprob of each token of ``text`` (or ``tokens``, or ``continuation`` after
        ``context``); returns ``{model, tokens, contextTokens, scoredTokens, sum, mean,
        perplexity, receipt}``. ``score_from`` (only with ``tokens``) is the index of the first
        token scored (default 1)."""
        return self.call("score", _compact({
            "text": text, "tokens": None if tokens is None else list(tokens), "context": context,
            "continuation": continuation, "model": model, "topLogprobs": top_logprobs,
            "addSpecial": add_special, "parseSpecial": parse_special, "scoreFrom": score_from,
            "keepAlive": keep_alive}),
            timeout=timeout)

    def encode(self, input: Union[str, Sequence[str], None] = None,
               tokens: Optional[Sequence[Sequence[int]]] = None, model: Optional[str] = None,
               pooling: Optional[str] = None, normalize: Optional[bool] = None,
               truncate: Optional[bool] = None, add_special: Optional[bool] = None,
               keep_alive: Union[float, str, None] = None,
               timeout: Optional[float] = None) -> Dict[str, Any]:
        """Embeddings (``encode``) of ``input`` (a text or a list of texts) or of ``tokens`` (a
        list of token-id lists); returns ``{model, embeddings, dimensions, pooling, normalize,
        tokenCounts, truncated, receipt}``, with one vector per input in ``embeddings`` (with
        ``pooling="none"``, one list of per-token vectors per input).

        ``model`` is an encoder such as ``"minilm-l6"`` (load it first) or a decoder (its final
        hidden states). ``pooling`` (``"mean"``, ``"cls"``, ``"last"``, ``"none"``) and
        ``normalize`` default to the model's own (mean and True for minilm-l6 and for decoders);
        ``truncate`` (default True) cuts an input longer than the model's limit (256 tokens for
        minilm-l6) instead of raising ``ContextOverflow``; ``add_special`` (only with ``input``)
        adds the model's special tokens. Each input's vector is the same bits alone or in any
        batch; ``reproduce(receipt=result["receipt"])`` replays it."""
        if input is not None and not isinstance(input, str):
            input = list(input)
        return self.call("encode", _compact({
            "input": input, "tokens": None if tokens is None else [list(t) for t in tokens],
            "model": model, "pooling": pooling, "normalize": normalize, "truncate": truncate,
            "addSpecial": add_special, "keepAlive": keep_alive}), timeout=timeout)

    def set_seed(self, seed: Union[int, str, None] = None) -> Dict[str, Any]:
        """Sets this connection's session seed (``setSeed``): an integer (any signed 64-bit
        value) or a string of 1 to 1024 UTF-8 bytes; None lets the daemon draw one (revealed only
        in its journal). Returns ``{commitment, previous}``: the seed's commitment, and the seed
        it replaced, revealed (``{seed, commitment, requests, fromEntropy}``, or None).

        From then on, every ``generate`` sent on this connection without ``seed`` takes the
        session's next derived seed, in the order the requests are sent (``seedSource``
        ``"session"``, ``seedCommitment``, ``seedIndex`` 0, 1, ...). A session is one connection:
        another client (or another ``spawn_stdio``) has its own.
        """
        return self.call("setSeed", _compact({"seed": seed}))

    def reproduce(self, receipt: Optional[Dict[str, Any]] = None, id: Optional[str] = None,
                  timeout: Optional[float] = None) -> Dict[str, Any]:
        """Replays a receipt (``reproduce``): ``receipt`` as a ``generate``, ``score`` or
        ``encode`` result carried it, or the ``id`` of one in the daemon's journal (exactly one
        of them). Returns ``{identical, receiptId, method, model, expected, actual, divergence,
        maxLogprobDifference, journal, engine}`` (for an encode receipt ``maxEmbeddingDifference``
        instead of ``maxLogprobDifference``): ``identical`` is true when the replay gives the
        receipt's output bit for bit; otherwise ``divergence`` says where it first differs
        (for encode ``{input, index, expected, actual}``)."""
        return self.call("reproduce", _compact({"receipt": receipt, "id": id}), timeout=timeout)

    def get_receipt(self, id: str) -> Dict[str, Any]:
        """Reads a receipt back from the daemon's journal (``receipts/get``); returns
        ``{receipt, seq, prev, entry}``: the receipt and its journal line's place in the hash
        chain. An unknown id raises ``ReceiptNotFound``; a daemon without a journal
        (``--no-journal``) raises ``InvalidParams``."""
        return self.call("receipts/get", {"id": id})


class GenerationStream:
    """One streaming ``generate``: iterating yields the params of each of its ``$/stream``
    notifications (``{requestId, text, tokens, logprobs?}``) as they arrive and stops when the
    answer has come; ``result()`` returns the result (or raises the daemon's error), ``cancel()``
    sends ``$/cancelRequest`` (the result then has ``finishReason`` ``"cancelled"``).
    ``timeout`` bounds each wait (None: forever)."""

    _DONE = object()

    def __init__(self, client: Client, params: Dict[str, Any], timeout: Optional[float]) -> None:
        self._client = client
        self._timeout = timeout
        self._chunks: "queue.Queue[Any]" = queue.Queue()
        self._future = client.call_async("generate", params, on_stream=self._chunks.put)
        self.request_id: int = self._future.request_id  # type: ignore[attr-defined]
        # Set on the reader thread after every notification of the request was queued.
        self._future.add_done_callback(lambda _: self._chunks.put(self._DONE))
        self._finished = False

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return self

    def __next__(self) -> Dict[str, Any]:
        if self._finished:
            raise StopIteration
        try:
            item = self._chunks.get(timeout=self._timeout)
        except queue.Empty:
            raise TimeoutError(f"no $/stream notification nor answer for generate (id {self.request_id}) "
                               f"within {self._timeout} s") from None
        if item is self._DONE:
            self._finished = True
            error = self._future.exception()
            if error is not None:
                raise error
            raise StopIteration
        return item

    def result(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Waits for the answer and returns the result (notifications not yet iterated stay
        available)."""
        try:
            return self._future.result(self._timeout if timeout is None else timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"no answer to generate (id {self.request_id})") from None

    def cancel(self) -> None:
        self._client.cancel_request(self.request_id)


_GENERATE_OPTIONS = {
    "tokens": "tokens", "messages": "messages", "suffix": "suffix", "add_generation_prompt": "addGenerationPrompt",
    "tools": "tools", "tool_choice": "toolChoice",
    "model": "model", "keep_alive": "keepAlive", "max_tokens": "maxTokens", "stop": "stop",
    "temperature": "temperature", "top_k": "topK", "top_p": "topP", "min_p": "minP",
    "repeat_penalty": "repeatPenalty", "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty", "penalty_last_n": "penaltyLastN", "beams": "beams",
    "length_penalty": "lengthPenalty", "seed": "seed", "logprobs": "logprobs",
    "top_logprobs": "topLogprobs", "stream": "stream", "add_special": "addSpecial",
    "parse_special": "parseSpecial", "format": "format", "json_schema": "jsonSchema", "grammar": "grammar",
}


def _generate_params(prompt: Optional[str], stream: bool, options: Dict[str, Any]) -> Dict[str, Any]:
    unknown = sorted(set(options) - set(_GENERATE_OPTIONS))
    if unknown:
        raise TypeError(f"unexpected keyword arguments for generate: {', '.join(unknown)}")
    params: Dict[str, Any] = {"prompt": prompt}
    for name, value in options.items():
        if name in ("tokens", "messages", "tools") and value is not None:
            value = list(value)
        params[_GENERATE_OPTIONS[name]] = value
    if stream and params.get("stream") is None:
        params["stream"] = True
    return _compact(params)


def _compact(params: Dict[str, Any]) -> Dict[str, Any]:
    """Drops the parameters left at None, so the daemon applies its defaults."""
    return {key: value for key, value in params.items() if value is not None}
