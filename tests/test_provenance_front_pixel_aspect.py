# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact verify`` (so ``reenact sign`` and Verify Strip) undoes the common pixel-aspect
changes where the plain search finds nothing (provenance/pixel_aspect.py). Before 2026-12-06
Reenact's own dub of non-square-pixel footage (the sample clip's QCIF is 128:117), conformed by
an editing system to square pixels (a non-uniform scale), read "no Reenact watermark found (best
score 6.0)", inside a 1280 x 720 pillarbox 5.6, and ``reenact sign`` refused it."""

import cv2
import numpy as np
import pytest

from reenact.provenance import watermark as wm
from reenact.provenance.verify import format_report, verify_path
from test_provenance import JOB, synthetic_clip, write_h264


@pytest.fixture(scope="module")
def conformed(tmp_path_factory):
    """A CIF render (352 x 288), its second second marked, conformed to square pixels at 59:54
    (384 x 288) and pillarboxed in a 512 x 288 frame, H.264 at CRF 18."""
    pl = wm.make_payload(JOB)
    frames = []
    for i, f in enumerate(synthetic_clip(60, size=(352, 288), seed=3)):
        g = wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if i >= 30 else f
        box = np.full((288, 512, 3), 16, np.uint8)
        box[:, 64:448] = cv2.resize(g, (384, 288), interpolation=cv2.INTER_CUBIC)
        frames.append(box)
    return write_h264(str(tmp_path_factory.mktemp("conformed") / "cut.mp4"), frames, crf=18)


def test_a_picture_conformed_to_square_pixels_is_found_with_its_stretch_undone(conformed):
    r = verify_path(conformed, manifest=False)
    v = r["watermark"]
    assert v["detected"] and (v["payload"] or {}).get("job_id") == "{:010x}".format(JOB), format_report(r)
    assert v["pixel_aspect"]["found"] == "59:54", v["pixel_aspect"]
    assert len(v["frame_ranges"]) == 1 and abs(v["frame_ranges"][0][0] - 30) <= 2 and v["frame_ranges"][0][1] == 60
    assert v["false_positive_probability"] < 1e-6, v
    text = format_report(r)
    assert "found with a pixel-aspect change undone (59:54: " in text and "where the plain search found no mark" in text
    plain = verify_path(conformed, manifest=False, pixel_aspect=False, look_again=False)["watermark"]
    assert not plain["detected"], plain  # what a user saw before 2026-12-06


def _fake_tries(monkeypatch, p, payload):
    """The detector as the pixel-aspect tries call it (verify's own pass is the real one): every
    window of every stretch detected at ``p`` with ``payload``, each group a hint."""
    def detect(frames, fps, key=None, window=1.0, keep_frame_scores=False, prepared=False):
        n, fps = len(list(frames)), float(fps)
        step = max(1, int(round(fps * window)))
        wins = [{"start": a / fps, "end": min(n, a + step) / fps, "frames": [a, min(n, a + step)], "detected": True,
                 "score": 6.0, "prior_score": 4.0, "search_score": 6.0, "false_positive_probability": p,
                 "payload": payload} for a in range(0, n, step)]
        out = {"detected": True, "payload": payload, "payload_valid": bool(payload), "score": 6.0, "frames": n,
               "fps": fps, "false_positive_probability": p * len(wins), "frame_ranges": [[0, n]],
               "ranges": [[0.0, n / fps]], "alignment": None, "windows": wins}
        if keep_frame_scores:
            out["frame_scores"] = {i: 9.0 for i in range(n)}
        return out

    monkeypatch.setattr(wm, "detect", detect)


@pytest.mark.parametrize("p, payload, found", [
    (5e-7, {"job_id": "1111111111", "tool": 82, "version": 2}, False),  # over a stretch's share (1e-6 / 8)
    (1e-8, None, False),                                               # no job id read: not counted as found
    (1e-8, {"job_id": "1111111111", "tool": 82, "version": 2}, True)])
def test_the_stretches_share_a_window_s_false_positive_limit(tmp_path, monkeypatch, p, payload, found):
    from reenact.provenance.pixel_aspect import STRETCHES

    clip = write_h264(str(tmp_path / "plain.mp4"), synthetic_clip(60, size=(192, 108)), crf=23)
    _fake_tries(monkeypatch, p, payload)
    r = verify_path(clip, manifest=False, look_again=False)
    v = r["watermark"]
    assert v["detected"] is found and v["pixel_aspect"]["tried"] == [s[0] for s in STRETCHES], v
    if found:  # the figure: the best window's times the file's 2 windows times the 8 stretches
        assert v["false_positive_probability"] == pytest.approx(1e-8 * 2 * len(STRETCHES)), v
        assert v["pixel_aspect"]["found"] == STRETCHES[0][0]
    elif payload is None:
        assert "no job id can be read: not counted as found" in format_report(r)
