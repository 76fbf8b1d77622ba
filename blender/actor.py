# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn a Track into Blender data (and find it again): the camera matching the footage and the
actor mesh whose shape keys are the actor's expression basis, with keyframed shape-key values,
head transform, gaze and confidence.

Coordinates: a Track's pose maps model points (cm, x right, y up, z toward the viewer) into
an OpenCV camera (x right, y down, z forward). The Blender camera sits at the world origin
looking down -Z with +Y up, so the actor's transform is the pose flipped by diag(1, -1, -1)
(``face.camera.pose_to_gl``), with centimetres turned into metres.
"""

import os
import re
import threading

import bpy
import numpy as np

from . import blend

CM = 0.01  # model units (cm) to Blender metres
GAZE_PROPS = ("gaze_left_x", "gaze_left_y", "gaze_right_x", "gaze_right_y")
SENSOR_WIDTH_MM = 36.0


def track_pose_to_blender(pose):
    """Track pose (T, 6: XYZ Euler of the camera-space rotation, translation in cm) ->
    Blender object (location m (T,3), rotation_euler XYZ (T,3)), via the fit module's
    OpenCV -> Blender camera conversion (:func:`reenact.face.camera.pose_to_gl`)."""
    from ..face.camera import pose_to_gl

    gl = pose_to_gl(pose)
    return gl[:, 3:] * CM, gl[:, :3]


def blender_to_track_pose(loc, rot_euler):
    """Inverse of :func:`track_pose_to_blender`."""
    from ..face.camera import pose_from_gl

    return pose_from_gl(np.concatenate([np.asarray(rot_euler, np.float64), np.asarray(loc, np.float64) / CM], axis=1))


def topology():
    """The bundled mesh topology (read once, then cached)."""
    from ..face.topology import load_topology

    return load_topology()


def is_actor(ob):
    """True for a Reenact actor mesh object."""
    return ob is not None and ob.type == "MESH" and ob.reenact.is_actor


def actor_objects(scene=None):
    return [ob for ob in bpy.data.objects if is_actor(ob) and (scene is None or actor_scene(ob) == scene)]


def actor_scene(ob):
    """The scene holding the actor's strip: the one of its name, else, that scene renamed, the
    one scene whose strips hold the actor's strip id (before 2026-12-05 renaming the scene cut
    its actors off: every operator said their strip was gone). Reads only (panels call it)."""
    s = ob.reenact
    scene = bpy.data.scenes.get(s.scene_name)
    if s.strip_id and not (scene is not None and scene.objects.get(ob.name) == ob):
        # the one scene that holds both the actor and its strip, when the scene of the stored
        # name does not hold the actor (a Full Copy's actor is the copy's, an appended scene's
        # its own: before 2026-12-05 both were taken by the scene of the stored name, whose
        # operators then edited, moved and re-tracked them). (Asked on every change by the
        # depsgraph handler: the name first, the scenes' objects only when it does not answer.)
        own = [sc for sc in ob.users_scene if _holds_strip(sc, s.strip_id)]
        if len(own) == 1:
            return own[0]
    if scene is not None or not s.strip_id:
        return scene
    found = [sc for sc in bpy.data.scenes if _holds_strip(sc, s.strip_id)]
    return found[0] if len(found) == 1 else None


def _holds_strip(scene, strip_id):
    return scene.sequence_editor is not None and any(
        st.get("reenact_id") == strip_id for st in scene.sequence_editor.strips_all)



def remove_actor(ob):
    """Remove an actor object with its mesh, shape keys and actions (nothing left orphaned)."""
    mesh = ob.data
    actions = []
    for idd in (ob, mesh.shape_keys):
        if idd is not None and idd.animation_data and idd.animation_data.action:
            actions.append(idd.animation_data.action)
        if idd is not None and idd.animation_data:  # NLA layers (the "Tracked" layer)
            actions += [s.action for t in idd.animation_data.nla_tracks for s in t.strips
                        if s.action and s.action not in actions]
    bpy.data.objects.remove(ob)
    if mesh.users == 0:
        bpy.data.meshes.remove(mesh)
    for act in actions:
        if act.users == 0:
            bpy.data.actions.remove(act)


def ensure_camera(scene, coll, track, strip, name):
    w, h = (int(v) for v in track.size)
    cam_data = bpy.data.cameras.get(name) or bpy.data.cameras.new(name)
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.sensor_width = SENSOR_WIDTH_MM
    cam_data.lens = float(track.focal_px) * SENSOR_WIDTH_MM / w
    cam_data.clip_start = 0.01
    cam_data.clip_end = 100.0
    cam = bpy.data.objects.get(name)
    if cam is None or cam.type != "CAMERA":
        cam = bpy.data.objects.new(name, cam_data)
    if cam.name not in coll.objects:
        coll.objects.link(cam)
    cam.location = (0.0, 0.0, 0.0)
    cam.rotation_euler = (0.0, 0.0, 0.0)
    # the footage as the camera background, lined up with the strip on the timeline
    cam_data.show_background_images = True
    while len(cam_data.background_images):
        cam_data.background_images.remove(cam_data.background_images[0])
    bg = cam_data.background_images.new()
    path = blend.strip_filepath(strip)
    if strip.type == "MOVIE":
        # the camera's own clip: a movie clip's start is the clip's, and two strips of one file
        # (two shots of one take) start at different frames
        clip = bpy.data.movieclips.get(name)
        if clip is None or os.path.normcase(bpy.path.abspath(clip.filepath)) != os.path.normcase(path):
            clip = bpy.data.movieclips.load(path, check_existing=False)
            clip.name = name
        bg.source = "MOVIE_CLIP"
        bg.clip = clip
    else:
        img = bpy.data.images.load(path, check_existing=True)
        img.source = "SEQUENCE"
        bg.source = "IMAGE"
        bg.image = img
        bg.image_user.frame_duration = len(strip.elements)
    bg.alpha = 1.0
    line_up_background(cam, strip)
    cam_data["reenact_size"] = [w, h]  # the footage's size (View Actor Camera matches it)
    return cam


def line_up_background(cam, strip):
    """The footage behind the camera ``cam`` lined up with ``strip`` on the timeline: the movie
    clip starting where the strip does, an image sequence's first file at the strip's start
    whatever its number (plates numbered from 1001: before 2026-12-05 the background looked for
    file 1 and showed nothing). Called when the actor is built and when its strip moves (before,
    a moved strip left the footage behind the mesh at the old frames, and an animator keyed the
    mesh against the wrong picture)."""
    start = int(strip.frame_start)
    for bg in (cam.data.background_images if cam is not None and cam.type == "CAMERA" else ()):
        if bg.source == "MOVIE_CLIP" and bg.clip is not None:
            bg.clip.frame_start = start
        elif bg.source == "IMAGE" and bg.image is not None and strip.type == "IMAGE" and len(strip.elements):
            bg.image_user.frame_start = start
            m = re.match(r".*?(\d+)\D*$", os.path.splitext(strip.elements[0].filename)[0])
            bg.image_user.frame_offset = int(m[1]) - 1 if m else 0


def use_camera(scene, cam, resolution=True):
    """Make ``cam`` (a footage camera) the scene camera and, with ``resolution``, set the
    scene's resolution to its footage's, so the camera view frames the footage exactly. Returns
    the scene's resolution before ("1920x1080 at 50 %") when it changed, else ''."""
    scene.camera = cam
    size = cam.data.get("reenact_size")
    r = scene.render
    was = (int(r.resolution_x), int(r.resolution_y), int(r.resolution_percentage))
    if resolution and size is not None:
        r.resolution_x, r.resolution_y = int(size[0]), int(size[1])
        r.resolution_percentage = 100
    now = (int(r.resolution_x), int(r.resolution_y), int(r.resolution_percentage))
    return "" if now == was else "{}x{}{}".format(was[0], was[1], " at {} %".format(was[2]) if was[2] != 100 else "")


