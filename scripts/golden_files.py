"""What the golden-file scripts share: where the model cache is, and how a golden is written.

Imported by the scripts in this folder (run as `python3 scripts/NAME.py`, so this folder is on
sys.path).
"""
import json
import os
from pathlib import Path


def cache_root() -> Path:
    """The daemon's cache folder: $REPROLM_CACHE_DIR, else $XDG_CACHE_HOME/reprolm when that is an
    absolute path, else ~/.cache/reprolm (the rule of Sources/ModelStore)."""
    if os.environ.get("REPROLM_CACHE_DIR"):
        return Path(os.environ["REPROLM_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME", "").startswith("/"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "reprolm"
    return Path.home() / ".cache" / "reprolm"


def compact_json(golden: dict, listed=("cases",)) -> str:
    """The golden as JSON with one line per item of the `listed` keys' arrays (the cases), so the
    file stays small and a diff shows which case changed."""
    def dump(v):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    lines = ["{"]
    keys = list(golden)
    for i, key in enumerate(keys):
        comma = "," if i + 1 < len(keys) else ""
        value = golden[key]
        if key in listed:
            lines.append(f" {dump(key)}: [")
            for j, case in enumerate(value):
                lines.append("  " + dump(case) + ("," if j + 1 < len(value) else ""))
            lines.append(" ]" + comma)
        else:
            lines.append(f" {dump(key)}: {dump(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
