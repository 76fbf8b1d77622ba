# SPDX-License-Identifier: GPL-3.0-or-later
"""The small adapter between Blender data and the core (imports bpy).

Everything that differs between Blender 4.5 LTS and 5.x lives here, so operators and the
command line share one tested code path.
"""

import hashlib
import os
import re
import uuid

import bpy

from .props import ADDON


def edit_scene(context):
    """The scene whose timeline Reenact works on: the one the Video Sequencer shows. Blender 5.0
    gives the sequencer a scene of its own (the workspace's Sequencer Scene), which need not be
    the window's scene (before 2026-12-05 Reenact took the window's: with another scene there,
    its operators looked for strips and actors in the wrong scene); 4.5 shows the window's."""
    return getattr(context, "sequencer_scene", None) or getattr(context, "scene", None)


def edit_view_layer(context):
    """The view layer whose active object picks the actor: the window's when it shows the
    :func:`edit_scene`, else the sequencer scene's first."""
    scene = edit_scene(context)
    if scene is None or scene == getattr(context, "scene", None):
        return getattr(context, "view_layer", None)
    return scene.view_layers[0] if len(scene.view_layers) else None


def strips_of(scene, near=None):
    """The strip collection new strips go into: the top level (``strips`` since 4.4; ``sequences``
    was removed in 5.0), or, given a strip ``near``, the one holding it (its meta strip's
    ``strips`` when it lies inside a meta, so that a strip made for it takes the meta's framing and
    channel space)."""
    meta = near.parent_meta() if near is not None else None
    if meta is not None:
        return meta.strips
    ed = scene.sequence_editor_create()
    return ed.strips


def channel_of(strip):
    """The channel ``strip`` lies in (its meta strip's, or the sequencer's); None past the last."""
    meta = strip.parent_meta()
    channels = meta.channels if meta is not None else strip.id_data.sequence_editor.channels
    return channels[strip.channel] if strip.channel < len(channels) else None


def out_of_cut(strip):
    """Whether ``strip`` shows nothing in the cut: muted itself, in a muted channel, or inside a
    muted meta strip or a meta in a muted channel (:func:`reenact.blender.look.hidden` looks at the strip's own level
    only: a result follows that, not its meta's mute)."""
    s = strip
    while s is not None:
        ch = channel_of(s)
        if s.mute or (ch is not None and ch.mute):
            return True
        s = s.parent_meta()
    return False


def siblings(strip):
    """The strips in ``strip``'s own collection (its meta's, or the top level): the channels of
    a meta's contents are the meta's own, separate from the top level's."""
    return list(strips_of(strip.id_data, strip))


def all_strips(scene):
    ed = scene.sequence_editor
    if ed is None:
        return []
    return list(ed.strips_all)


def active_strip(scene):
    ed = scene.sequence_editor
    return ed.active_strip if ed else None


def strip_filepath(strip):
    """Absolute path of a movie strip's file or an image strip's folder + first element."""
    if strip.type == "MOVIE":
        return bpy.path.abspath(strip.filepath, library=strip.id_data.library)
    if strip.type == "IMAGE":
        directory = bpy.path.abspath(strip.directory, library=strip.id_data.library)
        return os.path.join(directory, strip.elements[0].filename)
    raise ValueError("strip '{}' is a {} strip, not a movie or image strip".format(strip.name, strip.type))


def poll_media_strip(cls, context):
    """Operator poll: the active strip is a movie or image strip (else says what to select)."""
    strip = active_strip(edit_scene(context)) if edit_scene(context) else None
    if strip is None or strip.type not in {"MOVIE", "IMAGE"}:
        cls.poll_message_set("Select a movie or image strip in the sequencer")
        return False
    return True


def strip_id(strip):
    """The strip's ``reenact_id`` (made now when it has none, or when it is a duplicate's copy of
    another strip's): a custom property, so it survives renaming the strip and is saved with it."""
    ed = strip.id_data.sequence_editor
    mine = strip.get("reenact_id")
    if not mine or (ed is not None and any(s != strip and s.get("reenact_id") == mine for s in ed.strips_all)):
        strip["reenact_id"] = uuid.uuid4().hex  # (none yet, or a duplicate's copy of its original's)
    return strip["reenact_id"]


def _shot_ref(shot):
    """(id, name) by which a result or preview finds its shot again (``shots.follow_shots``): the
    shot's id as it is (a duplicate sharing it is told apart by the name, and a new id here would
    leave the shot's actors on the duplicate's)."""
    return shot.get("reenact_id") or strip_id(shot), shot.name


