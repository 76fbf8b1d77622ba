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
    effects = [e for e in every if (getattr(e, "input_1", None) or getattr(e, "input_2", None)) and not blend.out_of_cut(e)]

    def spans(s):
        """Where ``s`` shows in first..last: its span, or muted (or at no opacity) the spans of the
        effect strips that take it (a dissolve draws it through)."""
        a, b = _span(s, first, last)
        if a > b:
            return []
        if not blend.out_of_cut(s) and not _invisible(s):
            return [(a, b)]
        got = [_span(e, a, b) for e in effects if s in (getattr(e, "input_1", None), getattr(e, "input_2", None))]
        return [(ea, eb) for ea, eb in got if ea <= eb]

    for s in every:
        if s.type == "SCENE":
            other = getattr(s, "scene", None)
            if _depth < 4 and other is not None and other != scene and getattr(s, "scene_input", "") == "SEQUENCER" \
                    and other.sequence_editor:
                shift = int(other.frame_start) - int(s.frame_start)  # (this timeline's frame t shows its t + shift)
                for a, b in spans(s):
                    out += [(x, max(a, xa - shift), min(b, xb - shift))
                            for x, xa, xb in synthesised_strips(other, a + shift, b + shift, _depth + 1)]
            continue
        if s.get("reenact_shot") or "reenact_result" in s or blend.is_preview(s):
            out += [(s, a, b) for a, b in spans(s)[:1]]  # (one span: an effect's over its input's)
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
    plan = signing_plan(scene, frames)
    if plan is None:
        return None
    cert, key = props.signing_paths()
    line = sign_planned(plan, cert, key)
    _record(scene, line)
    return line


def signing_plan(scene, frames=None):
    """Main thread (reads Blender data): what a render of ``scene`` (timeline ``frames`` written,
    or {frame: its image file}) has to sign, or None when nothing: {"line": a line decided
    already (a format C2PA cannot hold)} or {"files": [(path, parameters)], "movie": bool,
    "name", "strips"} for :func:`sign_planned`, which reads no Blender data (a worker thread signs
    a long image sequence while the UI stays free; before 2026-12-06 the UI's timer signed it
    in slices that kept Blender 85 % busy for minutes, and planned it frame by frame against every
    strip: 0.4 s frozen at its first tick on a long cut)."""
    r = scene.render
    if not (r.use_sequencer and scene.sequence_editor is not None):
        return None
    first, last = (min(frames), max(frames)) if frames else (int(scene.frame_start), int(scene.frame_end))
    shown = synthesised_strips(scene, first, last)
    if not shown:
        return None
    def restyle(s):  # (a restyle of a dub names the dub's actor and region it was made from)
        of = list(s.get("reenact_source_actor") or [])
        return dict({"restyle": s.get("reenact_region")}, **({"of": {"actor": of[0], "region": of[1]}} if of else {}))

    entries = [dict({"strip": s.name, "frames": "{}-{}".format(a, b)}, **(
        restyle(s) if str(s.get("reenact_actor") or "").startswith("restyle ") else
        {"actor": s.get("reenact_actor"), "region": s.get("reenact_region")})) for s, a, b in shown]
    # (a restyle named by its model: before 2026-12-06 as an actor "restyle <shot>" of region <model>)

    def parameters(picked, movie=False):
        """The action's parameters; a movie's also say where its own frames begin (``first_frame``,
        its frame 0, and ``fps``) and each strip's frames in the movie (``file_frames``, counted
        from 0, as `reenact verify` counts them: before 2026-12-06 timeline frames alone, which a
        movie of a cut starting at frame 101 could not be matched with)."""
        out = {"scene": scene.name, "synthesised": [
            dict(entries[k], **({"file_frames": "{}-{}".format(shown[k][1] - int(scene.frame_start),
                                                                shown[k][2] - int(scene.frame_start))} if movie else {}))
            for k in picked]}
        if movie:
            out.update(first_frame=int(scene.frame_start), fps=round(r.fps / r.fps_base, 6))
        return out

    if r.is_movie_format:
        path = bpy.path.abspath(r.frame_path(frame=int(scene.frame_start)))
        if os.path.splitext(path)[1].lower() not in MOVIE_EXTENSIONS:
            return {"line": "{}: not signed: C2PA is written into MP4 and MOV movies (Output ▸ Container MPEG-4 or "
                            "QuickTime) and PNG and JPEG frames; it shows {} Reenact strip(s)".format(
                                os.path.basename(path), len(shown))}
        return {"files": [(path, parameters(range(len(shown)), True))], "movie": True, "strips": len(shown),
                "name": os.path.basename(path)}
    files = frames if isinstance(frames, dict) else {}
    todo, active, k = [], [], 0
    for f in sorted(frames or range(first, last + 1)):  # (one sweep: the strips by their first frame)
        while k < len(shown) and shown[k][1] <= f:
            active.append(k)
            k += 1
        active = [j for j in active if shown[j][2] >= f]
        if active:
            todo.append((files.get(f) or bpy.path.abspath(r.frame_path(frame=f)), dict(parameters(active), frame=f)))
    if not todo:
        return None
    name = os.path.basename(todo[0][0])
    if len(todo) > 1:
        name += " to " + os.path.basename(todo[-1][0])
    if os.path.splitext(todo[0][0])[1].lower() not in IMAGE_EXTENSIONS:
        return {"line": "{}: not signed: C2PA is written into PNG and JPEG frames and MP4 and MOV movies; {} frame(s) "
                        "show Reenact strips".format(name, len(todo))}
    return {"files": todo, "movie": False, "strips": len(shown), "name": name}


