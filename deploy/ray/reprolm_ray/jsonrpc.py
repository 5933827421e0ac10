"""JSON-RPC 2.0 as the daemon reads it (protocol/README.md, "JSON-RPC rules"), for the HTTP
ingress: parsing a POST body, checking each message's envelope, and the error objects, with the
daemon's codes, messages and data. The ingress answers these itself; everything past the envelope
(params of every method but `setSeed`) is left to a replica's daemon, so its errors are the
daemon's own."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union

INT64 = (-(2**63), 2**63 - 1)


class ParseError(ValueError):
    pass


def _no_duplicates(pairs: List[tuple]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ParseError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _int64(text: str) -> int:
    value = int(text)
    if not INT64[0] <= value <= INT64[1]:
        raise ParseError(f"the integer {text} does not fit in 64 bits")
    return value


def _no_constant(name: str) -> Any:
    raise ParseError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ParseError(f"the number {text} is too large")
    return value


def parse_body(body: bytes) -> Any:
    """One JSON value, as strictly as the daemon: UTF-8, no duplicate keys, integers within 64
    bits, no NaN or Infinity. Raises ParseError."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError(f"invalid UTF-8 at byte {error.start}") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_int64,
                          parse_constant=_no_constant, parse_float=_finite)
    except ParseError:
        raise
    except (ValueError, RecursionError) as error:
        raise ParseError(str(error)) from None


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def error_object(code: int, message: str, data: Any = None) -> Dict[str, Any]:
    error: Dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return error


def error_response(id: Any, code: int, message: str, data: Any = None) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "error": error_object(code, message, data)}


def result_response(id: Any, result: Any) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "result": result}


def parse_error(detail: str) -> Dict[str, Any]:
    return error_response(None, -32700, f"Parse error: {detail}")


def invalid_request(id: Any, detail: str, data: Any = None) -> Dict[str, Any]:
    return error_response(id, -32600, f"Invalid request: {detail}", data)


def method_not_found(id: Any, method: str, why: str = "") -> Dict[str, Any]:
    return error_response(id, -32601, f"Method not found: {method}{why}", {"method": method})


def invalid_params(id: Any, path: str, reason: str) -> Dict[str, Any]:
    return error_response(id, -32602, f"Invalid params: {path} {reason}", {"path": path, "reason": reason})


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass
class Message:
    """One message after envelope validation (RPCMessage.swift): a request (has_id), a
    notification, a response from the client (ignored), or invalid (`error` is the answer)."""
    kind: str  # "request", "notification", "response" or "invalid"
    id: Any = None
    has_id: bool = False
    method: Optional[str] = None
    params: Any = None
    error: Optional[Dict[str, Any]] = None


def read_message(value: Any) -> Message:
    if not isinstance(value, dict):
        return Message("invalid", error=invalid_request(None, f"a message must be an object, not {_type_name(value)}"))
    has_id = "id" in value
    raw_id = value.get("id")
    if has_id and not (raw_id is None or isinstance(raw_id, (str, int, float)) and not isinstance(raw_id, bool)):
        return Message("invalid", error=invalid_request(None, f"id must be a string, a number or null, not {_type_name(raw_id)}"))
    if value.get("jsonrpc") != "2.0" or not isinstance(value.get("jsonrpc"), str):
        return Message("invalid", id=raw_id, has_id=has_id, error=invalid_request(raw_id, "\"jsonrpc\" must be exactly \"2.0\""))
    if "method" not in value:
        if has_id and ("result" in value or "error" in value):
            return Message("response", id=raw_id, has_id=True)
        return Message("invalid", id=raw_id, has_id=has_id, error=invalid_request(raw_id, "\"method\" is missing"))
    method = value["method"]
    if not isinstance(method, str):
        return Message("invalid", id=raw_id, has_id=has_id,
                       error=invalid_request(raw_id, f"\"method\" must be a string, not {_type_name(method)}"))
    params = value.get("params")
    if params == []:
        params = None  # `params: []` and `null` both mean none, as on the daemon
    if params is not None and not isinstance(params, (dict, list)):
        return Message("invalid", id=raw_id, has_id=has_id,
                       error=invalid_request(raw_id, f"\"params\" must be an object or an array, not {_type_name(params)}"))
    return Message("request" if has_id else "notification", id=raw_id, has_id=has_id, method=method, params=params)


def split_body(value: Any, max_batch: int) -> Union[Dict[str, Any], List[Message], Message]:
    """A parsed body: one Message, a batch's Messages, or (for an empty or oversized batch) the
    single error object that answers the whole body."""
    if isinstance(value, list):
        if not value:
            return invalid_request(None, "an empty batch")
        if len(value) > max_batch:
            return invalid_request(None, f"a batch of more than {max_batch} requests", {"limit": max_batch})
        return [read_message(v) for v in value]
    return read_message(value)
