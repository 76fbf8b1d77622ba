# SPDX-License-Identifier: GPL-3.0-or-later
"""Collect, then report: the one place where the glue turns core results and errors into
Blender reports (one line, prefixed once)."""

import os

PREFIX = "Reenact: "
#: what an operator catches from the core: ReenactError (a ValueError) and file-system errors
EXPECTED = (ValueError, OSError)


class NothingToDo(ValueError):
    """An operator that finds nothing to do (every result up to date): said as INFO and
    cancelled, not an error (before 2026-12-06 an error pop-up for a no-op)."""


def report(op, level, message):
    """``op.report`` with the Reenact prefix; ``level`` is 'INFO', 'WARNING', 'ERROR' or a set."""
    op.report({level} if isinstance(level, str) else set(level), PREFIX + str(message))


def fail(op, exc):
    """Report an expected failure as one error line; returns {'CANCELLED'} for the operator."""
    report(op, "INFO" if isinstance(exc, NothingToDo) else "ERROR", exc)
    return {"CANCELLED"}


def describe(exc, what=None):
    """One line for any failure of the work an operator calls: the core's own errors as they
    are, memory and onnxruntime/OpenCV errors (whose messages span lines and name C++ internals)
    said plainly, with ``what`` (for example the model file) in front."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    module = type(exc).__module__ or ""
    if isinstance(exc, EXPECTED):
        return text
    if isinstance(exc, MemoryError):
        line = "not enough memory{}: close other programs or use a smaller model".format(
            " ({})".format(text) if text else "")
    elif module.startswith("onnxruntime"):
        parts = [p.strip() for p in text.split(" : ")]
        code = parts[2] if len(parts) > 3 and parts[0] == "[ONNXRuntimeError]" else type(exc).__name__
        line = "onnxruntime could not run the model ({}): {}".format(code, parts[-1] if len(parts) > 3 else text)
    elif module.startswith("cv2"):  # "OpenCV(4.11.0) /path/file.cpp:123: error: (-215:Assertion failed) what in function 'f'"
        said = text.split(" error: ", 1)[-1]
        kind, _, rest = said[1:].partition(") ") if said.startswith("(") else ("", "", said)
        line = "OpenCV failed{}: {}".format(" ({})".format(kind.split(":", 1)[-1]) if kind else "", rest or said)
    else:
        line = "{}: {}".format(type(exc).__name__, text) if text else type(exc).__name__
    return "{}: {}".format(what, line) if what else line


def fail_any(op, exc, what=None):
    """Report any exception as one error line (the traceback of an unexpected one goes to the
    console, for a bug report); returns {'CANCELLED'}."""
    if not isinstance(exc, EXPECTED + (MemoryError,)):
        import traceback

        traceback.print_exception(exc)
    report(op, "ERROR", describe(exc, what))
    return {"CANCELLED"}


def unsigned_note(op, summary, out):
    """A WARNING when a render's or restyle's output carries no C2PA manifest (a lossless .mkv, an
    OpenEXR folder: the summary's ``manifest`` says why); the README promises a signed export, so
    one that is not is said (before 2026-12-06 it was silent)."""
    m = summary.get("manifest")
    if isinstance(m, dict) and m.get("signed") is False:
        report(op, "WARNING", "'{}' carries no C2PA manifest: {}; its frames carry the watermark".format(
            os.path.basename(os.path.normpath(str(out))), m.get("reason", "not signed")))
