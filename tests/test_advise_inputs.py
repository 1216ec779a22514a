"""advise with kernels as users write them: each misbehaves on one rung or one chunk, or takes an odd input.

The kernel runs in a runner process of its own: a hang or a crash costs its
rung's row, and the other rungs and the verdict still come out.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cookbook.advise import advise, main
from cookbook.options import MODES, RunOptions
from tests import advise_kernels
from tests.conftest import default_sigint, processes_with

KERNELS = str(Path(__file__).with_name("advise_kernels.py"))
QUICK = RunOptions(workers=(2,), sampling=MODES["quick"])


def _rows(path):
    record = json.loads(Path(path).read_text())
    return {(m["variant"], m["workers"]): m for m in record["recipes"][0]["measurements"]}, record


def _advise_json(tmp_path, *argv):
    out = tmp_path / "a.json"
    status = main([*argv, "--quick", "--workers", "2", "--json", str(out)])
    return status, *_rows(out)


def test_a_kernel_that_hangs_in_worker_processes_costs_that_rung_only(tmp_path, capsys):
    status, rows, record = _advise_json(tmp_path, f"{KERNELS}:hangs_in_processes", "--timeout", "4")
    assert status == 1
    assert rows[("joblib_processes", 2)]["status"] == "TIMEOUT"
    assert "stopped after 4 s (--timeout)" in rows[("joblib_processes", 2)]["detail"]
    assert rows[("serial", 1)]["status"] == rows[("python_threads", 2)]["status"] == "OK"
    assert "joblib_processes: TIMEOUT" in record["advice"]["recommendation"]
    assert "Traceback" not in capsys.readouterr().err


def test_a_kernel_that_kills_its_process_on_threads_costs_that_rung_only(tmp_path, capsys):
    status, rows, record = _advise_json(tmp_path, f"{KERNELS}:dies_on_threads")
    assert status == 1
    assert rows[("python_threads", 2)]["status"] == "ERROR"
    assert "died of SIGSEGV" in rows[("python_threads", 2)]["detail"]
    assert rows[("joblib_processes", 2)]["status"] == "OK"  # a fresh runner went on
    assert record["advice"]["recommendation"]
    assert "Traceback" not in capsys.readouterr().err


def test_a_memory_error_in_worker_processes_is_that_rungs_error(tmp_path):
    status, rows, _ = _advise_json(tmp_path, f"{KERNELS}:no_memory_in_processes")
    assert status == 1
    assert rows[("joblib_processes", 2)]["status"] == "ERROR"
    assert "MemoryError: no room in a worker" in rows[("joblib_processes", 2)]["detail"]
    assert rows[("python_threads", 2)]["status"] == "OK"


def test_a_serial_pass_that_hangs_names_its_chunk_and_leaves_no_reference(tmp_path):
    argv = [f"{KERNELS}:hangs_on_three", "--chunks", "make_four", "--timeout", "3"]
    status, rows, _ = _advise_json(tmp_path, *argv)
    assert status == 1
    assert rows[("serial", 1)]["status"] == "TIMEOUT"
    assert "(in chunk 2, counted from 0)" in rows[("serial", 1)]["detail"]
    assert rows[("python_threads", 2)]["detail"] == "no reference: serial TIMEOUT"


def test_a_kernel_that_raises_on_one_chunk_names_that_chunk_in_one_line(capsys):
    assert main([f"{KERNELS}:raises_on_1002", "--chunks", "make_thousands", "--quick"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        "python -m cookbook.advise: error: raises_on_1002 raised on chunk 2 (of 4, counted from 0): "
        "ValueError: 1002 is refused"
    )


@pytest.mark.parametrize(
    "chunks", [f"{KERNELS}:make_heavy", "tests.advise_kernels:make_heavy", "make_heavy"], ids=str
)
def test_chunks_are_named_by_path_module_or_name_alone(chunks):
    from cookbook.advise import load_target

    kernel, made, _ = load_target(f"{KERNELS}:python_loop", chunks)
    assert list(made) == advise_kernels.make_heavy() and kernel.__name__ == "python_loop"


def test_iterator_chunks_are_made_lists_once_and_said_so():
    advice = advise(advise_kernels.list_sum, advise_kernels.make_iterators(), options=QUICK)
    assert advice.run.ok, advice.run.measurements
    assert advice.materialized.startswith("4 of the 4 chunks were iterators (generators)")
    assert advice.materialized in advice.evidence


def test_a_kernel_that_returns_none_is_named():
    advice = advise(advise_kernels.returns_none, advise_kernels.make_chunks(), options=QUICK)
    assert advice.examined.results_none
    assert any(line.startswith("the kernel returned None for every chunk") for line in advice.evidence)


def test_what_a_kernel_prints_is_kept_out_of_the_report_and_counted(capsys):
    assert main([f"{KERNELS}:prints", "--quick", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "\nchunk 20000\n" not in out and "\ndone\n" not in out
    summary = out.split("\nprints: ", 1)[1]
    assert "; the kernel printed " in summary and "its times include printing them" in summary
    assert "the kernel printed " in summary and "(the first: 'chunk 20000')" in summary


def test_numbas_reasons_are_put_in_the_users_terms():
    keyword = advise(advise_kernels.keyword_only, advise_kernels.make_small(), options=QUICK)
    assert "numba does not fill keyword-only parameters (scale): make them ordinary" in keyword.numba_reason
    helper = advise(advise_kernels.calls_a_helper, advise_kernels.make_small(), options=QUICK)
    assert "it calls helper, a plain Python function: decorate helper with @numba.njit too" in (
        helper.numba_reason
    )
    fraction = advise(advise_kernels.one_over, advise_kernels.make_small(), options=QUICK)
    assert "it uses the class Fraction" in fraction.numba_reason
    assert "\n" not in keyword.numba_reason + helper.numba_reason + fraction.numba_reason


def test_a_list_argument_is_measured_as_numbas_conversion_against_an_array():
    advice = advise(advise_kernels.list_sum, advise_kernels.make_lists(), options=QUICK)
    conversion = advice.examined.conversion
    assert "reflected list(float64)" in conversion.argument
    assert conversion.array_call_s is not None and conversion.call_s > 0
    assert advice.to_dict()["examined"]["conversion"]["argument"] == conversion.argument


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_advise_in_one_line_and_leaves_no_process(tmp_path):
    marker = f"COOKBOOK_TEST_MARKER_{uuid.uuid4().hex}"
    argv = [sys.executable, "-m", "cookbook.advise", f"{KERNELS}:hangs_on_three", "--chunks", "make_four"]
    child = subprocess.Popen(
        [*argv, "--json", str(tmp_path / "a.json")],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, marker: "1"},
        preexec_fn=default_sigint,
    )
    assert "checking the kernel" in child.stderr.readline()  # the runner is in the serial pass
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    err = child.stderr.read()
    assert child.wait(timeout=30) == 130
    assert err.strip() == "python -m cookbook.advise: interrupted: nothing written", err
    assert not (tmp_path / "a.json").exists()
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []
