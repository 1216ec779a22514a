"""--backend dask: the process variants on a dask.distributed cluster, on 127.0.0.1 only, left clean."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cookbook.backends import local_cluster
from cookbook.run import main
from tests.conftest import GOOD_RECIPE, default_sigint, processes_with

distributed = pytest.importorskip("distributed")
needs_proc = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")


def _listening_ports():
    """TCP ports in LISTEN state on this machine (IPv4 and IPv6)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if Path(table).exists():
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    ports.add(int(fields[1].rpartition(":")[2], 16))
    return ports


def _rows(record):
    return {(m["variant"], m["workers"]): m for r in record["recipes"] for m in r["measurements"]}


@needs_proc
def test_two_recipes_agree_on_a_local_cluster_that_is_gone_afterwards(tmp_path, monkeypatch):
    marker = f"COOKBOOK_TEST_MARKER_{uuid.uuid4().hex}"
    monkeypatch.setenv(marker, "1")  # the runner, the scheduler and the dask workers inherit it
    out_json = tmp_path / "dask.json"
    argv = ["countdown", "mandelbrot", "--check-only", "--backend", "dask", "--variants", "joblib_processes"]
    assert main([*argv, "--workers", "1,2", "--json", str(out_json)]) == 0
    record = json.loads(out_json.read_text())
    for recipe in record["recipes"]:
        rows = {(m["variant"], m["workers"]): m for m in recipe["measurements"]}
        assert set(rows) == {("serial", 1), ("joblib_processes@dask", 1), ("joblib_processes@dask", 2)}
        assert all(m["status"] == "OK" for m in rows.values())
        two = rows["joblib_processes@dask", 2]
        assert two["backend"] == "dask"
        assert two["cluster"].startswith("LocalCluster tcp://127.0.0.1:")  # never another address
        assert "2 of its 2 worker processes, 1 thread each" in two["cluster"]
        assert rows["joblib_processes@dask", 1]["cluster"] is None  # joblib runs n_jobs=1 in-process
    time.sleep(0.5)
    assert processes_with(marker) == [], "a scheduler or worker process outlived the run"
    scheduler_port = int(two["cluster"].split()[1].rstrip(":").rpartition(":")[2])
    assert scheduler_port not in _listening_ports()


def test_loky_and_dask_in_one_run_with_the_overhead_per_task(tmp_path, capsys):
    out_json, out_md = tmp_path / "both.json", tmp_path / "both.md"
    argv = ["countdown", "--size", "small", "--quick", "--workers", "2"]
    argv += ["--variants", "joblib_processes", "--backend", "loky,dask"]
    assert main([*argv, "--json", str(out_json), "--markdown", str(out_md)]) == 0
    record = json.loads(out_json.read_text())
    rows = _rows(record)
    assert rows["joblib_processes", 2]["backend"] == "loky"
    assert rows["joblib_processes@dask", 2]["backend"] == "dask"
    costs = record["environment"]["executor_costs"]
    executors = {"threads", "processes", "processes@dask"}  # no interpreters: none of its steps
    assert costs["workers"] == 2 and set(costs["per_task_s"]) == set(costs["startup_s"]) == executors
    assert all(seconds > 0 for seconds in [*costs["per_task_s"].values(), *costs["startup_s"].values()])
    assert record["options"]["backends"] == ["loky", "dask"]
    out = capsys.readouterr().out
    line = " ".join(out.split())  # the console wraps long lines
    assert "executor costs at 2 workers (a new pool's start-up / each no-op task / " in line
    assert "; dask " in line and "x loky per task" in line
    assert "joblib_processes@dask x2: " in out and "x the time of joblib_processes on loky" in out
    assert "joblib_processes@dask x2: " in out_md.read_text()


