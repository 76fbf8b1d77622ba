# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``reenact verify`` prints (provenance/verify.py: format_report, job_ranges)."""

import pytest

from reenact.provenance import watermark as wm
from reenact.provenance.verify import format_report
from test_provenance import JOB, synthetic_clip, write_h264


def _window(a, b, job=None, match=None, fps=30):
    """A window of a verdict: detected where ``job`` or ``match`` is given (``job`` "": unreadable)."""
    found = job is not None or match is not None
    w = {"start": a / fps, "end": b / fps, "frames": [a, b], "detected": found,
         "score": 9.0 if found else 4.2, "payload": {"job_id": job} if job else None}
    if match is not None:
        w["payload_match"] = match
    return w


def test_each_job_of_a_cut_of_two_renders_has_its_own_frames():
    """job_ranges: a detected window whose data cells disagree with the file's payload is its own
    payload's job; frames of a range outside detected windows go with the nearest one's."""
    from reenact.provenance.verify import job_ranges

    v = {"payload": {"job_id": "1111111111"}, "frame_ranges": [[45, 75], [240, 270], [290, 300]],
         "windows": [_window(0, 30), _window(30, 60, "1111111111", True), _window(60, 90, "1111111111", True),
                     _window(240, 270, "2222222222", False), _window(270, 300), _window(290, 300, None, False)]}
    assert job_ranges(v) == [{"job_id": "1111111111", "frame_ranges": [[45, 75]]},
                             {"job_id": "2222222222", "frame_ranges": [[240, 270]]},
                             {"job_id": None, "frame_ranges": [[290, 300]]}]
    # a range across two jobs' windows is split where the windows meet
    v = {"payload": {"job_id": "1111111111"}, "frame_ranges": [[20, 50]],
         "windows": [_window(0, 30, "1111111111", True), _window(30, 60, "2222222222", False)]}
    assert job_ranges(v) == [{"job_id": "1111111111", "frame_ranges": [[20, 30]]},
                             {"job_id": "2222222222", "frame_ranges": [[30, 50]]}]


@pytest.fixture(scope="module")
def two_renders(tmp_path_factory):
    """A cut of two renders (job JOB on frames 0-29, job 1111111111 on 60-89, footage between and
    after), re-encoded at CRF 23."""
    footage = synthetic_clip(90)
    a, b = wm.make_payload(JOB), wm.make_payload(0x1111111111)
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, a if i < 60 else b) if i < 30 or i >= 60 else f
              for i, f in enumerate(list(footage) + list(footage[:30]))]
    return write_h264(str(tmp_path_factory.mktemp("two") / "two.mp4"), frames, crf=23)


def test_the_other_job_s_mark_is_named_by_its_own_job_id(two_renders):
    """Before 2026-12-06: "another job's mark (not job <the file's>): 8.00-9.00 s", the other job's
    id unsaid though the JSON's window held it."""
    from reenact.provenance.verify import verify_path

    r = verify_path(two_renders, manifest=False)
    text = format_report(r)
    mine = r["watermark"]["payload"]["job_id"]
    other = ({"{:010x}".format(JOB), "1111111111"} - {mine}).pop()
    frames = "0-59" if other == "{:010x}".format(JOB) else "60-119"
    line = [ln for ln in text.splitlines() if ln.startswith("  another job's mark")]
    assert len(line) == 1 and line[0].startswith("  another job's mark, job {}: ".format(other)), text
    assert line[0].endswith("(frames {})".format(frames)), text


def _result(detected=True, windows=(), kind="movie", **kw):
    wmk = {"detected": detected, "payload": {"tool": 82, "tool_name": "Reenact", "version": 2, "job_id": "1111111111"}
           if detected else None, "score": 9.3 if detected else 4.7, "false_positive_probability": 5.6e-20,
           "ranges": [[1.5, 1.667]] if detected else [], "frame_ranges": [[45, 50]] if detected else [],
           "windows": list(windows)}
    return dict({"file": "/x/clip.mp4", "kind": kind, "frames": 150, "fps": 30.0, "duration": 5.0, "watermark": wmk,
                 "manifest": None}, **kw)


def test_the_report_says_its_verdicts_in_words():
    """Before 2026-12-06: a window not found printed as a negative score ("-4.2"), with the second
    look's "(tile 2.0)" though it found nothing; a still read "0.00-0.04 s (frames 0-0)" at an
    invented 25 fps; a folder with no manifest "manifests: 0 of 96 frames signed, all valid"."""
    wins = [_window(0, 30), _window(30, 60, "1111111111", True), _window(60, 90), _window(90, 120)]
    wins[0]["second_look"] = 2.0
    wins[2].update(detected=True, second_look=7.9, score=4.6)
    lines = format_report(_result(windows=wins)).splitlines()
    assert lines[2] == "  windows: 0.00-1.00s not found (score 4.2)  1.00-2.00s found (score 9.0)  " \
        "2.00-3.00s found (whole tile, score 7.9)", lines
    assert lines[3] == "           3.00-4.00s not found (score 4.2)", lines
    assert "-4.2" not in "\n".join(lines)

    still = _result(kind="image", frames=1, fps=25.0, duration=0.04, windows=[_window(0, 1, "1111111111", True)])
    still["watermark"].update(ranges=[[0.0, 0.04]], frame_ranges=[[0, 1]])
    assert format_report(still).splitlines()[1] == "  synthesised: this image"
    plain = _result(detected=False, kind="image", frames=1, fps=25.0, duration=0.04, windows=[_window(0, 1)])
    assert format_report(plain).splitlines()[0] == "/x/clip.mp4: no Reenact watermark found (best score 4.7, one image)"

    folder = _result(kind="sequence", manifests={"frames": 96, "signed": 0, "valid": 0, "invalid": []},
                     manifest={"present": False, "errors": []})
    assert "  manifests: none of the 96 frames signed" in format_report(folder).splitlines()
    folder["manifests"].update(signed=3, valid=3)
    assert "  manifests: 3 of 96 frames signed, all valid" in format_report(folder).splitlines()
