"""The harness on its own: agreement, timing calls, recipe loading and its errors."""

import dataclasses
import json
import os

import numpy as np
import pytest

from cookbook import export
from cookbook.agreement import compare
from cookbook.measure import plan, run_recipe
from cookbook.options import MODES, RunOptions
from cookbook.recipe import Kind, RecipeError, kind_of, load
from tests.conftest import GOOD_RECIPE, PROCESSES_RECIPE


def test_integers_agree_only_exactly():
    assert compare(np.arange(5), np.arange(5)).ok
    result = compare(np.arange(5), np.arange(5) + np.array([0, 0, 3, 0, 0]))
    assert not result.ok and result.max_error == 3.0 and "1 of 5" in result.detail


def test_floats_agree_within_the_stated_tolerance():
    assert compare(1.0, 1.0 + 1e-10, rtol=1e-9).ok
    far = compare(1.0, 1.0 + 1e-6, rtol=1e-9)
    assert not far.ok and far.max_error == pytest.approx(1e-6)
    assert not compare(1.0, 1.0 + 1e-15).ok  # no tolerance stated: exact


def test_shape_dtype_and_nan_mismatches_are_explained():
    assert "shape (3,), expected (4,)" in compare(np.zeros(4), np.zeros(3)).detail
    assert "integer dtype" in compare(np.arange(3), np.arange(3.0)).detail
    assert "NaN" in compare(np.ones(3), np.array([1.0, np.nan, 1.0]), rtol=1).detail
    assert compare(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])).ok


def test_equal_infinities_agree_and_an_infinite_reference_wants_the_same_infinity():
    inf = np.array([np.inf, -np.inf, 1.0])
    assert compare(inf, inf.copy()).ok  # inf - inf is NaN: it once made every variant a MISMATCH
    assert compare(inf, inf + np.array([0, 0, 1e-12]), rtol=1e-9).ok
    for wrong in ([1e308, -np.inf, 1.0], [-np.inf, -np.inf, 1.0], [np.nan, -np.inf, 1.0]):
        assert not compare(inf, np.array(wrong), rtol=0.5).ok, wrong
    assert not compare(np.array([1.0, 2.0]), np.array([1.0, np.inf]), rtol=0.5).ok


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (np.arange(3.0), np.arange(3)),  # a float reference does not take integers
        (np.arange(3.0), np.arange(3) > 0),
        (np.arange(3.0), np.arange(3.0) + 0j),
        (np.arange(3) + 0j, np.arange(3.0)),
        (np.array([True, False]), np.array([1, 0])),
        (np.arange(3), np.arange(3.0)),
    ],
)
def test_the_dtype_kind_must_match(expected, actual):
    result = compare(expected, actual, rtol=1.0, atol=1.0)
    assert not result.ok and "dtype" in result.detail


def test_integer_kinds_agree_across_widths_and_signs():
    assert compare(np.arange(3, dtype=np.int64), np.arange(3, dtype=np.uint8)).ok
    assert compare(3, np.int32(3)).ok


def test_one_thread_variants_run_at_one_worker_only():
    assert kind_of("numba").executor == kind_of("serial").executor == "one thread"
    assert kind_of("numba_threads").executor == "threads"
    assert kind_of("joblib_processes").executor == "processes"
    steps = [step.key for step in plan(load("countdown"), None, [1, 3])]
    assert steps[0] == ("serial", 1)
    assert ("numba", 1) in steps and ("numba", 3) not in steps
    assert ("numba_threads", 3) in steps


def test_a_variants_kind_is_recorded_with_its_rows_and_a_declared_kind_wins_over_its_name(write_recipe):
    recipe = load(str(write_recipe(PROCESSES_RECIPE)))
    steps = plan(recipe, None, [1, 2], backends=("loky", "dask"))
    rows = {step.variant: step.measurement() for step in steps}
    assert rows["joblib_processes@dask"].executor == "processes"
    assert (rows["joblib_processes@dask"].function, rows["joblib_processes@dask"].backend) == (
        "joblib_processes",
        "dask",
    )
    assert rows["serial"].executor == "one thread"
    declared = dataclasses.replace(recipe, kinds={"joblib_processes": Kind("one thread")})
    assert [step.key for step in plan(declared, None, [1, 2])] == [("serial", 1), ("joblib_processes", 1)]


