"""One reprolm daemon per replica or actor: a child process on a private Unix socket, with its own
journal, started with --accept-delegated-seeds (its one client is this replica; the socket's
folder is the replica user's alone), and a record of it beside the journal for the manifest.

The child gets SIGTERM when the process that started it dies (PR_SET_PDEATHSIG), so a replica that
Ray kills or restarts leaves no daemon behind: SIGTERM lets the daemon answer what it has, write
its journal and reveal its delegated seeds, then exit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from reprolm_client import Client, ConnectionClosed, ReprolmError, find_binary

from .fleet import Fleet

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL("libc.so.6", use_errno=True) if os.path.exists("/proc/self") else None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DaemonGone(RuntimeError):
    """The replica's daemon exited or its connection closed: the replica must be replaced."""


@dataclass
class ReplicaRecord:
    """What the manifest knows of one daemon's life (written as `<journal>.replica.json`)."""
    name: str
    kind: str
    hostname: str
    node_ip: str
    pid: int
    daemon_pid: int
    journal: str
    socket: str
    binary: str
    started: float
    engine: Dict[str, Any] = field(default_factory=dict)
    models: List[Dict[str, Any]] = field(default_factory=list)


def _node_ip() -> str:
    try:
        import ray
        if ray.is_initialized():
            return ray.util.get_node_ip_address()
    except Exception:  # outside Ray (the benchmark's direct daemon)
        pass
    return "127.0.0.1"


class ReplicaDaemon:
    """Starts the daemon and connects to it; `request` forwards one call. Thread-safe."""

    def __init__(self, fleet: Fleet, kind: str) -> None:
        self.fleet = fleet
        self.binary = fleet.binary or find_binary()
        os.makedirs(fleet.journal_dir, exist_ok=True)
        hostname = socket.gethostname()
        self.name = f"{kind}-{hostname}-{os.getpid()}-{int(time.time() * 1000)}"
        self.journal = os.path.join(os.path.abspath(fleet.journal_dir), self.name + ".jsonl")
        _sweep_stale_socket_dirs()
        # mkdtemp makes the folder 0700: only this user can reach the socket.
        self._socket_dir = tempfile.mkdtemp(prefix=SOCKET_DIR_PREFIX, dir="/tmp")
        self.socket_path = os.path.join(self._socket_dir, "daemon.sock")
        self._log_path = self.journal + ".log"
        self._started = threading.Event()
        self._process: Optional[subprocess.Popen] = None
        self._launch_error: Optional[BaseException] = None
        # The launcher thread lives as long as the child: PR_SET_PDEATHSIG fires when the thread
        # that forked exits, not only the process.
        self._launcher = threading.Thread(target=self._launch, name=f"reprolm-daemon-{self.name}", daemon=True)
        self._launcher.start()
        self._started.wait()
        if self._launch_error is not None:
            raise self._launch_error
        try:
            self.client = self._connect(fleet.start_timeout)
            info = self.client.call("initialize", {}, timeout=30)
            models = self.client.call("models/list", timeout=30)
        except BaseException:
            self._process.kill()
            raise
        self.record = ReplicaRecord(
            name=self.name, kind=kind, hostname=hostname, node_ip=_node_ip(), pid=os.getpid(),
            daemon_pid=self._process.pid, journal=self.journal, socket=self.socket_path, binary=self.binary, started=time.time(),
            engine=info.get("engine", {}),
            models=[{"name": m.get("name"), "sha256": m.get("sha256")} for m in models.get("models", []) if m.get("loaded")])
        with open(self.journal + ".replica.json", "w", encoding="utf-8") as f:
            json.dump(self.record.__dict__, f, indent=2, sort_keys=True)

    def _command(self) -> List[str]:
        f = self.fleet
        args = [self.binary, "serve", "--socket", self.socket_path, "--accept-delegated-seeds",
                "--journal", self.journal, "--idle-timeout", "0", "--threads", str(f.threads),
                "--max-requests", str(f.max_requests), "--max-requests-per-connection", str(f.max_requests),
                "--max-batch", str(f.max_requests)]
        if f.models:
            for m in f.models:
                args += ["--model", m]
        else:
            args.append("--no-model")
        return args + list(f.extra_args)

    def _launch(self) -> None:
        try:
            log = open(self._log_path, "ab")
            self._process = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             preexec_fn=_die_with_parent, close_fds=True)
            log.close()
        except BaseException as error:  # reported by the constructor
            self._launch_error = error
            self._started.set()
            return
        self._started.set()
        self._process.wait()
        # Gone (closed, killed, or its replica ended): its socket's folder goes with it.
        shutil.rmtree(self._socket_dir, ignore_errors=True)

    def _connect(self, timeout: float) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise DaemonGone(f"the daemon exited with {self._process.returncode} before listening; "
                                 f"its log {self._log_path} ends with:\n{_tail(self._log_path)}")
            try:
                return Client.connect_socket(self.socket_path, connect_timeout=2.0)
            except (ReprolmError, OSError):
                if time.monotonic() > deadline:
                    raise DaemonGone(f"the daemon did not listen on {self.socket_path} within {timeout:g} s; "
                                     f"see {self._log_path}") from None
                time.sleep(0.05)

    # -- serving ---------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None and not self.client.closed

    def check(self) -> None:
        """Raises DaemonGone unless the daemon runs and its connection is open."""
        if not self.alive:
            code = self._process.poll() if self._process else None
            raise DaemonGone(f"the daemon of {self.name} is gone (exit status {code})")

    def submit(self, method: str, params: Any,
               on_notification: Optional[Callable[[str, Dict[str, Any]], None]] = None) -> concurrent.futures.Future:
        """Sends `method` with `params` to the daemon; returns the client's future (see `outcome`).
        `on_notification(method, params)` gets the request's `$/stream` and `$/progress`
        notifications, on the client's reader thread. Raises DaemonGone when the daemon is gone."""
        self.check()
        hooks = {}
        if on_notification is not None:
            hooks = {"on_progress": lambda p: on_notification("$/progress", p),
                     "on_stream": lambda p: on_notification("$/stream", p)}
        try:
            return self.client.call_async(method, params, **hooks)
        except (ConnectionClosed, OSError) as error:
            raise DaemonGone(str(error)) from None

    async def call(self, method: str, params: Any,
                   on_notification: Optional[Callable[[str, Dict[str, Any]], None]] = None) -> Dict[str, Any]:
        """`submit`, awaited: `{"result": ...}` or `{"error": {...}}` as the daemon answered (the
        id is the caller's to add). Cancelled while waiting, it cancels the daemon's request."""
        future = self.submit(method, params, on_notification)
        try:
            return outcome(await asyncio.wrap_future(future))
        except asyncio.CancelledError:
            self.cancel(future)
            raise
        except BaseException as error:  # the daemon's error answer, or the connection's end
            return outcome(error=error)

    def notify(self, method: str, params: Any) -> None:
        self.check()
        self.client.notify(method, params)

    def cancel(self, future: Any) -> None:
        """Cancels the daemon's request behind a `request` future (`$/cancelRequest`)."""
        request_id = getattr(future, "request_id", None)
        if request_id is not None and self.alive:
            try:
                self.client.cancel_request(request_id)
            except (ReprolmError, OSError):
                pass

    def close(self, timeout: float = 30.0) -> None:
        """Ends the daemon: SIGTERM answers what is in flight, writes the journal (delegated seeds
        revealed) and exits."""
        try:
            self.client.close(timeout=2.0)
        except Exception:
            pass
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self._socket_dir, ignore_errors=True)


