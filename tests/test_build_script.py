"""scripts/build-free-threaded-python.sh refuses bad settings before it fetches or builds anything."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build-free-threaded-python.sh"


def _run(tmp_path, **settings):
    env = {**os.environ, "PREFIX": str(tmp_path / "prefix"), "VENV": str(tmp_path / "venv"), **settings}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_the_script_parses():
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0


@pytest.mark.parametrize("value", ["2", "yes"])
def test_free_threaded_must_be_1_or_0(tmp_path, value):
    done = _run(tmp_path, FREE_THREADED=value)
    assert done.returncode == 2
    assert f"FREE_THREADED must be 1 or 0, not '{value}'" in done.stderr
    assert not (tmp_path / "prefix").exists()


def test_a_prefix_inside_the_repository_is_refused(tmp_path):
    done = _run(tmp_path, PREFIX=str(SCRIPT.parents[1] / "build-here"))
    assert done.returncode == 2
    assert "PREFIX must be outside the repository" in done.stderr
