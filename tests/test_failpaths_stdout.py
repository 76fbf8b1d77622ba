# SPDX-License-Identifier: GPL-3.0-or-later
"""Results printed on standard output (``--json``) to a full disk: one error line, exit 2, no
Python noise (a review of disk failures, 2026-12-06)."""

import os
import resource
import subprocess
import sys

import pytest

LINE = "reenact: error: cannot write the output (standard output): "


def _run(args, stdout, limit=None, unbuffered=True):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"

    def cap():
        if limit is not None:  # (a full disk: the file may grow to `limit` bytes)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with open(stdout, "wb") as out:
        return subprocess.run([sys.executable, "-m", "reenact", *args], stdout=out, stderr=subprocess.PIPE,
                              text=True, env=env, preexec_fn=cap, timeout=300)


@pytest.mark.parametrize("unbuffered", [True, False])
def test_json_cut_short_by_a_full_disk_is_an_error(tmp_path, carphone, unbuffered):
    """Before 2026-12-06 `verify --json clip > file` exited 0 with the JSON cut at the disk's end
    (unbuffered), or exited 120 after "Exception ignored in: <_io.TextIOWrapper name='<stdout>'>"."""
    res = _run(["verify", "--json", carphone], tmp_path / "v.json", limit=1024, unbuffered=unbuffered)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines()[-1] == LINE + "File too large", res.stderr
    assert "Exception ignored" not in res.stderr and "Traceback" not in res.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["probe", "--json"], ["doctor", "--json"]])
def test_json_to_dev_full_says_standard_output(carphone, args, unbuffered=False):
    """Before 2026-12-06 `doctor --json > /dev/full` said "cannot write: No space left on device"
    naming no file, and `probe --json` exited 120 with Python's "Exception ignored" lines."""
    res = _run(args + ([carphone] if args[0] == "probe" else []), "/dev/full", unbuffered=unbuffered)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [LINE + "No space left on device"], res.stderr


def test_a_reader_that_closed_its_end_ends_the_command_quietly(carphone):
    """`reenact probe --json clip | head -0`: the reader closed the pipe. Before 2026-12-06 the
    command said "cannot write the output (standard output): Broken pipe" (exit 2); now it ends
    with a broken pipe's status and no line, as coreutils do."""
    r, w = os.pipe()
    os.close(r)  # (the reader gone before a byte is written)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    try:
        res = subprocess.run([sys.executable, "-m", "reenact", "probe", "--json", carphone], stdout=w,
                             stderr=subprocess.PIPE, text=True, env=env, timeout=300)
    finally:
        os.close(w)
    assert res.returncode == 141 and res.stderr == "", (res.returncode, res.stderr)
