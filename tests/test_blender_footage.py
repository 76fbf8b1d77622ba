# SPDX-License-Identifier: GPL-3.0-or-later
"""A strip relinked to another file of the same size and length (PyPI bpy module, 5.0): Render
Performance, Preview Frame and Train Renderer refuse it in one line naming both files and add
nothing; a re-encoded copy of the same shot renders with Accept Re-encoded Footage; Train
Renderer refuses a checkpoint of other data and Start Fresh trains anew; an old Track renders
with a warning."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.blender

CHECK = os.path.join(ROOT, "tests", "blender_footage_check.py")


def test_relinked_strip_is_refused_blender_5(carphone, tmp_path):
    res = subprocess.run([sys.executable, CHECK, json.dumps({"clip": carphone, "out": str(tmp_path)})],
                         capture_output=True, text=True, timeout=1200, cwd=str(tmp_path))
    lines = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert r["blender"].startswith("5.0")
    for key, name in (("noise", "noise.mp4"), ("copy", "carphone copy.mp4")):
        got = r[key]
        assert got["length"] == 120
        for op in ("render", "preview", "train"):
            line = got[op]["line"]
            assert line is not None, (key, op, got[op])
            assert "carphone_pristine.mp4" in line and name in line and "the pixels differ" in line, line
            assert "Accept Re-encoded Footage" in line, line
        assert got["strips"] == ["carphone"] and not got["renders_folder"]  # nothing added
    assert r["copy_accepted"] == {"render": ["FINISHED"], "preview": ["FINISHED"]}
    assert r["original"] == {"render": ["FINISHED"], "preview": ["FINISHED"]}
    # a checkpoint of other data: refused in one line naming the operator's option, which works
    line = r["train_other_checkpoint"]["line"]
    assert line is not None and "holds a checkpoint of other training data" in line, r["train_other_checkpoint"]
    assert "other.mp4" in line and "the Start Fresh option" in line and "--" not in line, line
    assert r["train_fresh"] == ["FINISHED"] and r["trained_on"] == ["carphone_pristine.mp4"]
    # an old Track file (no digest): renders, with a warning saying what could not be checked
    assert r["old_track"] == {"render": ["FINISHED"]}
    warn = [l for l in res.stdout.splitlines() if l.startswith("Warning: Reenact: ")]
    # (Track Actor on the sample clip says its pixels are tagged non-square: QCIF, 128:117)
    squeezed = [l for l in warn if "non-square pixels (pixel aspect 128:117" in l]
    assert squeezed and all(l.startswith("Warning: Reenact: tracked 1 actor(s) in 'carphone'") for l in squeezed), warn
    # (these renders are of an actor without edits, which the render now says: the footage as it is)
    warn = [l for l in warn if l not in squeezed and "has no edits on these frames: the result is its footage" not in l]
    assert len(warn) == 1 and "the pixels cannot be checked" in warn[0], warn
