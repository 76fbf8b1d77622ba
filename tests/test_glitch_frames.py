# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/glitch_frames.py finds a frame that jumps for one frame in a render and not the motion
that carries on: on footage the test makes (a bar moving steadily, one frame of it drawn 12 px
off), the jumped frame is the top one and steady motion scores nothing."""

import os
import subprocess
import sys

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "glitch_frames.py")


def _frames(folder, n, jump=None):
    os.makedirs(folder, exist_ok=True)
    for t in range(n):
        img = np.full((96, 128, 3), 40, np.uint8)
        x = 10 + 3 * t + (12 if t == jump else 0)
        img[60:90, x:x + 20] = 220  # a bar in the lower third, moving 3 px a frame
        cv2.imwrite(os.path.join(folder, "frame_{:06d}.png".format(t)), img)
    return folder


def test_a_one_frame_jump_is_found_and_steady_motion_is_not(tmp_path):
    footage = _frames(str(tmp_path / "footage"), 12)
    render = _frames(str(tmp_path / "render"), 12, jump=6)
    sheet = str(tmp_path / "sheet.png")
    r = subprocess.run([sys.executable, TOOL, render, "--footage", footage, "--top", "2", "--sheet", sheet],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [ln for ln in r.stdout.splitlines() if ln.strip().startswith("frame")]
    assert lines[0].split()[1] == "6:", r.stdout
    top = float(lines[0].split()[2])
    assert top > 5.0 and "footage 0.00 %" in lines[0], r.stdout
    assert cv2.imread(sheet) is not None
    # the footage itself (steady motion) scores nothing
    r = subprocess.run([sys.executable, TOOL, footage, "--footage", footage], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "mean 0.00 %" in r.stdout, r.stdout
