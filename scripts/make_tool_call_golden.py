#!/usr/bin/env python3
"""Write the tool-call chat-template golden file from jinja2, as Hugging Face transformers renders.

For the catalogue models with a chat template (SmolLM2, Qwen2.5-Coder; read from their GGUF's
tokenizer.chat_template), renders conversations with tools, assistant messages with tool_calls
and tool results (role "tool") in the environment of make_chat_template_golden.py (transformers'
jinja2 environment), as apply_chat_template(messages, tools=tools, add_generation_prompt=...)
does: each tool dict passed as given, None members of a message dropped (transformers'
_normalize_chat_messages), `tools` None when there are none.

What the templates see is what reprolm's daemon builds from the same JSON (Sources/Server/
ChatRendering.swift): a message is role, content, then its other members by name; every other
object has its keys sorted (the daemon's JSON keeps no key order). So the golden file stores the
messages and tools as a client sends them, and the Swift test (Tests/ServerTests/
ToolTemplateGoldenTests.swift) reads them through the daemon's own params and rendering.

When transformers is importable, every rendering is also made by transformers' own
render_jinja_template (after its _normalize_chat_messages) and must be the same text, or both
must raise: a check that this environment is transformers', recorded as its version.

Output: Tests/ServerTests/Golden/chat-tool-templates.json
Usage: python3 scripts/make_tool_call_golden.py   (needs the gguf package and the models; see
make_chat_template_golden.py for where models are found)
"""

import json
from pathlib import Path

import jinja2

from make_chat_template_golden import MODELS, read_template, render, sorted_keys

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ServerTests" / "Golden" / "chat-tool-templates.json"


def function(name, description=None, parameters=None, **extra):
    f = {"name": name}
    if description is not None:
        f["description"] = description
    if parameters is not None:
        f["parameters"] = parameters
    f.update(extra)
    return {"type": "function", "function": f}


WEATHER = function("get_weather", "Get the current weather in a city.", {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"},
                   "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city"]})
CALCULATOR = function("calculate", "Evaluate an arithmetic expression.", {
    "type": "object",
    "properties": {"expression": {"type": "string"}, "precision": {"type": "integer", "minimum": 0, "maximum": 12}},
    "required": ["expression"], "additionalProperties": False})

TOOL_SETS = {
    "weather": [WEATHER],
    "weather_and_calculator": [WEATHER, CALCULATOR],
    "no_parameters": [function("get_time", "The current time, as HH:MM.")],
    "bare": [function("ping")],
    "unicode_and_escapes": [function(
        "traduire", "Traduit un texte — « vers » le français 🇫🇷. Quotes \" and \\ backslash,\nnew line\tand tab.",
        {"type": "object", "properties": {"texte": {"type": "string", "description": "日本語も可"}}, "required": ["texte"]},
        strict=True)],
    "numbers_and_nesting": [function("book_flight", "Book a flight.", {
        "type": "object",
        "properties": {
            "passengers": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}, "required": ["name"]},
                "minItems": 1, "maxItems": 9},
            "budget": {"type": "number", "minimum": 0, "maximum": 1500.5},
            "direct": {"type": "boolean"},
            "class": {"anyOf": [{"const": "economy"}, {"const": "business"}, {"type": "null"}]}},
        "required": ["passengers", "direct"]})],
    "defs": [function("add_node", "Add a node to a linked list.", {
        "$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
                                                            "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}}},
        "type": "object", "properties": {"head": {"$ref": "#/$defs/node"}}, "required": ["head"]})],
}


def call(name, arguments, id=None):
    c = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if id is not None:
        c["id"] = id
    return c


def m(role, content, **members):
    return {"role": role, "content": content, **members}


ASK = m("user", "What's the weather in Paris?")
CALLED = m("assistant", None, tool_calls=[call("get_weather", {"city": "Paris", "unit": "celsius"}, id="call_1")])
RESULT = m("tool", "{\"temperature\": 21, \"sky\": \"clear\"}", name="get_weather", tool_call_id="call_1")