def build_actor(scene, coll, track, strip, index, track_path, camera, keep_id=False):
    """Create the actor mesh object for ``track``; returns it. ``keep_id``: the strip keeps its
    ``reenact_id`` even when other strips share it (tracking a strip again: the pieces cut from
    it stay its pieces); else a strip sharing another's id (a piece or duplicate tracked on its
    own) becomes a shot of its own."""
    topo = topology()
    name = "{} Actor {}".format(strip.name, index)
    identity = np.asarray(track.identity, np.float64)
    basis = np.asarray(track.expression_basis, np.float64)
    names = [str(n) for n in track.expression_names]

    mesh = bpy.data.meshes.new(name)
    verts = identity * CM
    tris = np.asarray(topo.triangles, np.int64)
    mesh.from_pydata(verts.tolist(), [], tris.tolist())
    uv_layer = mesh.uv_layers.new(name="UVMap")
    uv = np.asarray(topo.uv, np.float32)[tris.reshape(-1)]
    uv_layer.data.foreach_set("uv", uv.reshape(-1))
    mesh.update()
    ob = bpy.data.objects.new(name, mesh)
    coll.objects.link(ob)
    ob.parent = camera
    ob.rotation_mode = "XYZ"

    ob.shape_key_add(name="Basis", from_mix=False)
    for k, kname in enumerate(names):
        kb = ob.shape_key_add(name=kname, from_mix=False)
        kb.slider_min = -1.0
        kb.slider_max = 2.0
        kb.data.foreach_set("co", ((identity + basis[k]) * CM).astype(np.float32).reshape(-1))
    mesh.shape_keys.name = name + " Expressions"

    s = ob.reenact
    s.is_actor = True
    s.strip_name = strip.name
    s.strip_id = strip["reenact_id"] if keep_id and strip.get("reenact_id") else blend.strip_id(strip)
    s.scene_name = scene.name
    s.actor_index = index
    s.source_path = blend.strip_filepath(strip)
    # (relative to the saved .blend where it lies beside it: a project copied whole reads its own Tracks; before
    # 2026-12-06 the absolute path, and a copy read the original project's while that was there)
    s.track_path = blend.relative_to_project(track_path)
    s.track_made_at = os.path.abspath(track_path)  # (where it was made: an actor appended elsewhere reads it there)
    s.frame_offset = int(strip.frame_start)
    s.frame_count = int(track.source_frames)
    s.tracked_fraction = float(np.mean(track.tracked)) if len(track.tracked) else 0.0
    for p in GAZE_PROPS + ("confidence",):
        ob[p] = 0.0
    write_animation(ob, track, int(strip.frame_start))
    return ob


