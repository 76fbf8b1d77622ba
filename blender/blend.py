# SPDX-License-Identifier: GPL-3.0-or-later
"""The small adapter between Blender data and the core (imports bpy).

Everything that differs between Blender 4.5 LTS and 5.x lives here, so operators and the
command line share one tested code path.
"""

import os
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


def channel_above(original, start, end, new=None):
    """The channel for a strip that shows ``original``'s footage changed over frames [start,
    end), and the clause saying what was moved for it ('' when nothing): directly above
    ``original`` and the strips Reenact made for it there (other actors' results), below
    everything else there, so that titles, graphics and an adjustment layer's grade above the
    shot lie over the result as they lay over the shot (before 2026-12-05 a result went to the
    lowest channel free over the whole shot, above a title over part of it, and hid it). Empty
    channels that are muted or locked are passed over; when another strip is in the way a
    channel is inserted there: that channel and those above it (strips and headers, ``new``
    among them) move up one, as inserting a track in an editing system does."""
    near = [s for s in siblings(original) if s != new]
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
    default = "Channel {}"
    was = [(h.name, h.mute, h.lock) for h in headers]
    for k in range(channel, len(headers)):  # names are unique among the headers: clear them first
        headers[k].name = "reenact_moving_{}".format(k)
    for k in range(len(headers) - 1, channel, -1):
        name, headers[k].mute, headers[k].lock = was[k - 1]
        headers[k].name = default.format(k) if name == default.format(k - 1) else name
    headers[channel].name, headers[channel].mute, headers[channel].lock = default.format(channel), False, False
    return "channel {} and those above moved up one so that it lies directly under '{}' as the shot did".format(
        channel, sorted(s.name for s in there)[0])


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
    """Save to a temporary name, then rename: a failed save leaves the old file intact."""
    filepath = os.path.abspath(filepath)
    os.makedirs(os.path.dirname(filepath), exist_ok=True)
    tmp = filepath + ".tmp.blend"
    bpy.ops.wm.save_as_mainfile(filepath=tmp, copy=True, compress=True)
    os.replace(tmp, filepath)
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


def _is_exr(s):
    return s.type == "IMAGE" and len(s.elements) > 0 and s.elements[0].filename.lower().endswith(".exr")


def match_colourspace(strip, original):
    """Give an image strip of rendered PNGs the colourspace Blender reads ``original`` in: the
    PNGs hold the shot's code values as Reenact reads them, so an HDR shot's (Blender 5.0 reads an
    HLG movie as Rec.2100-HLG) must be shown the same way, not as sRGB."""
    if _is_exr(original) != _is_exr(strip):  # an 8-bit picture of an OpenEXR plate is sRGB, as Reenact reads it
        return
    try:
        name = original.colorspace_settings.name
        if name and strip.colorspace_settings.name != name:
            strip.colorspace_settings.name = name
    except (AttributeError, TypeError, ValueError):  # a strip without colour settings
        pass


#: what a result strip takes from its shot strip so that it shows its pixels where and as the
#: shot strip shows them: the sequencer's transform (a reframe, a Scale to Fit), crop, mirror,
#: direction, strobe (every nth clip frame held; since 2026-12-05) and colour settings, with
#: their keyframes
_LOOK = {"transform": ("offset_x", "offset_y", "scale_x", "scale_y", "rotation", "origin", "filter"),
         "crop": ("min_x", "max_x", "min_y", "max_y"),
         "": ("use_flip_x", "use_flip_y", "use_reverse_frames", "strobe", "color_saturation", "color_multiply",
              "multiply_alpha", "use_deinterlace", "alpha_mode")}  # (multiply_alpha since 2026-12-05: a dimmed shot showed opaque)
#: what a preview (one frame, held) does not take: the shot's order of frames
_TIMING = ("use_reverse_frames", "strobe")


