"""Each recipe runs in a process of its own: hangs, crashes and native aborts cost one step, not the run."""

import importlib
import json
import os
import time
import uuid
from pathlib import Path

import pytest

from cookbook import environment
from cookbook.run import main
from tests.conftest import GOOD_RECIPE, processes_with

needs_proc = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")


def _rows(out_json):
    measurements = json.loads(out_json.read_text())["recipes"][0]["measurements"]
    return {(m["variant"], m["workers"]): m for m in measurements}


HANGS_AND_CRASHES = """
    import os
    import signal
    import threading
    import time


    def spin():
        while True:  # pure Python that never returns: no thread can stop it
            sum(range(1000))


    def hangs(data, n_workers):
        threads = [threading.Thread(target=spin) for _ in range(n_workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


    def hangs_in_workers(data, n_workers):
        Parallel(n_jobs=n_workers, prefer="processes")(delayed(spin)() for _ in range(n_workers))


    def crashes(data, n_workers):
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would


    def numpy(data, n_workers):
        return data * data


    VARIANTS = {
        "serial": serial,
        "hangs_threads": hangs,
        "hangs_processes": hangs_in_workers,
        "crashes_threads": crashes,
        "numpy": numpy,
    }
"""


@needs_proc
def test_a_hang_times_out_a_crash_is_an_error_and_nothing_is_left_running(
    write_recipe, tmp_path, monkeypatch
):
    marker = f"COOKBOOK_TEST_MARKER_{uuid.uuid4().hex}"
    monkeypatch.setenv(marker, "1")  # the runners, and their loky workers, inherit it
    path = write_recipe(GOOD_RECIPE + HANGS_AND_CRASHES)
    out_json = tmp_path / "hang.json"
    started = time.monotonic()
    argv = [str(path), "--check-only", "--workers", "2", "--timeout", "2", "--json", str(out_json)]
    assert main(argv) == 1
    assert time.monotonic() - started < 60
    rows = _rows(out_json)
    for hung in ("hangs_threads", "hangs_processes"):
        assert rows[hung, 2]["status"] == "TIMEOUT"
        assert "stopped after 2 s" in rows[hung, 2]["detail"]
    assert rows["crashes_threads", 2]["status"] == "ERROR"
    assert "died of SIGKILL" in rows["crashes_threads", 2]["detail"]
    assert rows["serial", 1]["status"] == rows["numpy", 1]["status"] == "OK"  # fresh runners took over
    time.sleep(0.5)
    assert processes_with(marker) == [], "a hung thread's process or a worker outlived the run"


def test_a_step_after_a_timeout_starts_with_the_reference_again(write_recipe, tmp_path):
    path = write_recipe(
        GOOD_RECIPE
        + """
    import time


    def hangs(data, n_workers):
        time.sleep(3600)


    def numpy(data, n_workers):
        return data * data


    def numpy_wrong(data, n_workers):
        return data * data + 1


    VARIANTS = {"serial": serial, "hangs_threads": hangs, "numpy": numpy, "wrong": numpy_wrong}
    """
    )
    out_json = tmp_path / "after.json"
    # 3 s: the timeout counts from the runner's start, which imports numpy and cookbook first
    assert main([str(path), "--check-only", "--workers", "1", "--timeout", "3", "--json", str(out_json)]) == 1
    rows = _rows(out_json)
    assert [row["status"] for row in rows.values()] == ["OK", "TIMEOUT", "OK", "MISMATCH"]


def test_a_serial_that_hangs_leaves_no_reference(write_recipe, tmp_path):
    path = write_recipe(
        GOOD_RECIPE.replace("def serial(", "def unused(")
        + """
    import time


    def serial(data, n_workers):
        time.sleep(3600)


    def numpy(data, n_workers):
        return data * data


    VARIANTS = {"serial": serial, "numpy": numpy}
    """
    )
    out_json = tmp_path / "serial.json"
    assert main([str(path), "--check-only", "--timeout", "1", "--json", str(out_json)]) == 1
    rows = _rows(out_json)
    assert rows["serial", 1]["status"] == "TIMEOUT"
    numpy = rows["numpy", 1]
    assert (numpy["status"], numpy["detail"]) == ("ERROR", "no reference: serial TIMEOUT")


