"""The Serve path's latency for a short request, against the same daemon's socket directly.

    python3 -m reprolm_ray.bench [--rounds 200] [--models smollm2-135m]

starts a local Ray on loopback with a one-replica fleet (so both paths reach the same daemon),
then sends each short request alternately over HTTP through Serve (proxy, router, replica,
daemon) and straight to the replica's daemon socket, one at a time, and prints the medians and
90th percentiles and their difference: what the Serve path adds. Ray and its files are gone at
the end."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import tempfile
import time
from typing import Any, Dict, List, Sequence, Tuple

from reprolm_client import Client

#: Short requests: tokenization alone (all overhead), and a one-token greedy generation.
REQUESTS: List[Tuple[str, Dict[str, Any]]] = [
    ("tokenize", {"text": "Hello, world."}),
    ("generate", {"prompt": "Hello", "maxTokens": 1, "temperature": 0}),
    ("score", {"text": "The sky is blue."}),
]


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(url: str, socket_path: str, method: str, params: Dict[str, Any], rounds: int = 200,
            warmup: int = 10) -> Dict[str, Any]:
    """Milliseconds per request on each path, interleaved round by round."""
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    http_conn = http.client.HTTPConnection(host, int(port), timeout=60)
    direct = Client.connect_socket(socket_path, timeout=60)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    times: Dict[str, List[float]] = {"serve": [], "socket": []}
    try:
        for i in range(warmup + rounds):
            for path in ("serve", "socket") if i % 2 == 0 else ("socket", "serve"):
                start = time.perf_counter()
                if path == "serve":
                    http_conn.request("POST", "/", body, {"Content-Type": "application/json"})
                    answer = json.loads(http_conn.getresponse().read())
                    assert "result" in answer, answer
                else:
                    direct.call(method, params)
                if i >= warmup:
                    times[path].append((time.perf_counter() - start) * 1000)
    finally:
        http_conn.close()
        direct.close()
    out: Dict[str, Any] = {"method": method, "rounds": rounds}
    for path, values in times.items():
        out[path] = {"median": statistics.median(values), "p90": _percentile(values, 0.9)}
    out["overhead_ms"] = out["serve"]["median"] - out["socket"]["median"]
    return out


def table(results: List[Dict[str, Any]]) -> str:
    lines = ["request                     socket median/p90 ms   serve median/p90 ms   serve adds (median)",
             "-" * 92]
    for r in results:
        label = r["method"] + (" (1 token)" if r["method"] == "generate" else "")
        lines.append(f"{label:<27} {r['socket']['median']:>8.2f} / {r['socket']['p90']:<8.2f}    "
                     f"{r['serve']['median']:>8.2f} / {r['serve']['p90']:<8.2f}   {r['overhead_ms']:>8.2f} ms")
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(prog="python3 -m reprolm_ray.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--models", default="smollm2-135m")
    parser.add_argument("--threads", type=int, default=1)
    a = parser.parse_args(list(argv) or None)
    from .fleet import Fleet, single_machine_ray_env

    single_machine_ray_env()
    import ray
    from ray import serve

    from .journals import replica_records
    from .serve_app import build_app

    temp = tempfile.mkdtemp(prefix="rr-bench-", dir="/tmp")
    try:
        ray.init(num_cpus=4, include_dashboard=False, _temp_dir=os.path.join(temp, "ray"), _node_ip_address="127.0.0.1",
                 log_to_driver=False, configure_logging=False)
        port = _free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        fleet = Fleet(models=a.models.split(","), journal_dir=os.path.join(temp, "journals"), threads=a.threads)
        serve.run(build_app(fleet, replicas=1), blocking=False)
        record = replica_records(fleet.journal_dir)[0]
        results = [measure(f"http://127.0.0.1:{port}", record["socket"], m, p, a.rounds) for m, p in REQUESTS]
        print(table(results))
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
