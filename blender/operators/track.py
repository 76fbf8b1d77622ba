# SPDX-License-Identifier: GPL-3.0-or-later
"""Track Actor: track the faces in the active movie/image strip and create editable actors;
View Actor Camera: look at an actor through its footage camera."""

import os

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty, StringProperty

from .. import blend
from .. import timing
from .. import actor as actor_data
from ..modal import ModalJobMixin, job_target, remember_target
from .. import layers
from .. import dubbing, shots, shown
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
    bl_options = {"UNDO"}  # (no F9 redo: that would run the whole job again, blocking Blender)

    max_faces: IntProperty(name="Actors", default=1, min=1, max=4,
                           description="How many faces to track (the most prominent first)")
    use_focal: BoolProperty(name="Known Focal Length", default=False,
                            description="Use the focal length below instead of estimating it from the footage")
    focal_mm: FloatProperty(name="Focal Length", default=50.0, min=1.0, max=5000.0, subtype="DISTANCE_CAMERA",
                            unit="CAMERA", description="Focal length of the shot in millimetres (36 mm sensor width)")
    small_faces: BoolProperty(name="Small Faces", default=False,
                              description="Also look for faces smaller than a fifth of the frame (wide "
                                          "or full-body shots): slower, more false faces on cluttered footage")
    replace_edits: BoolProperty(
        name="Replace Edits", default=False, options={"SKIP_SAVE"},
        description="Track a strip again although its actor has edits (keys, a transfer): the new actor "
                    "replaces them. Off: such a strip is refused, its edits kept")
    keep_edits: BoolProperty(
        name="Keep Edits", default=False, options={"SKIP_SAVE"},
        description="Track a strip again (a shot extended after tracking, other settings) and carry its actors' "
                    "edits (keys, a transfer) onto the new actors: the edited frames keep their keys, the others "
                    "take the new tracking")
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
        if not (self.replace_edits or self.keep_edits):
            refuse_dropping_edits(scene, strip)
        for ob in actor_data.actor_objects(scene) if self.keep_edits else ():  # (edits pushed down into the NLA:
            if ob.reenact.strip_name == strip.name and layers.pushed_down(ob):  # refused before tracking)
                layers.check_pushed_down(ob, retrack=True)
        remember_target(self, scene, strip)  # (found again after a rename meanwhile: job_target)
        source = actor_data.strip_source(strip)
        fps = scene.render.fps / scene.render.fps_base
        focal = self.focal_mm if self.use_focal else None
        self._kept_focal = self._raised = None
        if self.keep_edits:  # every actor of the strip tracked again, whatever the scene's Actors says
            actor_data.follow_renamed_strips(scene)  # (before 2026-12-06 with Actors 1 the second actor was
            n = sum(o.reenact.strip_name == strip.name for o in actor_data.actor_objects(scene))  # deleted unsaid,
            if n > self.max_faces:  # or, edited, refused as if its face were gone)
                self._raised, self.max_faces = (self.max_faces, n), n
        if self.keep_edits and focal is None:
            # the actors' own camera: estimated again, the focal length would change with the
            # stretch of clip (36 % longer on the sample clip's 30 frames than on its first 20)
            # and the keyed head poses would sit in another camera
            focal = self._kept_focal = tracked_focal_mm(scene, strip)
        # what the strip shows, and the pieces cut from it when it keeps its shot's actors; a copy of a
        # tracked strip (Shift+D keeps its id) becomes a shot of its own in apply, and is tracked on
        # what it shows alone (before 2026-12-06 on the frames of the shot it was copied from too)
        rid, strips = strip.get("reenact_id"), scene.sequence_editor.strips_all
        own = bool(rid) and any(o.reenact.strip_id == rid for o in actor_data.actor_objects(scene)
                                if o.reenact.strip_name == strip.name or strips.get(o.reenact.strip_name) is None)
        span = shots.clip_span(shots.pieces(strip) if own else [strip])
        return (track_job, (source, self.max_faces, focal, span, fps, self.small_faces), {})

    def apply(self, context, result):
        tracks, squeezed = result
        scene, strip, _ob = job_target(self)
        actor_data.follow_renamed_strips(scene)  # (a renamed strip's actors are its own, replaced below)
        old = [o for o in actor_data.actor_objects(scene) if o.reenact.strip_name == strip.name]
        # the scene's camera and resolution follow its first tracked clip; another clip's only when asked
        first = not any(o.reenact.strip_name != strip.name for o in actor_data.actor_objects(scene))
        actor_data.topology()  # read before anything is written (the one file the actors need)
        # Keep Edits: each old actor's Track (replaced below) and the new face it is, checked first
        carried = match_actors(scene, strip, old, tracks) if self.keep_edits else {}
        # 1. the Track files, beside their final names: a failure here has changed nothing in the .blend
        staged = stage_tracks(scene, strip, tracks)
        # 2. the Blender data; on any failure everything made here is removed and the scene restored
        undo = Rollback(scene)
        for ob in old:  # keep them until the new actors exist: an error leaves them as they were
            ob.reenact.is_actor = False
        created = []
        keep_id = any(o.reenact.strip_id == strip.get("reenact_id") for o in old)  # (its pieces stay its own)
        try:
            coll = undo.collection(blend.ensure_collection, scene, _own_name(
                bpy.data.collections.get("Reenact"), scene, "Reenact"))
            cam = undo.camera(actor_data.ensure_camera, scene, coll, tracks[0], strip, _own_name(
                bpy.data.objects.get("{} Camera".format(strip.name)), scene, "{} Camera".format(strip.name)))
            resized = ""
            if self.set_scene_camera or first or scene.camera is None:
                resized = actor_data.use_camera(scene, cam, resolution=self.set_scene_camera or first)
            for i, tr in enumerate(tracks):
                created.append(actor_data.build_actor(scene, coll, tr, strip, i, staged[i][1], cam, keep_id=keep_id))
            kept = []
            heirs = heirs_of(old, created, carried)
            for new, ob in heirs.items():  # what belongs to the footage, not to the tracking: the actor's renderer
                if ob is not None:
                    new.reenact.model_path = ob.reenact.model_path
            for ob in old:
                if ob in carried:
                    kept.append(carry_actor_edits(ob, created[carried[ob][0]], carried[ob][1], tracks[carried[ob][0]]))
            actor_data.keep_actor_keys(heirs)  # (who each is: its results follow it to its new index)
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
        # Re-tracking replaces this strip's actors cleanly (names freed first, then taken); an
        # actor whose edits were kept keeps the name and materials the animator gave it (before
        # 2026-12-06 'Alice' came back as '<strip> Actor 0', its material gone)
        given = {carried[ob][0]: (ob.name, list(ob.data.materials)) for ob in old if ob in carried}
        gone = sorted(ob.name for ob in old if ob not in heirs.values())  # (no new actor takes its place)
        for ob in old:
            actor_data.remove_actor(ob)
        for ob in created:
            name, mats = given.get(ob.reenact.actor_index, (ob.reenact.strip_name + " Actor {}".format(
                ob.reenact.actor_index), None))
            ob.name = ob.data.name = name
            if mats:
                ob.data.materials.clear()
                for m in mats:
                    ob.data.materials.append(m)
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
        note += "".join(kept)
        if resized:  # (the delivery resolution is the editor's: said, not changed silently; a review)
            note += ("; the scene's resolution was {}, now {}x{} as the footage, so that the actors' camera frames "
                     "it (set it back if the edit delivers at another size: View Actor Camera is framed for the "
                     "footage's)").format(
                         resized, scene.render.resolution_x, scene.render.resolution_y)
        if self._raised:
            note += "; {1} faces looked for, one for each of the strip's {1} actors (the Actors setting says {0})".format(
                *self._raised)
        if gone:  # (a Shift+D copy on its original's face, a face no longer found: before 2026-12-06 unsaid)
            note += "; actor(s) {} deleted, with their keys: no new face takes their place (Ctrl-Z brings them " \
                "back)".format(", ".join("'{}'".format(n) for n in gone))
        if kept and self._kept_focal is not None:
            note += "; tracked at their focal length, {:.1f} mm, kept with the edits".format(self._kept_focal)
        report(self, "WARNING" if hidden or squeezed or resized or gone else "INFO",
               "tracked {} actor(s) in '{}', {:.0%} of frames{}".format(len(tracks), strip.name, frac, note))