def test_recipe_by_path_runs_its_process_pool_variant(write_recipe):
    path = write_recipe(PROCESSES_RECIPE)
    run = run_recipe(load(str(path)), RunOptions(size="small", workers=(2,), sampling=MODES["quick"]))
    assert [(m.variant, m.workers, m.status) for m in run.measurements] == [
        ("serial", 1, "OK"),
        ("joblib_processes", 2, "OK"),
    ], run.measurements


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("SIZES = {'small': 1, 'large': 2}\n", "it has no make_input, VARIANTS"),
        ("import no_such_module_here\n", "skipped: it needs no_such_module_here, which this Python ("),
        ("import os.no_such_module\n", "cannot import it: ModuleNotFoundError"),
        ("def broken(:\n", "cannot import it: SyntaxError"),
        (GOOD_RECIPE + "\n    VARIANTS = {'other': serial}\n", "first entry is 'serial'"),
        (
            GOOD_RECIPE.replace('"large": 16', '"large": -1') + "\n    VARIANTS = {'serial': serial}\n",
            "positive",
        ),
    ],
)
def test_broken_recipe_file_names_the_file_and_what_is_wrong(write_recipe, body, message):
    path = write_recipe(body)
    with pytest.raises(RecipeError) as error:
        load(str(path))
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_recipe_file_cannot_shadow_a_real_module(tmp_path):
    path = tmp_path / "json.py"
    path.write_text(GOOD_RECIPE)
    with pytest.raises(RecipeError, match="already taken"):
        load(str(path))


def test_files_are_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    export.write_text(target, '{"a": 1}')
    assert json.loads(target.read_text()) == {"a": 1}
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        export.write_text(target, '{"a": 2}')
    assert json.loads(target.read_text()) == {"a": 1}  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind


def test_the_header_says_what_the_core_count_caps_and_what_it_does_not():
    from cookbook import environment, report

    cores = environment.usable_cores()
    line = report.header_lines(environment.collect())[1]
    assert f"at most {cores}x faster than itself at 1 worker" in line and "'speedup' is over serial" in line


def test_the_notes_say_which_steps_ran_in_process_and_which_pools_a_worker_thread_saw_limited():
    from cookbook import figures, report
    from cookbook.results import Measurement, RecipeRun

    run = RecipeRun("demo", None, 1, "small", {})
    run.measurements = [
        Measurement("joblib_processes", 1, "OK", in_caller=True),
        Measurement("numpy_threads", 2, "OK", inner_threads=1, limited_pools=["openblas (libopenblas)"]),
        Measurement("numba_threads", 2, "OK", inner_threads=1),
    ]
    lines = report.notes(figures.derive(run, None))
    assert any(line.startswith("joblib_processes x1 ran in this process") for line in lines)
    limited = [line for line in lines if line.startswith("BLAS limited to 1 thread")]
    assert len(limited) == 2 and "OpenMP" not in " ".join(lines)
    assert any("openblas (libopenblas); in numpy_threads x2" in line for line in limited)
    assert any("no pool" in line and "numba_threads x2" in line for line in limited)
    _, rows = report.table_rows(figures.derive(run, None))
    assert rows[0][1] == "1 in-process" and rows[1][1] == "2"


def test_an_interval_in_seconds_keeps_its_unit_and_never_an_exponent():
    from cookbook import report
    from cookbook.stats import Interval

    assert report.format_interval(Interval(853e-6, 840e-6, 1.15e-3), seconds=True) == "853 µs [840-1150]"
    assert report.format_interval(Interval(0.0123, 0.0121, 0.0125), seconds=True) == "12.3 ms [12.1-12.5]"
    assert report.format_interval(Interval(2.5, 2.4, None), seconds=True) == "2.50 s [-]"


def test_long_lists_of_numbers_are_compared_as_arrays_with_the_same_verdicts():
    floats = [float(k) / 7 for k in range(100_000)]
    assert compare([floats, floats], [list(floats), list(floats)]).ok
    nudged = list(floats)
    nudged[50_000] += 1e-9
    differs = compare([floats, floats], [floats, nudged])
    assert not differs.ok and differs.detail == "item 1: beyond rtol=0, atol=0"
    assert compare([floats], [nudged], rtol=1e-6).ok
    assert compare([1, 2, 3], [1, 2, 4]).detail == "1 of 3 values differ"
    assert compare([1.0, 2.0], [1, 2]).detail == "item 0: dtype int64, expected a float dtype like float64"
