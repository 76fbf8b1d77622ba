# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_blender_saving.py in a fresh bpy process: what the sidebar does at each
redraw (it redraws at every frame of playback). A Track file that fails its checks is read once,
not at every redraw, and the Track panel says why it cannot be used; an image plate's footage
stamp and Verify key read what they did before, without listing and stat'ing every frame at
each redraw; the panels' list of actors follows a new actor. Prints RESULT <json>."""

import hashlib
import json
import os

import bpy
from sequencer_check import Layout, empty_scene, run


def main(clip, work):
    from reenact.blender import actor as actor_data
    from reenact.blender import blend, shown
    from reenact.blender.panels import verify as verify_panel
    from reenact.blender.panels.actors import SEQUENCER_PT_reenact_track
    from reenact.face.track import Track

    scene = empty_scene(176, 144)
    shot = blend.strips_of(scene).new_movie(name="shot", filepath=clip, channel=1, frame_start=1)
    scene.sequence_editor.active_strip = shot
    out = {"shown_before": len(shown.shown_actors(scene))}
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    out["shown_after"] = len(shown.shown_actors(scene))  # (the operator's change: read again)
    ob = actor_data.actor_objects(scene)[0]
    before = shown.CHANGES[0]  # (a change of the file is counted: the handler runs, and raises nothing)
    ob.location.x += 0.5
    bpy.context.view_layer.update()
    out["changes_counted"] = shown.CHANGES[0] > before
    bpy.context.view_layer.objects.active = ob

    # the Track file written over by another clip's Track (an actor appended from another project)
    path = actor_data.track_file(ob)
    tr = Track.load(path)
    tr.source, tr.source_digest, tr.source_frames = "other_clip.mp4", "ee" * 32, int(tr.source_frames) + 7
    tr.save(path)
    loads, real = [], actor_data.load_actor_track

    def counted(o):
        loads.append(1)
        return real(o)

    actor_data.load_actor_track = counted

    class Panel:
        pass

    drawn = []
    for _ in range(4):
        log = []
        panel = Panel()
        panel.layout = Layout(log)
        SEQUENCER_PT_reenact_track.draw(panel, bpy.context)
        drawn.append(log)
    out["loads"] = len(loads)
    out["panel"] = [t for t in drawn[-1] if "Track file" in t]
    actor_data.load_actor_track = real

    # an image plate: the stamp a result records, and Verify's key, as before
    plate = os.path.join(work, "plate")
    os.makedirs(plate)
    for i in range(12):
        with open(os.path.join(plate, "p_{:04d}.png".format(i)), "wb") as fh:
            fh.write(bytes(100 + i))
    seq = blend.strips_of(scene).new_image(name="plate", filepath=os.path.join(plate, "p_0000.png"), channel=3,
                                           frame_start=1)
    for i in range(1, 12):
        seq.elements.append("p_{:04d}.png".format(i))
    files = [os.path.join(plate, "p_{:04d}.png".format(i)) for i in range(12)]
    old_parts = [12] + [(os.path.basename(f), os.path.getsize(f)) for f in files[:1] + files[-1:]]
    out["stamp_as_before"] = actor_data.footage_stamp(seq) == hashlib.sha1(
        repr(old_parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    keys, real_key = [], actor_data.source_key

    def counted_key(s):
        keys.append(1)
        return real_key(s)

    first = verify_panel._source_key(seq, counted_key)
    again = verify_panel._source_key(seq, counted_key)
    out["key_reads"] = len(keys)  # (the second from what the first read)
    with open(files[-1], "ab") as fh:  # (a new export: the last frame written over)
        fh.write(b"more")
    out["key_changed"] = verify_panel._source_key(seq, counted_key) != first and first == again
    out["key_reads_after_change"] = len(keys)
    out["version"] = list(bpy.app.version)
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    run(main, 2)
