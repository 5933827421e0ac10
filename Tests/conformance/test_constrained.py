"""Constrained generation (format json, jsonSchema, grammar) through real daemons.

- Validity: every JSON Schema of llama.cpp's two schema suites that reprolm converts (read from
  llama.cpp's source, see Tests/grammar/llama_suites.py), plus schemas of our own, sampled at
  temperature 1 with several seeds on SmolLM2 and Qwen2.5-Coder: every answer that ends parses
  and validates with Python's jsonschema; an answer cut by maxTokens says finishReason "length".
- Replay: a schema, a grammar and a format-json receipt replay identically after a restart.
- Refusals: each at the path of what is wrong.
"""
import json
import os
import sys

import pytest

from wire import assert_error, assert_result, call_windowed

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "grammar"))
import llama_suites  # noqa: E402

SMOL, QWEN = "smollm2-135m", "qwen2.5-coder-0.5b"

OWN_SCHEMAS = [
    {"type": "object", "properties": {"name": {"type": "string", "maxLength": 30}, "age": {"type": "integer", "minimum": 0, "maximum": 150}},
     "required": ["name", "age"]},
    {"type": "array", "items": {"type": "integer", "minimum": -5, "maximum": 5}, "minItems": 2, "maxItems": 4},
    {"enum": ["red", "green", "blue", 7, None, True]},
    {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}, "id": {"type": "string", "format": "uuid"}},
     "required": ["when", "id"], "additionalProperties": False},
    {"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
                        "required": ["value", "next"]}}, "$ref": "#/$defs/node"},
    {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
    {"oneOf": [{"type": "string", "minLength": 3, "maxLength": 5}, {"type": "boolean"}]},
    {"type": ["integer", "null"], "exclusiveMinimum": 10, "exclusiveMaximum": 1000},
    {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
                                      "score": {"type": "number"}, "ok": {"type": "boolean"}}},
    {"type": "array", "prefixItems": [{"type": "string", "maxLength": 10}, {"type": "integer"}], "items": False},
    {"const": {"fixed": [1, 2, 3]}},
    True,
]


