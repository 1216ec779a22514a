"""SHA-256 of many files: I/O and hashing, where plain threads do help.

Workload
--------
``N_FILES`` files of random bytes, ``size`` MiB in all, written by
``make_input`` to a temporary folder; the result is each file's SHA-256 as a
hex string, exact for every variant. The kernel reads a file in blocks of
``BLOCK_SIZE`` bytes into one reused buffer and feeds each block to a
``hashlib.sha256`` object, as ``hashlib.file_digest`` does (Python 3.11+,
with 256 KiB blocks).

Two facts of CPython decide this recipe. A file read drops the GIL for the
``read`` system call. And hashlib's OpenSSL hashes drop it while they hash
a buffer of 2048 bytes or more (``HASHLIB_GIL_MINSIZE``; precisely: once one
update of that size has given the hash object its lock, every later update
drops it). So with large blocks nearly all the time is spent without the
GIL, and threads run at once.

The files are not read from disk while timing: ``make_input`` has just
written them, so they sit in the OS page cache, and a "read" is a copy from
memory. What is measured is hashing plus memory copies: CPU-bound, not
disk-bound. (Emptying the page cache needs root,
``echo 3 > /proc/sys/vm/drop_caches``; this recipe does not.) With cold
files on a real disk, threads would also overlap the waits for the disk.

The folder is removed when the data object is garbage-collected, or at
interpreter exit (``weakref.finalize``): a harness that simply drops the
data leaves nothing behind.

What the GIL does to each variant
---------------------------------
serial: the files one after the other; the reference.

python_threads: the same kernel, files on a thread pool. Between blocks a
thread holds the GIL only for a few bytecodes; it drops it in every read and
every hash update of ``BLOCK_SIZE`` bytes, so the threads hash at once: the
classic case where plain Python threads give a speedup.

python_threads_small_blocks: the same kernel and threads, with blocks of
``SMALL_BLOCK`` = 1024 bytes, below hashlib's 2048-byte threshold: every
hash update keeps the GIL, so the threads take turns for the hashing; only
the short ``read`` calls can overlap, and each block also costs a few
bytecodes. This is the counterpoint: the same code, only the buffer size
changed. A pure-Python checksum (a loop over the bytes) would hold the GIL
all the time, like ``countdown.py``.

numpy_threads: does not apply. NumPy has no hash function; reading a file
with ``np.fromfile`` and handing the array to hashlib would run the same
OpenSSL code as ``python_threads``.

numba_threads: does not apply. numba's nopython mode can neither call
hashlib nor read files; SHA-256 would have to be written out by hand, to
replace OpenSSL code that already runs without the GIL.

joblib_processes: the kernel in loky worker processes; each task sends a
path (a string) and gets a hex digest back, and each worker reads the file
itself. One GIL per process, but process start-up and task round trips are
paid for what threads already do.

python_interpreters: does not apply on any Python: its kernel reads the module
global hashlib, so it would be pickled by name, and each interpreter would
then import this module, which imports NumPy, and NumPy cannot be loaded in a
subinterpreter (InterpreterPoolExecutor sends a function that reads no global
as its code, any other by name).

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/file_checksums.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). python_threads is parallel on every
build: the reads and hashlib's large updates run without the GIL. python_threads_small_blocks is the
variant that moves: its 1 KiB updates keep the GIL where there is one, and on 3.14t there is none to
keep. Its figures on 3.11, 3.14 and 3.14t: ``docs/recipes/file_checksums.md``.

Run it: ``python recipes/file_checksums.py``. ``python -m cookbook.run file_checksums`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

import hashlib
import os
import shutil
import tempfile
import weakref
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat

import numpy as np
from joblib import Parallel, delayed

SIZES = {"small": 8, "medium": 96, "large": 512}  # MiB in all, split over N_FILES files
MIN_SIZE = 1  # 1 MiB: 32 KiB per file
N_FILES = 32  # fixed by the workload: one task per file
N_TASKS = N_FILES
BLOCK_SIZE = 2**20  # 1 MiB: every hash update drops the GIL
SMALL_BLOCK = 1024  # below hashlib's 2048-byte threshold: updates keep the GIL


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: one file's bytes, twice, or serial's read buffer.

    ``make_input`` holds each file's random bytes twice while it makes them (``rng.bytes``);
    the files then sit on disk and in the page cache, not in the process, and ``checksum``
    reads them through one reused buffer of ``BLOCK_SIZE`` bytes.
    """
    return max(2 * (size * 2**20 // N_FILES), BLOCK_SIZE)


def checksum(path, block_size=BLOCK_SIZE):
    """Return the SHA-256 of the file at ``path`` as a hex string, reading it in blocks."""
    digest = hashlib.sha256()
    buffer = bytearray(block_size)  # reused: no new 1 MiB allocation per block
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as file:
        while n_read := file.readinto(buffer):
            digest.update(view[:n_read])
    return digest.hexdigest()


class InputFiles:
    """The input files' ``paths``; their folder is removed with this object, or at exit."""

    def __init__(self, size, seed):
        folder = tempfile.mkdtemp(prefix="file_checksums-")
        self._remove_folder = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        rng = np.random.default_rng(seed)
        file_size = size * 2**20 // N_FILES
        self.paths = [os.path.join(folder, f"{i:02d}.bin") for i in range(N_FILES)]
        for path in self.paths:
            with open(path, "wb") as file:
                file.write(rng.bytes(file_size))


def make_input(size, seed=0):
    """Write ``N_FILES`` files of random bytes, ``size`` MiB in all, to a temporary folder."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "the files would be empty, and their checksums hash nothing"
        )
    return InputFiles(size, seed)


def serial(data, n_workers):
    return np.array([checksum(path) for path in data.paths])


def python_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(checksum, data.paths)))


def python_threads_small_blocks(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(checksum, data.paths, repeat(SMALL_BLOCK))))


def joblib_processes(data, n_workers):
    tasks = (delayed(checksum)(path) for path in data.paths)
    return np.array(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "python_threads_small_blocks": python_threads_small_blocks,
    "joblib_processes": joblib_processes,
}
NOT_APPLICABLE = {
    "python_interpreters": (
        "its kernel reads the module global hashlib, so it would be pickled by name, and each interpreter"
        " would then import this module, which imports NumPy, and NumPy cannot be loaded in a "
        "subinterpreter"
    ),
    "numpy_threads": "NumPy has no hash function; hashlib on a NumPy buffer is python_threads again",
    "numba_threads": "numba's nopython mode cannot call hashlib or read files",
}

if __name__ == "__main__":
    import time

    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    print(f"{N_FILES} files, {SIZES['small']} MiB in {os.path.dirname(data.paths[0])}")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:28} {elapsed:8.3f} s  agrees: {np.array_equal(result, expected)}")
