# SPDX-License-Identifier: GPL-3.0-or-later
"""Background jobs for the UI (no bpy): a worker thread runs a core function that reports
progress through a callback; the modal operator polls it from a timer and applies the result
on the main thread. Workers never touch bpy."""

import threading
import time
import traceback

from .progress import Cancelled


class BackgroundJob:
    def __init__(self, func, *args, **kwargs):
        self._func = func
        self._args = args
        self._kwargs = kwargs
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self.done = 0
        self.total = 0
        self.message = ""
        self.result = None
        self.error = None  # one-line message for the user
        self.traceback = None
        self.cancelled = False
        self.started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="reenact-job", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _progress(self, done, total, message=""):
        with self._lock:
            self.done, self.total, self.message = done, total, message
        return not self._cancel.is_set()

    def _run(self):
        try:
            self.result = self._func(*self._args, progress=self._progress, **self._kwargs)
        except Cancelled:
            self.cancelled = True
        except (ValueError, OSError, RuntimeError) as exc:
            self.error = str(exc) or exc.__class__.__name__
            self.traceback = traceback.format_exc()
        except Exception as exc:  # unexpected: keep the traceback for the console
            self.error = "{}: {}".format(exc.__class__.__name__, exc)
            self.traceback = traceback.format_exc()

    def cancel(self):
        self._cancel.set()

    @property
    def running(self):
        return self._thread.is_alive()

    def join(self, timeout=None):
        self._thread.join(timeout)

    def fraction(self):
        with self._lock:
            return 0.0 if not self.total else min(1.0, self.done / self.total)

    def status(self):
        with self._lock:
            return self.done, self.total, self.message