def write_animation(ob, track, frame_offset, bags=None):
    """Keyframe every tracked frame: shape-key values, head transform, gaze, confidence.
    Untracked frames get no keys (confidence is keyed 0 there, so gaps show in the editor).
    ``bags``: (object channelbag, shape-key channelbag) to write into instead of the actions
    assigned to the object and its shape keys."""
    tracked = np.asarray(track.tracked, bool)
    frame_index = np.arange(len(tracked)) + int(getattr(track, "frame_start", 0))
    frames = (frame_index + frame_offset).astype(np.float64)
    ft = frames[tracked]

    ensure = blend.ensure_action
    if bags is None:
        ensure(ob, ob.name + " Head")
        bag = blend.channelbag(ob)
    else:
        bag = bags[0]
    loc, rot = track_pose_to_blender(np.asarray(track.pose, np.float64)[tracked])
    for i in range(3):
        blend.set_fcurve(bag, "location", i, ft, loc[:, i], group="Head")
        blend.set_fcurve(bag, "rotation_euler", i, ft, rot[:, i], group="Head")
    gaze = np.asarray(track.gaze, np.float64)[tracked]
    for i, p in enumerate(GAZE_PROPS):
        blend.set_fcurve(bag, '["{}"]'.format(p), 0, ft, gaze[:, i], group="Gaze")
    conf = np.where(tracked, np.asarray(track.confidence, np.float64), 0.0)
    blend.set_fcurve(bag, '["confidence"]', 0, frames, conf, group="Tracking", interpolation="CONSTANT")

    if bags is None:
        key = ob.data.shape_keys
        ensure(key, ob.name + " Expressions")
        kbag = blend.channelbag(key)
    else:
        kbag = bags[1]
    expr = np.asarray(track.expression, np.float64)[tracked]
    for k, kname in enumerate(track.expression_names):
        blend.set_fcurve(kbag, 'key_blocks["{}"].value'.format(kname), 0, ft, expr[:, k], group="Expressions")


