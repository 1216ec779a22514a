"""sort_chunks: serial on the main thread against the same call on one other thread."""

import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(REPO)]  # the probes here, the recipes

from recipes import sort_chunks as sc  # noqa: E402

data = sc.make_input(sc.SIZES["large"])


def timed(fn):
    times = []
    for _ in range(3):
        s = time.perf_counter()
        fn()
        times.append(time.perf_counter() - s)
    return statistics.median(times)


def in_thread(fn):
    def run():
        t = threading.Thread(target=fn)
        t.start()
        t.join()

    return run


print(f"# {sys.version.split()[0]} GIL enabled: {sys._is_gil_enabled()}")
print(f"serial, main thread          {timed(lambda: sc.serial(data, 1)):.3f} s")
print(f"serial, one other thread     {timed(in_thread(lambda: sc.serial(data, 1))):.3f} s")
print(f"python_threads x1            {timed(lambda: sc.python_threads(data, 1)):.3f} s")
a, b = sorted(data[0].tolist()), sorted(data[1].tolist())
out = [0.0] * (len(a) + len(b))
print(f"merge_runs, main thread      {timed(lambda: sc.merge_runs(a, b, out)):.3f} s")
print(f"merge_runs, other thread     {timed(in_thread(lambda: sc.merge_runs(a, b, out))):.3f} s")
