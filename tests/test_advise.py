"""python -m cookbook.advise: the ladder built for a user's kernel, checked, timed and explained."""

import json
from pathlib import Path

import pytest

from cookbook.advice import Advice
from cookbook.advise import advise, load_target, main
from cookbook.environment import gil_enabled
from cookbook.kernel import Examined, Shipping, interpreters_supported
from cookbook.options import MODES, RunOptions
from cookbook.render import render_text
from cookbook.results import Measurement, RecipeRun, Sample, Session
from tests import advise_kernels

KERNELS = str(Path(__file__).with_name("advise_kernels.py"))
QUICK = RunOptions(workers=(1, 2), sampling=MODES["quick"])
INTERPRETERS = ["interpreters"] if interpreters_supported() else []  # Python 3.14's rung, and its costs


GIL = gil_enabled()
FREE = "this Python runs without a GIL: python_threads is the row to read"


def _holds(held, variant):
    """What the GIL probe read for a variant; None on a free-threaded build, where there is no GIL."""
    assert (held[variant] is None) == (not GIL), held
    return held[variant] is not None and held[variant] >= 0.5


def _ran(advice):
    return {(m.variant, m.workers): m.status for m in advice.run.measurements}


@pytest.fixture(scope="module")
def python_loop_advice():
    """One quick advise of a kernel numba compiles, read by the tests below."""
    return advise(advise_kernels.python_loop, advise_kernels.make_chunks(), options=QUICK)


def test_a_kernel_numba_compiles_gets_the_whole_ladder_and_every_variant_agrees(python_loop_advice):
    advice = python_loop_advice
    ran = _ran(advice)
    for variant in ("serial", "python_threads", "joblib_processes", "numba", "numba_threads"):
        assert ran.get((variant, 1)) == "OK", ran
    assert ran[("python_threads", 2)] == ran[("joblib_processes", 2)] == ran[("numba_threads", 2)] == "OK"
    assert advice.numba_reason is None and advice.compile_s is not None and advice.compile_s > 0
    held = {m.variant: m.gil_held for m in advice.run.measurements if m.workers == 1}
    if GIL:  # the GIL probe, per variant; serial's read on one chunk when the kernel was examined
        assert _holds(held, "python_threads") and not _holds(held, "numba_threads")
        assert held["serial"] == advice.examined.gil_held
    else:
        assert held["python_threads"] is None and FREE in advice.evidence


def test_a_kernel_numba_rejects_says_why_in_one_line_and_is_never_advised_as_numba():
    advice = advise(advise_kernels.fraction_sum, advise_kernels.make_small(), options=QUICK)
    assert "numba" not in {m.variant for m in advice.run.measurements}
    assert advice.numba_reason.startswith("numba cannot compile it")
    assert "\n" not in advice.numba_reason
    assert advice.run.not_applicable["numba_threads"] == advice.numba_reason
    assert "numba" not in advice.recommendation
    assert any(line.startswith("numba: numba cannot compile it") for line in advice.evidence)


def test_a_gil_bound_kernel_numba_rejects_is_never_advised_as_threads_and_its_limits_are_named():
    advice = advise(advise_kernels.fraction_sum, advise_kernels.make_heavy(), options=QUICK)
    assert advice.run.ok
    held = {m.variant: m.gil_held for m in advice.run.measurements if m.workers == 1}
    head, *others = advice.recommendation.split("; ")
    assert not head.startswith("compile it with numba"), head
    if GIL:
        assert _holds(held, "python_threads")
        assert not head.startswith("run it on threads"), head
        assert any(o.startswith("python_threads ") and "a call holds the GIL" in o for o in others), others
    else:  # without a GIL, the Python threads may well pay: the row to read
        assert held["python_threads"] is None and FREE in advice.evidence
    assert "joblib_processes" in advice.recommendation or head.startswith("run it in worker processes")
    assert any(
        line.startswith("processes pay only for chunks of more than ") and "(yours hold " in line
        for line in advice.evidence
    ), advice.evidence


def test_a_numpy_kernel_runs_on_threads_with_the_gil_free():
    advice = advise(advise_kernels.numpy_sort, advise_kernels.make_arrays(), options=QUICK)
    held = {m.variant: m.gil_held for m in advice.run.measurements if m.workers == 1}
    assert not _holds(held, "python_threads")  # np.sort drops the GIL: no numba needed
    assert advice.run.ok


