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
prepared). onnxruntime, OpenCV, zlib and the codecs release the GIL, so on two cores the lanes
really run beside the main thread.

**Order.** A lane has one thread: jobs run one at a time, in the order submitted.
**Bounded.** At most ``depth`` jobs are unfinished: :meth:`Lane.submit` waits for the oldest
beyond that (so a slow disk holds the render back instead of filling memory with frames).
**Errors.** The first error of a job is raised in the caller's thread by the next
:meth:`Lane.submit` that waits for it, or by :meth:`Lane.finish`; jobs after a failed one are
not run. **Cancel.** :meth:`Lane.abort` (the caller's error or cancel path) drops the jobs that
have not started and waits for the one running, so nothing writes after it returns.
"""

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor


class Lane:
    """One background thread running submitted jobs in order (see the module doc)."""

    def __init__(self, depth=8, name="reenact-lane"):
        self.depth = max(1, int(depth))
        self._ex = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending = deque()
        self._failed = threading.Event()

    def _run(self, fn, args):
        if self._failed.is_set():  # an earlier job failed: nothing after it runs
            return None
        try:
            return fn(*args)
        except BaseException:
            self._failed.set()
            raise

    def submit(self, fn, *args):
        """Queue ``fn(*args)``; returns its Future. Raises the error of a finished job."""
        self._raise_done()
        fut = self._ex.submit(self._run, fn, args)
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
        self._failed.set()
        for f in self._pending:
            f.cancel()
        self._pending.clear()
        self._ex.shutdown(wait=True)
