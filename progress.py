# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress reporting shared by the command line and Blender operators (no bpy).

Long jobs take a ``progress`` callable ``progress(done, total, message="") -> bool``; returning
False asks the job to stop (cancel). ``ConsoleProgress`` draws a bar on stderr for the CLI.
"""

import os
import signal
import sys
import time


class Cancelled(Exception):
    """Raised inside a job when its progress callback asked it to stop."""


class Terminated(KeyboardInterrupt):
    """SIGTERM turned into the same clean cancellation as Ctrl-C (see :func:`terminate_as_interrupt`):
    every ``finally`` and ``except BaseException`` cleanup runs (temporary files are removed)."""


#: exit status of a job cancelled by Ctrl-C (SIGINT) and by SIGTERM: 128 + the signal number
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


def _raise_terminated(signum, frame):
    raise Terminated()


def terminate_as_interrupt():
    """Make SIGTERM raise :class:`Terminated` in the main thread (the command line's jobs: a
    farm manager's kill cleans up like Ctrl-C). Returns a function that puts the previous
    handler back. A no-op outside the main thread."""
    try:
        old = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, old)


class StopFlag:
    """A signal handler that only records the request (``flag``): a long loop checks it at a
    safe point, saves what it has and stops (training on SIGTERM / Esc in Blender)."""

    def __init__(self):
        self.flag = False
        self.signum = None
        self._old = {}

    def __call__(self, signum, frame):
        self.flag = True
        self.signum = signum

    def install(self):
        """Handle SIGTERM and SIGINT with this flag (main thread only; elsewhere a no-op). Run by
        :class:`reenact.jobs.TrainingProcess` (``REENACT_STOP_ON_STDIN=1``), a ``STOP`` line on
        stdin, or its end (Blender gone), sets it too: on Windows a signal to a child process is
        a hard kill, so Esc there could not let the trainer save its checkpoint."""
        for s in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[s] = signal.signal(s, self)
            except ValueError:  # not the main thread
                pass
        if os.environ.get("REENACT_STOP_ON_STDIN") == "1" and sys.stdin is not None:
            import threading

            threading.Thread(target=self._watch_stdin, name="reenact-stop-on-stdin", daemon=True).start()
        return self

    def _watch_stdin(self):
        try:
            for line in sys.stdin:
                if line.strip() == "STOP":
                    break
        except (OSError, ValueError):
            pass
        self.signum = self.signum or signal.SIGTERM  # (exits as a SIGTERM'd trainer does: 143)
        self.flag = True

    def restore(self):
        """Put back the handlers :meth:`install` replaced."""
        for s, h in self._old.items():
            signal.signal(s, h)
        self._old.clear()


def null_progress(done, total, message=""):
    return True


class ConsoleProgress:
    def __init__(self, label, stream=None, width=30, min_interval=0.1):
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        # a bar redrawn in place on a terminal; a line every few seconds in a log file
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = min_interval if self.tty else 5.0
        self._last = 0.0
        self._start = time.perf_counter()
        self._shown = False

    def __call__(self, done, total, message=""):
        now = time.perf_counter()
        if done < total and now - self._last < self.min_interval:
            return True
        self._last = now
        frac = 0.0 if not total else min(1.0, done / total)
        filled = int(round(frac * self.width))
        rate = done / max(now - self._start, 1e-9)
        line = "{} [{}{}] {}/{} {:.1f}/s {}".format(
            self.label, "#" * filled, "." * (self.width - filled), done, total, rate, message
        )
        if self.tty:
            self.stream.write("\r" + line[:200].ljust(80))
        else:
            self.stream.write(line[:200] + "\n")
        self.stream.flush()
        self._shown = True
        return True

    def close(self):
        if self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()


class ProgressLines:
    """Progress as plain lines a render farm can parse, for headless runs (Blender in background
    mode prints nothing else for minutes)::

        Reenact: Rendering 12/250 frame 57 on CPU

    ``Reenact: <label> <done>/<total> <message>``: the first and the last step always, else at
    most one line per ``interval`` seconds; written to ``stream`` (default stdout) and flushed."""

    PREFIX = "Reenact: "

    def __init__(self, label, stream=None, interval=1.0):
        self.label = label
        self.stream = stream
        self.interval = float(interval)
        self._last = None

    def __call__(self, done, total, message=""):
        now = time.perf_counter()
        if self._last is not None and done != total and now - self._last < self.interval:
            return True
        self._last = now
        out = self.stream or sys.stdout
        out.write("{}{} {}/{} {}".format(self.PREFIX, self.label, done, total, message).rstrip() + "\n")
        out.flush()
        return True