def schema_corpus():
    """(description, schema): our schemas and every llama.cpp suite schema reprolm converts."""
    seen, out = set(), []

    def add(desc, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append((desc, schema))

    for i, s in enumerate(OWN_SCHEMAS):
        add(f"own {i}", s)
    if os.path.isdir(llama_suites.source_root()):
        for kind, desc, body, _, _ in llama_suites.integration_cases():
            if kind == "schema":
                add(f"integration: {desc}", json.loads(body))
        for expected, desc, body in llama_suites.schema_to_grammar_cases():
            if expected == "SUCCESS":
                try:
                    add(f"schema-to-grammar: {desc}", json.loads(body))
                except json.JSONDecodeError:
                    pass
    return out


def test_sampled_outputs_validate_on_two_models(start_stdio):
    corpus = schema_corpus()
    d = start_stdio("--model", SMOL, "--model", QWEN)
    calls, meta = [], {}
    n = 0
    for model, seeds in ((SMOL, (1, 2, 3)), (QWEN, (1, 2))):
        for desc, schema in corpus:
            for seed in seeds:
                n += 1
                content = f"Reply with one JSON value valid against this JSON Schema, nothing else.\n{json.dumps(schema)}"
                calls.append((n, {"model": model, "messages": [{"role": "user", "content": content}], "jsonSchema": schema,
                                  "temperature": 1, "seed": seed, "maxTokens": 256}))
                meta[n] = (model, desc, schema, seed)
    replies = call_windowed(d, "generate", calls, timeout=1200)
    refused, valid, cut = [], 0, []
    for id, reply in replies.items():
        model, desc, schema, seed = meta[id]
        if "error" in reply:
            # A schema reprolm does not support: refused by name at a path under params.jsonSchema.
            error = assert_error(reply, -32602, id)
            assert error["data"]["path"].startswith("params.jsonSchema"), error
            refused.append(desc)
            continue
        r = assert_result(reply, id)
        assert r["receipt"]["request"]["jsonSchema"] == schema
        if r["finishReason"] == "length":
            cut.append((model, desc, seed))
            continue
        assert r["finishReason"] == "stop", r
        instance = json.loads(r["text"])
        assert llama_suites.validator_for(schema).is_valid(instance), f"{model} {desc!r} seed {seed}: {r['text']!r} is not valid"
        valid += 1
    schemas = len(corpus) - len(set(refused))
    print(f"\n{len(corpus)} schemas ({len(set(refused))} refused by name), {len(replies)} sampled answers: "
          f"{valid} ended and all {valid} validate; {len(cut)} cut by maxTokens")
    assert schemas >= 50
    assert valid >= 0.8 * (len(replies) - len(refused))
    d.finish()


def test_constrained_receipts_replay_after_a_restart(start_stdio, workdir):
    journal = ("--journal", os.path.join(workdir, "journal.jsonl"))
    d = start_stdio("--model", SMOL, *journal)
    cases = [
        {"prompt": "A person as JSON:", "jsonSchema": OWN_SCHEMAS[0], "temperature": 1, "seed": 5, "maxTokens": 64, "logprobs": True},
        {"prompt": "Count: ", "grammar": 'root ::= [0-9]+ ("," " "? [0-9]+)*', "temperature": 0.9, "seed": 9, "maxTokens": 24},
        {"prompt": "Some JSON:", "format": "json", "temperature": 1, "seed": 3, "maxTokens": 48},
        # Cut short: the text is a valid prefix and finishReason says length.
        {"prompt": "A long list:", "grammar": 'root ::= "[" ([a-z]+ ", ")* "]"', "temperature": 1, "seed": 1, "maxTokens": 6},
    ]
    answers = [assert_result(d.call("generate", p, id=i + 1, timeout=120), i + 1) for i, p in enumerate(cases)]
    assert answers[3]["finishReason"] == "length" and answers[3]["text"].startswith("[")
    assert answers[1]["finishReason"] in ("stop", "length")
    d.finish()
    again = start_stdio("--model", SMOL, *journal)
    for i, a in enumerate(answers):
        replay = assert_result(again.call("reproduce", {"id": a["receipt"]["id"]}, id=100 + i, timeout=120), 100 + i)
        assert replay["identical"] is True and replay["journal"] == "matches", replay
        assert replay["actual"]["tokens"] == a["tokens"]
    again.finish()


@pytest.mark.parametrize("params,path,needle", [
    ({"grammar": 'root ::= ("a" | "b"'}, "params.grammar", "expected ')'"),
    ({"grammar": 'root ::= "a" missing'}, "params.grammar", "'missing' is used but never defined"),
    ({"grammar": 'root ::= "unterminated'}, "params.grammar", "line 1, column 10"),
    ({"grammar": 'root ::= root "a"'}, "params.grammar", "left-recursive"),
    ({"grammar": "root ::= <[100]>"}, "params.grammar", "token references"),
    ({"grammar": 7}, "params.grammar", "must be a string"),
    ({"jsonSchema": {"type": "string", "pattern": "^a+$"}}, "params.jsonSchema.pattern", "'pattern' is not supported"),
    ({"jsonSchema": {"properties": {"x": {"allOf": []}}}}, "params.jsonSchema.properties.x.allOf", "not supported"),
    ({"jsonSchema": {"type": "strin"}}, "params.jsonSchema.type", "unknown type 'strin'"),
    ({"jsonSchema": {"$ref": "#/$defs/nope"}}, "params.jsonSchema.$ref", "does not exist"),
    ({"jsonSchema": "object"}, "params.jsonSchema", "must be a JSON Schema"),
    ({"format": "yaml"}, "params.format", 'must be "json"'),
    ({"format": "json", "grammar": 'root ::= "a"'}, "params.grammar", "cannot be given together with format"),
    ({"format": "json", "beams": 2}, "params.format", "beam search"),
])
def test_refusals_name_their_path(start_stdio, params, path, needle):
    d = start_stdio("--model", SMOL)
    error = assert_error(d.call("generate", {"prompt": "x", "maxTokens": 4, **params}, id=1, timeout=60), -32602, 1)
    assert error["data"]["path"] == path, error
    if needle:
        assert needle in error["message"], error
    # The daemon keeps serving.
    assert_result(d.call("generate", {"prompt": "x", "maxTokens": 2, "format": "json", "temperature": 0}, id=2, timeout=60), 2)
    d.finish()
