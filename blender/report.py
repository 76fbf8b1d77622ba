# SPDX-License-Identifier: GPL-3.0-or-later
"""Collect, then report: the one place where the glue turns core results and errors into
Blender reports (one line, prefixed once)."""

PREFIX = "Reenact: "
#: what an operator catches from the core: ReenactError (a ValueError) and file-system errors
EXPECTED = (ValueError, OSError)


def report(op, level, message):
    """``op.report`` with the Reenact prefix; ``level`` is 'INFO', 'WARNING', 'ERROR' or a set."""
    op.report({level} if isinstance(level, str) else set(level), PREFIX + str(message))


def fail(op, exc):
    """Report an expected failure as one error line; returns {'CANCELLED'} for the operator."""
    report(op, "ERROR", exc)
    return {"CANCELLED"}
