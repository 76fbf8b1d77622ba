# SPDX-License-Identifier: GPL-3.0-or-later
"""The edit's own render signed (imports bpy): when Blender renders the sequencer (Render
Animation: the cut an editor delivers) and a Reenact result, restyle or preview strip shows in
it, the output gets a C2PA manifest: ``c2pa.edited``, digitalSourceType
``compositeWithTrainedAlgorithmicMedia``, the synthesised strips and their timeline frames as
the action's parameters, signed with the preferences' certificate (or the local chain). An MP4
or MOV movie is signed as a whole; PNG and JPEG frames (a farm's usual output) each one that
shows a Reenact strip, the frames of the untouched footage left as they are. The watermark in
those strips' frames is what survives a re-encode; the manifest says at once, to anyone opening
the delivered file, that it holds synthesised frames and where. Before 2026-12-05 only Reenact's
own outputs were signed; a cut rendered to image frames is signed since the evening of that day.
Preferences ▸ Sign Final Renders turns it off."""

import os

import bpy

from . import blend, props

#: the scene's record of the last signing (shown in the Verify panel)
SIGNED_PROP = "reenact_last_signed"
MOVIE_EXTENSIONS = (".mp4", ".mov")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def _muted(strip):
    """Whether ``strip`` shows nothing: muted itself, in a muted channel, or inside a muted meta."""
    from .look import out_of_cut

    return out_of_cut(strip)


def _span(s, first, last):
    """Timeline frames ``first..last`` where strip ``s`` lies, inside the meta strips holding it."""
    a, b = max(int(s.frame_final_start), first), min(int(s.frame_final_end) - 1, last)
    meta = s.parent_meta()
    while meta is not None:
        a, b = max(a, int(meta.frame_final_start)), min(b, int(meta.frame_final_end) - 1)
        meta = meta.parent_meta()
    return a, b


def _invisible(s):
    """Whether ``s`` is drawn at no opacity (0, not keyed): nothing of it shows."""
    from .look import keyed

    return getattr(s, "blend_alpha", 1.0) <= 0.0 and not keyed(s, ("blend_alpha",))


def synthesised_strips(scene, first, last, _depth=0):
    """[(strip, first frame, last frame)] of Reenact's result, restyle and preview strips that
    show in timeline frames ``first..last`` (both included) of ``scene``'s sequencer (inside a
    meta strip: where the meta shows them). Since 2026-12-06 (a review of an edit's delivery) also
    those a muted strip's effect strip shows (a dissolve into a muted dub: drawn through the
    effect), and those of the scenes that scene strips show with their sequencer (in this
    timeline's frames); a strip at opacity 0 shows nothing. Before, a dub reached through a
    scene strip or an effect left the render unsigned."""
    out = []
    every = blend.all_strips(scene)
    effects = [e for e in every if (getattr(e, "input_1", None) or getattr(e, "input_2", None)) and not _muted(e)]
    for s in every:
        if s.type == "SCENE" and _depth < 4 and getattr(s, "scene", None) is not None and s.scene != scene and \
                getattr(s, "scene_input", "") == "SEQUENCER" and not _muted(s) and s.scene.sequence_editor:
            a, b = _span(s, first, last)
            shift = int(s.scene.frame_start) - int(s.frame_start)  # (this timeline's frame t shows its frame t + shift)
            if a <= b:
                out += [(x, max(a, xa - shift), min(b, xb - shift))
                        for x, xa, xb in synthesised_strips(s.scene, a + shift, b + shift, _depth + 1)]
            continue
        if not (s.get("reenact_shot") or "reenact_result" in s or blend.is_preview(s)):
            continue
        a, b = _span(s, first, last)
        if a > b:
            continue
        if not _muted(s) and not _invisible(s):
            out.append((s, a, b))
            continue
        for e in effects:  # (a muted strip still shows through an effect strip that takes it)
            if s in (getattr(e, "input_1", None), getattr(e, "input_2", None)):
                ea, eb = _span(e, a, b)
                if ea <= eb:
                    out.append((s, ea, eb))
                    break
    return sorted(out, key=lambda t: (t[1], t[0].channel))