def strip_edits(scene, strip, actors=None):
    """[(actor, its Track file, the timeline frames it edited)] for the actors of ``strip``
    (or ``actors``). An actor whose Track cannot be read is left out when its layers show no
    edit, else refused with one line (its edits can be neither compared nor carried)."""
    layers.follow_moved_strips(scene)  # (renamed strips found, then the depsgraph handler's move, done now: every
    out = []                           # actor at once, so an ID two actors share moves once)
    for ob in actors if actors is not None else actor_data.actor_objects(scene):
        if ob.reenact.strip_name != strip.name:
            continue
        try:
            tracked = actor_data.load_actor_track(ob)
        except EXPECTED as exc:  # its edits cannot be told or carried: never dropped unsaid (before 2026-12-05 they were)
            if layers.edit_layer_differs(ob) or not layers.has_layers(ob):
                raise ValueError("actor '{}': its Track file cannot be read ({}), so its edits cannot be compared with "
                                 "the tracking or carried onto a new one; put the file back, or Track Again, Replacing "
                                 "Edits".format(ob.name, str(exc).rstrip("."))) from None
            continue
        try:
            out.append((ob, tracked, layers.edited_frames(ob, layers.curves_to_track(ob, scene, tracked), tracked)))
        except EXPECTED:
            continue
    return out


