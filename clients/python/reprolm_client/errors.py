"""Exceptions: one class per JSON-RPC error code the daemon answers with.

A JSON-RPC error object ``{code, message, data?}`` becomes an instance of the class registered for
its code (``ReprolmError.from_error``); a code without a class becomes a plain ``ReprolmError``,
so a daemon newer than this client still gives a usable exception.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "ReprolmError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "RequestCancelled",
    "ModelNotFound",
    "ModelLoadFailed",
    "ContextOverflow",
    "Overloaded",
    "ShuttingDown",
    "ModelMismatch",
    "ReceiptNotFound",
    "ExceedsMemoryBudget",
    "ConnectionClosed",
    "ProtocolError",
    "UntrustedSocket",
    "BinaryNotFound",
    "DaemonNotRunning",
    "ERROR_CLASSES",
]


class ReprolmError(Exception):
    """An error answered by the daemon (or, for subclasses without a code, by the connection).

    ``code`` is the JSON-RPC error code (None for client-side errors), ``message`` the daemon's
    message and ``data`` its optional ``data`` member, as parsed JSON.
    """

    code: Optional[int] = None

    def __init__(self, message: str, code: Optional[int] = None, data: Any = None,
                 request_id: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.data = data
        self.request_id = request_id

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        return f"[{self.code}] {self.message}"

    @staticmethod
    def from_error(error: Any, request_id: Any = None) -> "ReprolmError":
        """The exception for one JSON-RPC error object."""
        if not isinstance(error, dict):
            return ProtocolError(f"malformed error object: {error!r}")
        code = error.get("code")
        message = error.get("message")
        if not isinstance(message, str):
            message = repr(message)
        cls = ERROR_CLASSES.get(code, ReprolmError) if isinstance(code, int) else ReprolmError
        return cls(message, code=code if isinstance(code, int) else None,
                   data=error.get("data"), request_id=request_id)


class ParseError(ReprolmError):
    """-32700: the daemon could not parse a frame as JSON (or it was not UTF-8)."""
    code = -32700


class InvalidRequest(ReprolmError):
    """-32600: not a valid JSON-RPC request (also an empty batch or an oversized frame)."""
    code = -32600


class MethodNotFound(ReprolmError):
    """-32601: the daemon has no such method."""
    code = -32601


class InvalidParams(ReprolmError):
    """-32602: a parameter is missing, of the wrong type, out of range or unknown.

    ``path`` names the offending parameter (``"params.text"``), ``reason`` says what is wrong.
    """
    code = -32602

    @property
    def path(self) -> Optional[str]:
        return self.data.get("path") if isinstance(self.data, dict) else None

    @property
    def reason(self) -> Optional[str]:
        return self.data.get("reason") if isinstance(self.data, dict) else None


class InternalError(ReprolmError):
    """-32603: a fault of the daemon itself."""
    code = -32603


class RequestCancelled(ReprolmError):
    """-32800: the request was cancelled ($/cancelRequest or daemon shutdown)."""
    code = -32800


class ModelNotFound(ReprolmError):
    """-32001: no such model, or it is not loaded."""
    code = -32001


class ModelLoadFailed(ReprolmError):
    """-32002: the model could not be loaded."""
    code = -32002


class ContextOverflow(ReprolmError):
    """-32003: the request does not fit the model's context."""
    code = -32003


class Overloaded(ReprolmError):
    """-32004: too many requests in flight (``data``: ``{limit}``), or, under ``--memory-budget``,
    no room for the request's KV cache while only other waiting requests' models hold the budget
    (``data``: ``{neededBytes, budgetBytes}``); retry later."""
    code = -32004


class ShuttingDown(ReprolmError):
    """-32005: the daemon is shutting down and takes no new requests."""
    code = -32005


class ModelMismatch(ReprolmError):
    """-32006: ``reproduce``: the model loaded under the receipt's model name is another file
    (``data``: ``{name, sha256, loadedSha256}``)."""
    code = -32006


class ReceiptNotFound(ReprolmError):
    """-32007: ``get_receipt``, ``reproduce(id=...)``: the daemon's journal holds no receipt with
    this id (``data``: ``{id}``)."""
    code = -32007


class ExceedsMemoryBudget(ReprolmError):
    """-32008: with ``--memory-budget``, the model (or the request's KV cache with its model's
    weights) can never fit the budget (``data``: ``{neededBytes, budgetBytes}``)."""
    code = -32008


class ConnectionClosed(ReprolmError, ConnectionError):
    """The connection ended (or was closed) before the answer arrived. Has no code."""


class ProtocolError(ReprolmError):
    """The daemon sent something this client cannot read (a bad frame, non-JSON). Has no code."""


class UntrustedSocket(ReprolmError, ConnectionError):
    """The socket (or the process listening on it) belongs to another user: whatever answers
    there is not your daemon, so nothing is sent to it. Has no code."""


class BinaryNotFound(ReprolmError, FileNotFoundError):
    """No reprolm binary to start: the message says what to set (``REPROLM_BIN``, or PATH).
    Has no code."""


class DaemonNotRunning(ReprolmError, ConnectionError):
    """No daemon listens on the socket (``.path``), and none was to be started: the message says
    how to start one. Has no code."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


ERROR_CLASSES: Dict[int, Type[ReprolmError]] = {
    cls.code: cls
    for cls in (ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError,
                RequestCancelled, ModelNotFound, ModelLoadFailed, ContextOverflow, Overloaded,
                ShuttingDown, ModelMismatch, ReceiptNotFound, ExceedsMemoryBudget)
}