def sign_planned(plan, cert, key, step=None):
    """Sign the files of :func:`signing_plan`'s ``plan`` (no Blender data read: a worker thread may
    run it); ``step()`` after each file. Returns the record's line."""
    from ..provenance.manifest import COMPOSITE_WITH_TRAINED, ManifestError, sign_file

    if "line" in plan:
        return plan["line"]
    done, signer, failed = 0, None, None
    for path, parameters in plan["files"]:
        try:
            info = sign_file(path, action="c2pa.edited", cert=cert, key=key, parameters=parameters,
                             source_type=COMPOSITE_WITH_TRAINED)
            done, signer = done + 1, info["signer"]
        except (ManifestError, OSError, ValueError) as exc:
            failed = failed or "{}: not signed: {}".format(os.path.basename(path), exc)
        if step is not None:
            step()
    if plan["movie"]:
        return failed or "{}: signed (C2PA, {} Reenact strip(s) in it; {})".format(
            plan["name"], plan["strips"], signer or "local chain")
    line = "{}: {} frame(s) showing {} Reenact strip(s) signed (C2PA; {})".format(
        plan["name"], done, plan["strips"], signer or "local chain")
    return line + "; " + failed if failed else line


def _record(scene, line):
    scene[SIGNED_PROP] = line
    print("Reenact: " + line)


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


def _sign_named(name, written, in_thread=False):
    """Sign scene ``name``'s render of ``written`` frames: at once (background mode: the render ran
    on the main thread, the files are closed), or (``in_thread``, Blender's UI) planned now on the
    main thread and signed by a worker thread, a timer writing the record once it is done (the
    UI stays free meanwhile). Never raises into Blender."""
    try:
        scene = bpy.data.scenes.get(name)
        plan = signing_plan(scene, written) if scene is not None else None
        if plan is None:
            return None
        cert, key = props.signing_paths()
        if not in_thread:
            _record(scene, sign_planned(plan, cert, key))
            return None
    except Exception as exc:  # (never raises into Blender)
        print("Reenact: the render was not signed: {}".format(exc))
        return None
    import threading

    done = {}

    def work():
        try:
            done["line"] = sign_planned(plan, cert, key)
        except Exception as exc:
            done["line"] = "{}: not signed: {}".format(plan.get("name", "the render"), exc)

    worker = threading.Thread(target=work, name="reenact-sign", daemon=True)
    worker.start()

    def poll():
        if worker.is_alive():
            return 0.25
        sc = bpy.data.scenes.get(name)
        if sc is not None:
            _record(sc, done.get("line", "not signed"))
        return None

    bpy.app.timers.register(poll, first_interval=0.25)
    return poll  # (for a test: the UI's timer calls it)


@bpy.app.handlers.persistent
def on_render_complete(scene, *args):
    written = _WRITTEN.pop(scene.name, None)
    prefs = props.preferences()
    if not written or (prefs is not None and not prefs.sign_renders):
        return  # (a still render: nothing written now)
    if bpy.app.background:  # blender -b: the render ran on the main thread, the files are closed
        _sign_named(scene.name, written)
    else:  # the UI renders in a job thread: Blender data is read and written on the main thread only
        name = scene.name  # (the name, not the scene: a file loaded meanwhile frees it)
        bpy.app.timers.register(lambda: _sign_named(name, written, in_thread=True), first_interval=0.0)


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
