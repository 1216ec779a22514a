"""compare OLD.json NEW.json: ratios, flags beyond the spread, and bad files."""

import json

import pytest

from cookbook.compare import compare_runs
from cookbook.run import main


def _run(rows, python="3.11.7"):
    measurements = [
        {"variant": v, "workers": w, "median_s": med, "min_s": lo, "max_s": hi} for v, w, lo, med, hi in rows
    ]
    return {
        "environment": {"python": python, "cpu": "test cpu", "cores": {"usable": 2}},
        "recipes": [{"recipe": "demo", "measurements": measurements}],
    }


OLD = _run(
    [("serial", 1, 0.9, 1.0, 1.1), ("numba_threads", 2, 0.09, 0.10, 0.11), ("numpy", 1, 1.0, 1.0, 1.0)]
)
NEW = _run(
    [("serial", 1, 0.95, 1.05, 1.2), ("numba_threads", 2, 0.20, 0.21, 0.22), ("numba", 1, 1.0, 1.0, 1.0)],
    python="3.14.0",
)


def test_changes_are_flagged_only_beyond_the_spread():
    changes, only = compare_runs(OLD, NEW)
    by_variant = {c.variant: c for c in changes}
    assert by_variant["serial"].verdict == ""  # 1.05 s vs 1.0 s, ranges overlap
    assert by_variant["numba_threads"].verdict == "slower"
    assert by_variant["numba_threads"].ratio == pytest.approx(2.1)
    assert only == ["demo numba x1: only in the new run", "demo numpy x1: only in the old run"]
    faster, _ = compare_runs(NEW, OLD)
    assert {c.variant: c.verdict for c in faster}["numba_threads"] == "faster"


def test_compare_prints_ratios_and_what_differs(tmp_path, capsys):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(OLD))
    new.write_text(json.dumps(NEW))
    assert main(["compare", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "python: 3.11.7 -> 3.14.0" in out
    assert "2.10" in out and "slower" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("{not json", "not a JSON file"), ('{"a": 1}', "not a cookbook results file")],
)
def test_bad_results_files_exit_2_with_one_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(OLD))
    assert main(["compare", str(good), str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and message in lines[0]


def test_compare_takes_exactly_two_files(capsys):
    assert main(["compare", "one.json"]) == 2
    assert "compare takes two results files" in capsys.readouterr().err
