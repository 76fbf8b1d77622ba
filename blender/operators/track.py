# SPDX-License-Identifier: GPL-3.0-or-later
"""Track Actor: track the faces in the active movie/image strip and create editable actors;
View Actor Camera: look at an actor through its footage camera."""

import os

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty

from .. import blend
from .. import timing
from .. import actor as actor_data
from ..modal import ModalJobMixin
from .. import layers
from ..layers import timeline_frames
from ..report import EXPECTED, report


def track_job(source, max_faces, focal_mm, frames, fps, small_faces, progress):
    """Runs in the worker thread: no bpy here. Returns (the Tracks, the tracker's lines on the
    footage: anamorphic or interlaced)."""
    from ...tracking.tracker import track_video

    stats = {}
    tracks = track_video(source, max_faces=max_faces, focal_mm=focal_mm, frames=frames, fps=fps,
                         progress=progress, small_faces=small_faces, stats=stats)
    return tracks, stats.get("footage_warnings", [])


class REENACT_OT_track_strip(ModalJobMixin, bpy.types.Operator):
    """Track the faces in the active movie or image strip and create an editable actor for each:
    a mesh with the actor's expression shape keys, keyframed expressions, head pose and gaze"""

    bl_idname = "reenact.track_strip"
    bl_label = "Track Actor"
    bl_options = {"REGISTER", "UNDO"}

    max_faces: IntProperty(name="Actors", default=1, min=1, max=4,
                           description="How many faces to track (the most prominent first)")
    use_focal: BoolProperty(name="Known Focal Length", default=False)
    focal_mm: FloatProperty(name="Focal Length (mm)", default=50.0, min=1.0, max=5000.0)
    small_faces: BoolProperty(name="Small Faces", default=False,
                              description="Also look for faces smaller than a fifth of the frame (wide "
                                          "HD/4K shots): slower, more false faces on cluttered footage")
    replace_edits: BoolProperty(
        name="Replace Edits", default=False, options={"SKIP_SAVE"},
        description="Track a strip again although its actor has edits (keys, a transfer): the new actor "
                    "replaces them. Off: such a strip is refused, its edits kept")
    set_scene_camera: BoolProperty(
        name="Set Scene Camera",
        description="Make this clip's camera the scene camera and the scene resolution the clip's. Always "
                    "done for the scene's first tracked clip; another clip leaves the scene's output as it is")

    job_label = "Tracking"

    @classmethod
    def poll(cls, context):
        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene) if scene else None
        if strip is None:
            cls.poll_message_set("Select a movie or image strip in the sequencer")
            return False
        if strip.type not in {"MOVIE", "IMAGE"}:
            cls.poll_message_set("The active strip is a {} strip: select a movie or image strip".format(strip.type))
            return False
        return True

    def prepare(self, context):
        settings = blend.edit_scene(context).reenact
        if not self.properties.is_property_set("max_faces"):
            self.max_faces = settings.max_faces
        if not self.properties.is_property_set("use_focal"):
            self.use_focal = settings.use_focal
        if not self.properties.is_property_set("focal_mm"):
            self.focal_mm = settings.focal_mm
        if not self.properties.is_property_set("small_faces"):
            self.small_faces = settings.small_faces
        scene = blend.edit_scene(context)
        strip = blend.active_strip(scene)
        timing.refuse_retimed(strip, "the curves would not line up with it; track it before retiming")
        if not self.replace_edits:
            keep_edits(scene, strip)
        self._strip_name, self._scene_name = strip.name, scene.name
        source = actor_data.strip_source(strip)
        fps = scene.render.fps / scene.render.fps_base
        return (track_job, (source, self.max_faces, self.focal_mm if self.use_focal else None,
                            actor_data.clip_range(strip), fps, self.small_faces), {})

    def apply(self, context, result):
        tracks, squeezed = result
        scene = bpy.data.scenes[self._scene_name]
        strip = scene.sequence_editor.strips_all[self._strip_name]
        actor_data.follow_renamed_strips(scene)  # (a renamed strip's actors are its own, replaced below)
        old = [o for o in actor_data.actor_objects(scene) if o.reenact.strip_name == strip.name]
        # the scene's camera and resolution follow its first tracked clip; another clip's only when asked
        first = not any(o.reenact.strip_name != strip.name for o in actor_data.actor_objects(scene))
        actor_data.topology()  # read before anything is written (the one file the actors need)
        # 1. the Track files, beside their final names: a failure here has changed nothing in the .blend
        staged = stage_tracks(scene, strip, tracks)
        # 2. the Blender data; on any failure everything made here is removed and the scene restored
        undo = Rollback(scene)
        for ob in old:  # keep them until the new actors exist: an error leaves them as they were
            ob.reenact.is_actor = False
        created = []
        try:
            coll = undo.collection(blend.ensure_collection, scene, "Reenact")
            cam = undo.camera(actor_data.ensure_camera, scene, coll, tracks[0], strip,
                              "{} Camera".format(strip.name))
            if self.set_scene_camera or first or scene.camera is None:
                actor_data.use_camera(scene, cam, resolution=self.set_scene_camera or first)
            for i, tr in enumerate(tracks):
                created.append(actor_data.build_actor(scene, coll, tr, strip, i, staged[i][1], cam))
            commit_tracks(staged)
        except Exception:
            for ob in created:
                actor_data.remove_actor(ob)
            for ob in old:
                ob.reenact.is_actor = True
            undo.restore()
            discard_tracks(staged)
            raise
        # tracking order (Transfer Performance's defaults): a re-tracked strip keeps its place
        order = min((o.reenact.track_order for o in old), default=0) or 1 + max(
            (o.reenact.track_order for o in actor_data.actor_objects(scene) if o not in created), default=0)
        for ob in created:
            ob.reenact.track_order = order
        # Re-tracking replaces this strip's actors cleanly (names freed first, then taken).
        for ob in old:
            actor_data.remove_actor(ob)
        for ob in created:
            ob.name = ob.data.name = ob.reenact.strip_name + " Actor {}".format(ob.reenact.actor_index)
        layer = scene.view_layers[0] if scene != context.scene and len(scene.view_layers) else context.view_layer
        for ob in scene.objects:
            if ob is not None:
                ob.select_set(False, view_layer=layer)
        if created:
            created[0].select_set(True, view_layer=layer)
            layer.objects.active = created[0]
        frac = sum(float(t.tracked.mean()) for t in tracks) / len(tracks)
        note = "" if scene.camera == cam else "; View Actor Camera shows it over the footage"
        starts = [int(f) for f, s in zip(timeline_frames(created[0], tracks[0]), tracks[0].shot_start) if s] \
            if created and len(tracks[0].shot_start) == tracks[0].n_frames else []
        if starts:  # an edited scene: each shot tracked and drawn from on its own
            note += "; {} shots (cuts before frames {})".format(len(starts) + 1, ", ".join(map(str, starts)))
        # a found dissolve's frames (its shares are numbers, NaN elsewhere: b == b)
        soft = [int(f) for f, b in zip(timeline_frames(created[0], tracks[0]), tracks[0].blend) if b == b] \
            if created and len(tracks[0].blend) == tracks[0].n_frames else []
        from ...render.actors import frame_runs

        if soft:  # (renders fade their change there with the face's shot)
            note += "; dissolves over frames {}".format(frame_runs(soft))
        # the frames a hand before a face hides (confidence lowered there; the landmarks are a guess)
        hidden = sorted({f + int(ob.reenact.frame_offset) for ob, tr in zip(created, tracks)
                         for f in tr.hidden_frames()})
        if hidden:
            note += "; a hand before the face on frames {} (confidence lowered there)".format(frame_runs(hidden))
        for line in squeezed:  # anamorphic or interlaced footage: tracked as the sequencer shows it
            note += "; " + line
        report(self, "WARNING" if hidden or squeezed else "INFO",
               "tracked {} actor(s) in '{}', {:.0%} of frames{}".format(len(tracks), strip.name, frac, note))


