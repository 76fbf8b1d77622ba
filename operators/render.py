# SPDX-License-Identifier: GPL-3.0-or-later
"""Render Performance and Preview Frame: the actor's performance (read from its curves) becomes
photoreal footage composited into the original frames, as a new strip above the original
(see docs/compositing.md)."""

import os
import re
import threading

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty

from .. import blend
from . import actor_data
from .modal import ModalJobMixin

RENDER_DIR = "//reenact/renders"
REGION_ITEMS = (
    ("mouth", "Mouth", "Paste back the mouth region only (visual dubbing): eyes, brows and head stay the footage's"),
    ("face", "Face", "Paste back the whole rendered face"),
)
OUTPUT_ITEMS = (
    ("IMAGES", "Image Sequence", "One PNG per frame (each frame is kept as soon as it is written)"),
    ("MOVIE", "Movie", "One movie file (H.264; lossless RGB with the Lossless option)"),
)
PREVIEW_STRIP = "Reenact Preview"
_MEMO = {}
_MEMO_LOCK = threading.Lock()


# --------------------------------------------------------------------------- helpers
def _safe(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "actor"


def render_root():
    """Absolute ``//reenact/renders`` of the saved .blend (ValueError when it is not saved)."""
    if not bpy.data.filepath:
        raise ValueError("save the .blend first: renders go into reenact/renders next to it")
    return bpy.path.abspath(RENDER_DIR)


def active_actor(context):
    ob = context.active_object
    if not actor_data.is_actor(ob):
        actors = actor_data.actor_objects(context.scene)
        ob = actors[0] if len(actors) == 1 else None
    return ob


def _poll_actor(cls, context):
    if context.scene is None or active_actor(context) is None:
        cls.poll_message_set("Make a tracked actor active (Track Actor first)")
        return False
    return True


def actor_strip(ob):
    scene = bpy.data.scenes.get(ob.reenact.scene_name)
    ed = scene.sequence_editor if scene else None
    strip = ed.strips_all.get(ob.reenact.strip_name) if ed else None
    if strip is None:
        raise ValueError("the strip '{}' of actor '{}' is gone".format(ob.reenact.strip_name, ob.name))
    return scene, strip


def strip_source(strip):
    from .track import _strip_source

    return _strip_source(strip)


def model_of(ob):
    return bpy.path.abspath(ob.reenact.model_path) if ob.reenact.model_path else None


def tracked_track(ob):
    """The actor's Track file (the footage's own tracking), memoised per file version."""
    from .transfer import load_actor_track

    path = bpy.path.abspath(ob.reenact.track_path)
    try:
        st = os.stat(path)
        key = ("track", path, st.st_size, st.st_mtime_ns, ob.reenact.source_path, ob.reenact.frame_count)
    except OSError:
        key = None
    with _MEMO_LOCK:
        if key is not None and key in _MEMO:
            return _MEMO[key]
    tr = load_actor_track(ob)
    if key is not None:
        with _MEMO_LOCK:
            for k in [k for k in _MEMO if k[0] == "track" and k[1] == path]:
                del _MEMO[k]
            _MEMO[key] = tr
    return tr


def crop_transforms_of(track, size):
    """Crop transforms of a tracked Track, memoised (Preview Frame calls this every time)."""
    from ..face.raster import crop_transforms

    key = ("xf", id(track), int(size))
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
    if hit is not None and hit[0] is track:
        return hit[1]
    xf = crop_transforms(track, size)
    with _MEMO_LOCK:
        _MEMO[key] = (track, xf)
    return xf


def performance_rows(ob, base, scene, rows):
    """``base`` with the actor's evaluated curves written into ``rows`` (the other rows keep the
    tracked values). The whole-performance path is ``transfer.curves_to_track``."""
    import numpy as np

    from ..face.transfer import track_from_curves
    from .transfer import evaluate_actor

    sub = base.subset(base.frame_start + min(rows), base.frame_start + max(rows) + 1)
    pose, expr, names, gaze, conf = evaluate_actor(ob, sub, scene)
    names_b = [str(n) for n in base.expression_names]
    full_pose = np.array(base.pose, np.float64)
    full_expr = np.array(base.expression, np.float64)
    full_gaze = np.array(base.gaze, np.float64)
    full_conf = np.array(base.confidence, np.float64)
    lo, hi = min(rows), max(rows) + 1
    full_pose[lo:hi] = pose
    full_expr[lo:hi] = expr[:, [names.index(n) for n in names_b]]
    full_gaze[lo:hi] = gaze
    full_conf[lo:hi] = conf
    return track_from_curves(base, full_pose, full_expr, full_gaze, full_conf, names=names_b)


def _strip_paths(s):
    if s.type == "MOVIE":
        return os.path.normpath(bpy.path.abspath(s.filepath))
    if s.type == "IMAGE":
        return os.path.normpath(bpy.path.abspath(s.directory))
    return None


def add_result_strip(scene, original, out, n_frames, name):
    """The rendered clip as a strip in the free channel above ``original``, same start, same
    trims, so it lines up frame for frame. A previous strip of the same output is replaced."""
    target = os.path.normpath(out)
    for s in list(blend.all_strips(scene)):
        if s != original and s.type in {"MOVIE", "IMAGE"} and _strip_paths(s) == target:
            scene.sequence_editor.strips.remove(s)
    channel = blend.free_channel_above(scene, original)
    strips = blend.strips_of(scene)
    start = int(original.frame_start)
    if os.path.isdir(out):
        from ..inference.pipeline import FRAME_DIGITS, FRAME_PREFIX

        names = ["{}{:0{}d}.png".format(FRAME_PREFIX, i, FRAME_DIGITS) for i in range(n_frames)]
        st = strips.new_image(name=name, filepath=os.path.join(out, names[0]), channel=channel, frame_start=start)
        for nm in names[1:]:
            st.elements.append(nm)
    else:
        st = strips.new_movie(name=name, filepath=out, channel=channel, frame_start=start)
    st.frame_start = start
    st.frame_offset_start = original.frame_offset_start
    st.frame_offset_end = original.frame_offset_end
    st.frame_start = start
    if st.channel != channel:
        st.channel = channel
    return st


# --------------------------------------------------------------------------- Render Performance
def render_job(track, source, model, out, frames, region, crop_track, lossless, cache_dir, prefer_gpu, progress):
    """Worker thread: no bpy here."""
    from ..inference.pipeline import render_clip

    return render_clip(track, source, model, out=out, frames=frames, region=region, cache_dir=cache_dir,
                       progress=progress, crop_track=crop_track, lossless=lossless, prefer_gpu=prefer_gpu)



def _render_inputs(context):
    """The active actor, its scene and strip, the render folder and its tracked Track."""
    ob = active_actor(context)
    if ob is None:
        raise ValueError("no active tracked actor")
    scene, strip = actor_strip(ob)
    return ob, scene, strip, render_root(), tracked_track(ob)

class REENACT_OT_render_performance(ModalJobMixin, bpy.types.Operator):
    """Render the active actor's performance (its curves, edits included) with its renderer,
    composite it into the original frames and add the result as a new strip above the original"""

    bl_idname = "reenact.render_performance"
    bl_label = "Render Performance"
    bl_options = {"REGISTER", "UNDO"}

    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth")
    use_range: BoolProperty(name="Frame Range", default=False,
                            description="Render only these timeline frames; the others are the footage's own")
    frame_first: IntProperty(name="First", default=1, description="First timeline frame to render")
    frame_last: IntProperty(name="Last", default=250, description="Last timeline frame to render (included)")
    output: EnumProperty(name="Output", items=OUTPUT_ITEMS, default="IMAGES")
    lossless: BoolProperty(name="Lossless", default=False, description="Lossless movie (RGB H.264)")
    cpu: BoolProperty(name="CPU Only", default=False, description="Do not try CUDA")

    job_label = "Rendering"
    cancel_note = "the frames already rendered are kept (cache and frame folder); render again to resume"

    @classmethod
    def poll(cls, context):
        return _poll_actor(cls, context)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "region", expand=True)
        layout.prop(self, "use_range")
        row = layout.row(align=True)
        row.enabled = self.use_range
        row.prop(self, "frame_first")
        row.prop(self, "frame_last")
        layout.prop(self, "output")
        if self.output == "MOVIE":
            layout.prop(self, "lossless")
        layout.prop(self, "cpu")

    def prepare(self, context):
        from .transfer import curves_to_track

        ob, scene, strip, root, base = _render_inputs(context)
        track = curves_to_track(ob, scene, base)
        n = int(base.source_frames) or int(strip.frame_duration)
        if self.use_range:
            a = int(self.frame_first) - int(strip.frame_start)
            b = int(self.frame_last) + 1 - int(strip.frame_start)
            if not (0 <= a < b <= n):
                raise ValueError("frames {}..{} are outside strip '{}' (frames {}..{})".format(
                    self.frame_first, self.frame_last, strip.name, int(strip.frame_start), int(strip.frame_start) + n - 1))
        else:  # the strip's visible part
            a = max(0, int(strip.frame_final_start - strip.frame_start))
            b = min(n, int(strip.frame_final_end - strip.frame_start))
        name = _safe(ob.name)
        if self.output == "MOVIE":
            out = os.path.join(root, name + (".mkv" if self.lossless else ".mp4"))
        else:
            out = os.path.join(root, name)
        self._ob_name, self._scene_name, self._strip_name = ob.name, scene.name, strip.name
        self._out = out
        cache = os.path.join(root, "reenact_cache")
        return (render_job, (track, strip_source(strip), model_of(ob), out, (a, b), self.region, base,
                             self.lossless, cache, not self.cpu), {})

    def apply(self, context, summary):
        scene = bpy.data.scenes[self._scene_name]
        strip = scene.sequence_editor.strips_all[self._strip_name]
        ob = bpy.data.objects.get(self._ob_name)
        st = add_result_strip(scene, strip, self._out, summary["frames"], "{} Reenact".format(strip.name))
        st["reenact_provider"] = summary["provider"]
        st["reenact_rendered"] = summary["rendered"]
        st["reenact_cached"] = summary["cached"]
        if ob is not None:
            ob["reenact_last_render"] = "{} · {}".format(os.path.basename(self._out), summary["provider"])
        self.report({"INFO"}, "Reenact: rendered {} frame(s), {} from the cache, on {} -> strip '{}' in channel {}".format(
            summary["rendered"], summary["cached"], summary["provider"].replace("ExecutionProvider", ""),
            st.name, st.channel))