def refuse_dropping_edits(scene, strip):
    """ValueError when tracking ``strip`` again would replace an actor's edits (hand keys, a
    transfer): an animator's work is never dropped by a second Track Actor (before 2026-12-05 it
    was, without a word: Undo alone brought it back)."""
    for ob, tracked, frames in strip_edits(scene, strip):
        if frames and layers.pushed_down(ob):  # (which Keeping Edits cannot carry: said so)
            layers.check_pushed_down(ob, retrack=True)
        if frames:
            raise ValueError("actor '{}' has edits on {} frame(s) ({}-{}: keys or a transfer) that tracking again "
                             "would replace; Track Again, Keeping Edits carries them onto the new tracking, Track "
                             "Again, Replacing Edits drops them (Track panel)".format(
                                 ob.name, len(frames), frames[0], frames[-1]))
        off = layers.off_track_keys(ob, tracked)
        if off:  # (keys where the face was not tracked: before 2026-12-06 dropped without a word)
            from ...render.actors import frame_runs

            raise ValueError("actor '{}' has keys on frame(s) {} where its face is not tracked, which tracking again "
                             "would drop; Track Again, Replacing Edits drops them (Track panel)".format(
                                 ob.name, frame_runs(off)))
        scaled = layers.scaled_frames(ob, tracked)
        if scaled:  # (the render does not read them: not edits of the performance; before 2026-12-06 dropped unsaid)
            from ...render.actors import frame_runs

            raise ValueError("actor '{}' has its head scaled on frame(s) {} (scale keyed or set; the render draws the "
                             "tracked size), which tracking again would drop; Track Again, Keeping Edits carries it, "
                             "Track Again, Replacing Edits drops it (Track panel)".format(ob.name, frame_runs(scaled)))


def tracked_focal_mm(scene, strip):
    """The focal length (mm on the 36 mm sensor) the actors of ``strip`` were tracked at; None
    when none has a readable Track."""
    for ob in actor_data.actor_objects(scene):
        if ob.reenact.strip_name == strip.name:
            try:
                tr = actor_data.tracked_track(ob)
            except EXPECTED:
                continue
            return float(tr.focal_px) * actor_data.SENSOR_WIDTH_MM / float(tr.size[0])
    return None