# (name, tool set or None, messages as a client sends them)
CASES = [
    ("ask", "weather", [ASK]),
    ("ask_two_tools", "weather_and_calculator", [m("user", "What is 17 * 23, and is it warm in Oslo?")]),
    ("system_and_tools", "weather", [m("system", "You are a weather bot."), ASK]),
    ("empty_system_and_tools", "weather_and_calculator", [m("system", ""), ASK]),
    ("no_parameters", "no_parameters", [m("user", "What time is it?")]),
    ("bare_tool", "bare", [m("user", "ping")]),
    ("unicode_and_escapes", "unicode_and_escapes", [m("user", "Traduis « good morning ».")]),
    ("numbers_and_nesting", "numbers_and_nesting", [m("user", "Book a direct flight for Ann (30) and Bo.")]),
    ("defs", "defs", [m("user", "Make the list 1 -> 2.")]),
    ("call_and_result", "weather", [ASK, CALLED, RESULT]),
    ("call_result_answer", "weather", [ASK, CALLED, RESULT, m("assistant", "It is 21 °C and clear in Paris."),
                                       m("user", "And in Rome?")]),
    ("call_with_content", "weather", [ASK, m("assistant", "Let me look that up.",
                                             tool_calls=[call("get_weather", {"city": "Paris"})]), RESULT]),
    ("call_with_empty_content", "weather", [ASK, m("assistant", "", tool_calls=[call("get_weather", {"city": "Paris"})])]),
    ("call_content_absent", "weather", [ASK, {"role": "assistant", "tool_calls": [call("get_weather", {"city": "Paris"})]}]),
    ("arguments_as_string", "weather", [ASK, m("assistant", None, tool_calls=[
        call("get_weather", "{\"city\": \"Paris\", \"unit\": \"celsius\"}", id="call_9")]), RESULT]),
    ("parallel_calls_and_results", "weather_and_calculator", [
        m("user", "Weather in Paris and Rome, and 2**10?"),
        m("assistant", None, tool_calls=[call("get_weather", {"city": "Paris"}, id="a"), call("get_weather", {"city": "Rome"}, id="b"),
                                         call("calculate", {"expression": "2**10", "precision": 0}, id="c")]),
        m("tool", "{\"temperature\": 21}", tool_call_id="a"), m("tool", "{\"temperature\": 25}", tool_call_id="b"),
        m("tool", "1024", name="calculate", tool_call_id="c")]),
    ("nested_arguments", "numbers_and_nesting", [
        m("user", "Book it."),
        m("assistant", None, tool_calls=[call("book_flight", {"passengers": [{"name": "Ann", "age": 30}, {"name": "Bo"}],
                                                              "direct": True, "budget": 1200.0, "class": None})]),
        m("tool", "{\"booked\": true, \"ref\": \"ÅB-12\"}")]),
    ("unicode_arguments", "unicode_and_escapes", [
        m("user", "Traduis."), m("assistant", None, tool_calls=[call("traduire", {"texte": "héllo \"wörld\"\n🦙"})]),
        m("tool", "« bonjour »")]),
    ("empty_arguments", "no_parameters", [m("user", "Time?"), m("assistant", None, tool_calls=[call("get_time", {})]),
                                          m("tool", "12:30")]),
    ("tool_result_first", "weather", [RESULT, m("user", "What does that mean?")]),
    ("tool_result_last_no_tools", None, [ASK, CALLED, RESULT]),
    ("calls_without_tools", None, [ASK, m("assistant", "Checking.", tool_calls=[call("get_weather", {"city": "Paris"})])]),
    ("named_messages", "weather", [m("system", "Be brief.", name="policy"), m("user", "Hi", name="ann"), ASK]),
    ("system_after_call", "weather", [ASK, CALLED, RESULT, m("system", "Answer in French."), m("user", "Alors?")]),
]


def client_message(message):
    """The message as the JSON a client sends (None as null), with sorted keys where the daemon
    sorts them, so that the Python value below is the one the daemon builds."""
    return {k: v if k in ("role", "content") else sorted_keys(v) for k, v in message.items()}


def template_message(message):
    """What the template sees: None members dropped (transformers' _normalize_chat_messages),
    role, content, then the other members by name."""
    out = {k: message[k] for k in ("role", "content") if message.get(k) is not None}
    out.update({k: sorted_keys(message[k]) for k in sorted(message) if k not in ("role", "content") and message[k] is not None})
    return out


def transformers_renderer():
    """transformers' own rendering (apply_chat_template without tokenizing), or None."""
    try:
        import transformers
        from transformers.utils.chat_template_utils import _normalize_chat_messages, render_jinja_template
    except ImportError:
        return None, None

    def rendered(template, messages, tools, add, bos, eos):
        try:
            texts, _ = render_jinja_template(conversations=[_normalize_chat_messages(messages)], tools=tools,
                                             chat_template=template, add_generation_prompt=add, bos_token=bos, eos_token=eos)
            return {"output": texts[0]}
        except Exception as e:
            return {"error": {"type": type(e).__name__, "message": str(e)}}

    return rendered, transformers.__version__


def main() -> None:
    by_transformers, transformers_version = transformers_renderer()
    models = []
    for name, file in MODELS.items():
        model = read_template(name, file)
        if "skipped" in model:
            print(f"{name}: skipped, {model['skipped']}")
            continue
        cases = []
        for case, tool_set, messages in CASES:
            tools = None if tool_set is None else sorted_keys(TOOL_SETS[tool_set])
            sent = [client_message(x) for x in messages]
            for add in (True, False):
                variables = {"messages": [template_message(x) for x in sent], "add_generation_prompt": add,
                             "bos_token": model["bos_token"], "eos_token": model["eos_token"], "tools": tools, "documents": None}
                result = render(model["template"], variables)
                if by_transformers:
                    theirs = by_transformers(model["template"], sent, tools, add, model["bos_token"], model["eos_token"])
                    assert ("output" in result) == ("output" in theirs) and result.get("output") == theirs.get("output"), \
                        f"{name} {case}: jinja2 {result} but transformers {theirs}"
                cases.append({"name": case, "tools": tool_set, "messages": sent, "add_generation_prompt": add, **result})
        errors = sum(1 for c in cases if "error" in c)
        print(f"{name}: {len(cases)} renderings ({errors} raise)")
        models.append({**model, "cases": cases})
    data = {"jinja2": jinja2.__version__, "transformers": transformers_version, "tool_sets": TOOL_SETS, "models": models}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(OUT.parents[3])}"
          + (f", every rendering equal to transformers {transformers_version}'s" if transformers_version else ""))


if __name__ == "__main__":
    main()