def _timing(strip):
    return [int(strip.frame_start), int(strip.frame_offset_start), int(strip.frame_offset_end)]


def free_channel_above(scene, strip):
    """The lowest channel above ``strip`` that is free over its whole frame range, and neither
    muted nor locked (where a new strip is made before :func:`channel_above` places it)."""
    start, end = strip.frame_final_start, strip.frame_final_end
    channel = strip.channel + 1
    near = siblings(strip)
    while not (_free(near, channel, start, end) and open_channel(strip, channel)):
        channel += 1
    return channel


def _channels(strip):
    """The channel headers of ``strip``'s collection (its meta's, or the top level's)."""
    meta = strip.parent_meta()
    return meta.channels if meta is not None else strip.id_data.sequence_editor.channels


def channel_above(original, start, end, new=None, ignore=()):
    """The channel for a strip that shows ``original``'s footage changed over frames [start,
    end), and the clause saying what was moved for it ('' when nothing): directly above
    ``original`` and the strips Reenact made for it there (other actors' results), below
    everything else there, so that titles, graphics and an adjustment layer's grade above the
    shot lie over the result as they lay over the shot (before 2026-12-05 a result went to the
    lowest channel free over the whole shot, above a title over part of it, and hid it). Empty
    channels that are muted or locked are passed over; when another strip is in the way a
    channel is inserted there: that channel and those above it (strips and headers, ``new``
    among them) move up one, as inserting a track in an editing system does."""
    near = [s for s in siblings(original) if s != new and s not in ignore]
    c, top = original.channel + 1, len(_channels(original)) - 1
    while True:
        if c > top:
            raise ValueError("no open channel above '{}': channels {} to {} are muted, locked or Reenact's".format(
                original.name, original.channel + 1, top))
        there = [s for s in near if s.channel == c and s.frame_final_start < end and s.frame_final_end > start
                 and s.type != "SOUND"]  # (sound draws nothing: the shot's own sound above it is passed over)
        if not there and open_channel(original, c) and not any(s.channel == c and s.frame_final_start < end
                                                                and s.frame_final_end > start for s in near):
            return c, ""
        if there and not all("reenact_result" in s or "reenact_actor" in s or is_preview(s) for s in there):
            return c, _insert_channel(original, c, there)
        c += 1


def _insert_channel(original, channel, there):
    """Move ``channel`` and the channels above it (in ``original``'s collection) up one; the
    clause for the operator's report."""
    moving = sorted((s for s in siblings(original) if s.channel >= channel), key=lambda s: -s.channel)
    headers = _channels(original)
    if moving and moving[0].channel >= len(headers) - 1:
        raise ValueError("no room for the result directly above '{}': channel {} is in use, so channel {} and "
                         "those above cannot move up".format(original.name, len(headers) - 1, channel))
    for s in moving:  # from the top down, so that no strip lands on another
        s.channel += 1
    _shift_headers(headers, channel, 1)
    return "channel {} and those above moved up one so that it lies directly under '{}' as the shot did".format(
        channel, sorted(s.name for s in there)[0])


def remove_inserted_channel(scene, meta, channel):
    """Undo :func:`_insert_channel` for ``channel`` of the collection of ``meta`` (a meta strip, or
    None: the top level) once what was put there is gone (a Preview Frame strip): the strips and
    headers above move down one. Nothing moves when anything else lies in that channel now, or
    its header was named, muted or locked since. Returns whether it moved them."""
    strips = list(meta.strips) if meta is not None else list(strips_of(scene))
    headers = meta.channels if meta is not None else scene.sequence_editor.channels
    default = "Channel {}"
    if not 0 < channel < len(headers) - 1 or any(s.channel == channel for s in strips):
        return False
    h = headers[channel]
    if h.name != default.format(channel) or h.mute or h.lock:
        return False
    for s in sorted((s for s in strips if s.channel > channel), key=lambda s: s.channel):  # bottom up
        s.channel -= 1
    _shift_headers(headers, channel, -1)
    return True


def _shift_headers(headers, channel, step):
    """The channel headers from ``channel`` up follow their strips: with ``step`` 1 (a channel
    inserted there) each takes the name, mute and lock of the one below it, with -1 (``channel``
    removed) of the one above; the header left over is a default one. A default name is renamed
    for its new number."""
    default = "Channel {}"
    n = len(headers)
    was = [(h.name, h.mute, h.lock) for h in headers]
    for k in range(channel, n):  # names are unique among the headers: clear them first
        headers[k].name = "reenact_moving_{}".format(k)
    for k in (range(channel + 1, n) if step > 0 else range(channel, n - 1)):
        name, headers[k].mute, headers[k].lock = was[k - step]
        headers[k].name = default.format(k) if name == default.format(k - step) else name
    free = channel if step > 0 else n - 1
    headers[free].name, headers[free].mute, headers[free].lock = default.format(free), False, False


