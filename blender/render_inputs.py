# SPDX-License-Identifier: GPL-3.0-or-later
"""What Render Performance, Preview Frame and Render Edited Actors share (imports bpy): the
definitions of their options and the checks of an actor and its strip before any work."""

import bpy

from . import actor as actor_data
from . import blend, farm, shots, shown
from .report import report

REGION_ITEMS = farm.REGION_ITEMS
ACCEPT_FOOTAGE = dict(name="Accept Re-encoded Footage", default=False,
                      description="Go ahead although the strip's pixels or frame rate differ from the footage the actor "
                                  "was tracked in (a re-encoded copy of the same shot); its frame size and length must "
                                  "still match")
OUTPUT_ITEMS = farm.OUTPUT_ITEMS
#: a farm task's job (docs/farm.md): not in the dialog
FARM_JOB = dict(name="Farm Job", default="", options={"SKIP_SAVE"},
                description="The farm job this chunk or assembly belongs to (the job compiler's token): each chunk "
                            "leaves a marker naming it, and the assembly checks that this job's chunks wrote the "
                            "frames")
FOOTAGE_DETAIL = dict(name="Footage Detail", default=True,
                      description="Keep the footage's fine detail (skin, stubble), moved by the face mesh to the "
                                  "performance, wherever the render agrees with it; off: the renderer's crop alone "
                                  "(softer on faces larger than the crop). Regions Mouth and Face: region Head always "
                                  "keeps the moved footage's own detail")
KEEP_FRONT = dict(name="Keep What Is in Front", default=True,
                  description="Find what stands in front of the face in the footage (a hand, a microphone, a cup) and keep "
                              "it in front of the render; off: draw over it")
MOUTH = dict(
    name="Mouth", default="AUTO",
    items=[("AUTO", "Auto", "The dubbing actor's mouth when the dub opens the mouth beyond anything the shot's "
                            "footage shows, else the shot's own mouth"),
           ("SHOT", "Shot", "The shot's own frame with the nearest mouth, moved by the face mesh to the "
                            "performance's lips and jaw: the actor's own lips and teeth"),
           ("DRIVER", "Driver", "The footage moved to the performance's lips and jaw, with the dubbing actor's "
                                "mouth interior (teeth, tongue) in the opening"),
           ("RENDERER", "Renderer", "The renderer network draws the mouth")],
    description="Mouth region: where the lower face of the frames whose mouth the performance changes comes from. "
                "Head region: the shot's own mouth, with the dubbing actor's mouth interior in the opening for "
                "Driver, and for Auto where the performance opens the mouth beyond the footage; Renderer: the network. "
                "Face region: an edited mouth from the shot's frame with the nearest mouth (Auto: up to twice the "
                "footage's widest opening, the network beyond; Driver is for dubs)")


#: Draw From Frames' range (timeline frames, both included)
REFERENCE_FIRST = dict(name="From", default=1, description="First timeline frame to draw the actor from")
REFERENCE_LAST = dict(name="To", default=250, description="Last timeline frame to draw the actor from")
USE_REFERENCE = dict(name="Draw From Frames", default=False,
                     description="Take the actor only from the timeline frames From..To: the renderer's reference "
                                 "frames, the shot's mouths and eyes, and with region Face the faces of the frames "
                                 "outside the range, drawn from it instead of their own (a hand over the face, a "
                                 "damaged stretch)")


def reference_frames(op, strip, base):
    """Clip frames (c, d) of the operator's Draw From Frames range, checked against the actor's
    Track (one line), or None."""
    if not op.use_reference:
        return None
    from ..render.ranges import reference_track

    ref = (int(op.reference_first) - int(strip.frame_start), int(op.reference_last) + 1 - int(strip.frame_start))
    try:
        reference_track(base, ref)
    except ValueError as exc:
        raise ValueError("Draw From Frames {}..{}: {}".format(op.reference_first, op.reference_last, exc)) from None
    return ref


def face_driver(op):
    """Mouth Driver is a dub's: refused for region Face in one line, before any work."""
    if op.region == "face" and op.mouth == "DRIVER":
        raise ValueError("Mouth Driver is for regions Mouth and Head; for region Face choose Auto, Shot or Renderer")


def poll_actor(cls, context):
    if bpy.app.background and blend.edit_scene(context) is not None:
        return True  # a farm or a script names its actor (``actor``); execute says what is wrong
    if blend.edit_scene(context) is None or shown.shown_active(context) is None:
        cls.poll_message_set("Make a tracked actor active (Track Actor first)")
        return False
    return True


#: the actor Render Performance last rendered (on the window manager: this session's, not saved),
#: whose options Preview Frame takes all of (operators/preview.py)
RENDERED_ACTOR = "reenact_rendered_actor"


def render_inputs(context, name="", op=None, accept=False):
    """The actor (``name``, else the active one), its scene and strip, the render folder and its
    tracked Track, checked against the footage the strip shows now (warnings reported on
    ``op``)."""
    ob, scene, strip, root = farm.render_target(context, name)
    actor_data.check_local(scene)  # (its result or preview strip would be lost on save)
    base = actor_data.tracked_track(ob)
    warnings = actor_data.check_strip_footage(ob, strip, base, accept)
    # (extended after tracking; the pieces of a shot cut after tracking are rendered with it)
    warnings += [w for w in (actor_data.untracked_note(p, base) for p in shots.pieces(strip)) if w]
    for w in warnings:
        if op is not None:
            report(op, "WARNING", w)
    return ob, scene, strip, root, base


def region_note(ob, region, track, base, rows):
    """What the region leaves as the footage shows it, on Track ``rows`` of the performance
    ``track`` (the footage's Track ``base``), as a clause for a warning ('' when nothing): regions
    Mouth and Face keep the footage's head when the performance turns it, region Head keeps the
    footage's eyes where only the gaze is asked otherwise, region Mouth on every frame whose gaze
    is asked otherwise. The command line said the first; in Blender all were unsaid before
    2026-12-06 (region Mouth's gaze until a later review that day)."""
    from ..render.actors import frame_runs
    from ..render.shothead import region_keeps

    first = int(base.frame_start) + int(ob.reenact.frame_offset)
    out = []
    for kind, what in region_keeps(track, base, region, rows, every=True):
        if kind == "turn":
            out.append("'{}': the performance turns the head up to {:.0f} degrees from the footage's, but region {} "
                       "keeps the footage's head: render region Head for full reenactment".format(
                           ob.name, what, region.title()))
        elif region == "head":
            out.append("'{}': region Head draws a new gaze only on a head or face it moves: frame(s) {} keep the "
                       "footage's eyes (render them with region Face)".format(
                           ob.name, frame_runs([r + first for r in what])))
        else:
            out.append("'{}': region {} draws the mouth alone and keeps the footage's eyes: frame(s) {} change the "
                       "gaze: render them with region Face".format(ob.name, region.title(),
                                                                    frame_runs([r + first for r in what])))
    return "; ".join(out)
