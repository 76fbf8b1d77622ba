# SPDX-License-Identifier: GPL-3.0-or-later
"""A whole render into a frame folder that holds an earlier render's frames, stopped part-way
(SIGTERM, Ctrl-C, a full disk): the folder is a mix of two renders, which assemble refuses (a
review of disk failures, 2026-12-06)."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest


def _folder(tmp_path, n=12):
    """A clip of ``n`` frames and a frame folder of an earlier render of it (a day old)."""
    from reenact.video.encode import VideoWriter
    from reenact.video.pngs import write_png

    clip = str(tmp_path / "clip.mp4")
    rng = np.random.default_rng(3)
    with VideoWriter(clip, 25, (32, 32)) as w:
        for _i in range(n):
            w.write(rng.integers(0, 255, (32, 32, 3), np.uint8))
    folder = tmp_path / "mix"
    folder.mkdir()
    for i in range(n):
        p = folder / "frame_{:06d}.png".format(i)
        write_png(str(p), rng.integers(0, 255, (32, 32, 3), np.uint8))
        os.utime(p, (time.time() - 86400,) * 2)
    return clip, str(folder)


def _render(folder, frames, n=12, fail=False):
    """What `reenact render --out FOLDER/` does around the render: its frames written (new ones)."""
    from reenact.render.chunks import marking
    from reenact.video.pngs import write_png

    with marking(folder, "", (0, n), None, n):
        os.makedirs(folder, exist_ok=True)  # (as the render's frame folder)
        for i in frames:
            write_png(os.path.join(folder, "frame_{:06d}.png".format(i)), np.zeros((32, 32, 3), np.uint8))
        if fail:
            raise KeyboardInterrupt


def test_a_stopped_render_over_an_earlier_ones_frames_is_refused_by_assemble(tmp_path):
    """Before 2026-12-06 `reenact assemble mix --out mix.mp4` made a movie (exit 0) of 4 frames of
    the stopped render and 8 of the earlier one."""
    from reenact.render.chunks import check_chunks
    from reenact.video.encode import FrameFolder

    clip, folder = _folder(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _render(folder, range(4), fail=True)
    with pytest.raises(ValueError, match=r"clip frames 0-3 are from a render that was interrupted \(the others from "
                                         r"an earlier render\): render again"):
        check_chunks(folder)
    res = subprocess.run([sys.executable, "-m", "reenact", "assemble", folder, "--video", clip, "--out",
                          str(tmp_path / "mix.mp4")], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert res.returncode == 2 and "clip frames 0-3 are from a render that was interrupted" in res.stderr, res.stderr
    assert not (tmp_path / "mix.mp4").exists()
    FrameFolder(folder, 12)  # (the marker is no reason to refuse the render again)
    with pytest.raises(KeyboardInterrupt):  # stopped again, earlier: the first stop's frames still named
        _render(folder, range(2), fail=True)
    with pytest.raises(ValueError, match=r"clip frames 0-3 are from a render that was interrupted"):
        check_chunks(folder)
    _render(folder, range(12))  # rendered again to the end: no marker, assembled
    assert check_chunks(folder) is None and sorted(os.listdir(folder))[0] == "frame_000000.png"
    assert len(os.listdir(folder)) == 12


def test_a_whole_render_into_a_new_or_empty_folder_leaves_no_marker(tmp_path):
    from reenact.render.chunks import jobs_in

    for folder in (tmp_path / "new", tmp_path / "empty"):
        if folder.name == "empty":
            folder.mkdir()
        with pytest.raises(KeyboardInterrupt):
            _render(str(folder), range(4), fail=True)
        assert sorted(os.listdir(folder)) == ["frame_{:06d}.png".format(i) for i in range(4)]
        assert not jobs_in(str(folder))
