# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/make_figures.py, the README's figures: the tracking figure is made from the sample clip
(as the README says), and the cross-actor figures without ../shared/data say so and write nothing."""

import os
import subprocess
import sys

import cv2
import numpy as np

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


def test_dissolve_figure_from_the_sample_clip(tmp_path):
    """The README's dissolve figure: three dissolve frames, each footage | drawn whole | faded; in
    the middle one (its shot about half the picture) the faded mouth differs from the whole one."""
    r = subprocess.run([sys.executable, TOOL, "dissolve", "--out", str(tmp_path)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    img = cv2.imread(str(tmp_path / "dissolve_fade.jpg"))
    assert img is not None and os.listdir(tmp_path) == ["dissolve_fade.jpg"]
    h, w = img.shape[0] // 3, img.shape[1] // 3  # three rows of three tiles of one size
    row = img[h + 20:2 * h - 8].astype(int)  # the middle row, below its caption
    footage, whole, faded = row[:, :w], row[:, w:2 * w], row[:, 2 * w:3 * w]
    # drawn whole, the mouth opened; faded, about half of that change (a watermark's and JPEG's
    # difference alone stays under a few levels)
    change, kept = np.abs(whole - footage).max(2), np.abs(faded - footage).max(2)
    moved = change > 40
    assert moved.sum() > 200, moved.sum()
    ratio = np.median(kept[moved] / change[moved])
    assert 0.3 < ratio < 0.7, ratio
