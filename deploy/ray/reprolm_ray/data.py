"""Batch jobs on Ray Data: `generate`, `score` or `encode` over the rows of a Dataset, on a pool of
actors that each run one daemon (`map_batches`). Each output row keeps the input's columns and
adds the answer:

    result      the method's result as JSON, without its receipt (null when the daemon refused)
    receipt     the receipt as JSON (null when refused)
    receipt_id  the receipt's id
    journal     the journal of the daemon that answered (journals.manifest finds every one)
    error       the JSON-RPC error object as JSON, when the daemon refused the row's params

Ray restarts an actor that dies and runs its batch again (Ray Data's defaults: max_restarts and
max_task_retries -1), so a job finishes with each row answered once; the same row gives the same
bits on any actor. An actor whose daemon dies exits, so that Ray replaces both."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

import numpy as np

from .daemon import DaemonGone, ReplicaDaemon, outcome
from .fleet import Fleet

#: The parameter a row's text column fills, by method.
TEXT_PARAM = {"generate": "prompt", "score": "text", "encode": "input"}
OUTPUT_COLUMNS = ("result", "receipt", "receipt_id", "journal", "error")


class DaemonWorker:
    """The callable class of `map_batches`: one daemon for the actor's life."""

    def __init__(self, fleet: Fleet, method: str, column: Optional[str], params_column: Optional[str],
                 params: Optional[Dict[str, Any]]) -> None:
        if method not in TEXT_PARAM:
            raise ValueError(f"method must be one of {sorted(TEXT_PARAM)}, not {method!r}")
        self.method = method
        self.column = column
        self.params_column = params_column
        self.params = dict(params or {})
        self.daemon = ReplicaDaemon(fleet, "data")

    def row_params(self, batch: Dict[str, np.ndarray], i: int) -> Dict[str, Any]:
        p = dict(self.params)
        if self.params_column is not None:
            extra = batch[self.params_column][i]
            p.update(json.loads(extra) if isinstance(extra, (str, bytes)) else dict(extra))
        if self.column is not None:
            value = batch[self.column][i]
            p[TEXT_PARAM[self.method]] = value.item() if isinstance(value, np.generic) else value
        return p

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        n = len(next(iter(batch.values()))) if batch else 0
        try:
            futures = [self.daemon.submit(self.method, self.row_params(batch, i)) for i in range(n)]
            outcomes = [_wait(f) for f in futures]
        except DaemonGone:
            # Let Ray replace the actor (and its daemon) and run this batch again elsewhere.
            os._exit(1)
        columns: Dict[str, List[Any]] = {name: [] for name in OUTPUT_COLUMNS}
        for o in outcomes:
            if "result" in o:
                result = dict(o["result"])
                receipt = result.pop("receipt")
                columns["result"].append(json.dumps(result, ensure_ascii=False, allow_nan=False))
                columns["receipt"].append(json.dumps(receipt, ensure_ascii=False, allow_nan=False))
                columns["receipt_id"].append(receipt["id"])
                columns["error"].append(None)
            else:
                for name in ("result", "receipt", "receipt_id"):
                    columns[name].append(None)
                columns["error"].append(json.dumps(o["error"], ensure_ascii=False))
            columns["journal"].append(self.daemon.journal)
        out = dict(batch)
        for name, values in columns.items():
            out[name] = np.array(values, dtype=object)
        return out

    def __del__(self) -> None:
        daemon = getattr(self, "daemon", None)
        if daemon is not None:
            daemon.close()


def _wait(future: Any) -> Dict[str, Any]:
    try:
        return outcome(future.result())
    except Exception as error:  # the daemon's error answer, or its connection's end
        return outcome(error=error)


def run(ds: Any, fleet: Fleet, method: str, *, column: Optional[str] = None, params_column: Optional[str] = None,
        params: Optional[Dict[str, Any]] = None, concurrency: int = 2, batch_size: int = 32,
        num_cpus: float = 1.0, **map_batches_args: Any) -> Any:
    """`method` on every row of `ds`, on `concurrency` actors (an int, or (min, max) for Ray Data
    to scale between). A row's params are `params`, then its `params_column` (a JSON object, or a
    dict), then its `column` as the method's text (`prompt`, `text` or `input`). Returns the
    lazy Dataset with the answer columns added (see the module's doc)."""
    if column is None and params_column is None:
        raise ValueError("give column (the text of each row) or params_column (each row's params)")
    return ds.map_batches(DaemonWorker, fn_constructor_kwargs={"fleet": fleet, "method": method, "column": column,
                                                             "params_column": params_column, "params": params},
                          concurrency=concurrency, batch_size=batch_size, num_cpus=num_cpus,
                          batch_format="numpy", **map_batches_args)


def generate(ds: Any, fleet: Fleet, *, column: Optional[str] = "prompt", **kwargs: Any) -> Any:
    """`generate` per row; give each row a `seed` (in `params_column`) or greedy `params` for
    answers that repeat (without one, the daemon draws a seed, recorded in the receipt)."""
    return run(ds, fleet, "generate", column=column, **kwargs)


def score(ds: Any, fleet: Fleet, *, column: Optional[str] = "text", **kwargs: Any) -> Any:
    return run(ds, fleet, "score", column=column, **kwargs)


def encode(ds: Any, fleet: Fleet, *, column: Optional[str] = "text", **kwargs: Any) -> Any:
    return run(ds, fleet, "encode", column=column, **kwargs)
