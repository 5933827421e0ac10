"""The router's session table: `Reprolm-Session` tokens to session seeds (seeds.Session), ended
after a time without requests as a daemon ends an idle connection. Shared by every ingress
replica through one Serve deployment (serve_app.Sessions), so a session's indices are handed out
in one order whichever ingress replica a request reaches."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from .seeds import Session


class SessionTable:
    """Thread-safe. `apply` runs one request body's session operations atomically, in order."""

    def __init__(self, idle_seconds: float = 600.0, max_sessions: int = 100_000) -> None:
        self.idle_seconds = idle_seconds
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._sessions: Dict[str, Tuple[Session, float]] = {}

    def apply(self, token: str, ops: List[Tuple[str, Any]]) -> List[Any]:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            session = self._sessions.get(token, (None, 0.0))[0]
            if session is None:
                if len(self._sessions) >= self.max_sessions:
                    raise OverflowError(f"the router holds {self.max_sessions} sessions; retry later")
                session = Session()
            results = session.apply(ops)
            self._sessions[token] = (session, now)
            return results

    def end(self, token: str) -> Optional[Dict[str, Any]]:
        """Ends a session; the reveal of its seed (as `setSeed`'s `previous`), if it had one."""
        with self._lock:
            entry = self._sessions.pop(token, None)
        if entry is None or entry[0].current is None:
            return None
        c = entry[0].current
        return {"seed": c.seed, "commitment": c.commitment, "requests": c.used, "fromEntropy": c.from_entropy}

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _expire(self, now: float) -> None:
        if self.idle_seconds <= 0:
            return
        stale = [t for t, (_, seen) in self._sessions.items() if now - seen > self.idle_seconds]
        for t in stale:
            del self._sessions[t]
