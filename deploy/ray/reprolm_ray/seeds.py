"""Session seeds as the router holds them: `setSeed` on the router, the indices of a session's
`generate`s taken in arrival order, and what each replica is handed (`delegatedSeed`).

The byte layouts are protocol/README.md's ("Seeds"); the daemon derives the same figures from the
seed itself (Sources/Receipts/SessionSeed.swift), and tests/test_seeds.py checks these functions
against a real daemon, so the router's `setSeed` answers are a single daemon's."""

from __future__ import annotations

import hashlib
import secrets
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

DOMAIN = b"reprolm/seed/v1"
#: Seed scheme 2 (receipts version 2): derived seeds are exact in every JSON client.
MAX_EXACT = 2**53 - 1
MAX_STRING_BYTES = 1024

Seed = Union[int, str]


def seed_field(seed: Seed) -> bytes:
    """kind || u64be(len(body)) || body; an integer as 8 bytes, two's complement, big-endian."""
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise TypeError("a session seed is an integer or a string")
    if isinstance(seed, int):
        return b"i" + struct.pack(">Q", 8) + struct.pack(">q", seed)
    body = seed.encode("utf-8")
    return b"s" + struct.pack(">Q", len(body)) + body


def commitment(seed: Seed) -> str:
    return hashlib.sha256(DOMAIN + seed_field(seed)).hexdigest()


def derived_seed(seed: Seed, index: int) -> int:
    digest = hashlib.sha256(DOMAIN + seed_field(seed) + struct.pack(">Q", index)).digest()
    return int.from_bytes(digest[:8], "big") & MAX_EXACT


def entropy_seed() -> str:
    """As the daemon's `setSeed {}`: 32 bytes from the OS's entropy as 64 lowercase hex digits."""
    return secrets.token_hex(32)


class SeedParamsError(ValueError):
    """Invalid `setSeed` params: `path` and `reason` as the daemon's -32602 carries them."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


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


def read_set_seed_params(params: Any) -> Tuple[Optional[Seed], bool]:
    """`setSeed` params as the daemon reads them (SetSeedParams): returns (seed, given); seed None
    means draw one. Raises SeedParamsError with the daemon's path and reason."""
    if params is None or params == []:
        return None, False
    if not isinstance(params, dict):
        raise SeedParamsError("params", f"must be an object, not {_type_name(params)}")
    seed = _read_seed(params.get("seed"))
    # As the daemon's reader: the seed first, then the first unknown parameter in sorted order.
    unknown = sorted(k for k in params if k != "seed")
    if unknown:
        raise SeedParamsError(f"params.{unknown[0]}", "is not a known parameter")
    return seed, seed is not None


def _read_seed(seed: Any) -> Optional[Seed]:
    path = "params.seed"
    why = "an integer beyond 2^53 − 1 is not exact in JSON clients that hold numbers as doubles"
    if seed is None:
        return None
    if isinstance(seed, float) and seed.is_integer() and abs(seed) < 2**63:
        seed = int(seed)  # 3.0 is 3, as for every integer parameter
    if isinstance(seed, int) and not isinstance(seed, bool):
        if abs(seed) > MAX_EXACT:
            raise SeedParamsError(path, f"must be between -{MAX_EXACT} and {MAX_EXACT} ({why}); a string seed may be longer, not {seed}")
        return seed
    if isinstance(seed, str):
        if not seed:
            raise SeedParamsError(path, "must not be empty")
        if len(seed.encode("utf-8")) > MAX_STRING_BYTES:
            raise SeedParamsError(path, f"is longer than {MAX_STRING_BYTES} bytes")
        return seed
    if isinstance(seed, float) and seed.is_integer():
        raise SeedParamsError(path, f"must be between -{MAX_EXACT} and {MAX_EXACT} ({why}); a string seed may be longer, not {seed!r}")
    kind = "a number with a fraction" if isinstance(seed, float) else _type_name(seed)
    raise SeedParamsError(path, f"must be an integer or a string, not {kind}")


@dataclass
class SessionSeedState:
    seed: Seed
    commitment: str
    from_entropy: bool
    used: int = 0


class Session:
    """One session's seed: what a daemon's connection holds (SeedSession.swift), on the router.
    Not thread-safe: each session is changed by one request at a time (an HTTP body's requests
    in their order, under the session table's lock)."""

    def __init__(self) -> None:
        self.current: Optional[SessionSeedState] = None

    def set(self, seed: Optional[Seed]) -> Dict[str, Any]:
        """`setSeed`: the answer a daemon gives, `{commitment, previous}`."""
        from_entropy = seed is None
        if seed is None:
            seed = entropy_seed()
        previous = None
        if self.current is not None:
            c = self.current
            previous = {"seed": c.seed, "commitment": c.commitment, "requests": c.used, "fromEntropy": c.from_entropy}
        self.current = SessionSeedState(seed, commitment(seed), from_entropy)
        return {"commitment": self.current.commitment, "previous": previous}

    def take(self) -> Optional[Dict[str, Any]]:
        """The next index, as `delegatedSeed` for the replica; None without a session seed."""
        c = self.current
        if c is None:
            return None
        index = c.used
        c.used += 1
        return {"seed": c.seed, "index": index, "fromEntropy": c.from_entropy}

    def apply(self, ops: List[Tuple[str, Any]]) -> List[Any]:
        """Runs ("set", seed) and ("take", None) operations in order; their results in order."""
        return [self.set(arg) if op == "set" else self.take() for op, arg in ops]
