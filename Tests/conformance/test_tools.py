"""Tool calls (generate {messages, tools, toolChoice}) through real daemons.

- Forced calls: with toolChoice "required" (or naming a function) on Qwen2.5-Coder, sampled at
  temperature 1 over several seeds and tool sets, every answer is one call whose name is a tool's
  and whose arguments validate with Python's jsonschema against that tool's parameters.
- The prompt: a conversation with an assistant's tool calls and tool results is rendered as
  jinja2 renders the model's template in transformers' environment (the template is the one the
  Swift goldens were made from), token for token, and generates.
- Replay: tool-call receipts (required, a named function, auto, none) replay identically after a
  restart: the canonical request records tools and toolChoice, so the forced-call grammar returns.
- Refusals, each at its path.
"""
import json
import os
from pathlib import Path

import jinja2
import jinja2.ext
import jinja2.sandbox
import jsonschema
import pytest

from wire import assert_error, assert_result, call_windowed

SMOL, QWEN = "smollm2-135m", "qwen2.5-coder-0.5b"
GOLDEN = Path(__file__).resolve().parents[1] / "ServerTests" / "Golden" / "chat-tool-templates.json"


def function(name, description, parameters=None):
    f = {"name": name, "description": description}
    if parameters is not None:
        f["parameters"] = parameters
    return {"type": "function", "function": f}


WEATHER = function("get_weather", "Get the weather forecast for a city.", {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 40}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                   "days": {"type": "integer", "minimum": 1, "maximum": 14}},
    "required": ["city"]})
CALCULATOR = function("calculate", "Evaluate an arithmetic expression.", {
    "type": "object", "properties": {"expression": {"type": "string", "maxLength": 60}, "precision": {"type": "integer", "minimum": 0, "maximum": 10}},
    "required": ["expression"], "additionalProperties": False})
FLIGHT = function("book_flight", "Book a flight for some passengers.", {
    "type": "object",
    "properties": {
        "passengers": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "object", "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer", "minimum": 0, "maximum": 120}},
            "required": ["name", "age"], "additionalProperties": False}},
        "budget": {"type": "number", "minimum": 0},
        "direct": {"type": "boolean"},
        "class": {"anyOf": [{"const": "economy"}, {"const": "business"}, {"type": "null"}]}},
    "required": ["passengers", "direct"]})
CLOCK = function("get_time", "The current time.")
TREE = function("add_path", "Add a path to a file tree.", {
    "$defs": {"dir": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
                                                      "child": {"anyOf": [{"$ref": "#/$defs/dir"}, {"type": "null"}]}},
                      "required": ["name", "child"], "additionalProperties": False}},
    "type": "object", "properties": {"root": {"$ref": "#/$defs/dir"}}, "required": ["root"]})

TOOL_SETS = {
    "weather": ([WEATHER], "Will it rain in Lisbon this week?"),
    "weather_and_calculator": ([WEATHER, CALCULATOR], "How much is 12.5% of 348, and is it sunny in Kyoto?"),
    "flight": ([FLIGHT], "Book a flight for me (Ana, 34) and my son Leo (8), direct if possible."),
    "clock_and_tree": ([CLOCK, TREE], "Create the folder src/app, and tell me the time."),
}


def empty_arguments_schema():
    return {"type": "object", "properties": {}, "additionalProperties": False}


def check_call(result, tools):
    """The one call of a forced answer: its name is a tool's and its arguments validate."""
    calls = result["toolCalls"]
    assert len(calls) == 1, result
    by_name = {t["function"]["name"]: t["function"] for t in tools}
    call = calls[0]
    assert call["name"] in by_name, result
    schema = by_name[call["name"]].get("parameters") or empty_arguments_schema()
    jsonschema.Draft202012Validator(schema).validate(call["arguments"])
    # The text is the call as the template writes calls, and it parses to the same call.
    text = result["text"]
    assert text.startswith("<tool_call>\n") and text.endswith("\n</tool_call>"), text
    assert json.loads(text[len("<tool_call>\n"):-len("\n</tool_call>")]) == call
    return call["name"]


