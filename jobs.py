# SPDX-License-Identifier: GPL-3.0-or-later
"""Background jobs for the UI (no bpy): a worker thread runs a core function that reports
progress through a callback; the modal operator polls it from a timer and applies the result
on the main thread. Workers never touch bpy."""

import os
import subprocess
import sys
import threading
import time
import traceback

from .progress import Cancelled
from .paths import PACKAGE_ROOT


class BackgroundJob:
    def __init__(self, func, *args, **kwargs):
        #: also called with every progress step (e.g. :class:`reenact.progress.ProgressLines`)
        self.echo = None
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
        self.exception = None  # what raised it (the UI says it plainly: blender/report.describe)
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
        if self.echo is not None:
            self.echo(done, total, message)
        return not self._cancel.is_set()

    def _run(self):
        try:
            self.result = self._func(*self._args, progress=self._progress, **self._kwargs)
        except Cancelled:
            self.cancelled = True
        except (ValueError, OSError, RuntimeError) as exc:
            self.error = str(exc) or exc.__class__.__name__
            self.exception = exc
            self.traceback = traceback.format_exc()
        except Exception as exc:  # unexpected: keep the traceback for the console
            self.error = "{}: {}".format(exc.__class__.__name__, exc)
            self.exception = exc
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


# --- training in a separate Python (the training stack is not in Blender) -------------------



#: what a training run imports, the export at its end too (onnx, onnxruntime: before 2026-12-05
#: only the first four were checked, and a Python without them failed after the whole run)
TRAINING_MODULES = ("torch", "numpy", "cv2", "av", "onnx", "onnxruntime")