SOCKET_DIR_PREFIX = "reprolm-replica-"


def _sweep_stale_socket_dirs(min_age: float = 120.0) -> None:
    """Removes this user's socket folders left by replicas that were killed (a killed process
    cannot remove its own): older than `min_age` seconds, with no daemon listening in them."""
    now = time.time()
    for name in os.listdir("/tmp"):
        path = os.path.join("/tmp", name)
        try:
            st = os.lstat(path)
            if not name.startswith(SOCKET_DIR_PREFIX) or st.st_uid != os.getuid() or now - st.st_mtime < min_age:
                continue
            sock = os.path.join(path, "daemon.sock")
            if os.path.exists(sock):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    probe.settimeout(1.0)
                    if probe.connect_ex(sock) == 0:
                        continue  # a live daemon
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, "rb") as f:
            return "".join(f"  | {line}\n" for line in f.read()[-8192:].decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""


def outcome(result: Any = None, error: Optional[BaseException] = None) -> Dict[str, Any]:
    """`{"result": ...}` or `{"error": {code, message, data?}}` from a client call's outcome."""
    if error is None:
        return {"result": result}
    if isinstance(error, ConnectionClosed):
        raise DaemonGone(str(error))
    if isinstance(error, ReprolmError) and error.code is not None:
        body: Dict[str, Any] = {"code": error.code, "message": error.message}
        if error.data is not None:
            body["data"] = error.data
        return {"error": body}
    raise error