#: the frames each scene's render wrote (render_write), so that only a render that wrote its
#: movie is signed: a still render (F12) with a movie output writes nothing, and the movie of
#: an earlier render must not be signed for it
_WRITTEN = {}


def sign_render(scene, frames=None):
    """Sign what ``scene`` just rendered (timeline ``frames`` written, or {frame: its image file};
    default the scene's range) when Reenact's strips show in it: a movie as a whole, image frames
    (PNG, JPEG) each one that shows a Reenact strip. Returns the record (also kept as the scene's ``reenact_last_signed``)
    or None when there was nothing to sign. Never raises: a failure is the record's line."""
    steps = signing_steps(scene, frames)
    line = None
    for line in steps:
        pass
    return line


def signing_steps(scene, frames=None):
    """:func:`sign_render` one file at a time: a generator yielding None after each file and
    the record last (nothing when there is nothing to sign), so that Blender's UI can sign a long
    image sequence between redraws."""
    r = scene.render
    if not (r.use_sequencer and scene.sequence_editor is not None):
        return
    first, last = (min(frames), max(frames)) if frames else (int(scene.frame_start), int(scene.frame_end))
    shown = synthesised_strips(scene, first, last)
    if not shown:
        return
    from ..provenance.manifest import COMPOSITE_WITH_TRAINED, ManifestError, sign_file

    cert, key = props.signing_paths()

    def parameters(strips, movie=False):
        """The action's parameters; a movie's also say where its own frames begin (``first_frame``,
        its frame 0, and ``fps``) and each strip's frames in the movie (``file_frames``, counted
        from 0, as `reenact verify` counts them: before 2026-12-06 timeline frames alone, which a
        movie of a cut starting at frame 101 could not be matched with)."""
        out = {"scene": scene.name, "synthesised": [
            dict({"strip": s.name, "frames": "{}-{}".format(a, b), "actor": s.get("reenact_actor"),
                  "region": s.get("reenact_region")}, **({"file_frames": "{}-{}".format(
                      a - int(scene.frame_start), b - int(scene.frame_start))} if movie else {}))
            for s, a, b in strips]}
        if movie:
            out.update(first_frame=int(scene.frame_start), fps=round(r.fps / r.fps_base, 6))
        return out

    if r.is_movie_format:
        path = bpy.path.abspath(r.frame_path(frame=int(scene.frame_start)))
        if os.path.splitext(path)[1].lower() not in MOVIE_EXTENSIONS:
            line = "{}: not signed: C2PA is written into MP4 and MOV movies (Output ▸ Container MPEG-4 or " \
                   "QuickTime) and PNG and JPEG frames; it shows {} Reenact strip(s)".format(
                       os.path.basename(path), len(shown))
        else:
            try:
                info = sign_file(path, action="c2pa.edited", cert=cert, key=key, parameters=parameters(shown, True),
                                 source_type=COMPOSITE_WITH_TRAINED)
                line = "{}: signed (C2PA, {} Reenact strip(s) in it; {})".format(
                    os.path.basename(path), len(shown), info["signer"] or "local chain")
            except (ManifestError, OSError, ValueError) as exc:
                line = "{}: not signed: {}".format(os.path.basename(path), exc)
    else:
        todo = [(f, [t for t in shown if t[1] <= f <= t[2]]) for f in sorted(frames or range(first, last + 1))]
        files = frames if isinstance(frames, dict) else {}
        todo = [(f, strips, files.get(f) or bpy.path.abspath(r.frame_path(frame=f))) for f, strips in todo if strips]
        if not todo:
            return
        name = os.path.basename(todo[0][2])
        if len(todo) > 1:
            name += " to " + os.path.basename(todo[-1][2])
        if os.path.splitext(todo[0][2])[1].lower() not in IMAGE_EXTENSIONS:
            line = "{}: not signed: C2PA is written into PNG and JPEG frames and MP4 and MOV movies; {} frame(s) " \
                   "show Reenact strips".format(name, len(todo))
        else:
            done, signer, failed = 0, None, None
            for f, strips, path in todo:
                try:
                    info = sign_file(path, action="c2pa.edited", cert=cert, key=key,
                                     parameters=dict(parameters(strips), frame=f),
                                     source_type=COMPOSITE_WITH_TRAINED)
                    done, signer = done + 1, info["signer"]
                except (ManifestError, OSError, ValueError) as exc:
                    failed = failed or "{}: not signed: {}".format(os.path.basename(path), exc)
                yield None
            line = "{}: {} frame(s) showing {} Reenact strip(s) signed (C2PA; {})".format(
                name, done, len(shown), signer or "local chain")
            if failed:
                line += "; " + failed
    scene[SIGNED_PROP] = line
    print("Reenact: " + line)
    yield line