def _face_path(track):
    """(centre (T, 2) px, NaN untracked; the face's median size in px) from the landmarks."""
    import numpy as np

    lm = np.asarray(track.landmarks, np.float64)
    ok = np.asarray(track.tracked, bool) & np.isfinite(lm).all(axis=(1, 2))
    centre = np.full((len(lm), 2), np.nan)
    centre[ok] = lm[ok].mean(axis=1)
    size = float(np.median(np.ptp(lm[ok], axis=1).max(axis=1))) if ok.any() else np.nan
    return centre, size


def match_actors(scene, strip, old, tracks):
    """Keep Edits: {old actor: (index into ``tracks``, its old Track)}, each matched to the new
    face that lies where it did over the clip frames both tracked (the order of faces may change
    with the settings); every old actor, not only those with keyed edits (since 2026-12-06: one
    only renamed, given a material, a driver or an NLA track, or keyed on frames the tracker
    lost, came back as new). ValueError, before anything is changed, when an actor with edits
    matches no new face."""
    import numpy as np

    paths = [(_face_path(tr), int(tr.frame_start)) for tr in tracks]
    out, taken = {}, {}
    for ob, tracked, frames in strip_edits(scene, strip, old):
        frames = frames or layers.off_track_keys(ob, tracked)
        (mine, size), start = _face_path(tracked), int(tracked.frame_start)
        best, near = (np.inf, None), (np.inf, None)  # (the nearest free face; the nearest face, taken or not)
        for i, ((theirs, _), s) in enumerate(paths):
            a, b = max(start, s), min(start + len(mine), s + len(theirs))
            if a >= b:
                continue
            d = np.linalg.norm(mine[a - start:b - start] - theirs[a - s:b - s], axis=1)
            d = d[np.isfinite(d)]
            if len(d) and np.median(d) < min(near[0], 0.5 * size):
                near = (float(np.median(d)), i)
            if i not in taken and len(d) and np.median(d) < min(best[0], 0.5 * size):
                best = (float(np.median(d)), i)
        if best[1] is None:
            if not frames:  # (nothing keyed: replaced as by a plain Track Again)
                continue
            if near[1] in taken:  # (a Shift+D copy: before 2026-12-06 'found no face where it was', the face there)
                raise ValueError("actor '{}' has edits and lies on the face of actor '{}' (a copy of it, Shift+D?): one "
                                 "actor a face, so its edits cannot be kept; copy its keys onto '{}' or delete it, "
                                 "then Track Again, Keeping Edits (Track Again, Replacing Edits deletes it and its "
                                 "keys)".format(ob.name, taken[near[1]], taken[near[1]]))
            raise ValueError("actor '{}' has edits, and tracking '{}' again found no face where it was: its edits "
                             "cannot be kept (Track Again, Replacing Edits drops them)".format(ob.name, strip.name))
        taken[best[1]] = ob.name
        out[ob] = (best[1], tracked)
    return out


def heirs_of(old, created, carried):
    """{new actor: the old actor it takes the place of, or None}: the one whose edits it carries
    (Keep Edits: :func:`match_actors`, at whatever index the new tracking gave it), else the old
    actor of its index that no new one carries (replaced as by a plain Track Again)."""
    heirs = {ob: None for ob in created}
    for ob, (idx, _track) in carried.items():
        heirs[created[idx]] = ob
    for ob in old:
        idx = ob.reenact.actor_index
        if ob not in carried and idx < len(created) and heirs[created[idx]] is None:
            heirs[created[idx]] = ob
    return heirs


