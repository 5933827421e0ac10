"""Raw wire access to reprolm processes: framing, a strict reader of what the daemon writes, and
connections over a spawned process's pipes or a Unix socket. Deliberately independent of
clients/python: this suite tests the bytes on the wire, not a client's idea of them.

Every byte the daemon writes on a connection is run through `StrictReader`, which accepts only
complete frames in the connection's framing, each holding one UTF-8 JSON value. Anything else
(a log line on stdout, a stray newline, a short frame at EOF) fails the test that reads it, and
so does an integer beyond 2^53 - 1 in magnitude (`check_i_json`): JSON readers that hold numbers
as doubles (JavaScript, Neovim) would round it.
"""

import json
import os
import select
import signal
import socket
import subprocess
import time

NEWLINE = "newline"
CONTENT_LENGTH = "content-length"
FRAMINGS = (NEWLINE, CONTENT_LENGTH)
TRANSPORTS = ("stdio", "socket")
#: The four ways most tests run: (transport, framing).
COMBOS = [(t, f) for t in TRANSPORTS for f in FRAMINGS]


def combo_id(combo):
    return f"{combo[0]}-{combo[1]}"

#: Seconds to wait for any single expected frame; generous, since CI machines stall.
DEFAULT_TIMEOUT = 15.0


class WireError(AssertionError):
    """The daemon's bytes broke the protocol (or did not come in time)."""


class Raw(str):
    """A JSON number kept as the exact text the daemon wrote (for comparing ids)."""


#: The largest integer every JSON reader holds exactly (RFC 7493, I-JSON).
MAX_EXACT_INTEGER = 2**53 - 1


class _Inexact(int):
    """An integer the daemon wrote that a double cannot hold (found by `check_i_json`)."""


def _mark_inexact(text):
    value = int(text)
    return _Inexact(value) if abs(value) > MAX_EXACT_INTEGER else value