def match_look(strip, original, single_frame=False):
    """Give ``strip`` (a render or restyle of ``original``'s footage, or a preview of one of its
    frames: ``single_frame``, which keeps its own direction and strobe) what places and colours
    ``original``'s pixels in the sequencer, keyframes included, and ``original``'s colourspace.
    Returns what it cannot carry, as a clause for the operator's report ('' when nothing): the
    shot strip's modifiers (copy them with Strip > Modifiers > Copy to Selected) and a blend
    other than opaque (the result covers the shot strip whole)."""
    match_colourspace(strip, original)
    for group, names in _LOOK.items():
        src, dst = (getattr(original, group, None), getattr(strip, group, None)) if group else (original, strip)
        if src is None or dst is None:
            continue
        for n in names:
            if single_frame and n in _TIMING:
                continue
            if hasattr(src, n) and hasattr(dst, n):
                try:
                    value = getattr(src, n)
                    setattr(dst, n, tuple(value) if n == "origin" else value)
                except (AttributeError, TypeError, ValueError):
                    pass
    _copy_keys(strip, original, single_frame)
    if _hidden(original):  # an alternate take muted, or in a muted channel: so is its result (before 2026-12-05 shown)
        strip.mute = True
    left = []
    mods = [m.name for m in getattr(original, "modifiers", ()) if getattr(m, "mute", False) is False]
    if mods:
        left.append("the shot strip's modifiers ({}) are not on it: copy them with Strip > Modifiers > Copy to "
                    "Selected".format(", ".join(mods)))
    effects = sorted(s.name for s in siblings(original)
                     if original in (getattr(s, "input_1", None), getattr(s, "input_2", None)))
    if effects:
        many = len(effects) > 1
        left.append("{} {} {} the shot strip as input and {} over the result: set {} input to the result strip".format(
            "effect strips" if many else "effect strip", ", ".join("'{}'".format(e) for e in effects),
            "take" if many else "takes", "lie" if many else "lies", "their" if many else "its"))
    if getattr(original, "blend_alpha", 1.0) < 1.0 or getattr(original, "blend_type", "ALPHA_OVER") not in (
            "ALPHA_OVER", "REPLACE", "CROSS"):
        left.append("the shot strip blends ({}, {:.0%}) and the result covers it whole".format(
            original.blend_type, original.blend_alpha))
    elif _keyed(original, ("blend_alpha", "blend_type")):  # (a fade: before 2026-12-05 unsaid, and lost)
        left.append("the shot strip's opacity is keyed (a fade) and the result covers it whole: key the result "
                    "strip's opacity as the shot's and set the shot strip's to 0 where the result shows")
    return "; ".join(left)


def _keyed(strip, names):
    """True when the scene's action keys one of ``strip``'s properties ``names``."""
    scene = strip.id_data
    bag = channelbag(scene, ensure=False) if scene.animation_data is not None else None
    if bag is None:
        return False
    paths = {strip.path_from_id() + "." + n for n in names}
    return any(fc.data_path in paths for fc in bag.fcurves)


def _hidden(strip):
    """True when ``strip`` is muted, or lies in a muted channel of its strips' channels."""
    if getattr(strip, "mute", False):
        return True
    try:
        owner = next((m for m in all_strips(strip.id_data) if m.type == "META" and strip in list(m.strips)), None)
        channels = owner.channels if owner is not None else strip.id_data.sequence_editor.channels
        return bool(channels[strip.channel].mute)
    except (AttributeError, IndexError, KeyError, TypeError):
        return False


def _carried_fcurves(strip, single_frame=False):
    """The F-curves of the scene's action that animate ``strip``'s carried properties (_LOOK)."""
    scene = strip.id_data
    bag = channelbag(scene, ensure=False) if scene.animation_data is not None else None
    if bag is None:
        return None, []
    pre = strip.path_from_id() + "."
    carried = {(g + "." if g else "") + n for g, names in _LOOK.items() for n in names
               if not (single_frame and n in _TIMING)}
    return bag, [f for f in bag.fcurves if f.data_path.startswith(pre) and f.data_path[len(pre):] in carried]


def remove_strip(scene, strip):
    """Remove a strip Reenact added, with the keyframes :func:`match_look` gave it."""
    bag, fcs = _carried_fcurves(strip)
    for fc in fcs:
        bag.fcurves.remove(fc)
    strips_of(scene, strip).remove(strip)


