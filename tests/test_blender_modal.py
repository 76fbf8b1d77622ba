# SPDX-License-Identifier: GPL-3.0-or-later
"""What a failed job leaves in Blender's console (blender/modal.py)."""

import pytest

from conftest import printed

pytestmark = pytest.mark.blender


def test_a_failed_job_prints_its_traceback_only_when_it_is_a_bug():
    """A job that fails on something the user can act on (a missing file: ValueError, OSError;
    memory) says it in one ERROR line and leaves no traceback in the console; a bug (a KeyError, a
    TypeError) leaves its traceback for the bug report. Before 2026-12-06 the modal path printed
    the traceback of every failure (a review of Verify Strip: a missing file's one clear line came
    with a full traceback), and the blocking path guessed from the message text, so a bug whose
    message held "Error: " (every unexpected one) printed none."""
    code = (
        "import contextlib, io\n"
        "from reenact.jobs import BackgroundJob\n"
        "from reenact.blender.modal import print_unexpected\n"
        "def fails(exc):\n"
        "    def run(progress=None):\n"
        "        raise exc\n"
        "    job = BackgroundJob(run)\n"
        "    job._run()\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        print_unexpected(job)\n"
        "    return 'Traceback' in out.getvalue()\n"
        "print('RESULT', [fails(e) for e in (ValueError('x.mp4: file does not exist'), FileNotFoundError(2, 'gone'),\n"
        "      MemoryError(), KeyError('strip'), TypeError('bug'), RuntimeError('onnxruntime'))])\n"
    )
    line = printed(code, "RESULT")
    assert line == "RESULT [False, False, False, True, True, True]", line
