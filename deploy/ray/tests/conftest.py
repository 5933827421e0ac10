"""Fixtures: the reprolm binary, plain local daemons to compare with, and a local Ray cluster on
loopback only (no dashboard, usage reporting off, its files under a short /tmp folder), shut down
at the end. The packages are imported from this checkout; Ray's workers get the same path.

The binary is $REPROLM_BIN, else <repo>/.build/release/reprolm; it must know
`serve --accept-delegated-seeds`. The models smollm2-135m and minilm-l6 must be pulled
(`reprolm pull NAME`; scripts/test does)."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
CLIENT_ROOT = os.path.join(REPO_ROOT, "clients", "python")
for path in (PACKAGE_ROOT, CLIENT_ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

from reprolm_client import Client  # noqa: E402
from reprolm_ray.fleet import single_machine_ray_env  # noqa: E402

# Before anything imports Ray (it reads them once): no usage reports over the network, and a
# single-node Ray whose every address is loopback (otherwise Ray's own processes reach each other
# through the machine's interface address).
single_machine_ray_env()


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("REPROLM_BIN") or os.path.join(REPO_ROOT, ".build", "release", "reprolm")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(f"no reprolm binary at {path}: set REPROLM_BIN or build with `swift build -c release`")
    help_text = subprocess.run([path, "serve", "--help"], capture_output=True, text=True, timeout=30).stdout
    assert "--accept-delegated-seeds" in help_text, f"{path} predates --accept-delegated-seeds: rebuild it"
    os.environ["REPROLM_BIN"] = path
    return path


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="rr-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def local_daemon(binary, workdir):
    """local_daemon(*serve_args) -> a Client of a plain daemon on stdio (closed at teardown)."""
    made = []

    def start(*args):
        journal = os.path.join(workdir, f"local{len(made)}.jsonl")
        log = open(os.path.join(workdir, f"local{len(made)}.log"), "ab")
        journal_args = [] if "--no-journal" in args else ["--journal", journal]
        c = Client.spawn_stdio(binary=binary, args=[*journal_args, *args], stderr=log, timeout=600)
        made.append((c, log))
        return c

    yield start
    for c, log in made:
        c.close()
        log.close()


@pytest.fixture(scope="session")
def ray_cluster(binary):
    """A local Ray cluster on loopback for the whole session: 6 logical CPUs (this machine has 2
    cores; replicas and actors ask for 1 each, and mostly wait on their daemons)."""
    import ray

    assert ray._private.services.get_node_ip_address() == "127.0.0.1", "Ray was imported before single_machine_ray_env()"
    saved = {"PYTHONPATH": os.environ.get("PYTHONPATH")}
    # Ray's workers start with this environment: they import the same packages and binary.
    os.environ["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT, CLIENT_ROOT] + [p for p in (saved["PYTHONPATH"] or "").split(os.pathsep) if p])
    temp = tempfile.mkdtemp(prefix="rr-ray-", dir="/tmp")
    ray.init(num_cpus=6, include_dashboard=False, _temp_dir=temp, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False)
    try:
        yield ray
    finally:
        try:
            from ray import serve
            serve.shutdown()
        except Exception:
            pass
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