def test_the_advice_reads_as_a_recommendation_with_its_evidence_and_round_trips_as_json(python_loop_advice):
    advice = python_loop_advice
    text = repr(advice)
    assert text.startswith("python_loop: ") and "\n  - python_threads x2: " in text
    record = advice.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert set(record["break_even_work_per_chunk_s"]) == {"threads", "processes", *INTERPRETERS}
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
    assert record["environment"]["wall_s"] > 0 and record["environment"]["command"].endswith(str(out_md))
    assert out_md.read_text().startswith(f"# {KERNELS}:python_loop\n\n**")
    # render derives the advice again from the file's measurements: the same words as the command's
    page = render_text(
        "<!-- render: advice a.json -->\n<!-- /render -->\n", root=tmp_path, document=tmp_path / "p.md"
    )
    assert f"**{record['advice']['recommendation']}**" in page
    assert all(f"- {line}\n" in page for line in record["advice"]["evidence"])


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
        (
            [f"{KERNELS}:raises"],
            "raises raised on chunk 0 (of 8, counted from 0): ValueError: no good: 20000",
        ),
        ([f"{KERNELS}:noisy"], "is not deterministic: two serial passes differ"),
        ([f"{KERNELS}:python_loop", "--chunks", "make_none"], "no chunks"),
        ([f"{KERNELS}:python_loop", "--workers", "two"], "argument --workers: 'two' is not a whole number"),
        ([f"{KERNELS}:python_loop", "--rtol", "-1"], "argument --rtol: -1 must be 0 or more"),
        ([f"{KERNELS}:python_loop", "--budget", "0"], "argument --budget: 0 must be more than 0 seconds"),
        ([f"{KERNELS}:python_loop", "--nope"], "unrecognized arguments: --nope"),
        ([f"{KERNELS}:python_loop", "--json", "x", "--markdown", "x"], "--json and --markdown name one file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main([*argv, "--quick"]) == 2
    err = capsys.readouterr().err  # after the progress lines of a kernel that ran
    errors = [line for line in err.splitlines() if line.startswith("python -m cookbook.advise: error: ")]
    assert len(errors) == 1 and message in errors[0] and err.endswith(errors[0] + "\n"), err
    assert "Traceback" not in err


def test_chunks_that_cannot_be_pickled_fail_the_processes_row_and_the_others_still_run(capsys):
    assert main([f"{KERNELS}:first_item", "--chunks", "make_locks", "--quick", "--workers", "1,2"]) == 1
    out = capsys.readouterr().out
    assert "| python_threads | 2 |" in out and "OK" in out
    assert "joblib_processes" in out and "ERROR" in out
    assert "cannot be pickled" in out
    assert "joblib_processes: ERROR (PicklingError)" in out.split("first_item: ", 1)[1]  # named as the limit


def test_a_user_recipe_module_is_not_needed_the_api_takes_any_callable():
    chunks = [3, 4, 5]
    advice = advise(
        lambda n: n * n, chunks, name="square", options=RunOptions(workers=(1, 2), check_only=True)
    )
    assert advice.run.ok and advice.name == "square"
    assert advice.recommendation == "checked only, nothing timed: every variant agreed with serial"


def test_a_memory_bound_kernel_is_measured_against_the_machines_copy_bandwidth():
    advice = advise(
        advise_kernels.count_above, advise_kernels.make_large_arrays(), options=QUICK, name="count_above"
    )
    assert advice.run.ok and advice.environment["memory_bandwidth_bytes_per_s"] > 0
    assert any(
        line.startswith("serial x1 moves at least ") and "of the machine's copy bandwidth" in line
        for line in advice.evidence
    ), advice.evidence
    assert "| serial | 1 |" in advice.table() and " GB/s " in advice.table()


def test_processes_on_dask_get_their_row_and_their_task_cost(tmp_path, capsys):
    pytest.importorskip("distributed")
    out = tmp_path / "a.json"
    argv = [f"{KERNELS}:python_loop", "--quick", "--workers", "1,2", "--backend", "loky,dask"]
    assert main([*argv, "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    rows = {(m["variant"], m["workers"]): m["status"] for m in record["recipes"][0]["measurements"]}
    assert rows[("joblib_processes@dask", 2)] == rows[("joblib_processes", 2)] == "OK"
    assert set(record["advice"]["overhead_per_task_s"]) == {
        "threads",
        "processes",
        "processes@dask",
        *INTERPRETERS,
    }
    assert "[1/" in capsys.readouterr().err  # progress, one line a step without a terminal


def test_a_scheduler_without_the_dask_backend_is_one_line_and_exit_2(capsys):
    assert main([f"{KERNELS}:python_loop", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--scheduler needs --backend dask" in err


def test_a_module_needing_a_missing_package_says_which(tmp_path, capsys):
    module = tmp_path / "needs_missing.py"
    module.write_text("import not_a_package_anywhere\n\ndef kernel(x):\n    return x\n")
    assert main([f"{module}:kernel", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "cannot import it: No module named 'not_a_package_anywhere'" in err and "skipped" not in err


# --- the judgement alone, on measurements made up to show each case ---------------------------


def _row(variant, workers, seconds, gil_held=None):
    samples = [Sample(round=r, per_call_s=seconds * (1 + 0.01 * (r % 3 - 1)), calls=1) for r in range(6)]
    return Measurement(variant, workers, "OK", samples=samples, gil_held=gil_held)


def _advice(rows, *, gil=True, bytes_per_call=None, overhead=None, per_call=None, shipping=1e-5, tasks=8):
    run = RecipeRun(
        "k", Path("k.py"), tasks, str(tasks), {}, MODES["default"], rows, bytes_per_call, tasks=tasks
    )
    env = {"cores": {"usable": 2}, "gil_enabled": gil, "memory_bandwidth_bytes_per_s": 20e9}
    return Advice(
        "k",
        Session(env, {}, [run]),
        shipping=Shipping(100, 100, shipping),
        overhead_s=overhead or {"processes": 1e-4},
        call_overhead_s=per_call or {},
    )


def test_a_kernel_that_takes_fresh_memory_says_why_every_chunk_was_timed():
    advice = _advice([_row("serial", 1, 0.8, gil_held=0.0), _row("python_threads", 2, 0.45)])
    chunk_s = [0.1] * 8
    advice.examined = Examined(chunk_s, 0.8, 0.8, 0.3, 9000, 8, False, None)  # 0.3 s of 0.8 in the system
    [line] = [line for line in advice.evidence if line.startswith("serial:")]
    assert line.endswith("timed on all 8: what its page faults cost depends on the calls before (see below)")


def test_rungs_the_intervals_cannot_tell_apart_advise_the_one_on_fewer_workers():
    advice = _advice(
        [
            _row("serial", 1, 1.0, gil_held=0.99),
            _row("numba", 1, 0.1, gil_held=0.9),
            _row("numba_threads", 2, 0.0995),  # faster by its median, within the intervals
        ]
    )
    assert advice.recommendation.startswith("compile it with numba: ")
    assert "of the two, numba x1 takes fewer workers" in advice.evidence[0]
    apart = _advice([_row("serial", 1, 1.0), _row("numba", 1, 0.1), _row("numba_threads", 2, 0.06)])
    assert apart.recommendation.startswith("compile it with numba (nogil=True) and run it on threads")


def test_processes_that_win_for_sure_are_advised_and_the_threads_gil_is_named():
    advice = _advice(
        [
            _row("serial", 1, 1.0, gil_held=0.99),
            _row("python_threads", 1, 1.0, gil_held=0.99),
            _row("python_threads", 2, 1.0),
            _row("joblib_processes", 1, 1.0),
            _row("joblib_processes", 2, 0.55),
        ]
    )
    head, *others = advice.recommendation.split("; ")
    assert head.startswith("run it in worker processes (joblib): 1.82x [") and head.endswith(" on 2 cores")
    assert others == ["python_threads 1.00x: a call holds the GIL 99% of the time"]


def test_python_threads_that_hold_the_gil_are_never_advised_whatever_their_time():
    advice = _advice(
        [
            _row("serial", 1, 1.0),
            _row("python_threads", 1, 1.0, gil_held=0.95),
            _row("python_threads", 2, 0.7),  # a lucky reading: with the GIL held it cannot be real
            _row("joblib_processes", 1, 1.0),
            _row("joblib_processes", 2, 1.2),
        ]
    )
    assert advice.recommendation.startswith("stay serial: no variant pays on 2 cores")


def test_without_a_gil_python_threads_are_the_row_to_read():
    rows = [_row("serial", 1, 1.0), _row("python_threads", 1, 1.0), _row("python_threads", 2, 0.52)]
    advice = _advice(rows, gil=False)
    assert advice.recommendation.startswith("run it on threads: the kernel leaves the GIL free: 1.92x [")
    assert "this Python runs without a GIL: python_threads is the row to read" in advice.evidence


def test_chunks_below_the_break_even_work_are_named_with_the_size_that_would_pay():
    rows = [_row("serial", 1, 8e-5), _row("python_threads", 1, 8e-5), _row("python_threads", 2, 2e-4)]
    # threads: 30 µs a task, 80 µs a call (10 µs for each of 8 tasks): (30 + 10) * 2 / (2 - 1) = 80 µs
    advice = _advice(rows, overhead={"threads": 3e-5, "processes": 4e-4}, per_call={"threads": 8e-5})
    assert advice.work_per_chunk_s == pytest.approx(1e-5)
    assert advice.break_even_s == pytest.approx({"threads": 8e-5, "processes": 8.2e-4})
    assert advice.recommendation.startswith(
        "stay serial: no variant pays on 2 cores (each chunk holds 10 µs of work, "
        "and threads pay only above 80 µs: give each chunk more work)"
    )
    assert "threads pay only for chunks of more than 80 µs of work (yours hold 10 µs)" in advice.evidence


def test_a_memory_bound_kernel_that_nothing_speeds_up_is_called_memory_bound():
    rows = [
        _row("serial", 1, 0.01),
        _row("numpy_threads", 1, 0.01),
        _row("numpy_threads", 2, 0.0098),
    ]  # 1.02x
    advice = _advice(rows, bytes_per_call=150_000_000)  # 15 GB/s of the machine's 20
    assert advice.recommendation.startswith(
        "stay serial: no variant pays on 2 cores (the kernel is memory-bound: one thread "
        "streams 15.0 GB/s, 75% of the machine's copy bandwidth, so more workers queue for memory)"
    )
    assert "numpy_threads 1.02x: memory-bound, at least 15.3 GB/s of the machine's 20.0 GB/s" in (
        advice.recommendation
    )
    assert (
        "serial x1 moves at least 15.0 GB/s (its chunks and results once; the temporaries it makes are not "
        "counted), 75% of the machine's copy bandwidth (20.0 GB/s): memory-bound"
    ) in advice.evidence


def test_a_gain_of_a_few_per_cent_is_not_worth_advising():
    rows = [_row("serial", 1, 1.0), _row("numba", 1, 0.96)]
    assert _advice(rows).recommendation == (
        "stay serial: no variant pays on 2 cores "
        "(the fastest, numba x1, gains 1.04x [1.04-1.04], less than 1.1x)"
    )


def test_a_gain_whose_interval_reaches_1_is_not_advised_and_says_so():
    serial = _row("serial", 1, 1.0)
    threads = _row("python_threads", 2, 0.8)
    threads.samples[0] = Sample(round=0, per_call_s=1.3, calls=1)  # one slow round: the interval reaches 1
    advice = _advice([serial, _row("python_threads", 1, 1.0, gil_held=0.1), threads])
    assert advice.recommendation.startswith(
        "stay serial: no variant pays on 2 cores (the fastest, python_threads x2, gains 1.2"
    )
    assert advice.recommendation.endswith("not for sure (its interval reaches 1))"), advice.recommendation


def test_compiled_chunks_too_short_for_threads_are_named_as_the_limit_of_numba_threads():
    rows = [_row("serial", 1, 0.016), _row("numba", 1, 0.001), _row("numba_threads", 1, 0.0011)]
    rows.append(_row("numba_threads", 2, 0.0012))
    advice = _advice(
        rows, overhead={"threads": 1e-4}
    )  # threads pay above 200 µs; compiled, a chunk holds 138
    head, *others = advice.recommendation.split("; ")
    assert head.startswith("compile it with numba: 16.00x [") and head.endswith(" on one thread")
    assert others == [
        "numba_threads 13.33x: at its speed a chunk holds 138 µs of work, "
        "less than the 200 µs threads pay for"
    ]


def test_a_process_task_that_costs_much_of_its_work_is_named_as_the_limit():
    rows = [
        _row("serial", 1, 0.08),
        _row("numba", 1, 0.01),
        _row("joblib_processes", 1, 0.08),
        _row("joblib_processes", 2, 0.06),
    ]
    advice = _advice(rows, overhead={"processes": 1e-3}, shipping=2e-3)
    head, *others = advice.recommendation.split("; ")
    assert head.startswith("compile it with numba: 8.00x [")
    assert others == [
        "joblib_processes 1.33x: each task costs 3 ms (pickling, the pool and its share of a call) "
        "against 10 ms of work"
    ]
