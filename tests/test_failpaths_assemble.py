# SPDX-License-Identifier: GPL-3.0-or-later
"""`reenact assemble` (and Blender's Assemble Render) when the movie cannot be finished or signed
(a review of disk failures, 2026-12-06)."""

import errno
import os

import numpy as np
import pytest


def _job(tmp_path):
    """A 6-frame clip and a frame folder of it whose frames 1-4 are signed for job 0x11."""
    from reenact.provenance.manifest import sign_file
    from reenact.provenance.watermark import make_payload
    from reenact.video.encode import VideoWriter
    from reenact.video.pngs import write_png

    clip = str(tmp_path / "clip.mp4")
    rng = np.random.default_rng(3)
    with VideoWriter(clip, 25, (32, 32)) as w:
        for _i in range(6):
            w.write(rng.integers(0, 255, (32, 32, 3), np.uint8))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        path = str(folder / "frame_{:06d}.png".format(i))
        write_png(path, rng.integers(0, 255, (32, 32, 3), np.uint8))
        if 1 <= i <= 4:
            sign_file(path, "c2pa.edited", make_payload(0x11), None, None, {"tool": "Reenact", "job_id": "0000000011"})
    return clip, str(folder)


def test_a_movie_that_cannot_be_signed_keeps_the_earlier_one(tmp_path, monkeypatch):
    """Signing the assembled movie fails (a full disk: "cannot write the signed file: File too
    large"): the earlier, signed movie at --out stays, and a new --out is not left unsigned.
    Before 2026-12-06 the unsigned movie had already been renamed over --out."""
    pytest.importorskip("c2pa")
    from reenact.provenance import movie_signing
    from reenact.render.assemble import assemble_movie

    clip, folder = _job(tmp_path)
    outs = tmp_path / "outs"
    outs.mkdir()
    out = str(outs / "a.mp4")
    first = assemble_movie(folder, clip, out)
    assert first["job_id"] == "0000000011" and first["manifest"]
    earlier = open(out, "rb").read()

    def full(self):
        raise OSError(errno.EFBIG, "File too large", self.out)

    monkeypatch.setattr(movie_signing.MovieSigning, "finish", full)
    for name in ("a.mp4", "new.mp4"):
        with pytest.raises(OSError, match="File too large"):
            assemble_movie(folder, clip, str(outs / name))
        assert sorted(os.listdir(outs)) == ["a.mp4"]  # (no unsigned new.mp4, no hidden file)
        assert open(out, "rb").read() == earlier
