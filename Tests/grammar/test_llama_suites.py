"""reprolm's grammar compiler against llama.cpp's own grammar and JSON Schema suites (read from
its source, see llama_suites.py), through `reprolm grammar --batch`. Prints the counts.

- Every grammar of llama.cpp's grammars/ parses, or is refused by name.
- test-grammar-integration, GBNF cases: the same language on the suite's strings (each passing
  string is a complete sentence, no failing string is), or the grammar is refused by name
  (token references); the grammars its failure tests expect refused are refused.
- test-grammar-integration, schema cases, and test-json-schema-to-grammar: each schema converts
  to a grammar that parses, or is refused naming the keyword; FAILURE cases are refused. Our
  grammars may be narrower than llama.cpp's (fixed member order; 16-digit numbers), never
  wider: every suite string a schema grammar accepts validates against the schema (Python
  jsonschema), and each string it rejects that llama.cpp accepts is counted and shown.
"""
import json
import os
import subprocess

import pytest

import llama_suites as suites

BIN = os.environ.get("REPROLM_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release", "reprolm")

# scripts/test unpacks the source and sets REPROLM_LLAMA_SOURCE: there a missing tree fails.
pytestmark = pytest.mark.skipif(not os.environ.get("REPROLM_LLAMA_SOURCE") and not os.path.isdir(suites.source_root()),
                                reason="llama.cpp source not unpacked (scripts/test unpacks it)")


def ask(lines):
    """Answers of `reprolm grammar --batch` to request objects, in order."""
    text = "".join(json.dumps(line) + "\n" for line in lines)
    out = subprocess.run([BIN, "grammar", "--batch"], input=text.encode(), capture_output=True, check=True, timeout=120)
    answers = [json.loads(l) for l in out.stdout.decode().splitlines()]
    assert len(answers) == len(lines)
    return answers


def refused_by_name(answer):
    """A schema refusal names where (a JSON path under `schema`) and what."""
    return not answer["ok"] and answer["error"].startswith("schema")


def test_grammar_files_parse():
    files = suites.grammar_files()
    assert len(files) >= 8
    answers = ask([{"gbnf": open(f, encoding="utf-8").read()} for f in files])
    for f, a in zip(files, answers):
        assert a["ok"], f"{os.path.basename(f)}: {a.get('error')}"
    print(f"\nllama.cpp grammars/: {len(files)} of {len(files)} parse")


def test_integration_gbnf_cases():
    cases = [c for c in suites.integration_cases() if c[0] == "gbnf"]
    assert len(cases) >= 14
    answers = ask([{"gbnf": body, "strings": passing + failing} for _, _, body, passing, failing in cases])
    agreed, refused, strings = 0, [], 0
    for (_, desc, body, passing, failing), a in zip(cases, answers):
        if not a["ok"]:
            assert "token references" in a["error"], f"{desc!r} refused: {a['error']}"
            refused.append(desc)
            continue
        complete = [m["complete"] for m in a["matches"]]
        for s, ok in zip(passing, complete[:len(passing)]):
            assert ok, f"{desc!r}: should accept {s!r}"
        for s, ok in zip(failing, complete[len(passing):]):
            assert not ok, f"{desc!r}: should reject {s!r}"
        agreed += 1
        strings += len(passing) + len(failing)
    print(f"\ntest-grammar-integration GBNF cases: {agreed} agree on all {strings} strings; "
          f"{len(refused)} refused by name (token references): {refused}")
    assert agreed >= len(cases) - 2


def test_integration_failure_cases_are_refused():
    cases = suites.integration_must_fail()
    assert len(cases) >= 6
    answers = ask([{"gbnf": g} for _, g in cases])
    for (name, g), a in zip(cases, answers):
        assert not a["ok"], f"{name}: accepted {g!r}"
    print(f"\ntest-grammar-integration failure cases: {len(cases)} of {len(cases)} refused")


def check_schema_strings(desc, schema, passing, failing, answer, narrower):
    """Every string the grammar accepts whole is valid; count passing ones it rejects."""
    validator = suites.validator_for(schema)
    for s, m in zip(passing + failing, answer["matches"]):
        if m["complete"]:
            instance = json.loads(s)
            assert validator.is_valid(instance), f"{desc!r}: accepted {s!r}, which the schema does not allow"
    for s, m in zip(passing, answer["matches"]):
        if not m["complete"]:
            narrower.append((desc, s))


def test_integration_schema_cases():
    cases = [c for c in suites.integration_cases() if c[0] == "schema"]
    assert len(cases) >= 25
    answers = ask([{"schema": json.loads(body), "strings": passing + failing} for _, _, body, passing, failing in cases])
    converted, refused, narrower = 0, [], []
    for (_, desc, body, passing, failing), a in zip(cases, answers):
        if not a["ok"]:
            assert refused_by_name(a), f"{desc!r}: {a['error']}"
            refused.append(f"{desc}: {a['error']}")
            continue
        converted += 1
        check_schema_strings(desc, json.loads(body), passing, failing, a, narrower)
    print(f"\ntest-grammar-integration schema cases: {converted} converted (every accepted string valid), "
          f"{len(refused)} refused by name")
    for r in refused:
        print("  refused:", r)
    print(f"  passing strings our narrower grammars reject: {len(narrower)}")
    for d, s in narrower:
        print(f"    {d!r}: {s!r}")
    assert converted >= 20


def test_schema_to_grammar_cases():
    cases = suites.schema_to_grammar_cases()
    assert len(cases) >= 70
    lines = []
    for expected, desc, text in cases:
        try:
            lines.append({"schema": json.loads(text)})
        except json.JSONDecodeError:
            lines.append({"gbnf": "root ::= <not json>"})   # an invalid-JSON case: refused either way
    answers = ask(lines)
    ok, refused = 0, []
    for (expected, desc, _), a in zip(cases, answers):
        if expected == "FAILURE":
            assert not a["ok"], f"{desc!r} should be refused"
            continue
        if a["ok"]:
            ok += 1
        else:
            assert refused_by_name(a), f"{desc!r}: {a['error']}"
            refused.append(f"{desc}: {a['error']}")
    failures = sum(1 for c in cases if c[0] == "FAILURE")
    print(f"\ntest-json-schema-to-grammar: {ok} converted, {len(refused)} refused by name, "
          f"{failures} FAILURE cases refused")
    for r in refused:
        print("  refused:", r)
    assert ok >= 45