def track_file_path(scene, strip, index):
    """Where the Track of an actor is kept: ``//reenact/<.blend name>_<scene>_<strip>_actor<i>.npz``
    next to the saved .blend (the .blend's name since 2026-12-05: versions of a shot file saved
    side by side shared one Track, and tracking again in one replaced the other's); for a file not
    saved yet, the extension's user folder, with a unique suffix so two unsaved files never share
    a Track. A strip tracked again gets new files (``..._actor<i>.2.npz``, since 2026-12-06):
    the replaced actors' Tracks stay, so that Ctrl-Z gives them back with the very Track they
    were made from (before, the file was written over and the restored actor lay on the new
    tracking, every frame an "edit")."""
    safe = bpy.path.clean_name("{}_{}".format(scene.name, strip.name))
    if bpy.data.filepath:
        safe = "{}_{}".format(blend_name(), safe)
        folder = os.path.join(bpy.path.abspath("//"), "reenact")
        os.makedirs(folder, exist_ok=True)
        path, k = os.path.join(folder, "{}_actor{}.npz".format(safe, index)), 2
        while os.path.isfile(path):  # (something else there: the write says so)
            path, k = os.path.join(folder, "{}_actor{}.{}.npz".format(safe, index, k)), k + 1
        return path
    import uuid

    return os.path.join(blend.data_folder("tracks"), "{}_actor{}_{}.npz".format(safe, index, uuid.uuid4().hex[:8]))


TRACK_DIR = "//reenact"


def check_local(*ids):
    """ValueError, one line, when any of ``ids`` (an actor, a scene) is linked from another .blend:
    what an operator wrote there would be lost on save (before 2026-12-06 Reset to Tracked, Mute
    and Render on a linked scene's actor finished as if done)."""
    for idd in ids:
        lib = getattr(idd, "library", None)
        if lib is not None:
            raise ValueError("'{}' is linked from '{}': make it local (Object/Scene ▸ Relations ▸ Make Local) "
                             "to change it here".format(idd.name, os.path.basename(bpy.path.abspath(lib.filepath))))


def track_file(ob):
    """Absolute path of the actor's Track file. A path that no longer exists falls back to the
    file of the same name in ``//reenact/`` next to the .blend (where saving moves the Tracks of
    an unsaved file, see ``saving``; also a project folder moved as a whole)."""
    # (an actor linked or appended from another .blend: its "//" is that file's folder; before
    # 2026-12-06 it was looked for beside this one)
    path = bpy.path.abspath(ob.reenact.track_path, library=ob.library)
    if ob.reenact.track_path and not os.path.isfile(path) and bpy.data.filepath:
        moved = os.path.join(bpy.path.abspath(TRACK_DIR), os.path.basename(path.replace("\\", "/")))
        if os.path.isfile(moved):
            return moved
    made = ob.reenact.track_made_at  # (an actor appended from a project elsewhere: its "//" was that file's folder;
    # its path is kept relative to the .blend since 2026-12-06)
    if ob.reenact.track_path.startswith("//") and not os.path.isfile(path) and made and os.path.isfile(made):
        return made
    return path


def load_actor_track(ob):
    """The actor's Track file, checked against the actor's footage."""
    from ..face.track import Track
    from ..face.transfer import check_clip
    from ..video import IMAGE_EXTENSIONS

    path = track_file(ob)
    if not ob.reenact.track_path:
        raise ValueError("actor '{}' has no Track file: track it again".format(ob.name))
    if not os.path.isfile(path):  # (where it looked: an actor appended from another .blend keeps a path of that file's)
        raise ValueError("actor '{}': its Track file {} is not there (an actor appended from another .blend: copy that "
                         "file's reenact folder beside this one, or track the strip again)".format(ob.name, path))
    tr = Track.load(path)
    footage = ob.reenact.source_path
    if os.path.splitext(footage)[1].lower() in IMAGE_EXTENSIONS:
        # an image strip's footage (its first image) is a list of images, which the tracker
        # names by their folder (before 2026-12-05 every image-strip actor failed this check:
        # Render Performance, Preview Frame and Train Renderer refused it)
        footage = os.path.dirname(footage)
    check_clip(tr, footage, ob.reenact.frame_count,
               what="Track file {}".format(os.path.basename(path)), where="the footage of '{}'".format(ob.name))
    return tr