def carry_actor_edits(old, new, old_track, new_track):
    """:func:`layers.carry_edits` from ``old`` to ``new`` and the record of the actor whose
    mouth drives it (rows moved to the new Track's); returns the report's words."""
    import numpy as np

    channels, frames, drivers, nla, hidden = layers.carry_edits(old, new, old_track, new_track)
    rec = old.get(actor_data.DRIVER_FRAMES_PROP)
    if old.get(actor_data.DRIVER_PROP) and rec is not None and len(rec) == old_track.n_frames:
        rows = np.full(new_track.n_frames, -1.0)
        src = np.arange(old_track.n_frames) + int(old_track.frame_start) - int(new_track.frame_start)
        ok = (src >= 0) & (src < new_track.n_frames)
        rows[src[ok]] = np.asarray(rec, np.float64)[ok]
        new[actor_data.DRIVER_PROP] = old[actor_data.DRIVER_PROP]
        if old.get(actor_data.DRIVER_KEY_PROP):
            new[actor_data.DRIVER_KEY_PROP] = old[actor_data.DRIVER_KEY_PROP]
        new[actor_data.DRIVER_FRAMES_PROP] = rows.tolist()
        if old.get(dubbing.TIMING_PROP) is not None:  # (where the dubbing strip lay: its stale check)
            new[dubbing.TIMING_PROP] = old[dubbing.TIMING_PROP]
    from ...render.actors import frame_runs

    if not (channels or drivers or nla):  # (its name and materials alone: nothing to say)
        return ""
    note = "; the edits of '{}' kept ({}{}{})".format(
        old.name, "{} channel(s) on frames {}".format(channels, frame_runs(frames)) if channels else "no keys",
        ", {} driver(s)".format(drivers) if drivers else "", ", {} NLA track(s)".format(nla) if nla else "")
    f_old, f_new = float(old_track.focal_px), float(new_track.focal_px)
    if abs(f_new / f_old - 1.0) > 0.02:
        note += " (the new tracking's focal length is {:.0%} of the old's: keyed head poses were set for the old " \
                "camera)".format(f_new / f_old)
    if hidden:  # (before 2026-12-06 said kept as if tracked and drawn)
        note += ("; of them, frame(s) {} lie where '{}' does not show now: not tracked, no render draws them until "
                 "its trim is extended again").format(frame_runs(hidden), new.reenact.strip_name)
    return note


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


def _own_name(existing, scene, name):
    """``name``, or ``name (scene)`` when the datablock of that name belongs to other scenes only:
    two scenes cutting the same movie (strips of one name) each get their own camera and
    "Reenact" collection (before 2026-12-05 they shared them: tracking the second at another
    focal length changed the first's camera, and each scene showed the other's actors)."""
    if existing is None:
        return name
    scenes = existing.users_scene if hasattr(existing, "users_scene") else [
        s for s in bpy.data.scenes if existing.name in s.collection.children]
    return name if not scenes or scene in scenes else "{} ({})".format(name, scene.name)


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


class REENACT_OT_make_actor_active(bpy.types.Operator):
    """Make this actor the active object (and the only one selected) in its scene: the actor
    the Renderer, Transfer and camera buttons work on"""

    bl_idname = "reenact.make_actor_active"
    bl_label = "Make Actor Active"
    bl_options = {"REGISTER", "UNDO"}
    in_menu = False  # (the Actors panel's buttons name the actor)

    actor: StringProperty(name="Actor", description="The tracked actor's object name")

    @classmethod
    def poll(cls, context):
        if not shown.shown_actors(blend.edit_scene(context)):
            cls.poll_message_set("No tracked actors in the sequencer's scene")
            return False
        return True

    def execute(self, context):
        scene = blend.edit_scene(context)
        ob = bpy.data.objects.get(self.actor)
        if ob is None or ob not in actor_data.actor_objects(scene):
            report(self, "ERROR", "'{}' is not a tracked actor of scene '{}'".format(self.actor, scene.name))
            return {"CANCELLED"}
        layer = blend.edit_view_layer(context)
        if ob.name not in layer.objects:  # (before 2026-12-06 a traceback, the selection already cleared)
            report(self, "ERROR", "'{}' is not in view layer '{}' (its collection is excluded): include the collection "
                                  "(the Outliner's checkbox) to pick it".format(ob.name, layer.name))
            return {"CANCELLED"}
        for o in layer.objects:
            if o.select_get(view_layer=layer):
                o.select_set(False, view_layer=layer)
        ob.select_set(True, view_layer=layer)
        layer.objects.active = ob
        return {"FINISHED"}


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
        if blend.edit_scene(context) is None or shown.shown_active(context) is None:
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


classes = (REENACT_OT_track_strip, REENACT_OT_view_actor_camera, REENACT_OT_make_actor_active)