def open_channel(strip, channel):
    """Whether ``channel`` of ``strip``'s collection (its meta's, or the top level) shows and
    lets one edit what is put there: neither muted nor locked in the channel header (before
    2026-12-05 a result strip went into a muted channel above the shot and never showed)."""
    channels = _channels(strip)
    if channel >= len(channels):
        return True
    return not (channels[channel].mute or channels[channel].lock)


def add_movie_strip(scene, filepath, channel=1, frame_start=1, name=None, fit_scene=True):
    """Add a movie strip and, when ``fit_scene``, make the scene's resolution, frame rate and
    range match the footage so the sequencer shows it frame for frame."""
    strips = strips_of(scene)
    name = name or os.path.splitext(os.path.basename(filepath))[0]
    strip = strips.new_movie(name=name, filepath=filepath, channel=channel, frame_start=frame_start)
    if fit_scene:
        elem = strip.elements[0] if len(strip.elements) else None
        if elem is not None and elem.orig_width > 0:
            scene.render.resolution_x = elem.orig_width
            scene.render.resolution_y = elem.orig_height
            scene.render.resolution_percentage = 100
        fps = strip.fps
        if fps > 0:
            set_scene_fps(scene, fps)
        scene.frame_start = strip.frame_final_start
        scene.frame_end = strip.frame_final_end - 1
    return strip


def set_scene_fps(scene, fps):
    """Set the scene rate from a float (29.97 -> 30000/1001 exactly)."""
    for base in (1.0, 1.001):
        num = fps * base
        if abs(num - round(num)) < 1e-3:
            scene.render.fps = int(round(num))
            scene.render.fps_base = base
            return
    scene.render.fps = int(round(fps * 1000))
    scene.render.fps_base = 1000.0


def new_scene(name):
    scene = bpy.data.scenes.new(name)
    scene.sequence_editor_create()
    return scene


def save_blend(filepath):
    """Save the session as ``filepath`` (Blender writes ``<file>@`` and renames it once complete: a
    failed save leaves the old file intact). Before 2026-12-06 19:55 UTC a copy was saved as
    ``<file>.tmp.blend`` and renamed, which Reenact's own save handlers took for another project:
    the demo's .blend read its Track from ``//reenact/demo.blend.tmp_track.npz``."""
    filepath = os.path.abspath(filepath)
    os.makedirs(os.path.dirname(filepath), exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=filepath, compress=True)
    return filepath


# --- animation: one F-curve helper for Blender 4.5 (slotted actions) and 5.x ----------------

def ensure_action(id_data, name):
    """The action assigned to ``id_data`` (created and assigned, with a slot, when missing)."""
    ad = id_data.animation_data or id_data.animation_data_create()
    if ad.action is None:
        ad.action = bpy.data.actions.new(name)
    action = ad.action
    if getattr(ad, "action_slot", None) is None:
        slot = action.slots.new(id_type=id_data.id_type, name=id_data.name)
        ad.action_slot = slot
    return action


def channelbag(id_data, ensure=True):
    """The channelbag of the action slot assigned to ``id_data`` (4.4+: layered actions;
    ``Action.fcurves`` is gone in 5.0)."""
    ad = id_data.animation_data
    if ad is None or ad.action is None or ad.action_slot is None:
        if not ensure:
            return None
        ensure_action(id_data, id_data.name + "Action")
        ad = id_data.animation_data
    action, slot = ad.action, ad.action_slot
    for layer in action.layers:
        for strip in layer.strips:
            bag = strip.channelbag(slot)
            if bag:
                return bag
    if not ensure:
        return None
    layer = action.layers[0] if len(action.layers) else action.layers.new("Layer")
    strip = layer.strips[0] if len(layer.strips) else layer.strips.new(type="KEYFRAME")
    return strip.channelbag(slot, ensure=True)