#: how the Blender operators name the override of a footage mismatch (in the error line)
ACCEPT_HINT = "the Accept Re-encoded Footage option"


def check_strip_footage(ob, strip, track, accept=False):
    """The actor's Track must be of the footage its strip shows now: a strip relinked to another
    file (even one of the same size and length) is refused in one line naming both files;
    ``accept``: a re-encoded copy of the same shot. Returns warnings (an old Track)."""
    from ..video.identity import check_footage

    label = os.path.basename(bpy.path.abspath(ob.reenact.track_path)) or "Track of '{}'".format(ob.name)
    return check_footage(track, strip_source(strip), accept, label, ACCEPT_HINT)


_MEMO = {}
_MEMO_LOCK = threading.Lock()


def active_actor(context, exclude=None, listed=None):
    """The one "which actor?" rule of every operator and panel: the active object when it is a
    tracked actor of the scene (and not ``exclude``), else the scene's only remaining actor,
    else None. ``listed``: what lists the scene's actors (:func:`actor_objects`; a panel's draw or
    a button's poll: :func:`reenact.blender.shown.shown_actors`)."""
    scene = blend.edit_scene(context)
    actors = [a for a in (listed or actor_objects)(scene) if a != exclude] if scene is not None else []
    view_layer = blend.edit_view_layer(context)
    ob = view_layer.objects.active if view_layer is not None else getattr(context, "active_object", None)
    if ob in actors:
        return ob
    return actors[0] if len(actors) == 1 else None


def follow_renamed_strips(scene):
    """Point the scene's actors whose strip was renamed at it again (by the strip's reenact_id;
    before 2026-12-05 renaming a tracked strip in the sequencer cut its actors off: every
    operator said the strip was gone). A strip duplicated with its id keeps the actor on the
    strip of its name; an id found on several strips is left alone."""
    ed = scene.sequence_editor if scene else None
    if ed is None:
        return
    for ob in actor_objects(scene):
        s = ob.reenact
        if not s.strip_id or ed.strips_all.get(s.strip_name) is not None:
            continue
        found = [st for st in ed.strips_all if st.get("reenact_id") == s.strip_id]
        if len(found) == 1:
            s.strip_name = found[0].name


def actor_strip(ob):
    """(scene, strip) of the actor, following a renamed strip and a renamed scene."""
    scene = actor_scene(ob)
    if scene is not None and scene.name != ob.reenact.scene_name:
        ob.reenact.scene_name = scene.name  # (the scene was renamed)
    ed = scene.sequence_editor if scene else None
    strip = ed.strips_all.get(ob.reenact.strip_name) if ed else None
    if strip is None and ed is not None:
        follow_renamed_strips(scene)
        strip = ed.strips_all.get(ob.reenact.strip_name)
    if strip is None:
        raise ValueError("the strip '{}' of actor '{}' is gone (renamed before Reenact kept strip ids? rename it "
                         "back, or track it again)".format(ob.reenact.strip_name, ob.name))
    return scene, strip




def model_of(ob):
    """The actor's renderer: its own (Train Renderer), else the bundled one the preferences name
    (None: the default base)."""
    if ob.reenact.model_path:
        return bpy.path.abspath(ob.reenact.model_path, library=ob.library)
    from ..render.renderer import DEFAULT_BUNDLED, model_path
    from .props import preferences

    prefs = preferences()
    name = getattr(prefs, "base_model", DEFAULT_BUNDLED) if prefs is not None else DEFAULT_BUNDLED
    return None if name == DEFAULT_BUNDLED else model_path(name)