def keep_edits(scene, strip):
    """ValueError when tracking ``strip`` again would replace an actor's edits (hand keys, a
    transfer): an animator's work is never dropped by a second Track Actor (before 2026-12-05 it
    was, without a word: Undo alone brought it back)."""
    actor_data.follow_renamed_strips(scene)
    for ob in actor_data.actor_objects(scene):
        if ob.reenact.strip_name != strip.name:
            continue
        try:
            tracked = actor_data.load_actor_track(ob)
            frames = layers.edited_frames(ob, layers.curves_to_track(ob, scene, tracked), tracked)
        except EXPECTED:  # its Track gone or unreadable: nothing of it to keep
            continue
        if frames:
            raise ValueError("actor '{}' has edits on {} frame(s) ({}-{}: keys or a transfer) that tracking again "
                             "would replace; Track Again, Replacing Edits (Track panel) replaces them".format(
                                 ob.name, len(frames), frames[0], frames[-1]))


def stage_tracks(scene, strip, tracks):
    """Write each Track to a unique temporary name beside its final path; returns
    [(temporary, final)]. On failure nothing is left and the error names the folder."""
    import uuid

    staged = []
    try:
        for i, tr in enumerate(tracks):
            path = actor_data.track_file_path(scene, strip, i)
            tmp = "{}.{}.tmp.npz".format(os.path.splitext(path)[0], uuid.uuid4().hex[:8])
            staged.append((tmp, path))
            tr.save(tmp)
    except OSError as exc:
        discard_tracks(staged)
        where = os.path.dirname(staged[-1][1]) if staged else exc.filename or "the Track folder"
        raise OSError("cannot write the Track files to {}: {}".format(where, exc.strerror or exc)) from None
    except BaseException:
        discard_tracks(staged)
        raise
    return staged


