# SPDX-License-Identifier: GPL-3.0-or-later
"""The range keys of ``reenact verify --json`` against docs/provenance.md's table (*Ranges: which
end is included*): ``frame_ranges`` end excluded, ``file_ranges`` and ``timecode_ranges`` both
ends included, ``ranges`` in seconds to the end of the last frame. Before 2026-12-06 the docs
called them "the same frames" without saying which end each includes (an audit read
``frame_ranges`` as inclusive); the keys' meaning is unchanged (scripts read them)."""

import os

import cv2

from conftest import ROOT
from reenact.provenance import watermark as wm
from reenact.provenance.verify import format_report, verify_path
from test_provenance import JOB, synthetic_clip


def _table():
    with open(os.path.join(ROOT, "docs", "provenance.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("**Ranges: which end is included.**")
    rows = [ln for ln in text[start:text.index("\n\n", text.index("| key |", start))].splitlines() if ln.startswith("| `")]
    return {ln.split("|")[1].strip(): ln for ln in rows}


def test_the_docs_say_which_end_of_each_range_key_is_included():
    t = _table()
    assert "b excluded" in t["`watermark.frame_ranges`"], t
    assert "both included" in t["`file_ranges` (numbered sequences)"], t
    assert "both included" in t["`timecode_ranges` (movies with a start timecode)"], t
    assert "end of the last frame" in t["`watermark.ranges`"], t


def test_the_range_keys_hold_to_the_docs(tmp_path):
    from reenact.video import VideoWriter
    from reenact.video.timecode import timecode_after

    frames = synthetic_clip(40)
    pl = wm.make_payload(JOB)
    marked = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 12 <= i < 20 else f for i, f in enumerate(frames)]
    plate = tmp_path / "plate"
    plate.mkdir()
    for i, f in enumerate(marked):  # a plate's render, numbered from 1001
        cv2.imwrite(str(plate / "f_{:04d}.png".format(1001 + i)), f[..., ::-1])
    r = verify_path(str(plate), fps=25, manifest=False)
    (a, b), = r["watermark"]["frame_ranges"]
    assert abs(a - 12) <= 1 and abs(b - 20) <= 1, r["watermark"]["frame_ranges"]
    assert r["file_ranges"] == [[1001 + a, 1000 + b]]  # both ends included
    assert r["watermark"]["ranges"] == [[round(a / 25, 3), round(b / 25, 3)]]  # to the end of the last frame
    assert "(frames {}-{}; files {}-{})".format(a, b - 1, 1001 + a, 1000 + b) in format_report(r)

    movie = str(tmp_path / "tc.mov")
    with VideoWriter(movie, 25, (marked[0].shape[1], marked[0].shape[0]), lossless=True,
                     timecode="01:00:00:00") as w:
        for f in marked:
            w.write(f)
    r = verify_path(movie, manifest=False)
    (a, b), = r["watermark"]["frame_ranges"]
    assert r["timecode_ranges"] == [[timecode_after("01:00:00:00", a, 25), timecode_after("01:00:00:00", b - 1, 25)]]
    assert r["timecode_ranges"][0][1] == "01:00:00:{:02d}".format(b - 1), r["timecode_ranges"]
