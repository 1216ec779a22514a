"""A kernel wrapper that proves calls overlap: a barrier across threads or processes.

Each call records its arrival as a file named after its process and thread,
then waits until ``parties`` distinct callers have arrived. Work that runs
one call after another (``Thread(target=work(args))``) never gets past the
first call, and the wait ends in ``TimeoutError``. Files, not a
``threading.Barrier``, so that the wrapper pickles and works in worker
processes too.
"""

import os
import threading
import time
from pathlib import Path


class OverlapBarrier:
    def __init__(self, kernel, folder, parties, distinct="thread", timeout=30.0):
        self.kernel = kernel
        self.folder = str(folder)
        self.parties = parties
        self.distinct = distinct  # "thread" or "process": what makes two callers distinct
        self.timeout = timeout

    def _arrived(self):
        names = os.listdir(self.folder)
        if self.distinct == "process":
            return len({name.split("-")[0] for name in names})
        return len(names)

    def __call__(self, *args):
        Path(self.folder, f"{os.getpid()}-{threading.get_ident()}").touch()
        deadline = time.monotonic() + self.timeout
        while self._arrived() < self.parties:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self._arrived()} of {self.parties} callers ever ran at once")
            time.sleep(0.005)
        return self.kernel(*args)
