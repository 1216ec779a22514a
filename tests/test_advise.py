"""python -m cookbook.advise: the ladder built for a user's kernel, checked, timed and explained."""

import json
from pathlib import Path

import pytest

from cookbook.advise import advise, load_target, main
from cookbook.options import MODES, RunOptions
from tests import advise_kernels

KERNELS = str(Path(__file__).with_name("advise_kernels.py"))
QUICK = RunOptions(workers=(1, 2), sampling=MODES["quick"])


def _ran(advice):
    return {(m.variant, m.workers): m.status for m in advice.run.measurements}


def test_a_kernel_numba_compiles_gets_the_whole_ladder_and_every_variant_agrees():
    advice = advise(advise_kernels.python_loop, advise_kernels.make_chunks(), options=QUICK)
    ran = _ran(advice)
    for variant in ("serial", "python_threads", "joblib_processes", "numba", "numba_threads"):
        assert ran.get((variant, 1)) == "OK", ran
    assert ran[("python_threads", 2)] == ran[("joblib_processes", 2)] == ran[("numba_threads", 2)] == "OK"
    assert advice.numba_reason is None and advice.compile_s is not None and advice.compile_s > 0
    held = {m.variant: m.gil_held for m in advice.run.measurements if m.workers == 1}
    assert held["python_threads"] >= 0.5 and held["numba_threads"] < 0.5  # the GIL probe, per variant


def test_a_kernel_numba_rejects_says_why_in_one_line_and_is_never_advised_as_numba():
    advice = advise(advise_kernels.fraction_sum, advise_kernels.make_small(), options=QUICK)
    assert "numba" not in {m.variant for m in advice.run.measurements}
    assert advice.numba_reason.startswith("numba cannot compile it in nopython mode: ")
    assert "\n" not in advice.numba_reason
    assert advice.run.not_applicable["numba_threads"] == advice.numba_reason
    assert "numba" not in advice.recommendation
    assert any(line.startswith("numba: numba cannot compile it") for line in advice.evidence)


def test_a_numpy_kernel_runs_on_threads_with_the_gil_free():
    advice = advise(advise_kernels.numpy_sort, advise_kernels.make_arrays(), options=QUICK)
    held = {m.variant: m.gil_held for m in advice.run.measurements if m.workers == 1}
    assert held["python_threads"] < 0.5, held  # np.sort drops the GIL: no numba needed
    assert advice.run.ok


def test_the_advice_reads_as_a_recommendation_with_its_evidence_and_round_trips_as_json():
    advice = advise(advise_kernels.python_loop, advise_kernels.make_chunks(), options=QUICK)
    text = repr(advice)
    assert text.startswith("python_loop: ") and "\n  - python_threads x2: " in text
    record = advice.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert set(record["break_even_work_per_chunk_s"]) == {"threads", "processes"}
    assert record["shipping"]["chunk_bytes"] > 0
    assert "| python_threads | 2 |" in advice.table()


def test_a_combined_result_is_compared_after_the_reducer():
    kernel, chunks, combine = load_target(f"{KERNELS}:python_loop", combine="add_up")
    advice = advise(kernel, chunks, combine=combine, options=QUICK)
    assert advice.run.ok


def test_the_command_writes_json_and_markdown_and_exits_0(tmp_path, capsys):
    out_json, out_md = tmp_path / "a.json", tmp_path / "a.md"
    argv = [
        f"{KERNELS}:python_loop",
        "--quick",
        "--workers",
        "1,2",
        "--json",
        str(out_json),
        "--markdown",
        str(out_md),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "\npython_loop: " in printed
    record = json.loads(out_json.read_text())
    assert record["advice"]["recommendation"] and record["recipes"][0]["measurements"]
    assert out_md.read_text().startswith(f"# {KERNELS}:python_loop\n\n**")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nowhere.py:kernel"], "nowhere.py: no such file"),
        ([f"{KERNELS}"], "expected MODULE:KERNEL"),
        (
            [f"{Path(KERNELS).with_name('advise_broken.py')}:kernel"],
            "cannot import it: RuntimeError: this module",
        ),
        ([f"{KERNELS}:missing"], "advise_kernels.missing: does not exist"),
        ([f"{KERNELS}:not_a_function"], "advise_kernels.not_a_function: is not a function"),
        ([f"{KERNELS}:python_loop", "--chunks", "nope"], "advise_kernels.nope: does not exist"),
        ([f"{KERNELS}:raises"], "raises raised on a chunk: ValueError: no good: 20000"),
        ([f"{KERNELS}:noisy"], "is not deterministic: two serial passes differ"),
        ([f"{KERNELS}:python_loop", "--chunks", "make_none"], "no chunks"),
        ([f"{KERNELS}:python_loop", "--workers", "two"], "--workers: 'two' is not a list of numbers"),
        ([f"{KERNELS}:python_loop", "--json", "x", "--markdown", "x"], "--json and --markdown name one file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main([*argv, "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_chunks_that_cannot_be_pickled_fail_the_processes_row_and_the_others_still_run(capsys):
    assert main([f"{KERNELS}:first_item", "--chunks", "make_locks", "--quick", "--workers", "1,2"]) == 1
    out = capsys.readouterr().out
    assert "| python_threads | 2 |" in out and "OK" in out
    assert "joblib_processes" in out and "ERROR" in out
    assert "cannot be pickled" in out


def test_a_user_recipe_module_is_not_needed_the_api_takes_any_callable():
    chunks = [3, 4, 5]
    advice = advise(
        lambda n: n * n, chunks, name="square", options=RunOptions(workers=(1, 2), check_only=True)
    )
    assert advice.run.ok and advice.name == "square"