@pytest.mark.parametrize("text", ["0", "-3", "soon", "inf"])
def test_timeout_must_be_a_positive_number_of_seconds(text, capsys):
    assert main(["countdown", "--timeout", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m cookbook.run: error: argument --timeout:") and "Traceback" not in err


def test_process_variants_really_use_worker_processes_under_the_runner(write_recipe, tmp_path, monkeypatch):
    # joblib runs Parallel sequentially inside a daemonic process: the runner must not be one.
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("COOKBOOK_TEST_PID_DIR", str(pids))
    path = write_recipe(
        GOOD_RECIPE
        + """
    import os
    import time


    def square_and_sign(x):
        open(os.path.join(os.environ["COOKBOOK_TEST_PID_DIR"], str(os.getpid())), "w").close()
        time.sleep(0.2)  # long enough that one worker cannot take every task
        return x * x


    def joblib_processes(data, n_workers):
        tasks = (delayed(square_and_sign)(x) for x in data.tolist())
        return np.array(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


    VARIANTS = {"serial": serial, "joblib_processes": joblib_processes}
    """
    )
    assert main([str(path), "--check-only", "--workers", "2"]) == 0
    workers = {int(p.name) for p in pids.iterdir()}
    assert len(workers) == 2 and os.getpid() not in workers


PRANGE_FROM_THREADS = """
    from concurrent.futures import ThreadPoolExecutor

    import numba as nb

    SIZES = {"small": 100_000, "large": 200_000}


    @nb.njit(parallel=True, nogil=True)
    def total(x):
        s = 0
        for i in nb.prange(x.shape[0]):
            s += x[i]
        return s


    def make_input(size, seed=0):
        return np.ones(size, dtype=np.int64)


    def serial(data, n_workers):
        return np.array([len(data)])


    def prange_threads(data, n_workers):
        def many(_):
            return max(total(data) for _ in range(500))

        with ThreadPoolExecutor(n_workers) as pool:
            return np.array([max(pool.map(many, range(4 * n_workers)))])


    def numba_prange(data, n_workers):
        return np.array([total(data)])


    VARIANTS = {"serial": serial, "prange_threads": prange_threads, "numba_prange": numba_prange}
"""


def test_parallel_numba_code_from_threads_under_workqueue_is_explained(write_recipe, tmp_path, monkeypatch):
    path = write_recipe(GOOD_RECIPE + PRANGE_FROM_THREADS)
    out_json = tmp_path / "workqueue.json"
    monkeypatch.setenv("NUMBA_THREADING_LAYER", "workqueue")  # the only layer where tbb and omp are missing
    assert main([str(path), "--check-only", "--workers", "2", "--json", str(out_json)]) == 1
    rows = _rows(out_json)
    aborted = rows["prange_threads", 2]
    assert aborted["status"] == "ERROR"
    assert "died of SIGABRT" in aborted["detail"] and "pip install tbb" in aborted["detail"]
    assert rows["numba_prange", 2]["status"] == "OK"  # one thread at a time is fine, in a fresh runner


def _thread_safe_layer_loads():
    for module in ("numba.np.ufunc.tbbpool", "numba.np.ufunc.omppool"):
        try:
            importlib.import_module(module)
            return True
        except ImportError:  # its native library (libtbb, libgomp) is missing
            continue
    return False


@pytest.mark.skipif(not _thread_safe_layer_loads(), reason="neither libtbb nor an OpenMP runtime is here")
def test_parallel_numba_code_from_threads_runs_under_the_default_layer(write_recipe, tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_THREADING_LAYER", raising=False)
    path = write_recipe(GOOD_RECIPE + PRANGE_FROM_THREADS)
    out_json = tmp_path / "default.json"
    assert main([str(path), "--check-only", "--workers", "2", "--json", str(out_json)]) == 0
    layer = json.loads(out_json.read_text())["environment"]["numba_threading_layer"]
    assert layer in ("tbb", "omp")  # numba prefers a thread-safe layer when it can load one


def test_a_size_that_does_not_fit_in_memory_is_refused_before_make_input(write_recipe, tmp_path):
    marker = tmp_path / "make_input_was_called"
    path = write_recipe(
        GOOD_RECIPE.replace("def make_input(", "def _make_input(")
        + f"""

    def make_input(size, seed=0):
        open({str(marker)!r}, "w").close()
        return _make_input(size, seed)


    def memory_bytes(size):
        return 2**60  # an exbibyte


    def numpy(data, n_workers):
        return data * data


    VARIANTS = {{"serial": serial, "numpy": numpy}}
    """
    )
    out_json = tmp_path / "memory.json"
    assert main([str(path), "--check-only", "--json", str(out_json)]) == 1
    assert not marker.exists()
    for row in _rows(out_json).values():
        assert row["status"] == "ERROR"
        assert row["detail"].startswith("not run: size 8 needs about 1073741824.0 GiB (its memory_bytes)")
        assert row["detail"].endswith("is available; try a smaller --size")


def test_without_memory_bytes_the_small_input_is_scaled(write_recipe, tmp_path):
    path = write_recipe(GOOD_RECIPE + '\n    VARIANTS = {"serial": serial}\n')
    out_json = tmp_path / "scaled.json"
    assert main([str(path), "--check-only", "--size", str(2**50), "--json", str(out_json)]) == 1
    detail = _rows(out_json)["serial", 1]["detail"]
    assert "needs about 8388608.0 GiB (its small input, scaled)" in detail  # 8 bytes a unit: 2**53 bytes


def test_threaded_variants_run_with_inner_pools_limited_and_the_report_says_so(write_recipe, tmp_path):
    seen = tmp_path / "seen"
    seen.mkdir()
    path = write_recipe(
        GOOD_RECIPE
        + f"""
    import os
    from threadpoolctl import threadpool_info


    def record(name, data, n_workers):
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        with open(os.path.join({str(seen)!r}, f"{{name}}_{{n_workers}}"), "w") as f:
            f.write(str(blas[0]))
        return data * data


    def numpy_threads(data, n_workers):
        return record("numpy_threads", data, n_workers)


    def numpy_threads_oversubscribed(data, n_workers):
        return record("oversubscribed", data, n_workers)


    VARIANTS = {{
        "serial": serial,
        "numpy_threads": numpy_threads,
        "numpy_threads_oversubscribed": numpy_threads_oversubscribed,
    }}
    """
    )
    out_json, out_md = tmp_path / "limits.json", tmp_path / "limits.md"
    argv = [str(path), "--check-only", "--workers", "1,2", "--json", str(out_json), "--markdown", str(out_md)]
    assert main(argv) == 0
    limit = max(1, environment.usable_cores() // 2)
    assert (seen / "numpy_threads_2").read_text() == str(limit)
    default = (seen / "numpy_threads_1").read_text()
    assert (seen / "oversubscribed_2").read_text() == default  # its point is the default
    rows = _rows(out_json)
    assert rows["numpy_threads", 2]["inner_threads"] == limit
    assert rows["numpy_threads", 1]["inner_threads"] is None
    assert rows["numpy_threads_oversubscribed", 2]["inner_threads"] is None
    assert f"limited to {limit} thread" in out_md.read_text()
    assert "; in numpy_threads x2\n" in out_md.read_text()
