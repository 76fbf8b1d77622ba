# SPDX-License-Identifier: GPL-3.0-or-later
"""Work that overlaps the render path's main loop: one background thread per kind of work.

::

    lane = Lane(depth=8)
    lane.submit(fn, *args)      # runs fn(*args) in the lane's thread, in submission order
    lane.finish()               # waits for everything; the first error is raised here
    lane.abort()                # drops what has not started, waits for what runs

The render path (:func:`reenact.render.pipeline.render_clip`) runs the network on one lane
(the next batch infers while the main thread composites the previous one) and the frame
writer on another (PNG encoding and signing, or the movie encoder, while the next frames are
prepared), and the rows' warps on :class:`Draws` (two at a time). onnxruntime, OpenCV, zlib
and the codecs release the GIL, so on two cores the lanes really run beside the main thread.

**Order.** A lane has one thread: jobs run one at a time, in the order submitted.
**Bounded.** At most ``depth`` jobs are unfinished: :meth:`Lane.submit` waits for the oldest
beyond that (so a slow disk holds the render back instead of filling memory with frames).
**Errors.** The first error of a job is raised in the caller's thread by the next
:meth:`Lane.submit` that waits for it, or by :meth:`Lane.finish`; jobs after a failed one are
not run. **Cancel.** :meth:`Lane.abort` (the caller's error or cancel path) drops the jobs that
have not started and waits for the one running, so nothing writes after it returns.
"""

import glob
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor


class _Threads:
    """Background threads whose jobs stop running once one of them has failed."""

    def __init__(self, workers, name):
        self._ex = ThreadPoolExecutor(max_workers=max(1, int(workers)), thread_name_prefix=name)
        self._failed = threading.Event()

    def _start(self, fn, args):
        return self._ex.submit(self._run, fn, args)

    def _run(self, fn, args):
        if self._failed.is_set():  # an earlier job failed: nothing after it runs
            return None
        try:
            return fn(*args)
        except BaseException:
            self._failed.set()
            raise

    def _stop(self, futures):
        """Drop the jobs of ``futures`` that have not started, wait for those running."""
        self._failed.set()
        for f in futures:
            f.cancel()
        self._ex.shutdown(wait=True)


class Lane(_Threads):
    """One background thread running submitted jobs in order (see the module doc)."""

    def __init__(self, depth=8, name="reenact-lane"):
        super().__init__(1, name)
        self.depth = max(1, int(depth))
        self._pending = deque()

    def submit(self, fn, *args):
        """Queue ``fn(*args)``; returns its Future. Raises the error of a finished job."""
        self._raise_done()
        fut = self._start(fn, args)
        self._pending.append(fut)
        while len(self._pending) > self.depth:
            self._pending.popleft().result()
        return fut

    def _raise_done(self):
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()

    def finish(self):
        """Wait for every job; raises the first error (and still stops the thread)."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self.abort()

    def abort(self):
        """Drop the jobs that have not started, wait for the running one, stop the thread."""
        self._stop(self._pending)
        self._pending.clear()


class Draws(_Threads):
    """Jobs run ``workers`` at a time in background threads, their results taken back in the
    order submitted: the render path's warps (a mouth dub's lower face from the shot's own or
    the driver's frames; a moved head or edited face, whose holes then go to the network) run
    two rows at a time on two cores, the main thread finishing each row as it lands. At most
    ``ahead`` jobs wait to be taken back before :meth:`land` waits for the oldest. A job's error
    is raised by the :meth:`land` that takes it back; jobs that had not started by then do not
    run."""

    def __init__(self, workers=2, ahead=3, name="reenact-draw"):
        super().__init__(workers, name)
        self.ahead = max(1, int(ahead))
        self._jobs = deque()

    def submit(self, slot, fn, *args):
        """Run ``fn(*args)``; its result comes back with ``slot`` from :meth:`land`."""
        self._jobs.append((slot, self._start(fn, args)))

    def land(self, force=False):
        """(slot, result) of the jobs taken back, in submission order: the oldest while it is
        done or more than ``ahead`` wait; all of them when ``force``."""
        while self._jobs and (force or len(self._jobs) > self.ahead or self._jobs[0][1].done()):
            slot, fut = self._jobs.popleft()
            yield slot, fut.result()

    def close(self):
        """Drop the jobs that have not started, wait for those running, stop the threads."""
        self._stop([fut for _slot, fut in self._jobs])
        self._jobs.clear()


# ------------------------------------------------------------------------------ numpy's BLAS
_BLAS = {}
_BLAS_LOCK = threading.Lock()


def _openblas():
    """(set, get) of numpy's OpenBLAS thread count, or None (another BLAS, or not reachable)."""
    if "fns" in _BLAS:
        return _BLAS["fns"]
    fns = None
    try:
        import ctypes

        import numpy

        here = os.path.dirname(numpy.__file__)
        libs = sorted(glob.glob(os.path.join(here + ".libs", "*openblas*")) +  # Linux, Windows wheels
                      glob.glob(os.path.join(here, ".dylibs", "*openblas*")))  # macOS wheels
        for path in libs:
            lib = ctypes.CDLL(path)  # the library numpy loaded: the same handle
            for suffix in ("64_", ""):
                set_, get = (getattr(lib, "openblas_{}_num_threads{}".format(k, suffix), None) for k in ("set", "get"))
                if set_ is not None and get is not None:
                    set_.argtypes, get.restype = [ctypes.c_int], ctypes.c_int
                    fns = (set_, get)
                    break
            if fns:
                break
    except (OSError, ImportError, AttributeError):
        fns = None
    _BLAS["fns"] = fns
    return fns


def blas_threads(n):
    """Run numpy's OpenBLAS on ``n`` threads; returns a function that restores the count it had
    (a no-op where numpy uses another BLAS). The render path's matrices are tiny (3x3 inverses,
    a row of blend shapes): BLAS threads cannot speed them up, and waiting for work between
    calls they took 10-15 ms of CPU per frame from the network and the composite on two cores
    (docs/reenact-bench.md)."""
    fns = _openblas()
    if fns is None:
        return lambda: None
    set_, get = fns
    with _BLAS_LOCK:  # renders at once (threads): the first saves the count, the last restores it
        if _BLAS.get("users", 0) == 0:
            _BLAS["old"] = int(get())
        _BLAS["users"] = _BLAS.get("users", 0) + 1
        set_(int(n))
    done = []

    def restore():
        with _BLAS_LOCK:
            if done:
                return
            done.append(True)
            _BLAS["users"] -= 1
            if _BLAS["users"] == 0:
                set_(_BLAS["old"])

    return restore