def _copy_keys(strip, original, single_frame):
    """The keyframes of ``original``'s carried properties (an animated reframe) onto ``strip``."""
    bag, old = _carried_fcurves(strip, single_frame)
    for fc in old:  # a replaced result's keys (the new strip took its name)
        bag.fcurves.remove(fc)
    bag, keys = _carried_fcurves(original, single_frame)
    src, dst = original.path_from_id() + ".", strip.path_from_id() + "."
    for fc in keys:
        new = bag.fcurves.new(dst + fc.data_path[len(src):], index=fc.array_index)
        new.extrapolation = fc.extrapolation
        for k in fc.keyframe_points:
            q = new.keyframe_points.insert(k.co[0], k.co[1], options={"FAST"})
            q.interpolation, q.easing = k.interpolation, k.easing
            q.handle_left_type, q.handle_right_type = k.handle_left_type, k.handle_right_type
            q.handle_left, q.handle_right = tuple(k.handle_left), tuple(k.handle_right)
        new.update()


def refile(strip, out, names=None):
    """Point the result strip ``strip`` at another render of its shot in place: the movie ``out``,
    or the frame folder ``out`` with its images ``names`` (a strip of the same kind), so that
    what the editor gave it (its name, channel, opacity and its keys, blend, modifiers, colour
    tag, the effect strips that take it as input) stays. Its Verify Strip verdict, of the other
    file, goes."""
    if strip.type == "IMAGE":
        strip.directory = os.path.join(out, "")
        while len(strip.elements) > 1:
            strip.elements.pop(len(strip.elements) - 1)
        strip.elements[0].filename = names[0]
        for nm in names[1:]:
            strip.elements.append(nm)
    else:
        strip.filepath = out
    project_relative(strip)
    if VERIFY_PROP in strip:
        del strip[VERIFY_PROP]


def result_files(strip):
    """(the file or frame folder a movie or image strip shows, its images' names or None)."""
    if strip.type == "IMAGE":
        return bpy.path.abspath(strip.directory, library=strip.id_data.library), [e.filename for e in strip.elements]
    return bpy.path.abspath(strip.filepath, library=strip.id_data.library), None