def commit_tracks(staged):
    """Rename the staged Tracks to their final names. A Track they replace (re-tracking) is kept
    aside until all are in place, and put back if one fails."""
    import uuid

    done = []  # (final path, the file it replaced, kept aside, or None)
    try:
        for tmp, path in staged:
            aside = None
            if os.path.isfile(path):
                aside = "{}.{}.old.npz".format(os.path.splitext(path)[0], uuid.uuid4().hex[:8])
                os.replace(path, aside)
            try:
                os.replace(tmp, path)
            except OSError:
                if aside is not None:
                    os.replace(aside, path)
                raise
            done.append((path, aside))
    except OSError as exc:
        for path, aside in reversed(done):
            if aside is not None:
                os.replace(aside, path)
            else:
                os.remove(path)
        raise OSError("cannot write the Track file {}: {}".format(path, exc.strerror or exc)) from None
    for _, aside in done:
        if aside is not None:
            os.remove(aside)


def discard_tracks(staged):
    for tmp, _ in staged:
        if os.path.exists(tmp):
            os.remove(tmp)


class Rollback:
    """What Track Actor adds to the .blend (collection, camera, footage clip or image) and the
    scene settings it changes, so that a failure puts everything back."""

    def __init__(self, scene):
        self.scene = scene
        r = scene.render
        self.settings = (scene.camera, r.resolution_x, r.resolution_y, r.resolution_percentage)
        self.new_ids = []  # (collection of bpy.data, ID) made here
        self.clips = set(bpy.data.movieclips)
        self.images = set(bpy.data.images)
        self.linked = None
        self.cam_data = None

    def collection(self, make, scene, name):
        existed = bpy.data.collections.get(name)
        was_linked = existed is not None and existed.name in scene.collection.children
        coll = make(scene, name)
        if existed is None:
            self.new_ids.append((bpy.data.collections, coll))
        elif not was_linked:
            self.linked = coll
        return coll

    CAMERA_PROPS = ("lens", "sensor_fit", "sensor_width", "clip_start", "clip_end", "show_background_images")

    def camera(self, make, scene, coll, track, strip, name):
        had_ob, had_data = bpy.data.objects.get(name), bpy.data.cameras.get(name)
        if had_data is not None:  # re-tracking: the strip's camera gets the new focal length
            self.cam_data = (had_data, {p: getattr(had_data, p) for p in self.CAMERA_PROPS})
        cam = make(scene, coll, track, strip, name)
        if had_ob is None or had_ob != cam:
            self.new_ids.append((bpy.data.objects, cam))
        if had_data is None:
            self.new_ids.append((bpy.data.cameras, cam.data))
        return cam

    def restore(self):
        scene, r = self.scene, self.scene.render
        scene.camera = self.settings[0]
        r.resolution_x, r.resolution_y, r.resolution_percentage = self.settings[1:]
        if self.linked is not None and self.linked.name in scene.collection.children:
            scene.collection.children.unlink(self.linked)
        order = (bpy.data.objects, bpy.data.cameras, bpy.data.collections)
        for data, idd in sorted(self.new_ids, key=lambda x: order.index(x[0])):
            data.remove(idd)
        for clip in [c for c in bpy.data.movieclips if c not in self.clips]:
            bpy.data.movieclips.remove(clip)
        for img in [i for i in bpy.data.images if i not in self.images]:
            bpy.data.images.remove(img)
        if self.cam_data is not None and self.cam_data[0] in set(bpy.data.cameras):
            for p, v in self.cam_data[1].items():
                setattr(self.cam_data[0], p, v)


