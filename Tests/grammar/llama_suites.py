"""The grammar and JSON Schema cases of llama.cpp's own test suites, read from its source at test
time (never copied here): the source vendored in the llama-cpp-python 0.3.36 sdist, unpacked by
scripts/prerequisites.sh (ensure_llama_source) under the cache folder, or REPROLM_LLAMA_SOURCE.

- tests/test-grammar-integration.cpp: test_grammar(desc, GBNF, passing, failing) and
  test_schema(desc, schema, passing, failing) calls, plus grammars its test_failure_* functions
  expect to be refused.
- tests/test-json-schema-to-grammar.cpp: {SUCCESS|FAILURE, desc, schema, expected GBNF} cases.
- grammars/*.gbnf.

A small C++ literal reader pulls the arguments out: ordinary and raw string literals (adjacent
ones concatenated), braces, commas and comments; nothing else of C++ is needed.
"""
import glob
import json
import os
import re

VERSION = "0.3.36"


def source_root():
    if os.environ.get("REPROLM_LLAMA_SOURCE"):
        return os.environ["REPROLM_LLAMA_SOURCE"]
    cache = os.environ.get("REPROLM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "reprolm")
    return os.path.join(cache, f"llama.cpp-{VERSION}", "src")


def _read(path):
    with open(os.path.join(source_root(), path), encoding="utf-8") as f:
        return f.read()


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "?": "?"}


def _tokens(text, start):
    """C++ tokens from text[start:] up to the ')' closing the call opened just before start:
    ('str', value) for a string literal, ('punct', c) for { } , and ('other', word)."""
    i, depth = start, 0
    while i < len(text):
        c = text[i]
        if text.startswith("//", i):
            i = text.index("\n", i)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif c.isspace():
            i += 1
        elif text.startswith('R"', i):
            delim_end = text.index("(", i)
            delim = text[i + 2:delim_end]
            close = ")" + delim + '"'
            end = text.index(close, delim_end)
            yield ("str", text[delim_end + 1:end])
            i = end + len(close)
        elif c == '"':
            j, out = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    e = text[j + 1]
                    if e in _ESCAPES:
                        out.append(_ESCAPES[e]); j += 2
                    elif e == "x":
                        m = re.match(r"[0-9a-fA-F]+", text[j + 2:])
                        out.append(chr(int(m.group(0), 16))); j += 2 + len(m.group(0))
                    elif e == "u":
                        out.append(chr(int(text[j + 2:j + 6], 16))); j += 6
                    elif e == "U":
                        out.append(chr(int(text[j + 2:j + 10], 16))); j += 10
                    else:
                        raise ValueError(f"escape \\{e}")
                else:
                    out.append(text[j]); j += 1
            yield ("str", "".join(out))
            i = j + 1
        elif c in "({":
            depth += 1
            yield ("punct", c)
            i += 1
        elif c in ")}":
            if depth == 0:
                return
            depth -= 1
            yield ("punct", c)
            i += 1
        elif c == ",":
            yield ("punct", c)
            i += 1
        else:
            m = re.match(r"[A-Za-z0-9_:]+|.", text[i:])
            yield ("other", m.group(0))
            i += len(m.group(0))


def _arguments(text, start):
    """The top-level arguments of a call: a string (adjacent literals joined, as C++ does), a
    list ({...}, its elements the same way), or a word."""
    args, stack = [], [[]]   # stack[-1]: the elements of the innermost open list (or the call)
    joining = False          # the previous token was a string literal: concatenate
    for kind, value in _tokens(text, start):
        if kind == "str":
            if joining:
                stack[-1][-1] += value
            else:
                stack[-1].append(value)
            joining = True
            continue
        joining = False
        if kind == "punct" and value == "{":
            stack.append([])
        elif kind == "punct" and value == "}":
            done = stack.pop()
            stack[-1].append(done)
        elif kind == "other" and value not in ("std", "::", "string"):
            stack[-1].append(value)
    return stack[0]


def integration_cases():
    """(kind 'gbnf'|'schema', description, text, passing, failing) for every call."""
    text = _read("tests/test-grammar-integration.cpp")
    cases = []
    for m in re.finditer(r"\btest_(grammar|schema)\(", text):
        if text[:m.start()].rstrip().endswith("void"):
            continue  # the definitions
        args = _arguments(text, m.end())
        desc, body, passing, failing = args[:4]
        cases.append(("gbnf" if m.group(1) == "grammar" else "schema", desc, body, passing, failing))
    return cases


def integration_must_fail():
    """Grammars the suite's test_failure_* functions expect llama.cpp to refuse."""
    text = _read("tests/test-grammar-integration.cpp")
    out = []
    for fm in re.finditer(r"static void (test_failure_\w+)\(\) \{(.*?)\n\}", text, re.S):
        body = fm.group(2)
        if "build_grammar_with_root" in body:
            continue  # a custom start-rule name: reprolm's start rule is always root
        for m in re.finditer(r'R"""\((.*?)\)"""', body, re.S):
            out.append((fm.group(1), m.group(1)))
    return out


def schema_to_grammar_cases():
    """(expected 'SUCCESS'|'FAILURE', description, schema text) of test-json-schema-to-grammar."""
    text = _read("tests/test-json-schema-to-grammar.cpp")
    cases = []
    for m in re.finditer(r"\btest\(\{", text):
        args = _arguments(text, m.end())
        if len(args) >= 3 and args[0] in ("SUCCESS", "FAILURE"):
            cases.append((args[0], args[1], args[2]))
    return cases


def validator_for(schema):
    """A jsonschema validator for a schema of these suites (or like them): the schema's own draft
    ($schema), else 2020-12, except that `items` as a list is the draft 7 tuple form."""
    import jsonschema
    if '"items": [' in json.dumps(schema):
        return jsonschema.Draft7Validator(schema)
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)


def grammar_files():
    return sorted(glob.glob(os.path.join(source_root(), "grammars", "*.gbnf")))
