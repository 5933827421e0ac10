"""The fleet's journals: one per daemon life in the journal folder (`<name>.jsonl`, with
`<name>.jsonl.replica.json` saying which replica, node and engine wrote it). The index finds a
receipt by id in any of them (for `receipts/get` and `reproduce {id}` through the router), and
the manifest lists them all with what each holds and whether `reprolm verify` passes it."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import threading
from typing import Any, Dict, Iterable, List, Optional, Tuple


def replica_records(journal_dir: str) -> List[Dict[str, Any]]:
    out = []
    for path in sorted(glob.glob(os.path.join(journal_dir, "*.jsonl.replica.json"))):
        with open(path, encoding="utf-8") as f:
            out.append(json.load(f))
    return out


def journal_lines(path: str) -> Iterable[Dict[str, Any]]:
    """The complete lines of a journal, parsed (a torn last line, from a crash, is left out)."""
    with open(path, "rb") as f:
        data = f.read()
    complete = data[: data.rfind(b"\n") + 1]
    for line in complete.splitlines():
        yield json.loads(line)


class JournalIndex:
    """Receipt id -> where its line is, over every journal of the folder, read incrementally
    (each file from where the last look stopped). Thread-safe."""

    def __init__(self, journal_dir: str) -> None:
        self.journal_dir = journal_dir
        self._lock = threading.Lock()
        self._offsets: Dict[str, int] = {}
        self._where: Dict[str, Tuple[str, int, int]] = {}

    def find(self, receipt_id: str) -> Optional[Dict[str, Any]]:
        """`{receipt, seq, prev, entry}` of the receipt's journal line (as `receipts/get`
        answers), or None when no journal of the folder holds it."""
        with self._lock:
            if receipt_id not in self._where:
                self._scan()
            where = self._where.get(receipt_id)
        if where is None:
            return None
        path, offset, length = where
        with open(path, "rb") as f:
            f.seek(offset)
            line = json.loads(f.read(length))
        return {"receipt": line["receipt"], "seq": line["seq"], "prev": line["prev"], "entry": line["entry"]}

    def _scan(self) -> None:
        for path in sorted(glob.glob(os.path.join(self.journal_dir, "*.jsonl"))):
            start = self._offsets.get(path, 0)
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    data = f.read()
            except OSError:
                continue
            end = data.rfind(b"\n") + 1
            offset = start
            for line in data[:end].splitlines(keepends=True):
                if b'"type":"receipt"' in line:  # cheap test first; the parse decides
                    entry = json.loads(line)
                    if entry.get("type") == "receipt":
                        self._where.setdefault(entry["receipt"]["id"], (path, offset, len(line)))
                offset += len(line)
            self._offsets[path] = start + end


def verify(binary: str, journal: str) -> Dict[str, Any]:
    """`reprolm verify JOURNAL`: its exit status and what it printed."""
    run = subprocess.run([binary, "verify", journal], capture_output=True, text=True, timeout=600)
    return {"ok": run.returncode == 0, "report": run.stdout.strip(), "error": run.stderr.strip()}


def manifest(journal_dir: str, delivered: Optional[Iterable[Tuple[str, str]]] = None,
             binary: Optional[str] = None, check: bool = True) -> Dict[str, Any]:
    """Every journal of the folder with its replica's record, the receipts it holds, and (with
    `check`) `reprolm verify`'s verdict. `delivered`: (receipt id, journal) of the answers a job
    received; each must be in the journal it names, exactly once over the fleet. Receipts a
    journal holds that were never delivered (work redone after a replica died) are listed as
    `undelivered`: they are valid answers nobody received."""
    from reprolm_client import find_binary

    binary = binary or find_binary()
    records = {r["journal"]: r for r in replica_records(journal_dir)}
    delivered_by_id: Dict[str, str] = {}
    duplicates: List[str] = []
    for receipt_id, journal in delivered or []:
        if receipt_id in delivered_by_id:
            duplicates.append(receipt_id)
        delivered_by_id[receipt_id] = journal
    journals = []
    seen: Dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(journal_dir, "*.jsonl"))):
        ids = [e["receipt"]["id"] for e in journal_lines(path) if e["type"] == "receipt"]
        for receipt_id in ids:
            seen.setdefault(receipt_id, path)
        entry: Dict[str, Any] = {"journal": path, "replica": records.get(path), "receipts": len(ids),
                                 "undelivered": sorted(set(ids) - set(delivered_by_id)) if delivered is not None else None}
        if check:
            entry["verify"] = verify(binary, path)
        journals.append(entry)
    missing = sorted(r for r, j in delivered_by_id.items() if seen.get(r) != os.path.abspath(j) and seen.get(r) != j)
    return {
        "journalDir": journal_dir,
        "journals": journals,
        "receipts": {r: seen[r] for r in sorted(seen)},
        "delivered": len(delivered_by_id),
        "duplicateDeliveries": duplicates,
        "missing": missing,
        "allVerified": all(j["verify"]["ok"] for j in journals) if check else None,
    }
