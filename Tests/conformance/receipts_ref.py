"""An independent re-implementation of reprolm's receipt formats (protocol/README.md, "Seeds",
"Receipts", "Journal") with Python's hashlib and json: the tests check the daemon against it, so
the specification is shown to be complete enough to re-derive every seed and digest elsewhere."""

import hashlib
import json
import struct

DOMAIN = b"reprolm/seed/v1"
GENESIS = "0" * 64


def seed_field(seed):
    """kind || u64be(len(body)) || body; integers as 8 bytes two's complement big-endian."""
    if isinstance(seed, bool):
        raise TypeError("a seed is an integer or a string")
    if isinstance(seed, int):
        body, kind = struct.pack(">q", seed), b"i"
    else:
        body, kind = seed.encode("utf-8"), b"s"
    return kind + struct.pack(">Q", len(body)) + body


def commitment(seed):
    return hashlib.sha256(DOMAIN + seed_field(seed)).hexdigest()


#: A receipt's version is its seed scheme: the mask its derived seeds take (2^53 - 1 since
#: version 2, so that every seed is exact in a double; 2^63 - 1 in version 1).
SEED_MASKS = {1: 2**63 - 1, 2: 2**53 - 1}
RECEIPT_VERSION = 2


def derived_seed(seed, index, version=RECEIPT_VERSION):
    digest = hashlib.sha256(DOMAIN + seed_field(seed) + struct.pack(">Q", index)).digest()
    return int.from_bytes(digest[:8], "big") & SEED_MASKS[version]


def es_number(x):
    """ECMAScript Number::toString (RFC 8785's number form) from Python's shortest repr."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    text = repr(abs(x))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + s


def canonical(value):
    """RFC 8785 canonical JSON, with integers written exactly (reprolm's one change)."""
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return es_number(value).encode()
    if isinstance(value, str):
        # json.dumps escapes exactly what RFC 8785 does: " \ \b \f \n \r \t, other controls as
        # \u00xx in lowercase, and (with ensure_ascii=False) nothing else.
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    if isinstance(value, list):
        return b"[" + b",".join(canonical(v) for v in value) + b"]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return b"{" + b",".join(canonical(k) + b":" + canonical(value[k]) for k in keys) + b"}"
    raise TypeError(f"no JSON form for {value!r}")


def output_digest(output):
    record = {k: v for k, v in output.items() if k != "digest"}
    return hashlib.sha256(canonical(record)).hexdigest()


def float_bits(x):
    """A binary32 logprob as receipts carry it."""
    return struct.pack(">f", x).hex()


def check_journal(lines):
    """Checks journal lines (bytes, without newlines) as `reprolm verify` does, independently;
    returns the parsed entries, or raises AssertionError naming the 1-based line."""
    prev, entries = GENESIS, []
    for number, line in enumerate(lines, 1):
        entry = json.loads(line)
        assert canonical(entry) == line, f"line {number}: not canonical"
        assert entry["seq"] == number - 1 and entry["prev"] == prev, f"line {number}: chain"
        body = {k: v for k, v in entry.items() if k != "entry"}
        assert hashlib.sha256(canonical(body)).hexdigest() == entry["entry"], f"line {number}: entry digest"
        if entry["type"] == "receipt":
            output = entry["receipt"]["output"]
            assert output_digest(output) == output["digest"], f"line {number}: output digest"
        prev = entry["entry"]
        entries.append(entry)
    return entries


def read_journal(path):
    with open(path, "rb") as f:
        data = f.read()
    complete, _, torn = data.rpartition(b"\n")
    lines = complete.split(b"\n") if complete else []
    return lines, torn
