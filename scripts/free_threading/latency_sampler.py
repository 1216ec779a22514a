"""Core-to-core round trip next to python_threads' efficiency, with and without shared objects.

Each sample times the C ping-pong (``pingpong.c``, compiled on first use) before and after
a few kernels at 1 and 2 threads; one line per sample. Run on a free-threaded build:
``.venv-3.14t/bin/python scripts/free_threading/latency_sampler.py 40``.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(REPO)]  # the probes here, the recipes

import quad_and_heat as p  # noqa: E402
from shared_objects import countdown_local  # noqa: E402

from recipes import countdown  # noqa: E402

p.STEPS = 30
p.SIZE = 160
p.GRID = np.random.default_rng(0).random((p.SIZE, p.SIZE))
p.BANDS = np.linspace(1, p.SIZE - 1, p.N_BANDS + 1).astype(np.int64).tolist()
cd_data = countdown.make_input(150_000)


def eff(fn):
    fn(1)
    s = time.perf_counter()
    fn(1)
    t1 = time.perf_counter() - s
    s = time.perf_counter()
    fn(2)
    t2 = time.perf_counter() - s
    return t1 / t2 / 2


def cd(kernel):
    def run(n):
        countdown.countdown = kernel
        try:
            return countdown.python_threads(cd_data, n)
        finally:
            countdown.countdown = original

    return run


original = countdown.countdown
CASES = {
    "countdown as is": cd(original),
    "countdown MODULUS local": cd(countdown_local),
    "heat pool": lambda n: p.heat_pool(p.heat_rows, n),
    "heat pinned": lambda n: p.heat_pinned(p.heat_rows, n),
    "heat pinned ALPHA local": lambda n: p.heat_pinned(p.heat_rows_local, n),
}
PINGPONG = Path(tempfile.mkdtemp()) / "pingpong"
subprocess.run(
    ["gcc", "-O2", "-pthread", "-o", str(PINGPONG), str(Path(__file__).with_name("pingpong.c"))], check=True
)


def rt():
    out = subprocess.run([str(PINGPONG)], capture_output=True, text=True, check=True).stdout
    return float(out.split(":")[1].split()[0])


print("time      rt_before rt_after  " + "  ".join(CASES), flush=True)
for _ in range(int(sys.argv[1])):
    before = rt()
    effs = [eff(fn) for fn in CASES.values()]
    after = rt()
    print(
        time.strftime("%H:%M:%S")
        + f"  {before:6.0f} ns {after:6.0f} ns  "
        + "  ".join(f"{e:.2f}" for e in effs),
        flush=True,
    )