class REENACT_OT_view_actor_camera(bpy.types.Operator):
    """Make the active actor's footage camera the scene camera and look through it in the 3D
    viewports: the actor's mesh over its footage"""

    bl_idname = "reenact.view_actor_camera"
    bl_label = "View Actor Camera"
    bl_options = {"REGISTER", "UNDO"}

    set_resolution: BoolProperty(
        name="Set Scene Resolution", default=False,
        description="Also set the scene resolution to the footage's, so the camera view frames it exactly "
                    "(this is the sequencer's output resolution too)")

    @classmethod
    def poll(cls, context):
        if blend.edit_scene(context) is None or actor_data.active_actor(context) is None:
            cls.poll_message_set("Make a tracked actor active (Track Actor first)")
            return False
        return True

    def execute(self, context):
        ob = actor_data.active_actor(context)
        cam = ob.parent
        if cam is None or cam.type != "CAMERA":
            report(self, "ERROR", "actor '{}' has no footage camera: track it again".format(ob.name))
            return {"CANCELLED"}
        scene = blend.edit_scene(context)
        actor_data.use_camera(scene, cam, resolution=self.set_resolution)
        shown = ""
        if context.window is not None and context.window.scene != scene:
            # Blender 5.0: the sequencer's scene is not the window's; the 3D viewports and the
            # animation editors show the window's, so it becomes the actor's (the sequencer keeps its own)
            context.window.scene = scene
            shown = "; the window now shows scene '{}', the actor's".format(scene.name)
        for area in (context.screen.areas if context.screen else ()):
            if area.type == "VIEW_3D":
                area.spaces.active.region_3d.view_perspective = "CAMERA"
                area.tag_redraw()
        size = cam.data.get("reenact_size")
        r = scene.render
        if size is not None and abs(size[0] * r.resolution_y - size[1] * r.resolution_x) > max(size):
            report(self, "WARNING", "scene camera: '{}'; the scene is {}x{} but the footage {}x{}: the mesh "
                   "lines up with the footage at the footage's aspect (Set Scene Resolution)".format(
                       cam.name, r.resolution_x, r.resolution_y, int(size[0]), int(size[1])) + shown)
        else:
            report(self, "INFO", "scene camera: '{}'".format(cam.name) + shown)
        return {"FINISHED"}


classes = (REENACT_OT_track_strip, REENACT_OT_view_actor_camera)
