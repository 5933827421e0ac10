"""Pieces of the client that need no daemon: framing, the error classes, the socket owner check."""

import os
import socket

import pytest

from reprolm_client import (ERROR_CLASSES, ContextOverflow, ExceedsMemoryBudget, InternalError, InvalidParams,
                            InvalidRequest, MethodNotFound, ModelLoadFailed, ModelMismatch,
                            ModelNotFound, Overloaded, ParseError, ReceiptNotFound, ReprolmError,
                            RequestCancelled, ShuttingDown)
from reprolm_client import framing


@pytest.mark.parametrize("code, cls", [
    (-32700, ParseError), (-32600, InvalidRequest), (-32601, MethodNotFound),
    (-32602, InvalidParams), (-32603, InternalError), (-32800, RequestCancelled),
    (-32001, ModelNotFound), (-32002, ModelLoadFailed), (-32003, ContextOverflow),
    (-32004, Overloaded), (-32005, ShuttingDown), (-32006, ModelMismatch), (-32007, ReceiptNotFound), (-32008, ExceedsMemoryBudget),
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


def test_generate_keywords_map_to_camel_case_params():
    import inspect

    from reprolm_client import Client
    from reprolm_client.client import _GENERATE_OPTIONS, _generate_params

    keywords = set(inspect.signature(Client.generate).parameters) - {"self", "prompt", "on_stream", "timeout"}
    assert keywords == set(_GENERATE_OPTIONS)
    assert _generate_params("Hi", False, {"max_tokens": 4, "top_k": None, "tokens": None, "stop": ("a",)}) == \
        {"prompt": "Hi", "maxTokens": 4, "stop": ("a",)}
    assert _generate_params(None, True, {"tokens": (1, 2), "top_logprobs": 2}) == \
        {"tokens": [1, 2], "topLogprobs": 2, "stream": True}
    assert _generate_params("Hi", True, {"stream": False}) == {"prompt": "Hi", "stream": False}
    # messages instead of prompt: no prompt member is sent.
    chat = ({"role": "user", "content": "Hi"},)
    assert _generate_params(None, False, {"messages": chat, "add_generation_prompt": False, "max_tokens": 4}) == \
        {"messages": [{"role": "user", "content": "Hi"}], "addGenerationPrompt": False, "maxTokens": 4}
    assert _generate_params(None, True, {"messages": chat, "add_generation_prompt": None}) == \
        {"messages": [{"role": "user", "content": "Hi"}], "stream": True}
    # Fill in the middle: prompt before the gap, suffix after it.
    assert _generate_params("def f():\n    ", False, {"suffix": "\n", "temperature": 0}) == \
        {"prompt": "def f():\n    ", "suffix": "\n", "temperature": 0}
    # Tools: the list as given, tool_choice in camelCase.
    tool = {"type": "function", "function": {"name": "f"}}
    assert _generate_params(None, False, {"messages": chat, "tools": (tool,), "tool_choice": "required"}) == \
        {"messages": [{"role": "user", "content": "Hi"}], "tools": [tool], "toolChoice": "required"}
    with pytest.raises(TypeError):
        _generate_params("Hi", False, {"maxTokens": 4})


def test_receipt_methods_send_camel_case_params():
    from reprolm_client import Client

    sent = []

    class Recorder(Client):
        def __init__(self):  # no connection: record what would be sent
            pass

        def call(self, method, params=None, timeout=None, **hooks):
            sent.append((method, params))
            return {}

    c = Recorder()
    c.set_seed(42)
    c.set_seed()
    c.set_seed("a phrase")
    c.reproduce(receipt={"id": "rc-1"})
    c.reproduce(id="rc-1")
    c.get_receipt("rc-1")
    c.score(tokens=[1, 2, 3], score_from=2)
    assert sent == [("setSeed", {"seed": 42}), ("setSeed", {}), ("setSeed", {"seed": "a phrase"}),
                    ("reproduce", {"receipt": {"id": "rc-1"}}), ("reproduce", {"id": "rc-1"}),
                    ("receipts/get", {"id": "rc-1"}), ("score", {"tokens": [1, 2, 3], "scoreFrom": 2})]


def test_encode_and_chat_send_camel_case_params():
    from reprolm_client import Client

    sent = []

    class Recorder(Client):
        def __init__(self):  # no connection: record what would be sent
            pass

        def call(self, method, params=None, timeout=None, **hooks):
            sent.append((method, params))
            return {}

    c = Recorder()
    c.encode("A man is eating food.")
    c.encode(("a", "b"), model="minilm-l6", pooling="cls", normalize=False, truncate=False, add_special=False)
    c.encode(tokens=[(101, 102), [7632]], pooling="none")
    c.generate(messages=[{"role": "user", "content": "What is 2 + 2?"}], temperature=0, max_tokens=24)
    c.generate("Hi", max_tokens=1)  # the positional prompt still works
    assert sent == [
        ("encode", {"input": "A man is eating food."}),
        ("encode", {"input": ["a", "b"], "model": "minilm-l6", "pooling": "cls", "normalize": False,
                    "truncate": False, "addSpecial": False}),
        ("encode", {"tokens": [[101, 102], [7632]], "pooling": "none"}),
        ("generate", {"messages": [{"role": "user", "content": "What is 2 + 2?"}], "temperature": 0, "maxTokens": 24}),
        ("generate", {"prompt": "Hi", "maxTokens": 1}),
    ]


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the socket to another user")
def test_a_socket_of_another_user_is_not_trusted(tmp_path):
    """An impostor listening at the path (the socket file given to uid 12345) is refused before
    anything is sent to it."""
    from reprolm_client import Client, UntrustedSocket
    path = str(tmp_path / "impostor.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    os.chown(path, 12345, 12345)
    try:
        with pytest.raises(UntrustedSocket, match="belongs to uid 12345"):
            Client.connect_socket(path)
    finally:
        listener.close()
