"""Framing of JSON-RPC payloads on a byte stream, both ways reprolm speaks.

- ``"newline"``: one compact JSON value per line, ``payload + b"\\n"``.
- ``"content-length"``: LSP style, ``b"Content-Length: N\\r\\n\\r\\n" + payload``.

The daemon detects the framing from the first byte a connection sends and answers in the same
framing, so a client picks one and keeps it for the whole connection.
"""

from __future__ import annotations

from typing import List, Optional

NEWLINE = "newline"
CONTENT_LENGTH = "content-length"
FRAMINGS = (NEWLINE, CONTENT_LENGTH)

#: A header block longer than this is not something reprolm sends.
MAX_HEADER_BYTES = 8 * 1024


class FramingError(Exception):
    """The peer's bytes do not follow the framing."""


def check_framing(framing: str) -> str:
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {FRAMINGS}, not {framing!r}")
    return framing


def encode(payload: bytes, framing: str) -> bytes:
    """One complete frame for ``payload`` (compact JSON, so it holds no newline)."""
    if framing == NEWLINE:
        if b"\n" in payload:
            raise ValueError("a newline-framed payload must not contain a newline")
        return payload + b"\n"
    if framing == CONTENT_LENGTH:
        return b"Content-Length: %d\r\n\r\n" % len(payload) + payload
    raise ValueError(f"unknown framing {framing!r}")


class FrameDecoder:
    """Incremental decoder: ``feed`` bytes, get back the complete payloads, in order.

    Header lines may end in CRLF or LF; header names are case-insensitive; other headers than
    Content-Length are ignored (as LSP readers do). Blank lines between newline frames are skipped.
    """

    def __init__(self, framing: str, max_frame_bytes: Optional[int] = None) -> None:
        self.framing = check_framing(framing)
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._body_length: Optional[int] = None

    @property
    def pending_bytes(self) -> int:
        """Bytes held for a frame not yet complete."""
        return len(self._buffer)

    def feed(self, data: bytes) -> List[bytes]:
        self._buffer += data
        frames: List[bytes] = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _next(self) -> Optional[bytes]:
        if self.framing == NEWLINE:
            while True:
                end = self._buffer.find(b"\n")
                if end < 0:
                    self._check_size(len(self._buffer))
                    return None
                line = bytes(self._buffer[:end])
                del self._buffer[:end + 1]
                if line.endswith(b"\r"):
                    line = line[:-1]
                if line.strip():
                    return line
        # Content-Length
        if self._body_length is None:
            # Skip blank lines between frames.
            while self._buffer:
                if self._buffer.startswith(b"\r\n"):
                    del self._buffer[:2]
                elif self._buffer.startswith(b"\n"):
                    del self._buffer[:1]
                elif self._buffer == b"\r":
                    return None  # wait for its "\n"
                else:
                    break
            end, sep = self._header_end()
            if end < 0:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    raise FramingError("header block too long")
                return None
            block = bytes(self._buffer[:end])
            del self._buffer[:end + sep]
            self._body_length = self._parse_headers(block)
        if len(self._buffer) < self._body_length:
            return None
        body = bytes(self._buffer[:self._body_length])
        del self._buffer[:self._body_length]
        self._body_length = None
        return body

    def _header_end(self):
        """Index and length of the blank line ending the header block (-1 if not there yet)."""
        candidates = [(self._buffer.find(sep), len(sep)) for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n")]
        found = [(i, n) for i, n in candidates if i >= 0]
        return min(found) if found else (-1, 0)

    def _parse_headers(self, block: bytes) -> int:
        length = None
        for raw in block.split(b"\n"):
            line = raw.rstrip(b"\r")
            name, colon, value = line.partition(b":")
            if not colon:
                raise FramingError(f"header line without ':': {line[:64]!r}")
            if name.strip().lower() == b"content-length":
                text = value.strip()
                if length is not None or not text.isdigit():
                    raise FramingError(f"bad Content-Length header: {line[:64]!r}")
                length = int(text)
        if length is None:
            raise FramingError("missing Content-Length header")
        self._check_size(length)
        return length

    def _check_size(self, size: int) -> None:
        if self.max_frame_bytes is not None and size > self.max_frame_bytes:
            raise FramingError(f"frame of {size} bytes is over the limit of {self.max_frame_bytes}")