def set_fcurve(bag, data_path, index, frames, values, group=None, interpolation="LINEAR"):
    """Replace the F-curve ``data_path[index]`` with keys at ``frames`` (bulk ``foreach_set``)."""
    fc = bag.fcurves.find(data_path, index=index)
    if fc is not None:
        bag.fcurves.remove(fc)
    fc = bag.fcurves.new(data_path, index=index)
    if group:
        grp = bag.groups.get(group) if hasattr(bag.groups, "get") else None
        if grp is None:
            grp = next((g for g in bag.groups if g.name == group), None) or bag.groups.new(group)
        fc.group = grp
    n = len(frames)
    if n:
        import numpy as np

        co = np.empty(2 * n, np.float32)
        co[0::2] = frames
        co[1::2] = values
        fc.keyframe_points.add(n)
        fc.keyframe_points.foreach_set("co", co)
        interp = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items[interpolation].value
        fc.keyframe_points.foreach_set("interpolation", np.full(n, interp, np.int32))
        fc.update()
    return fc


def read_fcurve_keys(fc):
    import numpy as np

    n = len(fc.keyframe_points)
    co = np.empty(2 * n, np.float32)
    fc.keyframe_points.foreach_get("co", co)
    return co[0::2].copy(), co[1::2].copy()


def ensure_collection(scene, name="Reenact"):
    coll = bpy.data.collections.get(name)
    if coll is None:
        coll = bpy.data.collections.new(name)
    if coll.name not in scene.collection.children:
        scene.collection.children.link(coll)
    return coll