def tracked_track(ob):
    """The actor's Track file (the footage's own tracking), memoised per file version (and so is
    the one line of a file :func:`load_actor_track` refuses)."""
    path = track_file(ob)
    try:
        st = os.stat(path)
        key = ("track", path, st.st_size, st.st_mtime_ns, ob.reenact.source_path, ob.reenact.frame_count)
    except OSError:
        key = None
    with _MEMO_LOCK:
        got = _MEMO.get(key) if key is not None else None
    if isinstance(got, Exception):  # (a file refused stays refused until it changes: before the evening of
        raise got.with_traceback(None)  # 2026-12-06 read whole again at each redraw of the sidebar, 0.2-0.4 s)
    if got is not None:
        return got
    try:
        tr = load_actor_track(ob)
    except (ValueError, OSError) as exc:
        tr = exc.with_traceback(None)  # (kept without its frames: they hold the object and the Track read)
    if key is not None:
        with _MEMO_LOCK:
            for k in [k for k in _MEMO if k[0] == "track" and k[1] == path]:
                del _MEMO[k]
            _MEMO[key] = tr
    if isinstance(tr, Exception):
        raise tr
    return tr


def crop_transforms_of(track, size):
    """Crop transforms of a tracked Track, memoised (Preview Frame calls this every time)."""
    from ..render.conditioning import crop_transforms

    key = ("xf", id(track), int(size))
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
    if hit is not None and hit[0] is track:
        return hit[1]
    xf = crop_transforms(track, size)
    with _MEMO_LOCK:
        _MEMO[key] = (track, xf)
    return xf


def strip_source(strip):
    """The footage of a movie or image strip: a file path, or the list of image paths."""
    if strip.type == "MOVIE":
        return blend.strip_filepath(strip)
    if strip.type == "IMAGE":
        directory = bpy.path.abspath(strip.directory, library=strip.id_data.library)
        return [os.path.join(directory, e.filename) for e in strip.elements]
    raise ValueError("strip '{}' is not a movie or image strip".format(strip.name))


def source_key(strip):
    """A short digest of the footage a movie or image strip shows, which Verify Strip keeps with
    its verdict to tell when the verdict is no longer this footage's: each file's name, size and
    modification time, not its folder (a project folder moved whole, or a first save that makes
    the path ``//clip.mp4``, keeps its verdicts; before 2026-12-06 the absolute path, and moving
    the folder said the file changed) (a file written over since is another: before 2026-12-06
    the path alone, and a clean verdict stayed on a file replaced on disk). A missing file counts
    as changed. One ``stat`` a file (about 1 µs: 10 ms for a 10,000-frame plate)."""
    import hashlib

    src = strip_source(strip)
    files = [src] if isinstance(src, str) else src
    parts = [len(files)]  # (not the path as stored: the first save makes it relative: a review)
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            parts.append((os.path.basename(f), None))
            continue
        parts.append((os.path.basename(f), st.st_size, int(st.st_mtime)))  # (whole seconds: as copies keep it)
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def footage_stamp(strip):
    """A short digest of a movie or image strip's footage as a result records it: the file names
    (a sequence's first and last, and how many), and their sizes, so that a shot given another
    file or written over by a new export (another size) since is told apart; not the folders,
    so that a project moved whole is the same. None when a file is missing (footage offline:
    nothing to compare)."""
    import hashlib

    if strip.type == "IMAGE":  # (the first and last file named without the list of them all: the Track panel
        # draws this; before the evening of 2026-12-06 13 ms a redraw for a 10,000-frame plate)
        directory = bpy.path.abspath(strip.directory, library=strip.id_data.library)
        els = strip.elements
        n = len(els)
        files = [os.path.join(directory, els[0].filename), os.path.join(directory, els[n - 1].filename)] if n else []
        parts = [n]
    else:
        src = strip_source(strip)
        files, parts = [src], [1]
    for f in files:
        try:
            parts.append((os.path.basename(f), os.path.getsize(f)))
        except (OSError, TypeError):
            return None
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def untracked_parts(strip, track):
    """['21-30', ...]: the timeline frames ``strip`` shows that ``track`` does not cover, as the
    sequencer shows them (:func:`timing.shown_span`: a meta's trims, a reversed strip from its
    end; before 2026-12-06 frames a meta hides, and a reversed strip's frames counted from its
    start, were said to be untracked right after tracking)."""
    from . import timing

    a, b = timing.shown_span([strip])
    t0, t1 = int(track.frame_start), int(track.frame_start) + int(track.n_frames)
    return ["{}-{}".format(*timing.timeline_range(strip, lo, hi)) for lo, hi in ((a, min(b, t0)), (max(a, t1), b))
            if lo < hi]