def test_forced_calls_validate_against_their_tools(start_stdio):
    d = start_stdio("--model", QWEN, "--no-journal")
    calls, meta, n = [], {}, 0
    for set_name, (tools, question) in TOOL_SETS.items():
        for seed in range(1, 9):
            n += 1
            calls.append((n, {"messages": [{"role": "user", "content": question}], "tools": tools, "toolChoice": "required",
                              "temperature": 1, "seed": seed, "maxTokens": 200}))
            meta[n] = (set_name, tools)
        # A named function: that one, whatever the question.
        for seed in (1, 2):
            n += 1
            named = tools[-1]["function"]["name"]
            calls.append((n, {"messages": [{"role": "user", "content": question}], "tools": tools,
                              "toolChoice": {"type": "function", "function": {"name": named}}, "temperature": 1, "seed": seed, "maxTokens": 200}))
            meta[n] = (set_name, [tools[-1]])
    replies = call_windowed(d, "generate", calls)
    valid, cut, names = 0, [], set()
    for id, reply in sorted(replies.items()):
        set_name, tools = meta[id]
        r = assert_result(reply, id)
        assert r["receipt"]["request"]["tools"] and r["receipt"]["request"]["toolChoice"] in ("required", calls[id - 1][1]["toolChoice"])
        if r["finishReason"] == "length":
            cut.append((set_name, id))
            continue
        assert r["finishReason"] == "stop", r
        names.add(check_call(r, tools))
        valid += 1
    print(f"\n{len(replies)} forced tool calls at temperature 1 over {len(TOOL_SETS)} tool sets: {valid} ended, all {valid} "
          f"valid against their tool's parameters ({len(names)} different tools called); {len(cut)} cut by maxTokens")
    assert valid >= 0.9 * len(replies)
    d.finish()