def _inexact_paths(node, path):
    if isinstance(node, _Inexact):
        yield path, int(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _inexact_paths(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _inexact_paths(value, f"{path}[{index}]")


def check_i_json(text):
    """Fails on any integer of magnitude above 2^53 - 1 the daemon wrote of its own accord.

    The parser hook sees every integer token as written, before any conversion. Exempt are the
    client's own values, which JSON-RPC makes the daemon echo as sent: a response's `id` and a
    notification's `params.requestId` (tests send ids such as 2^63 - 1 on purpose)."""
    value = json.loads(text, parse_int=_mark_inexact)
    for message in value if isinstance(value, list) else [value]:
        if not isinstance(message, dict):
            continue
        echoed = {k: v for k, v in message.items() if k != "id"}
        params = echoed.get("params")
        if "method" in echoed and isinstance(params, dict):
            echoed["params"] = {k: v for k, v in params.items() if k != "requestId"}
        bad = list(_inexact_paths(echoed, "$"))
        if bad:
            raise WireError(f"daemon wrote integers a double cannot hold (I-JSON, |n| > 2^53 - 1): {bad[:5]} "
                            f"in {text[:300]!r}")


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def frame(payload, framing):
    """Frames raw payload bytes (or a JSON value) as the client side of `framing`."""
    if not isinstance(payload, (bytes, bytearray)):
        payload = dumps(payload)
    if framing == NEWLINE:
        return bytes(payload) + b"\n"
    return b"Content-Length: %d\r\n\r\n" % len(payload) + bytes(payload)


def request(method, params=None, id=None, raw_id=None):
    """A request as bytes; `raw_id` is inserted verbatim (to send ids such as 1.5 exactly)."""
    parts = [b'"jsonrpc":"2.0"']
    if raw_id is not None:
        parts.append(b'"id":' + raw_id.encode())
    elif id is not None:
        parts.append(b'"id":' + dumps(id))
    parts.append(b'"method":' + dumps(method))
    if params is not None:
        parts.append(b'"params":' + dumps(params))
    return b"{" + b",".join(parts) + b"}"


def notification(method, params=None):
    return request(method, params)


class Frame:
    """One frame from the daemon: its payload bytes, parsed JSON, and JSON with raw numbers."""

    def __init__(self, payload):
        self.payload = bytes(payload)
        try:
            text = self.payload.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WireError(f"daemon wrote a frame that is not UTF-8 ({error}): {self.payload[:300]!r}")
        try:
            self.json = json.loads(text)
            self.raw = json.loads(text, parse_int=Raw, parse_float=Raw)
        except ValueError as error:
            raise WireError(f"daemon wrote a frame that is not one JSON value ({error}): {self.payload[:300]!r}")
        check_i_json(text)

    @property
    def messages(self):
        """The messages in this frame (one, or a batch reply's elements)."""
        return self.json if isinstance(self.json, list) else [self.json]

    def __repr__(self):
        return f"Frame({self.payload[:300]!r})"


class StrictReader:
    """Splits the daemon's output into frames, failing on any byte that is not part of one."""

    HEADER = b"Content-Length: "

    def __init__(self, framing):
        assert framing in FRAMINGS
        self.framing = framing
        self.buffer = bytearray()
        self.total = 0

    def feed(self, data):
        self.buffer += data
        self.total += len(data)
        out = []
        while True:
            payload = self._next()
            if payload is None:
                return out
            out.append(Frame(payload))

    def _next(self):
        if self.framing == NEWLINE:
            end = self.buffer.find(b"\n")
            if end < 0:
                return None
            line = bytes(self.buffer[:end])
            del self.buffer[:end + 1]
            if not line or line.endswith(b"\r"):
                raise WireError(f"daemon wrote a line that is not a frame: {line[:300]!r}")
            return line
        if not self.buffer:
            return None
        if not self.HEADER.startswith(bytes(self.buffer[:len(self.HEADER)])):
            raise WireError(f"daemon wrote bytes that are not a Content-Length header: {bytes(self.buffer[:300])!r}")
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > 64:
                raise WireError(f"daemon wrote a malformed header: {bytes(self.buffer[:300])!r}")
            return None
        digits = bytes(self.buffer[len(self.HEADER):end])
        if not digits.isdigit() or (len(digits) > 1 and digits.startswith(b"0")):
            raise WireError(f"daemon wrote a malformed header: {bytes(self.buffer[:end + 4])!r}")
        length = int(digits)
        if len(self.buffer) < end + 4 + length:
            return None
        payload = bytes(self.buffer[end + 4:end + 4 + length])
        del self.buffer[:end + 4 + length]
        return payload

    def finish(self):
        if self.buffer:
            raise WireError(f"daemon output ended inside a frame: {bytes(self.buffer[:300])!r}")


class Connection:
    """One stream to the daemon. Subclasses provide `_fd`, `_write` and `close_input`."""

    def __init__(self, framing, label):
        self.framing = framing
        self.label = label
        self.reader = StrictReader(framing)
        self.frames = []  # received, not yet taken by the test
        self.eof = False

    # -- sending

    def send_bytes(self, data):
        self._write(bytes(data))

    def send(self, payload):
        """Sends one framed payload (bytes or a JSON value)."""
        self._write(frame(payload, self.framing))

    def call(self, method, params=None, id=1, timeout=DEFAULT_TIMEOUT):
        """Sends a request and returns the reply to it (a dict), keeping other frames queued."""
        self.send(request(method, params, id=id))
        return self.reply_to(id, timeout).json

    # -- receiving

    def _pump(self, timeout):
        """Reads what is available within `timeout`; False on timeout."""
        if self.eof:
            return False
        ready, _, _ = select.select([self._fd()], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            data = os.read(self._fd(), 1 << 16)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            self.reader.finish()
            return True
        self.frames.extend(self.reader.feed(data))
        return True

    def recv(self, timeout=DEFAULT_TIMEOUT):
        """The next frame; fails on EOF or timeout."""
        deadline = time.monotonic() + timeout
        while not self.frames:
            if self.eof:
                raise WireError(f"{self.label}: connection ended while a frame was expected")
            if not self._pump(deadline - time.monotonic()) and time.monotonic() >= deadline:
                raise WireError(f"{self.label}: no frame within {timeout} s")
        return self.frames.pop(0)

    def reply_to(self, id, timeout=DEFAULT_TIMEOUT, skip_notifications=True):
        """The frame answering `id` (compared as raw JSON), leaving other frames queued."""
        deadline = time.monotonic() + timeout
        index = 0
        while True:
            while index < len(self.frames):
                f = self.frames[index]
                if isinstance(f.json, dict) and "id" in f.json and "method" not in f.json and f.json["id"] == id \
                        and type(f.json["id"]) is type(id):
                    return self.frames.pop(index)
                index += 1
            if self.eof:
                raise WireError(f"{self.label}: connection ended before the reply to id {id!r}; got {self.frames}")
            if not self._pump(deadline - time.monotonic()) and time.monotonic() >= deadline:
                raise WireError(f"{self.label}: no reply to id {id!r} within {timeout} s; got {self.frames}")

    def drain(self, timeout=DEFAULT_TIMEOUT):
        """Every frame until EOF (call after `close_input`), including unread queued ones."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._pump(deadline - time.monotonic()) and time.monotonic() >= deadline:
                raise WireError(f"{self.label}: no EOF within {timeout} s; frames so far {self.frames}")
        out, self.frames = self.frames, []
        return out

    def expect_no_frames(self, timeout):
        """Waits `timeout` seconds and fails if any frame arrives (or is queued)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.eof:
            self._pump(deadline - time.monotonic())
        assert self.frames == [], f"{self.label}: unexpected frames {self.frames}"

    def finish(self, timeout=DEFAULT_TIMEOUT):
        """End of a test's session: EOF, then every remaining byte must be a frame, and no frame
        may be left that the test did not take. Returns nothing; fails otherwise."""
        self.close_input()
        leftover = self.drain(timeout)
        assert leftover == [], f"{self.label}: frames nobody asked for: {leftover}"


class StdioDaemon(Connection):
    """`reprolm serve ARGS` with stdin/stdout pipes; stderr goes to a log file."""

    def __init__(self, binary, args, framing, log_path, stdin=subprocess.PIPE):
        super().__init__(framing, f"stdio[{framing}]")
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([binary, "serve", *args], stdin=stdin, stdout=subprocess.PIPE,
                                        stderr=self._log, bufsize=0)

    def _fd(self):
        return self.process.stdout.fileno()

    def _write(self, data):
        fd = self.process.stdin.fileno()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def close_input(self):
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()

    def wait(self, timeout=DEFAULT_TIMEOUT):
        """Exit code, after checking that all of stdout was frames."""
        self.drain(timeout)
        return self.process.wait(timeout)

    def stderr_text(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream and not stream.closed:
                stream.close()
        self._log.close()


class SocketConnection(Connection):
    def __init__(self, path, framing, timeout=5.0):
        super().__init__(framing, f"socket[{framing}]")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.sock.settimeout(None)

    def _fd(self):
        return self.sock.fileno()

    def _write(self, data):
        self.sock.sendall(data)

    def close_input(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.sock.close()


class SocketDaemon:
    """`reprolm serve --socket PATH ARGS`; its stdout is captured and must stay empty."""

    def __init__(self, binary, path, args, log_path):
        self.path = path
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self._out_path = log_path + ".stdout"
        self._out = open(self._out_path, "wb")
        self.process = subprocess.Popen([binary, "serve", "--socket", path, *args], stdin=subprocess.DEVNULL,
                                        stdout=self._out, stderr=self._log)

    def wait_listening(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"daemon exited with {self.process.returncode} before listening:\n"
                                     + self.stderr_text())
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(self.path)
                return self
            except OSError:
                time.sleep(0.02)
            finally:
                probe.close()
        raise AssertionError(f"daemon did not listen on {self.path} within {timeout} s")

    def connect(self, framing=NEWLINE):
        return SocketConnection(self.path, framing)

    def stdout_bytes(self):
        self._out.flush()
        with open(self._out_path, "rb") as f:
            return f.read()

    def stderr_text(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)

    def wait(self, timeout=DEFAULT_TIMEOUT):
        return self.process.wait(timeout)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        self._out.close()


# -- assertions on messages

def call_windowed(daemon, method, calls, window=8, timeout=600):
    """Sends the (id, params) requests of `method` with `window` in flight (the daemon batches
    concurrent work; a connection may hold 64) and returns the replies by id."""
    replies, pending, in_flight = {}, list(calls), []
    while pending or in_flight:
        while pending and len(in_flight) < window:
            id, params = pending.pop(0)
            daemon.send(request(method, params, id=id))
            in_flight.append(id)
        id = in_flight.pop(0)
        replies[id] = daemon.reply_to(id, timeout=timeout).json
    return replies


def assert_error(message, code, id=None, check_id=True):
    assert isinstance(message, dict), message
    assert message.get("jsonrpc") == "2.0", message
    assert "result" not in message, message
    error = message.get("error")
    assert isinstance(error, dict) and error.get("code") == code, f"expected error {code}, got {message}"
    assert isinstance(error.get("message"), str) and error["message"], message
    if check_id:
        assert "id" in message and message["id"] == id and type(message["id"]) is type(id), \
            f"expected id {id!r}, got {message}"
    assert set(message) == {"jsonrpc", "id", "error"}, message
    return error


def assert_result(message, id):
    assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", message
    assert "error" not in message, f"expected a result for id {id!r}, got {message}"
    assert set(message) == {"jsonrpc", "id", "result"}, message
    assert message["id"] == id and type(message["id"]) is type(id), message
    return message["result"]
