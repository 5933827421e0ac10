"""A stdlib-only client for the reprolm daemon (JSON-RPC 2.0 over a Unix socket or stdio).

    from reprolm_client import Client
    with Client.spawn_stdio(args=["--no-model"]) as c:
        c.load_model("smollm2-135m")
        print(c.tokenize("Hello")["tokens"])
        print(c.generate("Once upon a time", max_tokens=16, temperature=0)["text"])
        print(c.generate(messages=[{"role": "user", "content": "Hi!"}], max_tokens=16)["text"])
        print(c.encode(["Hello", "Hi"])["dimensions"])    # a vector per input
        c.set_seed(42)                                   # this connection's session seed
        out = c.generate("Once upon a time", max_tokens=16)
        print(c.reproduce(receipt=out["receipt"])["identical"])  # True
"""

from .client import Client, GenerationStream, default_socket_path, find_binary, start_daemon
from .errors import (
    ERROR_CLASSES,
    BinaryNotFound,
    DaemonNotRunning,
    ConnectionClosed,
    ContextOverflow,
    ExceedsMemoryBudget,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ModelLoadFailed,
    ModelMismatch,
    ModelNotFound,
    Overloaded,
    ParseError,
    ProtocolError,
    UntrustedSocket,
    ReceiptNotFound,
    ReprolmError,
    RequestCancelled,
    ShuttingDown,
)
from .framing import CONTENT_LENGTH, NEWLINE

__version__ = "0.1.0"

__all__ = [
    "Client",
    "GenerationStream",
    "default_socket_path",
    "find_binary",
    "start_daemon",
    "NEWLINE",
    "CONTENT_LENGTH",
    "ERROR_CLASSES",
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
    "ExceedsMemoryBudget",
    "Overloaded",
    "ShuttingDown",
    "ModelMismatch",
    "ReceiptNotFound",
    "ConnectionClosed",
    "ProtocolError",
    "UntrustedSocket",
    "BinaryNotFound",
    "DaemonNotRunning",
]
