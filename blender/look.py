# SPDX-License-Identifier: GPL-3.0-or-later
"""The look of a result strip (imports bpy): what a render, restyle or preview of a shot takes
from the shot strip so that it shows its pixels where and as the shot strip shows them (the
sequencer's transform, crop, mirror, direction, strobe, colour settings, with their keys, and
the colourspace: :func:`match_look`), and how a result follows the shot's later changes
property by property (:func:`follow`: since 2026-12-06; a property the compositor changed on the
result stays as set until the shot's own changes)."""

import hashlib
import json

from . import blend
from .curves import read_keys, write_keys

#: what a result strip takes from its shot strip so that it shows its pixels where and as the
#: shot strip shows them: the sequencer's transform (a reframe, a Scale to Fit), crop, mirror,
#: direction, strobe (every nth clip frame held; since 2026-12-05) and colour settings, with
#: their keyframes (multiply_alpha since 2026-12-05: a dimmed shot showed opaque)
PROPS = {"transform": ("offset_x", "offset_y", "scale_x", "scale_y", "rotation", "origin", "filter"),
         "crop": ("min_x", "max_x", "min_y", "max_y"),
         "": ("use_flip_x", "use_flip_y", "use_reverse_frames", "strobe", "color_saturation", "color_multiply",
              "multiply_alpha", "use_deinterlace", "alpha_mode")}
#: what a preview (one frame, held) does not take: the shot's order of frames
TIMING = ("use_reverse_frames", "strobe")
#: the JSON of its shot's look, property by property (:func:`digests`), when a result last took it
LOOK = "reenact_shot_look"
COLOURSPACE = "colourspace"
MUTE = "mute"


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


#: the colour spaces Blender names the Linear Rec.709 that Reenact reads an OpenEXR plate in
#: (unless its header declares ACES2065-1: video/bitdepth.display_matrix)
LINEAR_709 = ("Linear Rec.709", "Linear")


def display_notes(strip, output):
    """What a result of ``strip`` written as ``output`` ('IMAGES', 'MOVIE', 'PRORES', or
    'PREVIEW' for Preview Frame's image) shows otherwise than the shot strip does, one warning
    line each (before 2026-12-06 unsaid, found by a review of strip settings): a movie strip
    Blender deinterlaces (it does so to movies only, so an image result keeps the two fields
    woven: combing wherever the picture moves), and an OpenEXR plate shown in another colour space
    than Reenact reads it in (an 8-bit picture of it, the preview's or a movie's, shows its colours
    shifted; an image result writes the plate's own values back)."""
    out = []
    what = "the preview" if output == "PREVIEW" else "this render's image sequence"
    if output in ("IMAGES", "PREVIEW") and strip.type == "MOVIE" and getattr(strip, "use_deinterlace", False):
        out.append("strip '{}' is deinterlaced by Blender (its Deinterlace option), which Blender does to movie "
                   "strips alone: {} shows the shot's two fields woven, combing wherever the picture moves; a Movie "
                   "or ProRes output is deinterlaced as the shot is".format(strip.name, what))
    if output != "IMAGES" and _is_exr(strip):
        from ..video.bitdepth import display_matrix

        name = getattr(getattr(strip, "colorspace_settings", None), "name", "") or ""
        read = "ACES2065-1" if display_matrix(blend.strip_filepath(strip)) is not None else "Linear Rec.709"
        if name and name != read and not (read == "Linear Rec.709" and name in LINEAR_709):
            out.append("strip '{}' shows its OpenEXR plate in the colour space {}, but Reenact reads it as {} (what "
                       "its header declares): {} shows the plate's colours shifted; an Image Sequence output writes "
                       "the plate's own values back".format(
                           strip.name, name, read, "the preview" if output == "PREVIEW" else "the movie"))
    return out


def _paths(single_frame=False):
    """(group, name, path) of the carried properties ('transform.offset_x', 'use_flip_x', ...)."""
    return [(g, n, (g + "." if g else "") + n) for g, names in PROPS.items() for n in names
            if not (single_frame and n in TIMING)]


def _bag(scene):
    return blend.channelbag(scene, ensure=False) if scene.animation_data is not None else None


def fcurve_index(scene):
    """{data path: [F-curves]} of the scene's action and ``'driver:' + path`` of its drivers
    (built once for the many strips :func:`shots.follow_shots` looks at)."""
    out = {}
    bag = _bag(scene)
    for fc in (bag.fcurves if bag is not None else ()):
        out.setdefault(fc.data_path, []).append(fc)
    ad = scene.animation_data
    for fc in (ad.drivers if ad is not None else ()):
        out.setdefault("driver:" + fc.data_path, []).append(fc)
    return out


