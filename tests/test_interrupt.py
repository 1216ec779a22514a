"""Ctrl-C and SIGTERM stop a run quickly, keep what was measured, and leave no process behind."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import default_sigint, processes_with

SLOW_RECIPE = """
    import time

    import numpy as np
    from joblib import Parallel, delayed

    SIZES = {"small": 8, "large": 16}


    def make_input(size, seed=0):
        return np.arange(size)


    def slow_square(x):
        time.sleep(1.0)
        return x * x


    def serial(data, n_workers):
        return data * data


    def numpy(data, n_workers):
        return np.square(data)


    def joblib_processes(data, n_workers):
        return np.array(Parallel(n_jobs=n_workers, prefer="processes")(delayed(slow_square)(x) for x in data))


    VARIANTS = {"serial": serial, "numpy": numpy, "joblib_processes": joblib_processes}
"""


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_and_keeps_what_was_measured(tmp_path, signum, status):
    recipe = tmp_path / f"slow_recipe_{signum}.py"
    recipe.write_text(textwrap.dedent(SLOW_RECIPE))
    out_json = tmp_path / "partial.json"
    marker = f"COOKBOOK_TEST_MARKER_{uuid.uuid4().hex}"
    env = {**os.environ, marker: "1"}
    argv = [sys.executable, "-m", "cookbook.run", str(recipe), "--check-only", "--workers", "2"]
    child = subprocess.Popen(
        [*argv, "--json", str(out_json)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    for line in child.stderr:  # progress lines: wait until the slow variant has started
        if "joblib_processes x2" in line:
            break
    time.sleep(1.5)  # its workers are busy now
    assert processes_with(marker), "no worker process was started"
    sent = time.monotonic()
    child.send_signal(signum)
    child.wait(timeout=30)
    assert child.returncode == status
    assert time.monotonic() - sent < 10
    assert "interrupted; what was measured is in" in child.stderr.read()
    record = json.loads(out_json.read_text())
    assert record["complete"] is False
    rows = [(m["variant"], m["status"]) for m in record["recipes"][0]["measurements"]]
    assert rows == [("serial", "OK"), ("numpy", "OK")]
    time.sleep(0.5)
    assert processes_with(marker) == [], "worker processes outlived the run"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_run_killed_outright_leaves_no_process_behind(tmp_path):
    recipe = tmp_path / "slow_recipe_killed.py"
    recipe.write_text(textwrap.dedent(SLOW_RECIPE).replace("time.sleep(1.0)", "time.sleep(3600)"))
    marker = f"COOKBOOK_TEST_MARKER_{uuid.uuid4().hex}"
    argv = [sys.executable, "-m", "cookbook.run", str(recipe), "--check-only", "--workers", "2"]
    child = subprocess.Popen(
        argv, env={**os.environ, marker: "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    for line in child.stderr:
        if "joblib_processes x2" in line:
            break
    time.sleep(1.5)
    child.kill()  # SIGKILL: no handler runs; the recipe's runner must notice by itself
    child.wait(timeout=10)
    deadline = time.monotonic() + 10
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(marker) == [], "the runner or its workers outlived a killed run"
