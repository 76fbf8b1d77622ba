# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/make_figures.py, the README's figures: the tracking figure is made from the sample clip
(as the README says), and the cross-actor figures without ../shared/data say so and write nothing."""

import os
import subprocess
import sys

import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "make_figures.py")


def test_track_figure_from_the_sample_clip(tmp_path):
    r = subprocess.run([sys.executable, TOOL, "track", "--out", str(tmp_path)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    img = cv2.imread(str(tmp_path / "track_carphone.png"))
    # two frames of the 176 x 144 clip at 3x side by side, the curves' plot below
    assert img is not None and img.shape == (3 * 144 + 220, 2 * 3 * 176, 3)
    assert os.listdir(tmp_path) == ["track_carphone.png"]  # no temporary file left


def test_cross_actor_figures_without_the_shared_data(tmp_path):
    r = subprocess.run([sys.executable, TOOL, "dub", "--out", str(tmp_path / "figs"), "--data", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "needs ../shared/data" in r.stdout
    assert not os.path.exists(tmp_path / "figs") or os.listdir(tmp_path / "figs") == []
