"""compare OLD.json NEW.json: a change needs a significant and >1.1x move, and intervals apart; bad files."""

import json

import numpy as np
import pytest

from cookbook.compare import ALPHA, FACTOR, compare_runs
from cookbook.results import Session
from cookbook.run import main

NOISE = (0.99, 1.004, 0.996, 1.008, 1.0, 0.992, 1.01)  # +-1% around the median, 7 samples


def _measurement(variant, workers, per_call):
    samples = [{"round": r, "per_call_s": v, "calls": 3} for r, v in enumerate(per_call)]
    return {"variant": variant, "workers": workers, "status": "OK", "samples": samples}


def _record(rows, python="3.11.7", schema=3):
    """A results file's JSON: ``rows`` of (variant, workers, per-call seconds)."""
    recipe = {"recipe": "demo", "path": "demo.py", "size": 1, "size_label": "small", "not_applicable": {}}
    recipe["measurements"] = [_measurement(v, w, per_call) for v, w, per_call in rows]
    environment = {"python": python, "cpu": "test cpu", "cores": {"usable": 2}}
    return {"schema": schema, "complete": True, "environment": environment, "recipes": [recipe]}


def _noisy(rows):
    return [(v, w, [median * f for f in NOISE]) for v, w, median in rows]


def _session(record):
    return Session.from_dict(record, "test")


OLD_ROWS = [("serial", 1, 1.0), ("numba_threads", 2, 0.10), ("numpy", 1, 1.0)]
NEW_ROWS = [("serial", 1, 1.05), ("numba_threads", 2, 0.21), ("numba", 1, 1.0)]
OLD = _record(_noisy(OLD_ROWS), schema=2)  # written before schema 3: read all the same
NEW = _record(_noisy(NEW_ROWS), python="3.14.0")


def _write(tmp_path, name, run):
    path = tmp_path / name
    path.write_text(json.dumps(run))
    return path


def test_constants_are_those_of_asv_compare_with_a_looser_p():
    assert (FACTOR, ALPHA) == (1.1, 0.01)


def test_a_change_needs_significance_and_the_factor():
    changes, only = compare_runs(_session(OLD), _session(NEW))
    by_variant = {c.variant: c for c in changes}
    serial = by_variant["serial"]  # 1.05x, fully separated: significant, but under 1.1x
    assert serial.verdict == "" and serial.p_value is not None and serial.p_value < ALPHA
    threads = by_variant["numba_threads"]
    assert threads.verdict == "slower" and threads.ratio == pytest.approx(2.1)
    assert threads.old.low == pytest.approx(0.099) and threads.new.high == pytest.approx(0.21 * 1.01)
    assert only == ["demo numba x1: only in the new run", "demo numpy x1: only in the old run"]
    faster, _ = compare_runs(_session(NEW), _session(OLD))
    assert {c.variant: c.verdict for c in faster}["numba_threads"] == "faster"


def test_too_few_samples_cannot_be_called():
    old, new = _record([("serial", 1, [1.0])]), _record([("serial", 1, [2.0])])
    [change], _ = compare_runs(_session(old), _session(new))
    assert (change.verdict, change.p_value, change.ratio) == ("", None, pytest.approx(2.0))


def test_compare_prints_ratios_and_what_differs(tmp_path, capsys):
    old, new = _write(tmp_path, "old.json", OLD), _write(tmp_path, "new.json", NEW)
    assert main(["compare", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    above = lines.index(next(line for line in lines if "new time / old time" in line))
    assert any("different machines or interpreters" in line for line in lines[:above])
    assert "python: 3.11.7 -> 3.14.0" in out
    assert "2.10" in out and "slower" in out


def test_two_runs_of_one_machine_and_interpreter_are_not_called_different(tmp_path, capsys):
    old, new = _write(tmp_path, "old.json", OLD), _write(tmp_path, "new.json", _record(_noisy(NEW_ROWS)))
    assert main(["compare", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "different machines" not in out and "same interpreter, machine and libraries" in out


def test_an_a_a_pair_of_runs_flags_no_row():
    rng = np.random.default_rng(3)

    def run():
        measurements = []
        for i in range(60):  # 60 steps, 8 samples each, 10% noise: the same code timed twice
            measurements.append(("v", i + 1, list(rng.lognormal(np.log(0.01 * (i + 1)), 0.1, 8))))
        return _session(_record(measurements))

    changes, only = compare_runs(run(), run())
    assert len(changes) == 60 and only == []
    assert [c for c in changes if c.verdict] == []


def test_an_unknown_schema_exits_2_with_one_line_naming_it(tmp_path, capsys):
    good = _write(tmp_path, "good.json", OLD)
    future = _write(tmp_path, "future.json", {**NEW, "schema": 7})
    assert main(["compare", str(good), str(future)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert f"{future}: results schema 7; this cookbook reads schemas 2 and 3" in lines[0]


def test_a_schema_1_file_is_refused_in_one_line_that_says_to_run_it_again(tmp_path, capsys):
    old = {k: v for k, v in OLD.items() if k != "schema"}  # files before the key are schema 1
    paths = _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", NEW)
    assert main(["compare", *map(str, paths)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "old.json: results schema 1; this cookbook reads schemas 2 and 3; run it again" in line


TRUNCATED = json.dumps(NEW)[:200]
NO_VARIANT = json.dumps(
    {**NEW, "recipes": [{**NEW["recipes"][0], "measurements": [{"workers": 1, "status": "OK"}]}]}
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not a JSON file"),
        ('{"a": 1}', "not a cookbook results file"),
        (TRUNCATED, "not a JSON file, or cut short"),
        (NO_VARIANT, "a recipe or measurement has no 'variant' field"),
        (b"\xff\xfe", "not a JSON file"),
    ],
)
def test_bad_results_files_exit_2_with_one_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    elif content is not None:
        bad.write_text(content)
    good = _write(tmp_path, "good.json", OLD)
    assert main(["compare", str(good), str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and message in lines[0]


def test_compare_takes_exactly_two_files(capsys):
    assert main(["compare", "one.json"]) == 2
    assert "compare takes two results files" in capsys.readouterr().err


def _schema_2(per_call):
    return _session(_record([("numba_threads", 2, per_call)], schema=2))


def test_a_significant_move_beyond_the_factor_is_no_change_while_the_intervals_overlap():
    # one old sample above the fastest new one: the rank test says p < 0.01 and the ratio is 1.12,
    # but the old median's interval (6 samples: min to max) reaches into the new one's
    old = [1.00, 1.01, 1.02, 1.03, 1.04, 1.125]
    new = [1.12, 1.13, 1.14, 1.15, 1.16, 1.17]
    (change,), _ = compare_runs(_schema_2(old), _schema_2(new))
    assert change.p_value < ALPHA and change.ratio > FACTOR and change.verdict == ""
    (change,), _ = compare_runs(_schema_2([*old[:5], 1.05]), _schema_2(new))
    assert change.verdict == "slower"
