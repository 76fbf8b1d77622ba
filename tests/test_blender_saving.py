# SPDX-License-Identifier: GPL-3.0-or-later
"""What a save tells the user when it cannot do all it does for the project (blender/saving.py)."""

import pytest

from test_blender_look import _check

pytestmark = pytest.mark.blender


def test_a_save_that_cannot_keep_the_project_together_says_so_in_the_track_panel(tmp_path, carphone, request):
    """A first save whose Track cannot be copied next to the .blend (a read-only or full disk), and
    whose record of another .blend's renders it shows cannot be written, goes through; the Track
    panel says both, naming the actor and the file (before 2026-12-06 the console alone, and a
    Delete Unused Takes in the other .blend then deleted a take this one showed: a review of disk
    failures); the next save that can clears the lines."""
    r = _check("blender_save_notes_check.py", "5.0", request, tmp_path, carphone, tmp_path)
    assert r["saved"] and len(r["notes"]) == 2, r
    track, record = r["notes"]
    assert track.startswith("the Track of 'shot Actor 0' stays at ") and "Read-only file system" in track, r
    assert "outside the project folder" in track and "Delete Unused Takes in that .blend may delete them" in record, r
    assert r["panel"] == ["Saving: " + n for n in r["notes"]] and r["notes_after"] == [], r
    # a renderer an earlier version left in the user folder: a plain save takes it into the project
    # and removes it there; a Save As leaves it for the .blend it came from (before: deleted)
    assert r["plain_save"] == ["//reenact/models/a/A.onnx", []], r
    assert r["save_as"] == ["//reenact/models/b/A.onnx", ["A.ckpt.pt", "A.onnx"]], r
    assert r["notes_after_open"] == [], r  # (another project's save notes are not shown in the next)
    # the Track file gone (a project copied without its reenact folder): both panels say so
    missing = r["track_missing"]
    assert len(missing) == 2 and missing[0].startswith("'shot Actor 0': its Track file ") and \
        missing[0].endswith(" is missing: copy the project's reenact folder beside the .blend"), missing
    assert missing[1] == "shot · Track file missing", missing


def test_a_verdict_survives_the_first_save_that_makes_its_path_relative(tmp_path, carphone):
    """Verify Strip keeps its verdict with a key of the footage (actor.source_key); the first save of
    an unsaved .blend makes the strip's path relative (``//clip.mp4``): the same file, the same key
    (before the fix of a review the same day, "the strip's file changed since it was verified")."""
    import shutil

    from conftest import printed

    clip = tmp_path / "c.mp4"
    shutil.copyfile(carphone, clip)
    code = (
        "import bpy, reenact\n"
        "reenact.register()\n"
        "from reenact.blender import actor, blend\n"
        "sc = bpy.context.scene\n"
        "sc.sequence_editor_create()\n"
        "st = blend.strips_of(sc).new_movie(name='c', filepath={clip!r}, channel=1, frame_start=1)\n"
        "before = actor.source_key(st)\n"
        "bpy.ops.wm.save_as_mainfile(filepath={blend!r}, relative_remap=True)\n"
        "st = bpy.context.scene.sequence_editor.strips_all['c']\n"
        "print('KEY', st.filepath.startswith('//'), before == actor.source_key(st))\n"
    ).format(clip=str(clip), blend=str(tmp_path / "v.blend"))
    assert printed(code, "KEY") == "KEY True True"


def test_the_sidebar_reads_no_file_whole_at_each_redraw(tmp_path, carphone, request):
    """The sequencer's sidebar redraws at every frame of playback. Before the evening of
    2026-12-06 an actor's Track file that failed its checks (another clip's Track under its name)
    was read whole again at each redraw (0.2-0.4 s on a 10,000-frame Track) while the Track panel
    said nothing; an image plate's files were all listed (and, for Verify, stat'ed) at each
    redraw. Now the refusal is kept like a Track read (until the file changes) and said in the
    panel, the plate's stamp reads its first and last files alone (the same digest as before),
    and Verify's key of a plate is kept between redraws while its ends are unchanged."""
    r = _check("blender_redraw_check.py", "5.0", request, tmp_path, carphone, tmp_path)
    assert (r["shown_before"], r["shown_after"]) == (0, 1) and r["changes_counted"], r
    assert r["loads"] == 1, r
    assert len(r["panel"]) == 1 and r["panel"][0].startswith("'shot Actor 0': its Track file cannot be used: "), r
    assert "other_clip.mp4" in r["panel"][0] or "another" in r["panel"][0], r
    assert r["stamp_as_before"], r
    assert r["key_reads"] == 1 and r["key_changed"] and r["key_reads_after_change"] == 2, r