@bpy.app.handlers.persistent
def on_render_init(scene, *args):
    _WRITTEN.pop(scene.name, None)


def written_file(scene, frame):
    """The image file Blender's render just wrote for ``frame``: the animation's numbered frame, or
    a still render's (``write_still``) path, which has no number; None for a movie output."""
    r = scene.render
    if r.is_movie_format:
        return None
    paths = [bpy.path.abspath(r.frame_path(frame=frame)), bpy.path.abspath(r.filepath)]
    if r.use_file_extension and not paths[1].lower().endswith(r.file_extension.lower()):
        paths[1] += r.file_extension
    found = [(os.stat(p).st_mtime_ns, p) for p in paths if os.path.isfile(p)]
    return max(found)[1] if found else paths[0]


@bpy.app.handlers.persistent
def on_render_write(scene, *args):
    """Called right after each frame is written: the frame, and for image outputs its file."""
    frame = int(scene.frame_current)
    _WRITTEN.setdefault(scene.name, {})[frame] = written_file(scene, frame)


def _sign_named(name, written, slice_s=None):
    """Sign scene ``name``'s render of ``written`` frames: at once, or (``slice_s``) as a timer
    that signs for about that many seconds at a time and comes back until done."""
    state = {}

    def step():
        import time

        t0 = time.monotonic()
        try:
            if "steps" not in state:
                scene = bpy.data.scenes.get(name)
                if scene is None:
                    return None
                state["steps"] = signing_steps(scene, written)
            for line in state["steps"]:
                if line is None and slice_s is not None and time.monotonic() - t0 > slice_s:
                    return 0.01  # (the UI redraws in between)
        except Exception as exc:  # (never raises into Blender)
            print("Reenact: the render was not signed: {}".format(exc))
        return None

    return step() if slice_s is None else step


@bpy.app.handlers.persistent
def on_render_complete(scene, *args):
    written = _WRITTEN.pop(scene.name, None)
    prefs = props.preferences()
    if not written or (prefs is not None and not prefs.sign_renders):
        return  # (a still render: nothing written now)
    if bpy.app.background:  # blender -b: the render ran on the main thread, the files are closed
        _sign_named(scene.name, written)
    else:  # the UI renders in a job thread: Blender data is only written on the main thread
        bpy.app.timers.register(_sign_named(scene.name, written, slice_s=0.05), first_interval=0.0)


@bpy.app.handlers.persistent
def on_render_cancel(scene, *args):
    """A cancelled render of image frames keeps the frames it wrote: they are signed as a
    finished render's are; a cancelled movie is not signed."""
    if scene.render.is_movie_format:
        _WRITTEN.pop(scene.name, None)
    else:
        on_render_complete(scene)


HANDLERS = (("render_init", on_render_init), ("render_write", on_render_write),
            ("render_complete", on_render_complete), ("render_cancel", on_render_cancel))


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
