"""Single-thread cost of common operations: run on 3.14 and 3.14t, compare ns per iteration."""

import math
import random
import sys
import time

N = 1_000_000
G = 0.2
data = [random.random() for _ in range(N)]
out = [0.0] * N


def loop_empty():
    for _i in range(N):
        pass


def list_load():
    a = data
    for i in range(N):
        a[i]


def list_store():
    o = out
    for i in range(N):
        o[i] = 1.5


def list_copy_elementwise():
    a, o = data, out
    for i in range(N):
        o[i] = a[i]


def float_arith():
    x = 1.5
    for _i in range(N):
        x * 2.0 + x


def global_float():
    for _i in range(N):
        G  # noqa: B018 (the global read is what is timed)


def len_call():
    a = data
    for _i in range(N):
        len(a)


def f(x):
    return x


def python_call():
    for _i in range(N):
        f(1.5)


def math_exp():
    for _i in range(N):
        math.exp(0.5)


def list_sort():
    data.copy().sort()


def list_append():
    o = []
    for _i in range(N):
        o.append(1.5)


def new_float_store():
    a, o = data, out
    for i in range(N):
        o[i] = a[i] + 1.0


TESTS = [
    loop_empty,
    list_load,
    list_store,
    list_copy_elementwise,
    new_float_store,
    list_append,
    float_arith,
    global_float,
    len_call,
    python_call,
    math_exp,
    list_sort,
]

if __name__ == "__main__":
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    print(f"# {sys.version.split()[0]} GIL enabled: {gil}")
    for test in TESTS:
        times = []
        for _ in range(7):
            start = time.perf_counter()
            test()
            times.append(time.perf_counter() - start)
        best = min(times)
        print(f"{test.__name__:24} {best / N * 1e9:7.1f} ns per iteration", flush=True)
