"""Pieces of the client that need no daemon: framing and the error classes."""

import pytest

from reprolm_client import (ERROR_CLASSES, ContextOverflow, InternalError, InvalidParams,
                            InvalidRequest, MethodNotFound, ModelLoadFailed, ModelNotFound,
                            Overloaded, ParseError, ReprolmError, RequestCancelled, ShuttingDown)
from reprolm_client import framing


@pytest.mark.parametrize("code, cls", [
    (-32700, ParseError), (-32600, InvalidRequest), (-32601, MethodNotFound),
    (-32602, InvalidParams), (-32603, InternalError), (-32800, RequestCancelled),
    (-32001, ModelNotFound), (-32002, ModelLoadFailed), (-32003, ContextOverflow),
    (-32004, Overloaded), (-32005, ShuttingDown),
])
def test_each_code_has_its_class(code, cls):
    error = ReprolmError.from_error({"code": code, "message": "m", "data": {"k": 1}}, request_id=7)
    assert type(error) is cls and isinstance(error, ReprolmError)
    assert (error.code, error.message, error.data, error.request_id) == (code, "m", {"k": 1}, 7)
    assert ERROR_CLASSES[code] is cls


def test_unknown_code_is_the_base_class():
    error = ReprolmError.from_error({"code": -32099, "message": "new"})
    assert type(error) is ReprolmError and error.code == -32099 and str(error) == "[-32099] new"


def test_invalid_params_path_and_reason():
    error = ReprolmError.from_error({"code": -32602, "message": "Invalid params",
                                     "data": {"path": "params.text", "reason": "is required"}})
    assert (error.path, error.reason) == ("params.text", "is required")
    assert ReprolmError.from_error({"code": -32602, "message": "x"}).path is None


@pytest.mark.parametrize("mode", framing.FRAMINGS)
def test_encode_then_decode_byte_by_byte(mode):
    payloads = [b'{"a":1}', b"[]", b'"\xc3\xa9"']
    stream = b"".join(framing.encode(p, mode) for p in payloads)
    decoder = framing.FrameDecoder(mode)
    got = []
    for i in range(len(stream)):
        got += decoder.feed(stream[i:i + 1])
    assert got == payloads and decoder.pending_bytes == 0


def test_content_length_decoder_accepts_lf_headers_and_other_headers():
    decoder = framing.FrameDecoder("content-length")
    data = b"content-length: 2\nContent-Type: x\n\n{}\r\n" + b"Content-Length: 2\r\n\r\n[]"
    assert decoder.feed(data) == [b"{}", b"[]"]


def test_decoder_rejects_bad_headers():
    with pytest.raises(framing.FramingError):
        framing.FrameDecoder("content-length").feed(b"Content-Length: x\r\n\r\n")
    with pytest.raises(framing.FramingError):
        framing.FrameDecoder("content-length").feed(b"no colon here\r\n\r\n")


def test_newline_payload_must_not_hold_a_newline():
    with pytest.raises(ValueError):
        framing.encode(b"a\nb", "newline")
    with pytest.raises(ValueError):
        framing.check_framing("lsp")