def transformers_environment():
    """jinja2 as transformers' apply_chat_template configures it (scripts/make_chat_template_golden.py)."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = lambda x, ensure_ascii=False, indent=None, separators=None, sort_keys=False: json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env.globals["raise_exception"] = raise_exception
    return env


def sorted_keys(value):
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def test_a_conversation_with_tool_results_renders_as_jinja2_and_generates(start_stdio):
    model = next(m for m in json.loads(GOLDEN.read_text(encoding="utf-8"))["models"] if m["name"] == QWEN)
    d = start_stdio("--model", QWEN, "--no-journal")
    messages = [
        {"role": "system", "content": "You help with travel."},
        {"role": "user", "content": "Is it warm in Rome, and what is 21 * 2?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome", "unit": "celsius"}}},
            {"id": "b", "type": "function", "function": {"name": "calculate", "arguments": "{\"expression\": \"21 * 2\"}"}}]},
        {"role": "tool", "content": "{\"temperature\": 27, \"sky\": \"sunny\"}", "tool_call_id": "a", "name": "get_weather"},
        {"role": "tool", "content": "42", "tool_call_id": "b"},
    ]
    tools = [WEATHER, CALCULATOR]
    r = assert_result(d.call("generate", {"messages": messages, "tools": tools, "temperature": 0, "maxTokens": 48}, id=1, timeout=300), 1)
    # The daemon's prompt is jinja2's rendering (None members dropped, keys sorted), tokenized.
    seen = [{**{k: m[k] for k in ("role", "content") if m.get(k) is not None},
             **{k: sorted_keys(m[k]) for k in sorted(m) if k not in ("role", "content") and m[k] is not None}} for m in messages]
    text = transformers_environment().from_string(model["template"]).render(
        messages=seen, tools=sorted_keys(tools), add_generation_prompt=True, bos_token=model["bos_token"],
        eos_token=model["eos_token"], documents=None)
    assert "<tool_response>\n42\n</tool_response>" in text and '"arguments": "{\\"expression\\": \\"21 * 2\\"}"' in text
    expected = assert_result(d.call("tokenize", {"text": text, "parseSpecial": True, "addSpecial": False}, id=2), 2)["tokens"]
    assert r["receipt"]["request"]["tokens"] == expected
    assert r["text"] and r["finishReason"] in ("stop", "length") and isinstance(r["toolCalls"], list), r
    d.finish()


def test_tool_call_receipts_replay_after_a_restart(start_stdio, workdir):
    journal = ("--journal", os.path.join(workdir, "journal.jsonl"))
    d = start_stdio("--model", QWEN, *journal)
    ask = [{"role": "user", "content": "What's the weather in Oslo for 3 days?"}]
    cases = [
        {"messages": ask, "tools": [WEATHER, CALCULATOR], "toolChoice": "required", "temperature": 1, "seed": 7, "maxTokens": 80, "logprobs": True},
        {"messages": ask, "tools": [WEATHER, CALCULATOR], "toolChoice": {"type": "function", "function": {"name": "calculate"}},
         "temperature": 0.9, "seed": 3, "maxTokens": 80},
        {"messages": ask, "tools": [WEATHER], "temperature": 0.8, "seed": 5, "maxTokens": 48},
        {"messages": ask, "tools": [WEATHER], "toolChoice": "none", "temperature": 0.8, "seed": 5, "maxTokens": 24},
        # Cut short: the text is a valid prefix of a call and finishReason says length.
        {"messages": ask, "tools": [FLIGHT], "toolChoice": "required", "temperature": 1, "seed": 2, "maxTokens": 6},
    ]
    answers = [assert_result(d.call("generate", p, id=i + 1, timeout=300), i + 1) for i, p in enumerate(cases)]
    for a, p in zip(answers, cases):
        assert a["receipt"]["request"]["tools"] == p["tools"]
        assert a["receipt"]["request"]["toolChoice"] == p.get("toolChoice", "auto")
    check_call(answers[0], [WEATHER, CALCULATOR])
    assert check_call(answers[1], [CALCULATOR]) == "calculate"
    assert isinstance(answers[2]["toolCalls"], list)
    # "none": the tools are not shown to the model and no calls are parsed.
    assert "toolCalls" not in answers[3]
    assert len(answers[3]["receipt"]["request"]["tokens"]) < len(answers[2]["receipt"]["request"]["tokens"])
    assert answers[4]["finishReason"] == "length" and answers[4]["text"].startswith("<tool_call>") and answers[4]["toolCalls"] == []
    d.finish()
    again = start_stdio("--model", QWEN, *journal)
    for i, a in enumerate(answers):
        replay = assert_result(again.call("reproduce", {"id": a["receipt"]["id"]}, id=100 + i, timeout=300), 100 + i)
        assert replay["identical"] is True and replay["journal"] == "matches", replay
        assert replay["actual"]["tokens"] == a["tokens"]
    again.finish()


ASK = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.mark.parametrize("model,params,path,needle", [
    (QWEN, {"tools": {"get_weather": WEATHER}}, "params.tools", "must be an array"),
    (QWEN, {"tools": []}, "params.tools", "must not be empty"),
    (QWEN, {"tools": [{"type": "function", "function": {"description": "no name"}}]}, "params.tools[0].function.name", "is required"),
    (QWEN, {"tools": [WEATHER, {"type": "function", "function": {"name": "get weather"}}]}, "params.tools[1].function.name", "letters, digits"),
    (QWEN, {"tools": [WEATHER, WEATHER]}, "params.tools[1].function.name", "repeats"),
    (QWEN, {"tools": [WEATHER], "toolChoice": "always"}, "params.toolChoice", "must be"),
    (QWEN, {"tools": [WEATHER], "toolChoice": {"type": "function", "function": {"name": "calculate"}}}, "params.toolChoice.function.name", "names no tool"),
    (QWEN, {"toolChoice": "required"}, "params.toolChoice", "only with tools"),
    (QWEN, {"tools": [WEATHER], "toolChoice": "required", "jsonSchema": {"type": "object"}}, "params.jsonSchema", "toolChoice"),
    (QWEN, {"tools": [function("f", "x", {"type": "object", "properties": {"s": {"type": "string", "pattern": "^a"}}})], "toolChoice": "required"},
     "params.tools[0].function.parameters.properties.s.pattern", "not supported"),
    (SMOL, {"tools": [WEATHER]}, "params.tools", "does not use tools"),
    (SMOL, {"tools": [WEATHER], "toolChoice": "required"}, "params.tools", "does not use tools"),
    (QWEN, {"messages": [{"role": "user", "content": "x", "tool_calls": []}]}, "params.messages[0].tool_calls", "assistant"),
    (QWEN, {"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "not json"}}]}]},
     "params.messages[0].tool_calls[0].function.arguments", "not JSON"),
])
def test_refusals_name_their_path(start_stdio, model, params, path, needle):
    d = start_stdio("--model", model, "--no-journal")
    error = assert_error(d.call("generate", {"messages": ASK, "maxTokens": 4, **params}, id=1, timeout=120), -32602, 1)
    assert error["data"]["path"] == path, error
    assert needle in error["message"], error
    d.finish()