# --------------------------------------------------------------------------- Preview Frame
_READERS = {}


def _read_frame(source, i):
    from ..video import open_video

    key = source if isinstance(source, str) else tuple(source)
    src = _READERS.get(key)
    if src is None:
        for old in _READERS.values():
            old.close()
        _READERS.clear()
        src = _READERS[key] = open_video(source)
    frame = src.read(int(i))
    if frame is None:
        raise ValueError("clip frame {} is missing".format(i))
    return frame


def preview_strip(scene, original, path, frame):
    """Show ``path`` for one frame at ``frame`` in an image strip above everything there."""
    import time as _time

    strips = blend.strips_of(scene)
    st = scene.sequence_editor.strips_all.get(PREVIEW_STRIP)
    if st is not None:
        strips.remove(st)
    used = [s.channel for s in blend.all_strips(scene) if s.frame_final_start <= frame < s.frame_final_end]
    channel = max(used + [original.channel]) + 1
    st = strips.new_image(name=PREVIEW_STRIP, filepath=path, channel=min(channel, 128), frame_start=int(frame))
    st["reenact_preview_time"] = _time.time()
    return st


class REENACT_OT_preview_frame(bpy.types.Operator):
    """Re-render the current frame with the active actor's performance and show it in the
    sequencer (a one-frame strip above the original)"""

    bl_idname = "reenact.preview_frame"
    bl_label = "Preview Frame"
    bl_options = {"REGISTER", "UNDO"}

    region: EnumProperty(name="Region", items=REGION_ITEMS, default="mouth")

    @classmethod
    def poll(cls, context):
        return _poll_actor(cls, context)

    def execute(self, context):
        import time

        from ..face.raster import window_indices
        from ..inference.pipeline import get_renderer, render_frame, source_identity

        t0 = time.perf_counter()
        try:
            ob, scene, strip, root, base = _render_inputs(context)
            f = int(context.scene.frame_current)
            i = f - int(strip.frame_start)
            r = i - int(base.frame_start)
            if not (0 <= r < base.n_frames):
                raise ValueError("frame {} is outside the actor's clip (frames {}..{})".format(
                    f, int(strip.frame_start) + base.frame_start, int(strip.frame_start) + base.frame_start + base.n_frames - 1))
            renderer = get_renderer(model_of(ob))
            rows = [int(k) for k in window_indices(r, renderer.window, base.n_frames)]
            track = performance_rows(ob, base, scene, rows)
            source = strip_source(strip)
            frame = _read_frame(source, i)
            cache_dir = os.path.join(root, "reenact_cache")
            xf = crop_transforms_of(base, renderer.size)
            pool = None
            if renderer.ref:  # built once per actor (one pass over the footage), then cached
                from ..inference.pipeline import reference_pool

                pool = reference_pool(base, source, renderer.size, xf, cache_dir)[0]
            out, info = render_frame(track, frame, i, renderer, region=self.region, cache_dir=cache_dir,
                                     transforms=xf, crop_track=base, source_id=source_identity(source), pool=pool)
            import cv2
            import numpy as np

            folder = os.path.join(root, "preview")
            os.makedirs(folder, exist_ok=True)
            # alternate two names so the sequencer never shows a stale cached image
            prev = scene.sequence_editor.strips_all.get(PREVIEW_STRIP)
            name = "preview_b.png" if prev is not None and prev.elements[0].filename == "preview_a.png" else "preview_a.png"
            path = os.path.join(folder, name)
            ok, buf = cv2.imencode(".png", cv2.cvtColor(np.asarray(out), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
            with open(path + ".tmp", "wb") as fh:
                fh.write(buf.tobytes())
            os.replace(path + ".tmp", path)
            st = preview_strip(scene, strip, path, f)
        except (ValueError, OSError) as exc:
            self.report({"ERROR"}, "Reenact: {}".format(exc))
            return {"CANCELLED"}
        ms = (time.perf_counter() - t0) * 1000.0
        ob["reenact_last_preview_ms"] = round(ms, 1)
        self.report({"INFO"}, "Reenact: preview of frame {} in {:.0f} ms ({}, {})".format(
            f, ms, "cached" if info["cached"] else "rendered", info["provider"].replace("ExecutionProvider", "")))
        self._result = {"ms": ms, "info": info, "strip": st.name, "path": path}
        return {"FINISHED"}


classes = (REENACT_OT_render_performance, REENACT_OT_preview_frame)
