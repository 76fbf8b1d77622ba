# SPDX-License-Identifier: GPL-3.0-or-later
"""The edit's own render signed (imports bpy): when Blender renders the sequencer to an MP4 or
MOV movie (Render Animation: the cut an editor delivers) and a Reenact result, restyle or
preview strip shows in it, the movie gets a C2PA manifest: ``c2pa.edited``, digitalSourceType
``compositeWithTrainedAlgorithmicMedia``, the synthesised strips and their timeline frames as
the action's parameters, signed with the preferences' certificate (or the local chain). The
watermark in those strips' frames is what survives a re-encode; the manifest says at once, to
anyone opening the delivered file, that it holds synthesised frames and where. Before
2026-12-05 only Reenact's own outputs were signed, and the cut made of them carried nothing.
Preferences ▸ Sign Final Renders turns it off."""

import os

import bpy

from . import blend, props

#: the scene's record of the last signing (shown in the Verify panel)
SIGNED_PROP = "reenact_last_signed"
MOVIE_EXTENSIONS = (".mp4", ".mov")


def _muted(strip):
    """Whether ``strip`` shows nothing: muted itself, in a muted channel, or inside a muted meta."""
    s = strip
    while s is not None:
        meta = s.parent_meta()
        channels = meta.channels if meta is not None else s.id_data.sequence_editor.channels
        if s.mute or (s.channel < len(channels) and channels[s.channel].mute):
            return True
        s = meta
    return False


def synthesised_strips(scene, first, last):
    """[(strip, first frame, last frame)] of Reenact's result, restyle and preview strips that
    show in timeline frames ``first..last`` (both included) of ``scene``'s sequencer (inside a
    meta strip: where the meta shows them)."""
    out = []
    for s in blend.all_strips(scene):
        if not (s.get("reenact_shot") or "reenact_result" in s or blend.is_preview(s)):
            continue
        a, b = max(int(s.frame_final_start), first), min(int(s.frame_final_end) - 1, last)
        meta = s.parent_meta()
        while meta is not None:
            a, b = max(a, int(meta.frame_final_start)), min(b, int(meta.frame_final_end) - 1)
            meta = meta.parent_meta()
        if a <= b and not _muted(s):
            out.append((s, a, b))
    return sorted(out, key=lambda t: (t[1], t[0].channel))


#: the frames each scene's render wrote (render_write), so that only a render that wrote its
#: movie is signed: a still render (F12) with a movie output writes nothing, and the movie of
#: an earlier render must not be signed for it
_WRITTEN = {}


def sign_render(scene, frames=None):
    """Sign the movie ``scene`` just rendered (timeline ``frames`` written; default the scene's
    range) when Reenact's strips show in it; returns the record (also kept as the scene's
    ``reenact_last_signed``) or None when there was nothing to sign. Never raises: a failure is
    the record's line."""
    r = scene.render
    if not (r.use_sequencer and scene.sequence_editor is not None and r.is_movie_format):
        return None
    first, last = (min(frames), max(frames)) if frames else (int(scene.frame_start), int(scene.frame_end))
    shown = synthesised_strips(scene, first, last)
    if not shown:
        return None
    path = bpy.path.abspath(r.frame_path(frame=int(scene.frame_start)))
    if os.path.splitext(path)[1].lower() not in MOVIE_EXTENSIONS:
        line = "{}: not signed: C2PA is written into MP4 and MOV movies (Output ▸ Container MPEG-4 or " \
               "QuickTime); it shows {} Reenact strip(s)".format(os.path.basename(path), len(shown))
    else:
        from ..provenance.manifest import COMPOSITE_WITH_TRAINED, ManifestError, sign_file

        cert, key = props.signing_paths()
        parameters = {"scene": scene.name, "synthesised": [
            {"strip": s.name, "frames": "{}-{}".format(a, b), "actor": s.get("reenact_actor"), "region": s.get("reenact_region")}
            for s, a, b in shown]}
        try:
            info = sign_file(path, action="c2pa.edited", cert=cert, key=key, parameters=parameters,
                             source_type=COMPOSITE_WITH_TRAINED)
            line = "{}: signed (C2PA, {} Reenact strip(s) in it; {})".format(
                os.path.basename(path), len(shown), info["signer"] or "local chain")
        except (ManifestError, OSError, ValueError) as exc:
            line = "{}: not signed: {}".format(os.path.basename(path), exc)
    scene[SIGNED_PROP] = line
    print("Reenact: " + line)
    return line


@bpy.app.handlers.persistent
def on_render_init(scene, *args):
    _WRITTEN.pop(scene.name, None)


@bpy.app.handlers.persistent
def on_render_write(scene, *args):
    _WRITTEN.setdefault(scene.name, set()).add(int(scene.frame_current))


def _sign_named(name, written):
    scene = bpy.data.scenes.get(name)
    if scene is None:
        return None
    try:
        sign_render(scene, written)
    except Exception as exc:  # (never raises into Blender)
        print("Reenact: the render was not signed: {}".format(exc))
    return None


@bpy.app.handlers.persistent
def on_render_complete(scene, *args):
    written = _WRITTEN.pop(scene.name, None)
    prefs = props.preferences()
    if not written or (prefs is not None and not prefs.sign_renders):
        return  # (a still render: no movie written now)
    if bpy.app.background:  # blender -b: the render ran on the main thread, the movie is closed
        _sign_named(scene.name, written)
    else:  # the UI renders in a job thread: Blender data is only written on the main thread
        name = scene.name
        bpy.app.timers.register(lambda: _sign_named(name, written), first_interval=0.0)


HANDLERS = (("render_init", on_render_init), ("render_write", on_render_write),
            ("render_complete", on_render_complete), ("render_cancel", on_render_init))


def register():
    for kind, fn in HANDLERS:
        handlers = getattr(bpy.app.handlers, kind)
        if fn not in handlers:
            handlers.append(fn)


def unregister():
    for kind, fn in HANDLERS:
        handlers = getattr(bpy.app.handlers, kind)
        if fn in handlers:
            handlers.remove(fn)