def _driver_part(fcs):
    out = []
    for fc in fcs:
        d = fc.driver
        out.append((fc.array_index, d.type, d.expression, [
            (v.name, v.type, [(getattr(t.id, "name", None), t.data_path, getattr(t, "transform_type", None))
                              for t in v.targets]) for v in d.variables]))
    return out


def _enum_names(prop):
    import bpy

    return {e.value: e.identifier for e in bpy.types.Keyframe.bl_rna.properties[prop].enum_items}


def _key_tuples(fc, k=None):
    """[(co, handle_left, handle_right, interpolation, easing)] of ``fc``'s keys, as the keys
    themselves give them (the digest of a result made before 2026-12-06 reads the same), read at
    once: a reframe keyed on each of 20,000 frames took 0.2 s at every change of the scene."""
    k = read_keys(fc, _DIGESTED) if k is None else k
    ip, ea = _enum_names("interpolation"), _enum_names("easing")
    return list(zip(map(tuple, k["co"].tolist()), map(tuple, k["handle_left"].tolist()),
                    map(tuple, k["handle_right"].tolist()), [ip[v] for v in k["interpolation"].tolist()],
                    [ea[v] for v in k["easing"].tolist()]))


class _Repr(str):
    """A string that is its own repr (a part of :func:`digests` built as the repr it stands for)."""

    def __repr__(self):
        return str(self)


#: the key attributes a keyed property's digest holds (:func:`_key_tuples`)
_DIGESTED = ("co", "handle_left", "handle_right", "interpolation", "easing")
#: {digest of an F-curve's keys' arrays: the repr of its :func:`_key_tuples`}, the most recently
#: used, up to :data:`KEYS_REPR_CHARS` characters in all (a reel of keyed shots: five curves a
#: shot, walked in the same order on every change: before 2026-12-06 at most 512 curves were
#: kept, and a reel of more thrashed the cache, each click 105-415 ms instead of 15-36 ms)
_KEYS_REPR = {}
_KEYS_REPR_SIZE = [0]
KEYS_REPR_CHARS = 96 << 20


def _keys_repr(fc):
    """``repr(_key_tuples(fc))``, made again only when the keys changed (their arrays' digest:
    milliseconds; the repr of 20,000 keys' floats took 0.25 s at every change of the scene)."""
    k = read_keys(fc, _DIGESTED)
    h = hashlib.sha1()
    for name in _DIGESTED:
        h.update(name.encode())
        h.update(k[name].tobytes())
    key = h.hexdigest()
    got = _KEYS_REPR.pop(key, None)  # (least recently used out first: a reel walks every keyed curve each change)
    if got is None:
        got = repr(_key_tuples(fc, k))
        _KEYS_REPR_SIZE[0] += len(got)
        while _KEYS_REPR and _KEYS_REPR_SIZE[0] > KEYS_REPR_CHARS:
            _KEYS_REPR_SIZE[0] -= len(_KEYS_REPR.pop(next(iter(_KEYS_REPR))))
    _KEYS_REPR[key] = got
    return got


def digests(strip, index=None, single_frame=False):
    """{property path: digest} of what ``strip`` (a shot) gives its results: the value, the keys
    of a keyed property (not its value at the playhead, which moves with it), a driven property's
    driver; and the colourspace."""
    index = fcurve_index(strip.id_data) if index is None else index
    pre = strip.path_from_id() + "."
    out = {COLOURSPACE: getattr(getattr(strip, "colorspace_settings", None), "name", ""),
           MUTE: hashlib.sha1(repr(bool(strip.mute)).encode()).hexdigest()[:12]}
    for g, n, path in _paths(single_frame):
        driven, keyed = index.get("driver:" + pre + path), index.get(pre + path)
        if driven:
            part = ("driver", _driver_part(driven))
        elif keyed:  # (the repr of [(index, extrapolation, mute, modifiers, keys)], its keys' part memoised)
            part = _Repr("[" + ", ".join("({!r}, {!r}, {!r}, {!r}, {})".format(
                f.array_index, f.extrapolation, f.mute, [(m.type, _settings(m)) for m in f.modifiers], _keys_repr(f))
                for f in sorted(keyed, key=lambda f: f.array_index)) + "]")
        else:
            src = getattr(strip, g, None) if g else strip
            v = getattr(src, n, None) if src is not None else None
            part = tuple(v) if n == "origin" and v is not None else v
        out[path] = hashlib.sha1(repr(part).encode()).hexdigest()[:12]
    return out


