"""compare OLD.json NEW.json: a change needs a significant and >1.1x move; schemas 1 and 2; bad files."""

import json
import statistics

import numpy as np
import pytest

from cookbook.compare import ALPHA, FACTOR, compare_runs, per_call_samples
from cookbook.run import main
from cookbook.stats import median_interval

NOISE = (0.99, 1.004, 0.996, 1.008, 1.0, 0.992, 1.01)  # +-1% around the median, 7 samples


def _measurement(variant, workers, median, schema=1):
    values = [median * f for f in NOISE]
    m = {"variant": variant, "workers": workers, "median_s": statistics.median(values)}
    if schema == 1:
        return {**m, "min_s": min(values), "max_s": max(values), "repeats_s": values}
    interval = median_interval(values)
    samples = [{"round": r, "per_call_s": v, "calls": 3} for r, v in enumerate(values)]
    return {
        **m,
        "status": "OK",
        "median_low_s": interval.low,
        "median_high_s": interval.high,
        "samples": samples,
    }


def _run(rows, python="3.11.7", schema=None):
    """A results file; without ``schema`` it has no "schema" key, as files before schema 2."""
    measurements = [_measurement(v, w, med, schema or 1) for v, w, med in rows]
    run = {
        "environment": {"python": python, "cpu": "test cpu", "cores": {"usable": 2}},
        "recipes": [{"recipe": "demo", "measurements": measurements}],
    }
    return run if schema is None else {"schema": schema, **run}


OLD_ROWS = [("serial", 1, 1.0), ("numba_threads", 2, 0.10), ("numpy", 1, 1.0)]
NEW_ROWS = [("serial", 1, 1.05), ("numba_threads", 2, 0.21), ("numba", 1, 1.0)]
OLD = _run(OLD_ROWS)  # no "schema" key: read as schema 1
NEW = _run(NEW_ROWS, python="3.14.0", schema=1)


def _write(tmp_path, name, run):
    path = tmp_path / name
    path.write_text(json.dumps(run))
    return path


def test_constants_are_those_of_asv_compare_with_a_looser_p():
    assert (FACTOR, ALPHA) == (1.1, 0.01)


def test_a_change_needs_significance_and_the_factor():
    changes, only = compare_runs(OLD, NEW)
    by_variant = {c.variant: c for c in changes}
    serial = by_variant["serial"]  # 1.05x, fully separated: significant, but under 1.1x
    assert serial.verdict == "" and serial.p_value is not None and serial.p_value < ALPHA
    threads = by_variant["numba_threads"]
    assert threads.verdict == "slower" and threads.ratio == pytest.approx(2.1)
    assert threads.old_low_s is None and threads.new_high_s is None  # schema 1 has no intervals
    assert only == ["demo numba x1: only in the new run", "demo numpy x1: only in the old run"]
    faster, _ = compare_runs(NEW, OLD)
    assert {c.variant: c.verdict for c in faster}["numba_threads"] == "faster"


def test_too_few_samples_cannot_be_called():
    old, new = _run([("serial", 1, 1.0)]), _run([("serial", 1, 2.0)])
    for run in (old, new):
        del run["recipes"][0]["measurements"][0]["repeats_s"]  # a schema 1 file with medians only
    [change], _ = compare_runs(old, new)
    assert (change.verdict, change.p_value, change.ratio) == ("", None, pytest.approx(2.0))


def test_compare_prints_ratios_and_what_differs(tmp_path, capsys):
    old, new = _write(tmp_path, "old.json", OLD), _write(tmp_path, "new.json", NEW)
    assert main(["compare", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "python: 3.11.7 -> 3.14.0" in out
    assert "2.10" in out and "slower" in out


def test_schema_2_files_compare_with_their_intervals(tmp_path, capsys):
    old, new = _run(OLD_ROWS, schema=2), _run(NEW_ROWS, python="3.14.0", schema=2)
    assert per_call_samples(old["recipes"][0]["measurements"][0]) == pytest.approx(list(NOISE))
    changes, _ = compare_runs(old, new)
    threads = {c.variant: c for c in changes}["numba_threads"]
    assert threads.verdict == "slower"
    assert threads.old_low_s == pytest.approx(0.099) and threads.new_high_s == pytest.approx(0.21 * 1.01)
    paths = _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", new)
    assert main(["compare", *map(str, paths)]) == 0
    assert "slower" in capsys.readouterr().out


def test_schema_1_and_schema_2_files_compare_with_each_other(tmp_path, capsys):
    for old, new in [(OLD, _run(NEW_ROWS, schema=2)), (_run(OLD_ROWS, schema=2), NEW)]:
        changes, _ = compare_runs(old, new)
        assert {c.variant: c.verdict for c in changes} == {"serial": "", "numba_threads": "slower"}
    paths = _write(tmp_path, "old.json", OLD), _write(tmp_path, "new.json", _run(NEW_ROWS, schema=2))
    assert main(["compare", *map(str, paths)]) == 0
    assert "2.10" in capsys.readouterr().out


def test_an_a_a_pair_of_runs_flags_no_row():
    rng = np.random.default_rng(3)

    def run():
        measurements = []
        for i in range(60):  # 60 steps, 8 samples each, 10% noise: the same code timed twice
            values = list(rng.lognormal(np.log(0.01 * (i + 1)), 0.1, 8))
            median = statistics.median(values)
            measurements.append({"variant": f"v{i}", "workers": 1, "median_s": median, "repeats_s": values})
        return {"environment": {}, "recipes": [{"recipe": "demo", "measurements": measurements}]}

    changes, only = compare_runs(run(), run())
    assert len(changes) == 60 and only == []
    assert [c for c in changes if c.verdict] == []


def test_an_unknown_schema_exits_2_with_one_line_naming_it(tmp_path, capsys):
    good = _write(tmp_path, "good.json", OLD)
    future = _write(tmp_path, "future.json", {**NEW, "schema": 7})
    assert main(["compare", str(good), str(future)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert f"{future}: results schema 7; this cookbook reads schemas 1 and 2" in lines[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("{not json", "not a JSON file"), ('{"a": 1}', "not a cookbook results file")],
)
def test_bad_results_files_exit_2_with_one_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    good = _write(tmp_path, "good.json", OLD)
    assert main(["compare", str(good), str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and message in lines[0]


def test_compare_takes_exactly_two_files(capsys):
    assert main(["compare", "one.json"]) == 2
    assert "compare takes two results files" in capsys.readouterr().err


def _schema_2(per_call):
    interval = median_interval(per_call)
    m = {"variant": "numba_threads", "workers": 2, "status": "OK", "median_s": interval.value}
    m |= {"median_low_s": interval.low, "median_high_s": interval.high}
    m["samples"] = [{"round": r, "per_call_s": v, "calls": 1} for r, v in enumerate(per_call)]
    return {"schema": 2, "environment": {}, "recipes": [{"recipe": "demo", "measurements": [m]}]}


def test_a_significant_move_beyond_the_factor_is_no_change_while_the_intervals_overlap():
    # one old sample above the fastest new one: the rank test says p < 0.01 and the ratio is 1.12,
    # but the old median's interval (6 samples: min to max) reaches into the new one's
    old = [1.00, 1.01, 1.02, 1.03, 1.04, 1.125]
    new = [1.12, 1.13, 1.14, 1.15, 1.16, 1.17]
    (change,), _ = compare_runs(_schema_2(old), _schema_2(new))
    assert change.p_value < ALPHA and change.ratio > FACTOR and change.verdict == ""
    (change,), _ = compare_runs(_schema_2([*old[:5], 1.05]), _schema_2(new))
    assert change.verdict == "slower"
