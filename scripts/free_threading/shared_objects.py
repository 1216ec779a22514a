"""Shared objects in the hot loop on 3.14t: each recipe's python_threads, kernel as is vs module constants
bound to locals (or per-thread copies of shared floats). 1 vs 2 threads."""

import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(REPO)]  # the probes here, the recipes

from quad_and_heat import median_time, report  # noqa: E402

from recipes import black_scholes, countdown, histogram, monte_carlo_pi, pairwise_distances  # noqa: E402

# countdown's and monte_carlo_pi's local-constant kernels are their recipes' own
# (python_threads_local, which pass the constants in); the others are probed only here.


def countdown_local(n):
    return countdown.countdown_local(n, countdown.MODULUS)


def count_inside_local(seed, n_points):
    return monte_carlo_pi.count_inside_local(
        seed, n_points, monte_carlo_pi.MULTIPLIER, monte_carlo_pi.MODULUS
    )


def call_prices_local(
    spot, strike, years, rate, vol, out, sqrt=math.sqrt, log=math.log, erfc=math.erfc, exp=math.exp
):
    for i in range(len(out)):
        s, k, t, r, v = spot[i], strike[i], years[i], rate[i], vol[i]
        root_t = sqrt(t)
        d1 = (log(s / k) + (r + 0.5 * v * v) * t) / (v * root_t)
        d2 = d1 - v * root_t
        n1 = 0.5 * erfc(-d1 / sqrt(2.0))
        n2 = 0.5 * erfc(-d2 / sqrt(2.0))
        out[i] = s * n1 - k * exp(-r * t) * n2
    return out


def bin_counts_local(samples, counts):
    # the recipe's kernel with the bin constants as arguments: locals in its loop
    return histogram.bin_counts_local(samples, counts, histogram.LO, histogram.HI, histogram.SCALE)


_nearest = pairwise_distances.nearest_distances


def nearest_private(xs, ys, zs, start, stop, out):
    # every call gets its own float objects for the points it reads (the recipe's
    # nearest_distances_copied calls the module's kernel, which this script swaps)
    return _nearest([x + 0.0 for x in xs], [y + 0.0 for y in ys], [z + 0.0 for z in zs], start, stop, out)


CASES = [
    (countdown, "countdown", countdown_local, 400_000),
    (monte_carlo_pi, "count_inside", count_inside_local, 2_000_000),
    (black_scholes, "call_prices", call_prices_local, 600_000),
    (histogram, "bin_counts", bin_counts_local, 3_000_000),
    (pairwise_distances, "nearest_distances", nearest_private, 1500),
]

if __name__ == "__main__":
    print(f"# {sys.version.split()[0]} GIL enabled: {sys._is_gil_enabled()}")
    for module, kernel_name, local, size in CASES:
        data = module.make_input(size)
        original = getattr(module, kernel_name)
        for label, kernel in (("as is", original), ("shared objects made private", local)):
            setattr(module, kernel_name, kernel)

            def run(n, module=module, data=data):
                return module.python_threads(data, n)

            t1, t2 = median_time(run, 1, 3), median_time(run, 2, 3)
            report(f"{module.__name__.split('.')[-1]:20} {label}", t1, t2)
        setattr(module, kernel_name, original)
