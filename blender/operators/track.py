# SPDX-License-Identifier: GPL-3.0-or-later
"""Track Actor: track the faces in the active movie/image strip and create editable actors."""



import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty

from .. import blend
from .. import actor as actor_data
from ..modal import ModalJobMixin
from ..report import report


def track_job(source, max_faces, focal_mm, frames, fps, small_faces, progress):
    """Runs in the worker thread: no bpy here."""
    from ...tracking.tracker import track_video

    return track_video(source, max_faces=max_faces, focal_mm=focal_mm, frames=frames, fps=fps,
                       progress=progress, small_faces=small_faces)


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

    job_label = "Tracking"

    @classmethod
    def poll(cls, context):
        scene = context.scene
        strip = blend.active_strip(scene) if scene else None
        if strip is None:
            cls.poll_message_set("Select a movie or image strip in the sequencer")
            return False
        if strip.type not in {"MOVIE", "IMAGE"}:
            cls.poll_message_set("The active strip is a {} strip: select a movie or image strip".format(strip.type))
            return False
        return True

    def prepare(self, context):
        settings = context.scene.reenact
        if not self.properties.is_property_set("max_faces"):
            self.max_faces = settings.max_faces
        if not self.properties.is_property_set("use_focal"):
            self.use_focal = settings.use_focal
        if not self.properties.is_property_set("focal_mm"):
            self.focal_mm = settings.focal_mm
        if not self.properties.is_property_set("small_faces"):
            self.small_faces = settings.small_faces
        strip = blend.active_strip(context.scene)
        if len(getattr(strip, "retiming_keys", ())) > 2 or getattr(strip, "speed_factor", 1.0) != 1.0:
            raise ValueError("strip '{}' is retimed: clip frames no longer map one to one onto the "
                             "timeline; track it before retiming".format(strip.name))
        self._strip_name = strip.name
        self._scene_name = context.scene.name
        source = actor_data.strip_source(strip)
        fps = context.scene.render.fps / context.scene.render.fps_base
        return (track_job, (source, self.max_faces, self.focal_mm if self.use_focal else None,
                            actor_data.clip_range(strip), fps, self.small_faces), {})

    def apply(self, context, tracks):
        scene = bpy.data.scenes[self._scene_name]
        strip = scene.sequence_editor.strips_all[self._strip_name]
        coll = blend.ensure_collection(scene, "Reenact")
        old = [o for o in actor_data.actor_objects(scene) if o.reenact.strip_name == strip.name]
        for ob in old:  # keep them until the new actors exist: an error leaves them as they were
            ob.reenact.is_actor = False
        created = []
        try:
            cam = actor_data.ensure_camera(scene, coll, tracks[0], strip, "{} Camera".format(strip.name))
            for i, tr in enumerate(tracks):
                path = actor_data.track_file_path(scene, strip, i)
                tr.save(path)
                created.append(actor_data.build_actor(scene, coll, tr, strip, i, path, cam))
        except Exception:
            for ob in created:
                actor_data.remove_actor(ob)
            for ob in old:
                ob.reenact.is_actor = True
            raise
        # Re-tracking replaces this strip's actors cleanly (names freed first, then taken).
        for ob in old:
            actor_data.remove_actor(ob)
        for ob in created:
            ob.name = ob.data.name = ob.reenact.strip_name + " Actor {}".format(ob.reenact.actor_index)
        for ob in scene.objects:
            if ob is not None:
                ob.select_set(False)
        if created:
            created[0].select_set(True)
            context.view_layer.objects.active = created[0]
        frac = sum(float(t.tracked.mean()) for t in tracks) / len(tracks)
        report(self, "INFO", "tracked {} actor(s) in '{}', {:.0%} of frames".format(
            len(tracks), strip.name, frac))


classes = (REENACT_OT_track_strip,)
