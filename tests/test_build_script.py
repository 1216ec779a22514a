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


FAKE_APT_GET = """#!/usr/bin/env bash
# Answers indextargets as a system whose apt uses one mirror; keeps the private sources.list and stops.
if [ "$1" = indextargets ]; then
    printf 'http://mirror.example.com/debian-security/\\nhttp://mirror.example.com/debian/\\n'
    exit 0
fi
for arg in "$@"; do
    case "$arg" in Dir::Etc::SourceList=*) cp "${arg#Dir::Etc::SourceList=}" "$SOURCES_COPY" ;; esac
done
exit 1
"""


@pytest.mark.parametrize(
    ("mirror", "expected"),
    [
        (None, "http://mirror.example.com/debian sid main"),
        ("https://other.example.org/debian/", "https://other.example.org/debian sid main"),
    ],
)
def test_the_source_comes_from_the_systems_debian_mirror_or_mirror(tmp_path, mirror, expected):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(FAKE_APT_GET)
    (bin_dir / "apt-get").chmod(0o755)
    settings = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SOURCES_COPY": str(tmp_path / "sources.list")}
    done = _run(tmp_path, **settings, **({"MIRROR": mirror} if mirror else {}))
    assert done.returncode != 0  # the fake apt-get stops it before any download
    assert (tmp_path / "sources.list").read_text().split("] ", 1)[1].strip() == expected


FAKE_PYTHON = """#!/usr/bin/env bash
# Says it is the build asked for, then refuses to make a venv: the test stops there.
if [ "$1" = -m ]; then exit 3; fi
exit 0
"""


def test_an_interpreter_built_before_is_reused_without_fetching(tmp_path):
    bin_dir = tmp_path / "prefix" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python3.14").write_text(FAKE_PYTHON)
    (bin_dir / "python3.14").chmod(0o755)
    done = _run(tmp_path, FREE_THREADED="0")
    assert done.returncode == 3
    assert f"== reusing {bin_dir / 'python3.14'}, built before" in done.stdout
    assert "fetching" not in done.stdout