def clean_name(name):
    """``name`` with every run of characters other than A-Z, digits, ``.``, ``_``, ``-`` made ``_``
    (none at the ends; may be empty)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def tag(name):
    """``name`` as part of a file name: itself where it is one already (letters A-Z, digits, ``.``,
    ``_``, ``-``), else cleaned (``_`` for the others) with a digest of the name added, so that
    names that clean alike keep files apart ('shot 1' and 'shot_1', 'Küche' and 'Köche', '山'
    and '川': before 2026-12-06 one file, and the second shot's training resumed or replaced the
    first one's model and result; since the evening of 2026-12-06 the .blend's own folders too, :func:`reenact.blender.actor.blend_name`)."""
    clean = clean_name(name)
    if clean == name and clean.strip("."):
        return name
    digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:6]
    return "{}-{}".format(clean, digest) if clean.strip(".") else digest


def blend_name(path=None):
    """The saved .blend's name (or that of the .blend ``path``) without ``.blend``, as the name of
    the files and folders Reenact keeps for it (:func:`tag`: the name itself where it is a
    file name already, else cleaned, with a digest of the name). Before the evening of 2026-12-06
    cleaned alone: 'shot v01' and 'shot_v01', and any two names in Chinese or Japanese (both
    'actor'), shared one renders folder and one renderers folder, and Delete Unused Takes in
    one deleted the other's takes. A folder of the earlier naming stays the .blend's where it is
    its alone (:func:`own_folder`)."""
    stem = os.path.splitext(os.path.basename(path or bpy.data.filepath))[0]
    return tag(stem) if stem else "untitled"


def safe_name(name):
    """``name`` cleaned for a file name (:func:`clean_name`), ``actor`` where nothing is left."""
    return clean_name(name) or "actor"


def legacy_blend_name(path=None):
    """:func:`blend_name` as Reenact named it before the evening of 2026-12-06 (cleaned alone)."""
    return safe_name(os.path.splitext(os.path.basename(path or bpy.data.filepath))[0])


def named_alike(path=None):
    """Whether another .blend beside this one (``path``, else the open file) had the same name
    by the earlier naming (:func:`legacy_blend_name`): then a folder of that name may hold the
    other's files. True where the folder cannot be read."""
    path = os.path.abspath(path or bpy.data.filepath)
    folder, me = os.path.split(path)
    old = legacy_blend_name(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return True
    return any(n != me and n.lower().endswith(".blend") and legacy_blend_name(n) == old for n in names)


def own_name(path=None, alike=None):
    """The name of the folders that hold a .blend's renders, restyles and trained models:
    :func:`blend_name`; for a plain name (its own earlier-naming name) beside another .blend that
    had the same name by the earlier naming ('My_Shot.blend' beside 'My Shot.blend'), that name
    with a digest of it, so that the folder of the earlier naming, which may hold the other's
    takes and models, is neither's to write or clean (before the review of the evening of
    2026-12-06 the plain-named file rendered over the other's take, and Delete Unused Takes in it
    deleted the other's restyle)."""
    name = blend_name(path)
    path = path or bpy.data.filepath
    if path and name == legacy_blend_name(path) and (named_alike(path) if alike is None else alike):
        stem = os.path.splitext(os.path.basename(path))[0]
        return "{}-{}".format(name, hashlib.sha1(stem.encode("utf-8", "surrogateescape")).hexdigest()[:6])
    return name


def own_folder(parent, path=None):
    """``parent/<own_name>``; the folder of the earlier naming instead where it exists and no other
    .blend beside this one names alike (a project of before keeps its renders and resumes its
    training there, also once a folder of the new name was made beside it: the restyle models'
    folder is named anew, and before the review of the evening of 2026-12-06 its first Train
    Restyle moved the renderers to an empty folder, and Train Renderer started from step 0)."""
    alike = named_alike(path)  # (the folder listed once)
    new, old = own_name(path, alike), legacy_blend_name(path)
    if new != old and os.path.isdir(os.path.join(parent, old)) and not alike:
        return os.path.join(parent, old)
    return os.path.join(parent, new)


def data_folder(kind):
    """Where Reenact keeps files it makes (Tracks, models, renders): ``//reenact/<kind>`` next to
    the .blend once it is saved; before that the extension's user folder (kept across
    sessions and upgrades), or this session's temporary folder when not running as an
    extension."""
    if bpy.data.filepath:
        folder = os.path.join(bpy.path.abspath("//"), "reenact", kind)
    else:
        try:
            folder = bpy.utils.extension_path_user(ADDON, path=kind, create=True)
        except (ValueError, AttributeError, TypeError):
            folder = os.path.join(bpy.app.tempdir, "reenact", kind)
    os.makedirs(folder, exist_ok=True)
    return folder


PREVIEW_STRIP = "Reenact Preview"
#: the custom property where Verify Strip keeps a strip's verdict (JSON; the sidebar reads it)
VERIFY_PROP = "reenact_verify"


def _strip_paths(s):
    if s.type == "MOVIE":
        return os.path.normpath(bpy.path.abspath(s.filepath))
    if s.type == "IMAGE":
        return os.path.normpath(bpy.path.abspath(s.directory))
    return None


def relative_to_project(path):
    """``path`` as ``//...`` relative to the saved .blend when it lies in the .blend's folder, else
    as it is: what Reenact stores in the .blend for files it made there (results, trained
    models), so that a project moved or copied whole still finds them."""
    blend_file = bpy.data.filepath
    if not blend_file or not path or path.startswith("//"):
        return path
    home = os.path.dirname(os.path.abspath(blend_file))
    full = os.path.abspath(path)
    try:
        inside = os.path.commonpath([home, full]) == home
    except ValueError:  # another drive
        inside = False
    return bpy.path.relpath(full, start=home) if inside else path


def project_relative(strip):
    """Make ``strip``'s file path relative to the saved .blend (``//reenact/renders/...``) when
    the file lies in the .blend's folder, so that a project moved or copied whole (to another
    disk, a colleague, the render farm) still finds its results (before 2026-12-05 result and
    preview strips kept absolute paths)."""
    attr = "directory" if strip.type == "IMAGE" else "filepath"
    rel = relative_to_project(bpy.path.abspath(getattr(strip, attr)))
    if rel.startswith("//"):
        if attr == "directory" and not rel.endswith(("/", "\\")):
            rel += "/"
        setattr(strip, attr, rel)


def _free(strips, channel, start, end, ignore=None):
    return not any(s.channel == channel and s.frame_final_start < end and s.frame_final_end > start
                   for s in strips if s != ignore)


_READERS = {}


def _stamp(path):
    try:
        st = os.stat(path)
        return st.st_size, st.st_mtime_ns
    except (OSError, TypeError):
        return None


def read_frame(source, i):
    """Clip frame ``i`` of ``source`` (Preview Frame's worker); the reader is kept for the next
    preview while the file is the same (a new export written over it since is opened again:
    before 2026-12-06 the preview showed the old file's frame, the render the new one's)."""
    from ..video import open_video

    files = [source] if isinstance(source, str) else [f for f in source if f][:1] + [f for f in source if f][-1:]
    key = (source if isinstance(source, str) else tuple(source), tuple(_stamp(f) for f in files))
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


def read_alpha(source, i):
    """The alpha channel (uint8) of clip frame ``i`` of ``source`` when its footage has one (a
    keyed plate, ProRes 4444 with alpha), else None: what a preview keeps, as a render does."""
    src = next(iter(_READERS.values()), None)
    if src is None or not getattr(src, "alpha", False):
        return None
    if src.kind == "movie":
        from ..video.bitdepth import MovieAlpha

        return MovieAlpha(src.path).read_native(int(i))[..., 3]
    import numpy as np

    a = src.read_native(int(i))
    if a.ndim != 3 or a.shape[2] != 4:
        return None
    a = a[..., 3]
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return a if a.dtype == np.uint8 else np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)


def is_preview(s):
    return "reenact_preview_time" in s or s.name.startswith(PREVIEW_STRIP)
