# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify Strip in Blender (5.0 and 4.5 LTS, each in a fresh bpy process): a cut of two renders
reads as each job with its own frames (before 2026-12-06 "Reenact watermark, job 1111111111,
synthesised frames 46-75, 241-270", the second job's frames credited to the first), and a meta
strip's greyed-out button says to open it and verify a strip inside (before: "Select a movie or
image strip in the sequencer"); and a short edit, downscaled and re-encoded, is found by looking
again in short windows, as ``reenact verify`` finds it."""

import pytest
from test_blender_look import _check
from test_provenance import JOB
from test_verify_look_again import make_edits

pytestmark = pytest.mark.blender


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_cut_of_two_renders_names_each_job_with_its_own_frames(tmp_path, carphone, version, request):
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_verify_jobs.py", version, request, work, carphone, work)
    said, shown = r["cut"]
    assert ": Reenact watermark, job 1111111111, synthesised frames 6-10; job 2222222222, synthesised frames " \
        "31-40 (false-positive probability 1e-20)" in said, said
    made = "Made from dub.mp4: Reenact render, job 1111111111, frames 45-74 (signer 'Reenact renderer (user)'; " \
        "actions c2pa.opened, c2pa.edited)"  # (the dub a restyle was made from: before 2026-12-06 unsaid)
    assert shown == ["Reenact watermark, job 1111111111", "Synthesised: frames 6-10",
                     "Another render's mark, job 2222222222", "Synthesised: frames 31-40", made], shown
    assert r["moved"] == ["Reenact watermark, job 1111111111", "Synthesised: frames 106-110",
                          "Another render's mark, job 2222222222", "Synthesised: frames 131-140", made], r["moved"]
    assert r["meta"].startswith("ERR ") and r["meta"].endswith(
        "A meta strip holds other strips: open it (Tab) and verify a movie or image strip inside"), r["meta"]


@pytest.fixture(scope="module")
def edits(tmp_path_factory):
    return make_edits(tmp_path_factory.mktemp("edits"))


def test_verify_strip_looks_again_in_short_windows(tmp_path, edits, request):
    """A render of five frames inside a longer movie, downscaled by half and re-encoded: Verify
    Strip finds it with its job id, and says it looked again (before 2026-12-06 "no Reenact
    watermark found"; ``reenact verify --window 0.2`` found it, Blender could not be told to)."""
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_verify_look.py", "5.0", request, work, edits["half"], work)
    assert ": Reenact watermark, job {:010x}, synthesised frames 46-".format(JOB) in r["said"], r["said"]
    assert "; found by looking again in 0.2 s windows at 1.00-2.00 s (the 1 s windows found no mark" in r["said"], \
        r["said"]
    assert "Reenact watermark, job {:010x}".format(JOB) in r["shown"] and any(
        t.startswith("Found by looking again in 0.2 s windows") for t in r["shown"]), r["shown"]