def untracked_note(strip, track):
    """A warning when ``strip`` shows frames its actor's ``track`` does not cover (the strip
    extended after tracking: those frames stay the footage as it is), else ''."""
    from . import timing

    parts = untracked_parts(strip, track)
    if not parts:
        return ""
    t0, t1 = int(track.frame_start), int(track.frame_start) + int(track.n_frames)
    return ("strip '{}' shows frames {} that its actor's Track does not cover (tracked: {}-{}); they stay the "
            "footage as it is: Track Again, Keeping Edits (Track panel) includes them".format(
                strip.name, " and ".join(parts), *timing.timeline_range(strip, t0, t1)))


RENDER_DIR = "//reenact/renders"


_safe = blend.safe_name


#: the .blend's name as its files and folders carry it (:func:`blend.blend_name`)
blend_name = blend.blend_name


def render_root():
    """Absolute ``//reenact/renders/<.blend name>``: this .blend's renders (ValueError when it is
    not saved). Each .blend has its own, so versions saved side by side (``shot_v01.blend``,
    ``shot_v02.blend``: File ▸ Save Incremental) keep their results: before 2026-12-05 they
    shared ``//reenact/renders``, and a render in v02 wrote over the frames v01's result strips
    showed."""
    if not bpy.data.filepath:
        raise ValueError("save the .blend first: Reenact writes its results into the reenact folder next to it")
    return blend.own_folder(bpy.path.abspath(RENDER_DIR))


def cache_root():
    """Absolute ``//reenact/renders/reenact_cache``: the render cache, shared by the .blend files
    of the folder (its entries are named by what they hold: nothing of one file's is another's)."""
    if not bpy.data.filepath:
        raise ValueError("save the .blend first: Reenact writes its results into the reenact folder next to it")
    return os.path.join(bpy.path.abspath(RENDER_DIR), "reenact_cache")


# --------------------------------------------------------------------------- the dubbing actor
#: custom properties of a transfer's target: the source actor's name and, per row of the
#: target's Track, the source clip frame that drives it (-1: none); Render Performance's
#: Driver's Mouth reads them (reenact.render.donor)
DRIVER_PROP, DRIVER_FRAMES_PROP = "reenact_driver", "reenact_driver_frames"
#: ... and who the driver is beyond its name (its strip's id and actor index): a renamed driver
#: is still found (before 2026-12-05 renaming it made the target's render refuse: "is gone")
DRIVER_KEY_PROP = "reenact_driver_key"


#: who an actor is when its index in its strip no longer says it: Track Again, Keeping Edits gives
#: the new actor the key of the one whose edits it carries (:func:`actor_key`)
ACTOR_KEY_PROP = "reenact_identity"


def actor_key(ob):
    """Who ``ob`` is beyond its name ("" before it was tracked): the key Track Again gave it
    (:data:`ACTOR_KEY_PROP`), else "<strip id>:<actor index>" as it was tracked. A result strip,
    a dub's driver record and a training job find the actor by it: before 2026-12-06 it was the
    index alone, so an actor that Track Again, Keeping Edits moved to another index took the
    other actor's results (its render replaced that actor's result strip)."""
    if not ob.reenact.strip_id:
        return ""
    return ob.get(ACTOR_KEY_PROP) or "{}:{}".format(ob.reenact.strip_id, ob.reenact.actor_index)


def keep_actor_keys(heirs):
    """Track Again: give each new actor of ``heirs`` ({new actor: the old actor it replaces, or
    None}) the old actor's key (:func:`actor_key`; the strip's id unchanged), and every other one
    a key no other of them has (its own index's when free), so that the results, drivers and
    training jobs of an actor follow it to its new index and none of another's go to it."""
    import uuid

    keys = {new: actor_key(old) for new, old in heirs.items()
            if old is not None and old.reenact.strip_id == new.reenact.strip_id and actor_key(old)}
    for new in heirs:
        if new not in keys:
            mine = "{}:{}".format(new.reenact.strip_id, new.reenact.actor_index)
            keys[new] = mine if mine not in keys.values() else "{}:{}".format(new.reenact.strip_id, uuid.uuid4().hex)
    for new, key in keys.items():
        if key != "{}:{}".format(new.reenact.strip_id, new.reenact.actor_index):
            new[ACTOR_KEY_PROP] = key
        elif ACTOR_KEY_PROP in new:
            del new[ACTOR_KEY_PROP]


