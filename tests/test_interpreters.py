"""The python_interpreters rung: why a kernel cannot run in a subinterpreter, in your terms, and what
each executor costs a run."""

import textwrap

import pytest

from cookbook import kernel

needs_314 = pytest.mark.skipif(not kernel.interpreters_supported(), reason="needs Python 3.14")


def _module(tmp_path, monkeypatch, name, source):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return __import__(name)


GLOBAL_READER = """
    {imports}
    STEP = 3

    def kernel(n):
        return n + STEP
"""


@pytest.mark.skipif(kernel.interpreters_supported(), reason="this Python has InterpreterPoolExecutor")
def test_before_314_the_rung_is_not_applicable_and_says_why():
    recipe = kernel.ladder_recipe("k", abs, [1, -2], None, None, None, (0.0, 0.0))
    assert "python_interpreters" not in recipe.variants
    assert recipe.not_applicable["python_interpreters"] == kernel.INTERPRETERS_NEED
    assert "3.14" in kernel.interpreters_reason(abs, 1)


@needs_314
def test_a_kernel_whose_module_imports_numpy_is_told_why(tmp_path, monkeypatch):
    module = _module(tmp_path, monkeypatch, "reads_a_global_np", GLOBAL_READER.format(imports="import numpy"))
    reason = kernel.interpreters_reason(module.kernel, 1)
    assert reason.startswith("reads_a_global_np cannot be imported in a subinterpreter (ImportError: ")
    assert "does not support loading in subinterpreters" in reason
    recipe = kernel.ladder_recipe("k", module.kernel, [1], None, None, reason, (0.0, 0.0))
    assert recipe.not_applicable["python_interpreters"] == reason


@needs_314
def test_a_kernel_of_a_plain_module_on_the_callers_path_runs_there(tmp_path, monkeypatch):
    module = _module(tmp_path, monkeypatch, "reads_a_global", GLOBAL_READER.format(imports="import math"))
    assert kernel.interpreters_reason(module.kernel, 1) is None  # its folder reached the interpreter
    recipe = kernel.ladder_recipe("k", module.kernel, [1, 2, 3], sum, None, None, (0.0, 0.0))
    assert recipe.variants["python_interpreters"]([1, 2, 3], 2) == 15


@needs_314
def test_chunks_that_need_numpy_are_told_why():
    import numpy as np

    reason = kernel.interpreters_reason(len, np.arange(3))
    assert reason.startswith("its chunks cannot be unpickled in a subinterpreter (ImportError: ")


@needs_314
def test_a_kernel_that_raises_there_is_told_why():
    reason = kernel.interpreters_reason(int, "not a number")
    assert (
        reason
        == "it raised in a subinterpreter: ValueError: invalid literal for int() with base 10: 'not a number'"
    )


def test_the_rung_runs_on_interpreters_by_its_kind():
    assert kernel.KINDS["python_interpreters"].executor == "interpreters"


def test_a_timed_run_records_each_executors_costs_once(tmp_path, capsys):
    """Start-up and cost per task of each executor the run uses, apart, in the line and the JSON;
    interpreters only where a recipe of the run has that rung."""
    from cookbook.results import read
    from cookbook.run import main

    out = tmp_path / "costs.json"
    argv = ["countdown", "--size", "small", "--quick", "--workers", "1,2"]
    assert main([*argv, "--variants", "python_interpreters,joblib_processes", "--json", str(out)]) == 0
    costs = read(out).executor_costs
    expected = {"threads", "processes"} | ({"interpreters"} if kernel.interpreters_supported() else set())
    assert costs is not None and costs.workers == 2 and not costs.error
    assert set(costs.per_task_s) == set(costs.startup_s) == expected
    assert all(seconds > 0 for seconds in [*costs.per_task_s.values(), *costs.startup_s.values()])
    assert costs.break_even_s("threads") == pytest.approx(2 * costs.per_task_s["threads"])
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("executor costs"))
    assert all(f"{executor} " in line for executor in expected)


def test_a_check_only_run_measures_no_costs(tmp_path):
    from cookbook.results import read
    from cookbook.run import main

    out = tmp_path / "checked.json"
    assert main(["countdown", "--check-only", "--workers", "1,2", "--json", str(out)]) == 0
    assert read(out).executor_costs is None


def test_runs_before_the_costs_read_joblibs_cost_per_task_as_the_processes_one():
    from cookbook.results import ExecutorCosts

    legacy = {"joblib_task_overhead": {"workers": 2, "per_task_s": {"loky": 2e-4, "dask": 5e-3}}}
    costs = ExecutorCosts.from_environment(legacy)
    assert costs == ExecutorCosts(2, {"processes": 2e-4, "processes@dask": 5e-3}, {})
    assert costs.break_even_s("processes@dask") == pytest.approx(1e-2)
    assert costs.break_even_s("interpreters") is None
    assert ExecutorCosts.from_environment({}) is None


@pytest.mark.skipif(kernel.interpreters_supported(), reason="this Python has InterpreterPoolExecutor")
def test_before_314_asking_for_the_rung_by_name_says_why_it_is_not_run(capsys):
    from cookbook.run import main

    assert main(["countdown", "--check-only", "--variants", "python_interpreters"]) == 0
    assert "python_interpreters: not run: needs Python 3.14 or later" in capsys.readouterr().out
