"""The load beside a timing sample: /proc parsing, the arithmetic, and real processes on Linux."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cookbook.load import (
    BUSY_CORES,
    CpuSnapshot,
    Load,
    busy_reason,
    load_between,
    mean_load,
    snapshot,
)

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
ON_LINUX = sys.platform.startswith("linux") and Path("/proc/stat").exists()


def pid_stat(pid: int, name: str, pgrp: int, utime: int, stime: int, cutime: int = 0, cstime: int = 0) -> str:
    """A /proc/<pid>/stat line with the fields after the name in proc(5)'s order."""
    after = ["S", "1", str(pgrp), str(pgrp), "0", "-1", "4194304", "0", "0", "0", "0"]
    after += [str(utime), str(stime), str(cutime), str(cstime), "20", "0", "1", "0", "100"]
    return f"{pid} ({name}) {' '.join(after)}\n"


def fake_proc(tmp_path: Path) -> Path:
    """/proc/stat and four processes: three in group 42 (one with a nasty name), one in group 7."""
    (tmp_path / "stat").write_text(
        # user nice system idle iowait irq softirq steal guest guest_nice
        "cpu  1000 20 300 9000 50 5 15 40 7 3\ncpu0 500 10 150 4500 25 2 7 20 3 1\nintr 1 2 3\n"
    )
    processes = {
        100: pid_stat(100, "runner", 42, utime=200, stime=30, cutime=10, cstime=2),
        101: pid_stat(101, "loky (worker) ) x", 42, utime=50, stime=5),
        102: pid_stat(102, "other", 7, utime=400, stime=40),
        103: pid_stat(103, "thread pool", 42, utime=1, stime=2),
    }
    for pid, text in processes.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(text)
    (tmp_path / "104").mkdir()  # a process that vanished: no stat file left
    (tmp_path / "self").mkdir()  # not a pid
    return tmp_path


def test_snapshot_reads_a_fake_proc_tree(tmp_path: Path) -> None:
    snap = snapshot(root=fake_proc(tmp_path), pgid=42)
    assert snap is not None
    assert snap.busy_s == pytest.approx((1000 + 20 + 300 + 5 + 15) * TICK_S)
    assert snap.steal_s == pytest.approx(40 * TICK_S)
    assert snap.ours_s == pytest.approx((200 + 30 + 10 + 2 + 50 + 5 + 1 + 2) * TICK_S)


def test_snapshot_counts_only_the_given_group(tmp_path: Path) -> None:
    snap = snapshot(root=fake_proc(tmp_path), pgid=7)
    assert snap is not None
    assert snap.ours_s == pytest.approx(440 * TICK_S)


def test_snapshot_is_unknown_without_proc_stat(tmp_path: Path) -> None:
    assert snapshot(root=tmp_path / "missing") is None
    (tmp_path / "stat").write_text("intr 1 2 3\n")
    assert snapshot(root=tmp_path) is None
    (tmp_path / "stat").write_text("cpu  a b c\n")
    assert snapshot(root=tmp_path) is None


def test_old_kernels_without_steal_read_as_none_stolen(tmp_path: Path) -> None:
    (tmp_path / "stat").write_text("cpu  100 0 50 900\n")
    snap = snapshot(root=tmp_path, pgid=1)
    assert snap is not None
    assert (snap.busy_s, snap.steal_s, snap.ours_s) == (pytest.approx(150 * TICK_S), 0.0, 0.0)


def snap(wall_s: float, busy_s: float, steal_s: float, ours_s: float) -> CpuSnapshot:
    return CpuSnapshot(wall_s=wall_s, busy_s=busy_s, steal_s=steal_s, ours_s=ours_s)


def test_load_between_is_what_others_took_per_second() -> None:
    load = load_between(snap(10.0, 100.0, 5.0, 40.0), snap(12.0, 104.0, 5.5, 42.0))
    assert load is not None
    assert load.other_cores == pytest.approx(1.0)  # 4 busy - 2 ours over 2 s
    assert load.steal_cores == pytest.approx(0.25)


def test_load_between_clamps_at_zero() -> None:
    # jiffy rounding: ours can tick more than the machine-wide counters did
    load = load_between(snap(0.0, 10.0, 1.0, 5.0), snap(1.0, 10.5, 0.9, 6.0))
    assert load == Load(other_cores=0.0, steal_cores=0.0)


