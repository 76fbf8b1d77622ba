# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify Strip in Blender (5.0 and 4.5 LTS, each in a fresh bpy process): a cut of two renders
reads as each job with its own frames (before 2026-12-06 "Reenact watermark, job 1111111111,
synthesised frames 46-75, 241-270", the second job's frames credited to the first), and a meta
strip's greyed-out button says to open it and verify a strip inside (before: "Select a movie or
image strip in the sequencer")."""

import pytest
from test_blender_look import _check

pytestmark = pytest.mark.blender


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_a_cut_of_two_renders_names_each_job_with_its_own_frames(tmp_path, carphone, version, request):
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_verify_jobs.py", version, request, work, carphone, work)
    said, shown = r["cut"]
    assert ": Reenact watermark, job 1111111111, synthesised frames 6-10; job 2222222222, synthesised frames " \
        "31-40 (false-positive probability 1e-20)" in said, said
    assert shown == ["Reenact watermark, job 1111111111", "Synthesised: frames 6-10",
                     "Another render's mark, job 2222222222", "Synthesised: frames 31-40"], shown
    assert r["moved"] == ["Reenact watermark, job 1111111111", "Synthesised: frames 106-110",
                          "Another render's mark, job 2222222222", "Synthesised: frames 131-140"], r["moved"]
    assert r["meta"].startswith("ERR ") and r["meta"].endswith(
        "A meta strip holds other strips: open it (Tab) and verify a movie or image strip inside"), r["meta"]