def carry(strip, original, paths):
    """Give ``strip`` ``original``'s value of each property of ``paths`` with its keys (``strip``'s
    own keys of those properties replaced, with their F-curve modifiers; a driven property its
    driver; ``COLOURSPACE``: the colourspace)."""
    paths = set(paths)
    if COLOURSPACE in paths:
        match_colourspace(strip, original)
    if MUTE in paths:  # (the shot strip's own mute, an alternate take hidden or shown again; not its channel's)
        strip.mute = bool(original.mute)
    bag = _bag(strip.id_data)
    src_pre, dst_pre = original.path_from_id() + ".", strip.path_from_id() + "."
    for g, n, path in _paths():
        if path not in paths:
            continue
        src, dst = (getattr(original, g, None), getattr(strip, g, None)) if g else (original, strip)
        if src is None or dst is None or not (hasattr(src, n) and hasattr(dst, n)):
            continue
        try:
            value = getattr(src, n)
            setattr(dst, n, tuple(value) if n == "origin" else value)
        except (AttributeError, TypeError, ValueError):
            pass
        _carry_drivers(strip.id_data.animation_data, src_pre + path, dst_pre + path)
        if bag is None:
            continue
        for fc in [f for f in bag.fcurves if f.data_path == dst_pre + path]:
            bag.fcurves.remove(fc)
        for fc in [f for f in bag.fcurves if f.data_path == src_pre + path]:
            new = bag.fcurves.new(dst_pre + path, index=fc.array_index)
            new.extrapolation = fc.extrapolation
            write_keys(new, read_keys(fc))  # (at once: a key at a time took 1.4 s for a reframe keyed on 20,000 frames)
            copy_modifiers(fc, new)  # (a Cycles or Noise on the shot's keys: before 2026-12-06 left off)
            new.update()


def _settings(m):
    """An F-curve modifier's settings: (name, value) of every property one can set, and an
    Envelope's control points."""
    out = []
    for prop in m.bl_rna.properties:
        if not prop.is_readonly and prop.identifier not in ("rna_type", "active", "show_expanded"):
            v = getattr(m, prop.identifier, None)
            out.append((prop.identifier, tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v))
    for p in getattr(m, "control_points", ()):  # (an Envelope's)
        out.append(("point", p.frame, p.min, p.max))
    return out


def copy_modifiers(src, dst):
    """``src``'s F-curve modifiers (a zoom's Cycles, a shake's Noise, an Envelope with its control
    points) onto the F-curve ``dst``."""
    dst.mute = src.mute
    for m in src.modifiers:
        new = dst.modifiers.new(m.type)
        for prop in m.bl_rna.properties:
            if not prop.is_readonly and prop.identifier not in ("rna_type", "active"):
                try:
                    setattr(new, prop.identifier, getattr(m, prop.identifier))
                except (AttributeError, TypeError, ValueError):
                    pass
        for p in getattr(m, "control_points", ()):
            q = new.control_points.add(p.frame)
            q.min, q.max = p.min, p.max


def _carry_drivers(ad, src_path, dst_path):
    """The drivers of ``src_path`` (the shot's driven reframe) as those of ``dst_path``, so that the
    result is driven as the shot is (before 2026-12-06 it took the driven value once)."""
    if ad is None:
        return
    for fc in [f for f in ad.drivers if f.data_path == dst_path]:
        ad.drivers.remove(fc)
    for fc in [f for f in ad.drivers if f.data_path == src_path]:
        new = ad.drivers.from_existing(src_driver=fc)
        new.data_path = dst_path


def match_look(strip, original, single_frame=False):
    """Give ``strip`` (a new render or restyle of ``original``'s footage, or a preview of one of
    its frames: ``single_frame``, which keeps its own direction and strobe) what places and
    colours ``original``'s pixels in the sequencer, keyframes included, and ``original``'s
    colourspace, and record it (:data:`LOOK`); muted when ``original`` is hidden. Returns what it
    cannot carry (:func:`look_note`)."""
    carry(strip, original, [p for _g, _n, p in _paths(single_frame)] + [COLOURSPACE])  # (not its mute: below)
    strip[LOOK] = json.dumps(digests(original, single_frame=single_frame), sort_keys=True)
    if hidden(original):  # an alternate take muted, or in a muted channel: so is its result (before 2026-12-05 shown)
        strip.mute = True
    return look_note(original)


