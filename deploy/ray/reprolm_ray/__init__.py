"""reprolm on Ray: many daemons serving one workload, with receipts that replay on any of them.

- `serve_app.build_app(Fleet(...))`: a Ray Serve application with an HTTP ingress speaking the
  daemon's JSON-RPC 2.0; the router holds `setSeed` sessions and hands each replica the session
  seed and index (`delegatedSeed`), so receipts are a single daemon's.
- `data.score / generate / encode(dataset, Fleet(...))`: batch jobs on Ray Data, one daemon per
  actor; `journals.manifest(journal_dir, delivered)` lists the journals and verifies each.
- `bench`: the Serve path's latency against a daemon's socket (`python3 -m reprolm_ray.bench`).

deploy/ray/README.md says how to run it; docs/scale-out.md what is guaranteed on a cluster.
"""

from .fleet import Fleet, default_journal_dir
from .seeds import commitment, derived_seed

__all__ = ["Fleet", "default_journal_dir", "commitment", "derived_seed"]
__version__ = "0.1.0"