def python_has_torch(python):
    """True when ``python`` can import the training stack (:data:`TRAINING_MODULES`; checked in
    a subprocess, ~1 s)."""
    try:
        res = subprocess.run([python, "-c", "import " + ", ".join(TRAINING_MODULES)], capture_output=True,
                             timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def find_training_python(preferred=""):
    """The Python that trains: the one the user chose in the preferences, else this Python if it
    has torch. Raises ValueError with what to do when there is none."""
    if preferred:
        preferred = os.path.abspath(os.path.expanduser(preferred))
        if not os.path.isfile(preferred):
            raise ValueError("{}: training Python not found (Preferences > Add-ons > Reenact)".format(preferred))
        if not python_has_torch(preferred):
            raise ValueError("{}: this Python cannot import {}; see docs/guides.md, 'Training a renderer for "
                             "an actor'".format(preferred, ", ".join(TRAINING_MODULES)))
        return preferred
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        return sys.executable
    raise ValueError("training needs a Python with PyTorch: set 'Training Python' in Preferences > "
                     "Add-ons > Reenact (for example the .venv/bin/python that `make env` creates; "
                     ".venv\\Scripts\\python.exe on Windows)")


#: run by the training Python before the trainer module: the package at ``argv[1]`` importable
#: as ``reenact``, then ``argv[2]`` run as ``__main__`` with the remaining arguments
BOOT = ("import importlib.util, os, runpy, sys\n"
        "root, module = sys.argv[1], sys.argv[2]\n"
        "spec = importlib.util.spec_from_file_location('reenact', os.path.join(root, '__init__.py'),\n"
        "                                              submodule_search_locations=[root])\n"
        "pkg = importlib.util.module_from_spec(spec)\n"
        "sys.modules['reenact'] = pkg\n"
        "spec.loader.exec_module(pkg)\n"
        "sys.argv = [module] + sys.argv[3:]\n"
        "runpy.run_module(module, run_name='__main__', alter_sys=True)\n")


def killed_message(signum):
    """What to tell of a trainer killed by signal ``signum`` (POSIX: a negative exit status)."""
    import signal

    try:
        name = ", " + signal.Signals(signum).name
    except ValueError:
        name = ""
    said = "the trainer was killed (signal {}{})".format(signum, name)
    if signum == getattr(signal, "SIGKILL", None):  # what the system's out-of-memory killer sends
        said += (": most often the system ran out of memory and stopped it (close other programs, or train at a "
                 "smaller size)")
    return said + "; the next run resumes from its last checkpoint, if it saved one"


class TrainingProcess:
    """``python -m reenact.training.train ... --progress-lines`` in a subprocess, read by a thread
    (``module="reenact"`` with ``args`` starting ``restyle train`` runs the restyle trainer, which
    speaks the same lines).

    The package is made importable as ``reenact`` whatever its install name (inside Blender it
    is ``bl_ext.<repo>.reenact``) by a few lines run before the module (:data:`BOOT`; before
    2026-12-05 a symlink, which Windows allows only in Developer Mode). Cancel writes ``STOP`` to
    the trainer's stdin (and sends SIGTERM where signals are not a hard kill, not on Windows):
    the trainer saves its checkpoint and exits with status 143 (130 for SIGINT); its stdin
    closing or its output's pipe breaking (Blender gone) stops it the same way (before 2026-12-06
    the broken pipe killed it without a checkpoint). A trainer killed by a signal (the system's
    out-of-memory killer, kill -9) is said so (:func:`killed_message`). Its lines are read as
    UTF-8 whatever the system's code page (a path with 'ë' in a Windows PREVIEW line).
    """

    def __init__(self, python, args, extra_paths=(), module="reenact.training.train"):
        self.python = python
        self.module = module
        self.args = list(args)
        self.extra_paths = [p for p in extra_paths if p and os.path.isdir(p)]
        self.step = 0
        self.total = 0
        self.loss = float("nan")
        self.preview = None
        self.preview_serial = 0
        self.done_path = None
        self.resumed_from = 0  # the step the trainer resumed at (RESUMED <step>; 0: fresh)
        self.cancelled = False
        self.error = None
        self.warnings = []  # the trainer's "warning: ..." lines (a checkpoint of other data kept aside)
        self.tail = []
        self._lock = threading.Lock()
        self._proc = None
        self._cancel_sent = False
        self._rate_from = None  # (time, step) of the first progress line, and of the last
        self._rate_to = None

    def start(self):
        env = dict(os.environ)
        paths = self.extra_paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths)
        env.update(PYTHONUNBUFFERED="1", PYTHONUTF8="1", PYTHONIOENCODING="utf-8", REENACT_STOP_ON_STDIN="1")
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0  # (no console window)
        self._proc = subprocess.Popen([self.python, "-c", BOOT, PACKAGE_ROOT, self.module, *self.args,
                                       "--progress-lines"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, encoding="utf-8", errors="replace", env=env,
                                      creationflags=flags)
        self._reader = threading.Thread(target=self._read, name="reenact-train-reader", daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            with self._lock:
                self.tail = (self.tail + [line])[-20:]
                parts = line.split()
                if line.startswith("PROGRESS ") and len(parts) >= 4:
                    self.step, self.total, self.loss = int(parts[1]), int(parts[2]), float(parts[3])
                    mark = (time.monotonic(), self.step)
                    if self._rate_from is None:  # (the first line comes after loading and the
                        self._rate_from = mark   # first step: the rate is measured from it)
                    else:
                        self._rate_to = mark
                elif line.startswith("PREVIEW "):
                    self.preview = line[len("PREVIEW "):]
                    self.preview_serial += 1
                elif line.startswith("DONE "):
                    self.done_path = line[len("DONE "):]
                elif line.startswith("RESUMED ") and len(parts) == 2 and parts[1].isdigit():
                    self.resumed_from = int(parts[1])
                elif line.startswith("CANCELLED"):
                    self.cancelled = True
                elif "warning: " in line:
                    self.warnings.append(line[line.index("warning: ") + len("warning: "):])
        code = self._proc.wait()
        with self._lock:
            if code in (130, 143) or (self._cancel_sent and code in (-2, -15)):  # -15: stopped before the
                self.cancelled = True                                      # trainer caught signals
            elif code < 0 and not self.cancelled:  # (before 2026-12-06 its last line: "training failed: init: ...")
                self.error = killed_message(-code)
            elif code != 0 and not self.cancelled:
                errs = [l for l in self.tail if "error" in l.lower()]
                self.error = (errs[-1] if errs else (self.tail[-1] if self.tail else "")) or \
                    "training exited with status {}".format(code)

    @property
    def running(self):
        return self._reader.is_alive()

    @property
    def stopping(self):
        """Asked to stop (Esc), or stopped."""
        return self.cancelled or self._cancel_sent

    def status(self):
        with self._lock:
            return self.step, self.total, self.loss, self.preview, self.preview_serial

    def seconds_left(self):
        """Seconds the steps left take at the rate measured since the first progress line, or
        None before two lines have come."""
        with self._lock:
            a, b = self._rate_from, self._rate_to
            if a is None or b is None or b[1] <= a[1] or b[0] <= a[0]:
                return None
            return max(self.total - self.step, 0) * (b[0] - a[0]) / (b[1] - a[1])

    #: also send SIGTERM on cancel (not on Windows, where it is a hard kill: no checkpoint)
    stop_by_signal = os.name != "nt"

    def cancel(self):
        if self._proc is not None and self._proc.poll() is None:
            import signal

            self._cancel_sent = True
            try:
                self._proc.stdin.write("STOP\n")
                self._proc.stdin.flush()
            except (OSError, ValueError):  # (the trainer is exiting)
                pass
            if self.stop_by_signal:
                self._proc.send_signal(signal.SIGTERM)

    def wait(self, timeout=None):
        self._reader.join(timeout)