def follow(strip, piece, index=None, single_frame=False, mute=True, memo=None):
    """Carry onto ``strip`` (a result or preview of ``piece``) the properties of ``piece``'s look
    that changed since ``strip`` last took it, and only those (a property the compositor set on
    the result stays until the shot's own changes), the shot strip's own mute among them (an
    alternate take muted, or shown again: its result with it; a muted channel is not followed);
    one made before 2026-12-06 records the look first. Returns 1 when it carried something,
    else 0 (it writes only then: it runs on every change). ``memo``: a dict kept over one pass of
    :func:`reenact.blender.shots.follow_shots`, so that a piece with several results (two regions,
    an actor's and a restyle) is digested once (a review at scale, 2026-12-06)."""
    key = (piece.as_pointer(), bool(single_frame))
    now = memo.get(key) if memo is not None else None
    if now is None:
        now = digests(piece, index, single_frame)
        if memo is not None:
            memo[key] = now
    try:
        was = json.loads(strip.get(LOOK) or "null")
    except ValueError:
        was = None
    if not isinstance(was, dict):
        strip[LOOK] = json.dumps(now, sort_keys=True)
        return 0
    changed = [p for p in now if p in was and was[p] != now[p]]  # (a property a later version added: recorded)
    if not changed:
        if set(now) - set(was):
            strip[LOOK] = json.dumps(now, sort_keys=True)
        return 0
    carry(strip, piece, [p for p in changed if mute or p != MUTE])  # (mute False: a restyle of a dub keeps its own)
    strip[LOOK] = json.dumps(now, sort_keys=True)
    return 1


def look_note(original):
    """What a result cannot take from its shot strip ``original``, as a clause for the operator's
    report ('' when nothing): the shot strip's modifiers (copy them with Strip > Modifiers > Copy
    to Selected), effect strips taking it as input, a blend other than opaque or a keyed fade
    (the result covers the shot strip whole)."""
    left = []
    mods = [m.name for m in getattr(original, "modifiers", ()) if getattr(m, "mute", False) is False]
    if mods:
        left.append("the shot strip's modifiers ({}) are not on it: copy them with Strip > Modifiers > Copy to "
                    "Selected".format(", ".join(mods)))
    effects = sorted(s.name for s in blend.siblings(original)
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
    elif keyed(original, ("blend_alpha", "blend_type")):  # (a fade: before 2026-12-05 unsaid, and lost)
        left.append("the shot strip's opacity is keyed (a fade) and the result covers it whole: key the result "
                    "strip's opacity as the shot's and set the shot strip's to 0 where the result shows")
    return "; ".join(left)


def keyed(strip, names):
    """True when the scene's action keys one of ``strip``'s properties ``names``."""
    bag = _bag(strip.id_data)
    if bag is None:
        return False
    paths = {strip.path_from_id() + "." + n for n in names}
    return any(fc.data_path in paths for fc in bag.fcurves)


def _channel_has(strip, flag):
    """Whether the channel ``strip`` lies in (of its meta strip, or of the sequencer) has ``flag``
    ('mute', 'lock') set."""
    try:
        ch = blend.channel_of(strip)
        return bool(ch is not None and getattr(ch, flag))
    except (AttributeError, IndexError, KeyError, TypeError):
        return False


def hidden(strip):
    """True when ``strip`` is muted, or lies in a muted channel of its strips' channels."""
    return bool(getattr(strip, "mute", False)) or _channel_has(strip, "mute")


def locked(strip):
    """True when ``strip`` is locked, or lies in a locked channel."""
    return bool(getattr(strip, "lock", False)) or _channel_has(strip, "lock")


def remove_strip(scene, strip):
    """Remove a strip Reenact added, with its keys (those :func:`match_look` gave it, and a fade
    the compositor keyed on it: left behind, they animated the next strip of its name)."""
    bag, ad = _bag(scene), scene.animation_data
    pre = strip.path_from_id() + "."
    if bag is not None:
        for fc in [f for f in bag.fcurves if f.data_path.startswith(pre)]:
            bag.fcurves.remove(fc)
    if ad is not None:  # (and the drivers it took from its shot)
        for fc in [f for f in ad.drivers if f.data_path.startswith(pre)]:
            ad.drivers.remove(fc)
    blend.strips_of(scene, strip).remove(strip)
