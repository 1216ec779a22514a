"""The command line, in-process and once through a real subprocess."""

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cookbook.cli import sweep
from cookbook.environment import gil_enabled, usable_cores
from cookbook.recipe import packaged_names
from cookbook.run import main
from tests.conftest import GOOD_RECIPE

ONE_LINE = 1


def _error_lines(capsys):
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err.strip().splitlines()


def test_list_shows_each_recipe_with_its_variants(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    by_name = {line.split()[0]: line for line in lines}
    assert {"countdown", "monte_carlo_pi", "mandelbrot"} <= by_name.keys()
    assert "numba_threads" in by_name["countdown"]
    assert "not run: numpy_threads" in by_name["countdown"]


def test_the_installed_command_is_python_m_cookbook_run():
    command = Path(sys.executable).with_name("parallel-cookbook")  # pip puts it beside the interpreter
    assert command.exists(), "pip install -e . gives a parallel-cookbook command"
    installed = subprocess.run([command, "list"], capture_output=True, text=True, check=True)
    module = subprocess.run([sys.executable, "-m", "cookbook.run", "list"], capture_output=True, text=True)
    assert installed.stdout == module.stdout and "countdown" in installed.stdout
    failed = subprocess.run([command, "nope"], capture_output=True, text=True)
    assert failed.returncode == 2 and "unknown recipe 'nope'" in failed.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["countdwn"], "did you mean 'countdown'"),
        (["nope"], "unknown recipe 'nope' (valid: all, list, "),
        (["countdown", "--workers", "0"], "0 must be 1 or more"),
        (["countdown", "--workers", "-1"], "must be 1 or more"),
        (["countdown", "--workers", "abc"], "'abc' is not a whole number"),
        (["countdown", "--size", "huge"], "'huge' is not small, medium, large"),
        (["countdown", "--repeat", "0"], "must be 1 or more"),
        (["countdown", "--variants", "numba_treads"], "unknown numba_treads"),
        (["missing/recipe.py"], "missing/recipe.py: no such file"),
        (["countdown", "--json", "/no/such/folder/out.json"], "does not exist"),
        (["countdown", "--json", "/proc/out.json"], "cannot write in /proc"),
        ([], "the following arguments are required: TARGET"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    lines = _error_lines(capsys)
    assert len(lines) == ONE_LINE and message in lines[0], lines


def test_one_path_for_two_outputs_is_refused_before_any_work(capsys, tmp_path):
    out = tmp_path / "out"
    assert (
        main(
            [
                "countdown",
                "--check-only",
                "--json",
                str(out),
                "--csv",
                str(tmp_path / ".." / tmp_path.name / "out"),
            ]
        )
        == 2
    )
    lines = _error_lines(capsys)
    assert len(lines) == ONE_LINE and "--json and --csv name one file" in lines[0], lines
    assert not out.exists()


def test_a_size_below_a_recipes_smallest_is_refused_with_one_line_naming_it(capsys, write_recipe):
    path = write_recipe(GOOD_RECIPE + "\n    MIN_SIZE = 4\n    VARIANTS = {'serial': serial}\n")
    assert main([str(path), "--check-only", "--size", "3"]) == 2
    lines = _error_lines(capsys)
    assert len(lines) == ONE_LINE and f"--size 3 is below {path.stem}'s smallest size, 4" in lines[0], lines
    assert main([str(path), "--check-only", "--size", "4"]) == 0


def test_a_recipe_whose_input_is_not_reproducible_is_named(capsys, write_recipe):
    unseeded = GOOD_RECIPE.replace("np.random.default_rng(seed)", "np.random.default_rng()")
    path = write_recipe(unseeded + "\n    VARIANTS = {'serial': serial}\n")
    assert main([str(path), "--check-only"]) == 0
    err = capsys.readouterr().err
    assert "make_input(size, seed=0) is not reproducible" in err and "Traceback" not in err
    main([str(write_recipe(GOOD_RECIPE + "\n    VARIANTS = {'serial': serial}\n")), "--check-only"])
    assert "reproducible" not in capsys.readouterr().err


def test_unknown_recipe_lists_every_valid_name(capsys):
    assert main(["nope"]) == 2
    line = _error_lines(capsys)[0]
    assert all(name in line for name in packaged_names())


def test_a_file_that_is_not_a_recipe_is_named(capsys, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert main([str(path)]) == 2
    assert "not a Python file" in _error_lines(capsys)[0]


def test_mismatch_is_reported_and_exits_1(capsys, write_recipe):
    path = write_recipe(
        GOOD_RECIPE
        + """
    def python_threads(data, n_workers):
        return serial(data, n_workers) + 1


    VARIANTS = {"serial": serial, "python_threads": python_threads}
    """
    )
    assert main([str(path), "--check-only", "--workers", "1,3"]) == 1
    out = capsys.readouterr().out
    assert out.count("MISMATCH (max error 1") == 2


def test_raising_variant_is_reported_and_the_rest_still_run(capsys, write_recipe, tmp_path):
    path = write_recipe(
        GOOD_RECIPE
        + """
    def python_threads(data, n_workers):
        raise RuntimeError("the kernel fell over")


    def numpy(data, n_workers):
        return data * data


    VARIANTS = {"serial": serial, "python_threads": python_threads, "numpy": numpy}
    """
    )
    out_json = tmp_path / "run.json"
    assert main([str(path), "--quick", "--workers", "1", "--json", str(out_json)]) == 1
    out = capsys.readouterr().out
    assert "ERROR: RuntimeError: the kernel fell over" in out
    record = json.loads(out_json.read_text())
    statuses = {m["variant"]: m["status"] for m in record["recipes"][0]["measurements"]}
    assert statuses == {"serial": "OK", "python_threads": "ERROR", "numpy": "OK"}
    numpy_row = record["recipes"][0]["measurements"][2]
    assert len(numpy_row["samples"]) == 1 and numpy_row["speedup"] > 0 and numpy_row["efficiency"] > 0


def test_subprocess_run_writes_json_and_exits_0(tmp_path):
    out_json = tmp_path / "countdown.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookbook.run",
            "countdown",
            "--check-only",
            "--workers",
            "1,2",
            "--json",
            str(out_json),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    gil = "GIL enabled" if gil_enabled() else "GIL disabled (free-threaded build)"
    assert gil in done.stdout and "usable cores" in done.stdout
    record = json.loads(out_json.read_text())
    assert record["ok"] is True and record["options"]["size"] == "small"
    env = record["environment"]
    assert {
        "python",
        "gil_enabled",
        "cores",
        "libraries",
        "blas_pools",
        "numba_threading_layer",
    } <= env.keys()
    rows = {(m["variant"], m["workers"]) for m in record["recipes"][0]["measurements"]}
    assert ("joblib_processes", 2) in rows and ("numba", 1) in rows
    assert all(m["status"] == "OK" for m in record["recipes"][0]["measurements"])


def test_the_documented_example_recipe_passes(tmp_path):
    page = (Path(__file__).resolve().parents[1] / "docs" / "own-recipe.md").read_text()
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    path = tmp_path / f"readme_example_{os.getpid()}.py"
    path.write_text(code)
    out_json = tmp_path / "example.json"
    assert main([str(path), "--check-only", "--workers", "1,2", "--json", str(out_json)]) == 0
    rows = json.loads(out_json.read_text())["recipes"][0]["measurements"]
    assert [(m["variant"], m["workers"], m["status"]) for m in rows] == [
        ("serial", 1, "OK"),
        ("numpy_threads", 1, "OK"),
        ("numpy_threads", 2, "OK"),
        ("joblib_processes", 1, "OK"),
        ("joblib_processes", 2, "OK"),
    ]


def test_own_recipe_named_like_a_packaged_one_is_kept(capsys, tmp_path):
    folder = tmp_path / f"own_{os.getpid()}"
    folder.mkdir()
    body = GOOD_RECIPE + "\n    VARIANTS = {'serial': serial}\n"
    (folder / "countdown.py").write_text(textwrap.dedent(body))
    assert main(["list", "all", str(folder / "countdown.py")]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names.count("countdown") == 2


@pytest.mark.parametrize(
    ("cores", "expected"), [(1, [1]), (2, [1, 2]), (6, [1, 2, 4, 6]), (16, [1, 2, 4, 8, 16])]
)
def test_worker_sweep_doubles_up_to_the_usable_cores(cores, expected):
    assert sweep(cores) == expected


def test_sweep_is_accepted_by_workers(tmp_path):
    out_json = tmp_path / "sweep.json"
    argv = [
        "countdown",
        "--check-only",
        "--workers",
        "sweep",
        "--variants",
        "numba_threads",
        "--json",
        str(out_json),
    ]
    assert main(argv) == 0
    record = json.loads(out_json.read_text())
    assert record["options"]["workers"] == sweep(usable_cores())
    rows = [m["workers"] for m in record["recipes"][0]["measurements"] if m["variant"] == "numba_threads"]
    assert rows == sweep(usable_cores())


def test_markdown_and_csv_files_hold_every_measurement(tmp_path):
    md, table = tmp_path / "run.md", tmp_path / "run.csv"
    argv = ["countdown", "--size", "small", "--quick", "--workers", "1,2"]
    assert main([*argv, "--variants", "numba,numba_threads", "--markdown", str(md), "--csv", str(table)]) == 0
    text = md.read_text()
    assert "## countdown (size small = 40000)" in text
    assert "| numba_threads | 2 |" in text and "Amdahl s" in text and "memory bandwidth" in text
    rows = list(csv.DictReader(table.open()))
    assert [(r["variant"], r["workers"], r["status"]) for r in rows] == [
        ("serial", "1", "OK"),
        ("numba", "1", "OK"),
        ("numba_threads", "1", "OK"),
        ("numba_threads", "2", "OK"),
    ]
    assert float(rows[3]["efficiency"]) > 0 and rows[3]["serial_fraction"] != ""
    assert rows[3]["bound"] in ("memory", "compute")


@pytest.mark.parametrize("option", ["--markdown", "--csv"])
def test_every_output_path_is_checked_before_work(capsys, option):
    assert main(["countdown", option, "/no/such/folder/out"]) == 2
    assert (
        f"{option} /no/such/folder/out: the folder /no/such/folder does not exist" in _error_lines(capsys)[0]
    )


def test_plot_writes_one_png_per_recipe(tmp_path, write_recipe):
    path = write_recipe(
        GOOD_RECIPE
        + """
    def numpy_threads(data, n_workers):
        return data * data


    VARIANTS = {"serial": serial, "numpy_threads": numpy_threads}
    """
    )
    folder = tmp_path / "plots"
    assert main([str(path), "--quick", "--workers", "1,2", "--plot", str(folder)]) == 0
    png = folder / f"{path.stem}.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert [p.name for p in folder.iterdir()] == [png.name]


def test_plot_without_matplotlib_names_the_extra(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes "import matplotlib" fail
    assert main(["countdown", "--plot", str(tmp_path / "plots")]) == 2
    assert 'pip install -e ".[plot]"' in _error_lines(capsys)[0]


def test_existing_files_are_never_overwritten_silently(tmp_path, capsys):
    existing = tmp_path / "results.json"
    existing.write_text("keep me")
    assert main(["countdown", "--json", str(existing)]) == 2
    assert "the file exists; add --force to overwrite it" in _error_lines(capsys)[0]
    assert existing.read_text() == "keep me"
    argv = ["countdown", "--check-only", "--variants", "numba", "--json", str(existing), "--force"]
    assert main(argv) == 0
    assert json.loads(existing.read_text())["complete"] is True


def test_existing_plots_are_never_overwritten_silently(tmp_path, capsys):
    (tmp_path / "countdown.png").write_bytes(b"old")
    assert main(["countdown", "--plot", str(tmp_path)]) == 2
    assert "countdown.png exist; add --force" in _error_lines(capsys)[0]


def test_a_recipe_needing_a_missing_package_is_skipped_with_the_reason(write_recipe, tmp_path, capsys):
    body = GOOD_RECIPE.replace("import numpy as np", "import numpy as np\n    import no_such_package_xyz")
    missing = write_recipe(body)
    good = write_recipe(GOOD_RECIPE + '\n    VARIANTS = {"serial": serial}\n')
    out_json = tmp_path / "skipped.json"
    assert main([str(missing), str(good), "--check-only", "--json", str(out_json)]) == 0
    err = capsys.readouterr().err
    reason = f"{missing}: skipped: it needs no_such_package_xyz, which this Python ("
    assert reason in err and "Traceback" not in err
    record = json.loads(out_json.read_text())
    assert [r["recipe"] for r in record["recipes"]] == [good.stem]
    assert record["options"]["skipped_recipes"][0].startswith(reason)
    assert main([str(missing), "--check-only"]) == 2  # nothing left to run
    assert "no recipe can run here" in capsys.readouterr().err