def record_driver(ob, source, performance_frame):
    """Remember on ``ob`` that ``source`` drives the rows where ``performance_frame`` (the
    transfer's ``Track.performance_frame``) is finite; rows an earlier transfer from the same
    source drove keep theirs, another source replaces them all."""
    pf = np.asarray(performance_frame, np.float64)
    new = np.where(np.isfinite(pf), pf, -1.0)
    old = ob.get(DRIVER_FRAMES_PROP)
    if ob.get(DRIVER_PROP) == source.name and old is not None and len(old) == len(new):
        new = np.where(new >= 0, new, np.asarray(old, np.float64))
    ob[DRIVER_PROP] = source.name
    ob[DRIVER_KEY_PROP] = actor_key(source)
    ob[DRIVER_FRAMES_PROP] = new.tolist()


def find_actor(name, key, near=None):
    """The actor of ``key`` (:func:`actor_key`), renamed or not (the one of ``near``'s scene where
    several have it), else of ``name`` when no key is given; None when gone."""
    ob = bpy.data.objects.get(name) if name else None
    if key and (ob is None or not is_actor(ob) or actor_key(ob) != key):  # renamed (or its name taken)
        found = [o for o in bpy.data.objects if is_actor(o) and actor_key(o) == key]
        found = [o for o in found if near is None or actor_scene(o) == actor_scene(near)] or found
        ob = found[0] if len(found) == 1 else None
    return ob if is_actor(ob) else None


def driver_of(ob, track):
    """(driver Track, driver footage) of the actor that drives ``ob``'s mouth, with ``track``'s
    ``performance_frame``/``performance_source`` set from what :func:`record_driver` kept; None
    when no transfer recorded one. A driver, or its strip, that is gone, a driver tracked again
    on fewer frames than drive ``ob``, or a record that no longer fits the Track: ValueError, one
    line naming the dubbing actor and what to do."""
    name = ob.get(DRIVER_PROP)
    frames = ob.get(DRIVER_FRAMES_PROP)
    if not name or frames is None:
        return None
    drv = find_actor(name, ob.get(DRIVER_KEY_PROP), ob)
    if drv is None:
        raise ValueError("the actor '{}' whose mouth drives '{}' is gone: set Mouth to Shot or Renderer, or transfer "
                         "again".format(name, ob.name))
    pf = np.asarray(frames, np.float64)
    if len(pf) != track.n_frames:
        raise ValueError("'{}': the record of its driving frames does not fit its Track ({} rows, {} recorded): "
                         "transfer again".format(ob.name, track.n_frames, len(pf)))
    try:  # (before 2026-12-06 the strip's own line, not saying it was the dub's driver nor what else to do)
        strip = actor_strip(drv)[1]
    except ValueError:
        raise ValueError("the strip '{}' of the dubbing actor '{}', whose mouth drives '{}', is gone: set Mouth to "
                         "Shot or Renderer, or bring the strip back (Ctrl-Z) and transfer again".format(
                             drv.reenact.strip_name, drv.name, ob.name)) from None
    dtrack = tracked_track(drv)
    f0, used, fo = int(dtrack.frame_start), pf[pf >= 0], int(drv.reenact.frame_offset)
    if len(used) and (used.min() < f0 - 0.5 or used.max() > f0 + dtrack.n_frames - 0.5):  # (tracked again since)
        raise ValueError("the dubbing actor '{}' is tracked on frames {}-{}, but its frames {:g}-{:g} drive the mouth "
                         "of '{}' (tracked again since the transfer): Transfer Performance again, or set Mouth to Shot "
                         "or Renderer".format(drv.name, f0 + fo, f0 + fo + dtrack.n_frames - 1, used.min() + fo,
                                              used.max() + fo, ob.name))
    track.performance_frame = np.where(pf >= 0, pf, np.nan)
    track.performance_source = str(dtrack.source_digest)
    return dtrack, strip_source(strip)