def test_a_variant_that_cannot_run_on_dask_is_explained_not_run(capsys):
    argv = ["heat_stencil", "--check-only", "--backend", "dask", "--variants", "memmap_processes"]
    assert main([*argv, "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "memmap_processes@dask: not run: dask pickles the memmap views as copies" in out


def _run_on_cluster(cluster, out_json):
    """Run countdown's joblib variant at 2 workers on ``cluster``; return the exit status and its row."""
    argv = ["countdown", "--check-only", "--backend", "dask", "--variants", "joblib_processes"]
    argv += ["--workers", "2", "--scheduler", cluster.scheduler_address, "--json", str(out_json)]
    status = main(argv)
    return status, _rows(json.loads(out_json.read_text()))["joblib_processes@dask", 2]


def test_starting_a_local_cluster_leaves_the_environment_as_it_was():
    before = dict(os.environ)
    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        assert dict(os.environ) == before  # distributed's pre-spawn-environ wrote OMP_NUM_THREADS=1 here
        seen = client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
        assert list(seen.values()) == ["1", "1"]  # while its workers keep it


def test_an_existing_cluster_is_used_and_left_running(tmp_path):
    with local_cluster(2) as cluster:
        status, row = _run_on_cluster(cluster, tmp_path / "existing.json")
        assert status == 0
        assert row["status"] == "OK"
        assert row["cluster"].startswith(f"cluster {cluster.scheduler_address}: 2 of its 2 worker processes")
        with distributed.Client(cluster.scheduler_address, timeout=5) as client:
            assert len(client.scheduler_info()["workers"]) == 2  # still there


def test_more_workers_than_the_cluster_has_is_an_error_in_the_row(tmp_path):
    with local_cluster(1) as cluster:
        status, row = _run_on_cluster(cluster, tmp_path / "small_cluster.json")
        assert status == 1
        assert row["status"] == "ERROR" and "has 1 workers, not 2" in row["detail"]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("tcp://127.0.0.1:1", "cannot reach the dask scheduler (Connection refused)"),
        ("127.0.0.1:8786", "expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786"),
        ("tcp://127.0.0.1:notaport", "expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786"),
    ],
)
def test_a_scheduler_that_cannot_be_reached_is_a_clear_error_at_once(address, message, capsys):
    started = time.monotonic()
    assert main(["countdown", "--backend", "dask", "--scheduler", address]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert err == f"python -m cookbook.run: error: --scheduler {address}: {message}\n"


def test_scheduler_needs_the_dask_backend(capsys):
    assert main(["countdown", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "--scheduler needs --backend dask" in capsys.readouterr().err


def test_an_unknown_backend_is_a_usage_error(capsys):
    assert main(["countdown", "--backend", "ray"]) == 2
    assert "unknown backend ray (valid: loky, dask)" in capsys.readouterr().err


def test_without_distributed_the_message_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes "import distributed" fail
    assert main(["countdown", "--backend", "dask"]) == 2
    assert 'pip install -e ".[dask]"' in capsys.readouterr().err


HANGS_ON_DASK = """
    import time


    def sleep_long(x):
        time.sleep(3600)


    def joblib_processes(data, n_workers):
        return Parallel(n_jobs=n_workers, prefer="processes")(delayed(sleep_long)(x) for x in data)


    VARIANTS = {"serial": serial, "joblib_processes": joblib_processes}
"""


@needs_proc
def test_a_hung_dask_step_times_out_and_takes_its_cluster_with_it(write_recipe, tmp_path, monkeypatch):
    marker = f"COOKBOOK_TEST_MARKER_{uuid.uuid4().hex}"
    monkeypatch.setenv(marker, "1")
    path = write_recipe(GOOD_RECIPE + HANGS_ON_DASK)
    out_json = tmp_path / "hung.json"
    argv = [str(path), "--check-only", "--backend", "dask", "--workers", "2", "--timeout", "8"]
    assert main([*argv, "--json", str(out_json)]) == 1
    assert _rows(json.loads(out_json.read_text()))["joblib_processes@dask", 2]["status"] == "TIMEOUT"
    time.sleep(0.5)
    assert processes_with(marker) == []


@needs_proc
def test_ctrl_c_during_a_dask_step_leaves_no_process(write_recipe, tmp_path):
    path = write_recipe(GOOD_RECIPE + HANGS_ON_DASK)
    marker = f"COOKBOOK_TEST_MARKER_{uuid.uuid4().hex}"
    argv = [sys.executable, "-m", "cookbook.run", str(path), "--check-only", "--backend", "dask"]
    child = subprocess.Popen(
        [*argv, "--workers", "2"],
        env={**os.environ, marker: "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
        preexec_fn=default_sigint,
    )
    for line in child.stderr:
        if "joblib_processes@dask x2" in line:
            break
    time.sleep(3)  # the cluster is up and its workers sleep
    assert len(processes_with(marker)) > 3, "no cluster was started"
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=30) == 130
    time.sleep(0.5)
    assert processes_with(marker) == [], "the cluster outlived Ctrl-C"


def test_recipes_never_hard_code_a_joblib_backend():
    for path in sorted((Path(__file__).parent.parent / "recipes").glob("*.py")):
        text = path.read_text()
        assert "backend=" not in text and "parallel_backend(" not in text, path.name
