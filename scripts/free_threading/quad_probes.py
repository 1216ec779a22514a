"""quad_callback on 3.14t: where do the two threads get in each other's way?"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(REPO)]  # the probes here, the recipes

from quad_and_heat import NODES, integrand, loop_chunk, median_time, quad_chunk, report, run_chunks  # noqa: E402


def trivial(t, p):
    return p * t


def loop_fresh_nodes(f, params):
    return loop_chunk(f, params, [t + 0.0 for t in NODES])  # new float objects, made by this thread


PROBES = {
    "loop, shared nodes, integrand": lambda n: run_chunks(loop_chunk, integrand, n),
    "loop, fresh nodes, integrand": lambda n: run_chunks(loop_fresh_nodes, integrand, n),
    "loop, shared nodes, p * t": lambda n: run_chunks(loop_chunk, trivial, n),
    "loop, fresh nodes, p * t": lambda n: run_chunks(loop_fresh_nodes, trivial, n),
    "loop, fresh nodes, p * t copied": lambda n: run_chunks(loop_fresh_nodes, trivial, n, True),
    "quad, integrand": lambda n: run_chunks(quad_chunk, integrand, n),
    "quad, p * t": lambda n: run_chunks(quad_chunk, trivial, n),
    "quad, p * t copied per chunk": lambda n: run_chunks(quad_chunk, trivial, n, True),
}

if __name__ == "__main__":
    print(f"# {sys.version.split()[0]} GIL enabled: {sys._is_gil_enabled()}")
    for name, fn in PROBES.items():
        t1, t2 = median_time(fn, 1), median_time(fn, 2)
        report(name, t1, t2)