def add_result_strip(scene, original, out, n_frames, name, key=None, spare=()):
    """The rendered clip as a strip above ``original``, same start, same trims, so it lines up
    frame for frame, with ``original``'s transform, crop, mirror, direction and colour settings
    (:func:`match_look`; what it cannot carry is the strip's ``reenact_look_note``). ``key``
    (actor name, region): one result strip per key: a previous result
    of that key (or any strip of the same output) is replaced in place: a strip of the same kind
    is given the new file (:func:`refile`: it keeps what the editor set on it; it is unmuted
    unless its shot is hidden), else a new strip takes its channel and name; ``spare``: names of
    the shot's other pieces whose results are left for the caller to re-file
    (``shots.add_result_strips``); otherwise the strip goes directly above the original and its other results, below
    everything else there (:func:`channel_above`, which may insert a channel; the clause is in
    the note). A shot inside a
    meta strip gets its result inside that meta (where the meta's own framing, trims and channel
    apply to it as to the shot; before 2026-12-05 it went to the top level, where the meta's
    transform did not reach it and a meta on a higher channel hid it). Preview strips over the
    original's range are removed (the render supersedes them). The new strip is made before
    anything is removed, so a failure leaves the sequencer as it was."""
    target = os.path.normpath(out)
    kind = "IMAGE" if os.path.isdir(out) else "MOVIE"

    def replaced(s):
        same_key = key is not None and s.get("reenact_actor") == key[0] and s.get("reenact_region") == key[1]
        return s != original and s.type in {"MOVIE", "IMAGE"} and not is_preview(s) and (
            same_key or _strip_paths(s) == target)

    strips = strips_of(scene, original)
    start = int(original.frame_start)
    channel = free_channel_above(scene, original)
    names = None
    if kind == "IMAGE":
        from ..video.pngs import frame_numbers

        # the folder's frames in order: frame_000000.png ..., or a plate's numbered as the plate
        # (frame_001001.exr ...)
        names = [nm for _n, nm in frame_numbers(out)][:n_frames]
        if len(names) < n_frames:
            raise ValueError("{}: {} of the {} frames are there".format(out, len(names), n_frames))
    home = original.parent_meta()
    old = [s for s in all_strips(scene) if replaced(s) and not (
        s.parent_meta() == home and s.type == kind and s.get("reenact_shot_name") in spare)]
    mine = [s for s in old if s.parent_meta() == home and s.type == kind]
    reuse = min(mine, key=lambda s: (s.get("reenact_shot_name") != original.name, s.channel), default=None)
    keep = min((s.channel for s in old if s.parent_meta() == home), default=None)
    if reuse is not None:  # a render again: the file changes under what the editor set on the strip
        st = reuse
        refile(st, out, names)
        st.mute = False  # (match_look mutes it again over a hidden shot)
    elif kind == "IMAGE":
        st = strips.new_image(name=name, filepath=os.path.join(out, names[0]), channel=channel, frame_start=start)
        for nm in names[1:]:
            st.elements.append(nm)
    else:
        st = strips.new_movie(name=name, filepath=out, channel=channel, frame_start=start)
    project_relative(st)
    old = [s for s in old if s != st]
    remove_previews(scene, original.frame_final_start, original.frame_final_end)
    for s in old:
        remove_strip(scene, s)
    if reuse is None:
        st.name = name
    st.frame_start = start
    st.frame_offset_start = original.frame_offset_start
    st.frame_offset_end = original.frame_offset_end
    st.frame_start = start
    a, b = original.frame_final_start, original.frame_final_end
    near = siblings(original)
    moved = ""
    if keep is None or keep <= original.channel or not _free(near, keep, a, b, ignore=st):
        keep, moved = channel_above(original, a, b, new=st)
    if st.channel != keep:
        st.channel = keep
    st["reenact_result"] = True  # (channel_above passes over it)
    st["reenact_shot"], st["reenact_shot_name"] = _shot_ref(original)  # (shots.follow_shots)
    st["reenact_shot_at"] = _timing(original)
    if key is not None:
        st["reenact_actor"], st["reenact_region"] = key
    under = sorted(s.name for s in siblings(original) if s != st and ("reenact_result" in s or "reenact_actor" in s)
                   and not is_preview(s) and original.channel < s.channel < st.channel
                   and s.frame_final_start < b and s.frame_final_end > a)
    hides = "it lies over {} and hides {}: mute one to see the other".format(
        ", ".join("'{}'".format(n) for n in under), "them" if len(under) > 1 else "it") if under else ""
    note = "; ".join(n for n in (moved, hides, match_look(st, original)) if n)  # match_look: after the name
    if note:
        st["reenact_look_note"] = note
    elif "reenact_look_note" in st:
        del st["reenact_look_note"]
    return st


_READERS = {}


def read_frame(source, i):
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


def is_preview(s):
    return "reenact_preview_time" in s or s.name.startswith(PREVIEW_STRIP)


def remove_previews(scene, start=None, end=None):
    """Remove the Preview Frame strips (those over frames [start, end) when given)."""
    n = 0
    for s in list(all_strips(scene)):
        if is_preview(s) and (start is None or (s.frame_final_start < end and s.frame_final_end > start)):
            remove_strip(scene, s)
            n += 1
    return n


def preview_strip(scene, original, path, frame, actor=None):
    """Show ``path`` for one frame at ``frame`` in an image strip directly above ``original``
    and its results there (:func:`channel_above`; before 2026-12-05 above everything there, a
    grade's adjustment layer included), in ``original``'s collection (its meta's when inside
    one; the scene's one preview strip: the previous one is replaced)."""
    import time as _time

    strips = strips_of(scene, original)
    remove_previews(scene)
    channel, moved = channel_above(original, frame, frame + 1)
    st = strips.new_image(name=PREVIEW_STRIP, filepath=path, channel=channel, frame_start=int(frame))
    project_relative(st)
    note = "; ".join(n for n in (moved, match_look(st, original, single_frame=True)) if n)
    if note:
        st["reenact_look_note"] = note
    st["reenact_preview_time"] = _time.time()
    st["reenact_preview_of"], st["reenact_shot_name"] = _shot_ref(original)  # (shots.follow_shots moves it with its shot)
    st["reenact_shot_start"] = int(original.frame_start)
    if actor is not None:
        st["reenact_actor"] = actor
    return st
