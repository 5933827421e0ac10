"""What every replica of a fleet runs: the binary, the models to load, where journals go."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import List, Optional


def default_journal_dir() -> str:
    """`$REPROLM_RAY_JOURNALS`, else `$XDG_STATE_HOME/reprolm/ray`, else `~/.local/state/reprolm/ray`.
    On a cluster, a folder every node mounts (a shared volume) lets the ingress find any receipt
    by id and the manifest read every journal; otherwise each node keeps its replicas' journals."""
    explicit = os.environ.get("REPROLM_RAY_JOURNALS")
    if explicit:
        return explicit
    state = os.environ.get("XDG_STATE_HOME", "")
    if not state.startswith("/"):
        state = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "reprolm", "ray")


@dataclass
class Fleet:
    """The daemons' configuration, the same for every replica (so that they give the same bits).

    `models`: catalogue names or GGUF paths loaded at start (`reprolm serve --model`), each the
    same file (sha256) on every node; `binary`: the reprolm executable (default: `$REPROLM_BIN`,
    else `reprolm` on PATH); `threads`: the forward pass's threads per daemon (results are the
    same bits for any count); `max_requests`: requests in flight per daemon; `extra_args`: more
    `reprolm serve` flags (`--kv-cache-budget`, `--memory-budget`...)."""
    models: List[str] = field(default_factory=lambda: ["smollm2-135m"])
    binary: Optional[str] = None
    journal_dir: str = field(default_factory=default_journal_dir)
    threads: int = 1
    max_requests: int = 256
    start_timeout: float = 300.0
    extra_args: List[str] = field(default_factory=list)


def single_machine_ray_env() -> None:
    """For a Ray started on this machine alone (the benchmark, `serve_app` without --address):
    usage reporting off, and every address loopback (Ray's single-node mode), so that nothing of
    Ray listens on or connects through the machine's other interfaces. Never for a cluster."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