def test_load_between_is_unknown_without_both_or_a_positive_interval() -> None:
    known = snap(1.0, 1.0, 0.0, 0.0)
    assert load_between(None, known) is None
    assert load_between(known, None) is None
    assert load_between(None, None) is None
    assert load_between(known, known) is None
    assert load_between(known, snap(0.5, 2.0, 0.0, 0.0)) is None


def test_mean_load_averages_the_known_ones() -> None:
    mean = mean_load([Load(1.0, 0.0), None, Load(0.0, 0.4)])
    assert mean == Load(other_cores=pytest.approx(0.5), steal_cores=pytest.approx(0.2))
    assert mean_load([None, None]) is None
    assert mean_load([]) is None


def test_busy_reason_thresholds_and_wording() -> None:
    assert busy_reason(None) is None
    assert busy_reason(Load(0.3, 0.1)) is None
    assert busy_reason(Load(BUSY_CORES - 0.01, 0.0)) is None
    assert busy_reason(Load(BUSY_CORES, 0.0)) is not None
    assert busy_reason(Load(0.9, 0.1)) == (
        "busy machine: other processes took 0.9 cores and the hypervisor stole 0.1 while this was sampled"
    )
    assert (
        busy_reason(Load(0.9, 0.04)) == "busy machine: other processes took 0.9 cores while this was sampled"
    )
    assert (
        busy_reason(Load(0.47, 0.04)) == "busy machine: other processes took 0.5 cores while this was sampled"
    )
    assert (
        busy_reason(Load(0.0, 0.7)) == "busy machine: the hypervisor stole 0.7 cores while this was sampled"
    )


needs_two_cores = pytest.mark.skipif(
    not ON_LINUX or (os.cpu_count() or 1) < 2, reason="needs Linux /proc and at least 2 cores"
)
SPIN = [sys.executable, "-c", "print('spinning', flush=True)\nwhile True: pass"]


def measure(seconds: float, spin_here: bool = False) -> tuple[Load, float]:
    """The load over ``seconds``, and the cores our group used, sleeping or spinning here meanwhile."""
    before = snapshot()
    end = time.perf_counter() + seconds
    if spin_here:
        while time.perf_counter() < end:
            pass
    else:
        time.sleep(seconds)
    after = snapshot()
    load = load_between(before, after)
    assert before is not None and after is not None and load is not None
    return load, (after.ours_s - before.ours_s) / (after.wall_s - before.wall_s)


def spinning(**popen: bool) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(SPIN, stdout=subprocess.PIPE, **popen)
    assert child.stdout is not None
    child.stdout.readline()  # past the interpreter's start, however long a busy machine makes it
    return child


def stop(child: subprocess.Popen[bytes]) -> None:
    child.kill()
    child.wait()
    if child.stdout is not None:
        child.stdout.close()


@needs_two_cores
def test_a_busy_process_in_another_session_is_other_load() -> None:
    child = spinning(start_new_session=True)
    try:
        load, _ = measure(0.6)
    finally:
        stop(child)
    assert load.other_cores > 0.7  # about one core; more if the machine is busy besides


@needs_two_cores
@pytest.mark.parametrize("where", ["this process", "a child in our process group"])
def test_our_own_process_group_is_not_other_load(where: str) -> None:
    """Quiet and spinning intervals alternate; the least load seen in each is compared.

    Others' load comes and goes on a shared machine: the minima over a few tries see
    past it. Counting our spin as other would add about a core to the spinning ones.
    """
    child = spinning() if where != "this process" else None
    quiet, spun, ours = [], [], []
    try:
        for _ in range(4):
            if child is not None:
                child.send_signal(signal.SIGSTOP)
            quiet.append(measure(0.25)[0].other_cores)
            if child is not None:
                child.send_signal(signal.SIGCONT)
            load, ours_cores = measure(0.25, spin_here=child is None)
            spun.append(load.other_cores)
            ours.append(ours_cores)
    finally:
        if child is not None:
            stop(child)
    assert max(ours) > 0.6  # the spin was counted as ours
    assert min(spun) < min(quiet) + 0.5  # and not as other
