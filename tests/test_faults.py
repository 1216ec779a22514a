"""Fault injection with fake recipes: each fault is reported in its row, and the run goes on."""

import json

import pytest

from cookbook import environment
from cookbook.run import main
from tests.conftest import GOOD_RECIPE

FAULTS = {
    "kills_its_worker": (
        """
    def kill_self(x):
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)


    def faulty(data, n_workers):
        return np.array(Parallel(n_jobs=n_workers, prefer="processes")(delayed(kill_self)(x) for x in data))
    """,
        "ERROR",
        "TerminatedWorkerError",
    ),
    "allocates_too_much": (
        """
    def faulty(data, n_workers):
        return np.empty(2**62, dtype=np.uint8)
    """,
        "ERROR",
        "MemoryError",
    ),
    "returns_nan": (
        """
    def serial(data, n_workers):
        return np.array([float(square(x)) for x in data.tolist()])


    def faulty(data, n_workers):
        return np.where(data > 50, np.nan, (data * data).astype(float))
    """,
        "MISMATCH",
        "NaN in",
    ),
    "returns_wrong_dtype": (
        """
    def faulty(data, n_workers):
        return (data * data).astype(float)
    """,
        "MISMATCH",
        "dtype float64, expected an integer dtype",
    ),
    "returns_wrong_shape": (
        """
    def faulty(data, n_workers):
        return (data * data)[:-1]
    """,
        "MISMATCH",
        "shape (7,), expected (8,)",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_faulty_variant_is_reported_and_the_next_one_still_runs(write_recipe, tmp_path, fault):
    body, status, message = FAULTS[fault]
    path = write_recipe(
        GOOD_RECIPE
        + body
        + """

    def python_threads(data, n_workers):
        return serial(data, n_workers)


    VARIANTS = {"serial": serial, "faulty_processes": faulty, "python_threads": python_threads}
    """
    )
    out_json = tmp_path / "faults.json"
    assert main([str(path), "--check-only", "--workers", "2", "--json", str(out_json)]) == 1
    rows = {m["variant"]: m for m in json.loads(out_json.read_text())["recipes"][0]["measurements"]}
    assert rows["faulty_processes"]["status"] == status
    assert message in rows["faulty_processes"]["detail"]
    assert rows["python_threads"]["status"] == "OK"  # the run went on, with a fresh pool where one broke


def test_running_out_of_memory_outside_a_variant_is_one_line(monkeypatch, capsys):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 128. MiB")

    monkeypatch.setattr(environment, "memory_bandwidth", no_memory)
    assert main(["countdown", "--variants", "numba"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[-1]
        == "python -m cookbook.run: error: out of memory: Unable to allocate 128. MiB; try a smaller --size"
    )
    assert not any("Traceback" in line for line in err)
