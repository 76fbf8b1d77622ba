# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify Strip (blender/operators/verify.py, blender/panels/verify.py) in Blender: its verdict
is kept for the file it was made on, its frames are where the strip shows them now, and it says
what ``reenact verify`` says. Before 2026-12-06: a clean verdict stayed on a file written over
on disk and went stale on a project folder moved whole; the panel's frame numbers were those of
verify time (wrong once the strip was moved, trimmed or split); frames a meta strip hides were
reported, a held piece's frames put where it does not show them; a truncated file, an untrusted
signer and an invalid signed frame went unsaid ("C2PA manifest valid"); no verdict named its file,
and a ``//`` path in an unsaved .blend was read from Blender's working folder."""

import pytest
from test_blender_look import _check

pytestmark = pytest.mark.blender


def test_a_verdict_is_kept_for_the_file_it_was_made_on_and_says_what_the_cli_says(tmp_path, carphone, request):
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_verify_change_check.py", "5.0", request, work, carphone, work)
    changed = "The strip's file changed since it was verified: verify again"
    assert r["report"].startswith("'shot' ({}): no Reenact watermark found".format(r["report_file"])), r["report"]
    assert r["written_over"] == [changed] and r["touched"] == [changed], r
    # (before 2026-12-06 a file not there read "changed" too)
    assert r["missing"] == ["The strip's file is missing: relink it (Strip ▸ Change Path), then verify again"], r
    assert r["relative_saved"].startswith("'shot' ("), r
    assert changed not in r["moved_project"] and "No Reenact watermark" in r["moved_project"], r
    assert r["unsaved_relative"].startswith("ERR ") and "'//a.mp4'" in r["unsaved_relative"] and \
        "not saved yet" in r["unsaved_relative"], r
    said, shown = r["truncated"]
    caveat = "the file is truncated: verified on its first"
    assert caveat in said and any(t.startswith("The file is truncated: verified on its first") for t in shown), r
    assert "; C2PA manifest valid, signer not trusted;" in r["untrusted"], r
    said, shown = r["sequence"]
    assert "f_1001.png and 9 more frames" in said, said
    assert "C2PA manifest 1 of 4 signed frames INVALID (f_1008.png)" in said, said
    assert "1 frame(s) missing from the sequence (1004): read as blank" in said, said
    assert "INVALID: f_1008.png (frame 18)" in shown and "1 frame(s) missing from the sequence (1004): read as " \
        "blank" in shown, shown


@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_verify_places_the_synthesised_frames_where_the_strip_shows_them_now(tmp_path, carphone, version, request):
    work = tmp_path / "work"
    work.mkdir()
    r = _check("blender_verify_timeline_check.py", version, request, work, carphone, work)
    said, shown = r["verified"]
    assert "synthesised frames 21-30 (" in said and shown == ["Synthesised: frames 21-30"], r
    assert r["moved"] == ["Synthesised: frames 121-130"], r  # moved by 100
    assert r["trimmed"] == ["Synthesised: frames 126-130"], r  # the first 25 trimmed off
    assert r["split"] == [["Synthesised: frames 121-124"], ["Synthesised: frames 125-130"]], r
    for name in ("reversed", "strobed"):  # as Blender shows them, frame by frame
        assert r[name][0] == r[name][1] and r[name][0], (name, r[name])
    # a meta strip trimmed to 1-24 hides 25-30
    (m0, m1), said, shown = r["meta"]
    assert (m0, m1) == (1, 25) and "synthesised frames 21-24 (" in said and shown == ["Synthesised: frames 21-24"], r
    # a held piece: not placed, as every job says it (one line), in the report and the panel
    said, shown = r["hold"]
    assert "synthesised frames 20-29 of the file (" in said and "; not placed on the timeline: strip 'held' starts " \
        "10 frame(s) into its clip (Hold Offset Start" in said, said
    assert shown[0] == "Synthesised: file frames 20-29" and shown[1].startswith(
        "Not placed on the timeline: strip 'held' starts 10 frame(s)"), shown
    assert r["held_since"][1] == "Not placed on the timeline: the strip was retimed or given a Hold Offset since it " \
        "was verified: verify again", r
    # a 30 fps clip at its own speed: Blender's mapping, frame by frame
    said, shown, expected = r["rate"]
    assert shown == expected and expected and "synthesised frames {} (".format(expected[0].split()[-1]) in said, r
    # Change Path kept the 30 fps rate: the panel gives the report's reason
    factor, said, shown = r["kept_rate"]
    why = "the strip keeps another clip's playback rate: add it again"
    assert factor is None and said.endswith("; not placed on the timeline: " + why + "; C2PA manifest absent"), said
    assert shown == ["Synthesised: file frames 20-29", "Not placed on the timeline: " + why], shown
