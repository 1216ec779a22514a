"""Do the first calls of a pure-Python kernel run slower? In this process, and in fresh loky workers.

The harness warms each step until its calls stop getting faster (cookbook/timing.py)
instead of making a fixed number of warm-up calls; this probe shows what that rule
has to catch. Each line is one fresh process: the time of calls 1..N over the
fastest of them.

    python scripts/warmup_probe.py [--calls 10] [--processes 3]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(where: str, calls: int) -> None:
    sys.path.insert(0, str(ROOT))
    from recipes import countdown

    data = countdown.make_input(countdown.SIZES["medium"])
    variant = countdown.serial if where == "main" else countdown.joblib_processes
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        variant(data, 2)
        times.append(time.perf_counter() - start)
    best = min(times)
    ratios = " ".join(f"{t / best:.2f}" for t in times)
    print(f"{where:>12}: {ratios}   (fastest {best * 1e3:.1f} ms)", flush=True)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--child", choices=["main", "loky x2"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.calls)
        return
    python = sys.version.split()[0]
    print(f"countdown serial (this process) and joblib_processes on 2 fresh loky workers, Python {python}")
    for where in ("main", "loky x2"):
        for _ in range(args.processes):
            command = [sys.executable, __file__, "--child", where, "--calls", str(args.calls)]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
