# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact verify`` looks again in 0.2 s windows where its one-second windows find no mark or
no job id (provenance/verify.py: _look_again). Before 2026-12-06 a render of five frames inside a
longer movie, re-encoded, read "DETECTED ...; payload unreadable", and downscaled by half too "no
Reenact watermark found": five marked frames averaged with 25 unmarked ones; ``--window 0.2``
found them, Blender's Verify Strip could not be told to."""

import os

import cv2
import pytest

from conftest import shared_clip
from reenact.provenance import watermark as wm
from reenact.provenance.verify import format_report, verify_path
from test_provenance import JOB


@pytest.fixture(scope="module")
def edits(tmp_path_factory):
    return make_edits(tmp_path_factory.mktemp("edits"))


def make_edits(d):
    """driving_d10's first 120 frames (30 fps) with frames 45-49 marked (a render of five frames),
    re-encoded at CRF 23 (x264's medium preset), whole and downscaled by half (bicubic); and the
    footage unmarked, re-encoded."""
    from reenact.video import VideoWriter, open_video

    with open_video(shared_clip("driving_d10.mp4")) as src:
        foot = [src.read(i) for i in range(120)]
        rate = src.rate
    pl = wm.make_payload(JOB)
    marked = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 45 <= i < 50 else f for i, f in enumerate(foot)]
    h, w = foot[0].shape[:2]
    out = {}
    for name, frames, size in (("whole", marked, (w, h)), ("half", marked, (w // 2, h // 2)), ("plain", foot, (w, h))):
        out[name] = os.path.join(str(d), name + ".mp4")
        with VideoWriter(out[name], rate, size, crf=23, preset="medium") as vw:
            for f in frames:
                vw.write(f if size == (w, h) else cv2.resize(f, size, interpolation=cv2.INTER_CUBIC))
    return out


@pytest.mark.parametrize("case", ["whole", "half"])
def test_a_short_edit_in_a_longer_movie_is_found_with_its_job_id(edits, case):
    r = verify_path(edits[case], manifest=False)
    v = r["watermark"]
    assert v["detected"] and (v["payload"] or {}).get("job_id") == "{:010x}".format(JOB), format_report(r)
    before = verify_path(edits[case], manifest=False, look_again=False)["watermark"]
    assert not (before["detected"] and before["payload"]), before  # what a user saw before 2026-12-06
    assert len(v["frame_ranges"]) == 1 and abs(v["frame_ranges"][0][0] - 45) <= 2 and \
        abs(v["frame_ranges"][0][1] - 50) <= 2, v["frame_ranges"]
    la = v["looked_again"]
    assert la["window"] == 0.2 and la["found"] and la["job_from"], la
    # the short windows' figure: the best one's times the 20 short windows of the 4 s file, within the budget
    assert v["false_positive_probability"] < 1e-6 * 4, v
    text = format_report(r)
    assert "found by looking again in 0.2 s windows at {} (the 1 s windows ".format(
        "1.00-2.00 s" if case == "half" else "0.00-3.00 s") in text, text
    assert "; job id read from the " in text and "job {:010x}".format(JOB) in text.splitlines()[0], text


def test_unmarked_footage_is_not_found_by_looking_again(edits):
    r = verify_path(edits["plain"], manifest=False)
    assert not r["watermark"]["detected"] and r["watermark"]["payload"] is None, r["watermark"]


PAYLOAD = {"tool": 82, "tool_name": "Reenact", "version": 2, "job_id": "1111111111"}


def _fake_detect(monkeypatch, short_p, payload):
    """verify.detect replaced: the one-second pass finds nothing (its first second came near), the
    short pass finds one window (frames 12-17) at ``short_p`` with ``payload``."""
    import reenact.provenance.verify as verify

    def win(a, b, fps, **kw):
        return dict({"start": a / fps, "end": b / fps, "frames": [a, b], "detected": False, "score": 4.2,
                     "prior_score": 0.1, "search_score": 4.3, "false_positive_probability": 1.0, "payload": None}, **kw)

    def detect(frames, fps, key=None, window=1.0, keep_frame_scores=False, **_kw):
        n, fps = len(list(frames)), float(fps)
        out = {"detected": False, "payload": None, "payload_valid": False, "score": 4.2, "frames": n, "fps": fps,
               "false_positive_probability": 1.0, "frame_ranges": [], "ranges": [], "alignment": None,
               "windows": [win(0, n, fps)]}  # (a range's frames alone: no job id)
        if window == 1.0:
            out["windows"] = [win(a, a + 30, fps, **({"prior_score": 3.0, "score": 4.6} if a == 0 else {}))
                              for a in range(0, n, 30)]
        elif window == 0.2:
            out["windows"] = [win(a, a + 6, fps) for a in range(0, n, 6)]
            out["windows"][2].update(detected=True, score=6.0, false_positive_probability=short_p, payload=payload)
            out.update(detected=True, payload=payload, payload_valid=bool(payload), score=6.0)
            out["frame_scores"] = {i: (9.0 if 12 <= i < 18 else 0.0) for i in range(n)}
        return out

    monkeypatch.setattr(verify, "detect", detect)


@pytest.mark.parametrize("short_p, payload, found", [
    (5e-7, PAYLOAD, False),   # over a short window's share (2e-7): not a detection
    (1e-8, None, False),                        # detected, but no job id read: not counted as found
    (1e-8, PAYLOAD, True)])
def test_looking_again_claims_a_mark_only_within_the_short_windows_budget_and_with_a_job_id(
        edits, monkeypatch, short_p, payload, found):
    _fake_detect(monkeypatch, short_p, payload)
    r = verify_path(edits["plain"], manifest=False)
    v = r["watermark"]
    assert v["detected"] is found and v["looked_again"]["seconds"] == [[0.0, 1.0]], v
    text = format_report(r)
    if found:  # the figure: the best short window's times the file's 20 short windows
        assert v["false_positive_probability"] == pytest.approx(1e-8 * 20) and v["frame_ranges"] == [[12, 18]], v
        assert v["payload"]["job_id"] == "1111111111" and v["looked_again"]["job_from"] == "the short windows", v
    elif payload is None:
        assert v["frame_ranges"] == [] and "a mark-like signal at 0.40-0.60 s (score 6.0), but no job id can be " \
            "read: not counted as found" in text, text
    else:
        assert v["frame_ranges"] == [] and "looked again in 0.2 s windows at 0.00-1.00 s: nothing found" in text, text
