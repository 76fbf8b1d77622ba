# SPDX-License-Identifier: GPL-3.0-or-later
"""What Track Again, Keeping Edits carries from the actor it replaces besides the edit layer's
keys (blender/layers.py carry_edits): the actor's drivers and its own NLA tracks, their strips
with their animated influence and time (imports bpy through the IDs it is given)."""

from . import actor as actor_data
from .curves import TRACKED, read_keys, write_keys
from .look import copy_modifiers


def carry_drivers(oid, nid, ids):
    """The drivers of the ID ``oid`` (an actor's object or shape keys) made again on ``nid``, the
    same ID of the actor that replaces it, a variable that read one of the old actor's IDs
    reading the new actor's (``ids``: {old ID: new ID}: a shape key driven by a property of the
    actor object); returns how many."""
    for k in oid.keys():  # the animator's own properties a driver may read (not Reenact's: the new actor's own)
        if k not in nid.keys() and not k.startswith("reenact") and k not in actor_data.GAZE_PROPS + ("confidence",):
            try:
                nid[k] = oid[k]
            except (TypeError, ValueError):
                pass
    ad = nid.animation_data or nid.animation_data_create()
    n = 0
    for fc in oid.animation_data.drivers:
        for old in [f for f in ad.drivers if f.data_path == fc.data_path and f.array_index == fc.array_index]:
            ad.drivers.remove(old)
        new = ad.drivers.from_existing(src_driver=fc)
        for v in new.driver.variables:
            for t in v.targets:
                for was, now in ids.items():
                    if getattr(t, "id", None) == was:
                        t.id = now
                        break
        n += 1
    return n


def carry_nla(oid, nid):
    """The NLA tracks of the ID ``oid`` other than its Tracked layer (an action borrowed from
    another actor, laid over it) made again on ``nid`` in the same order above its Tracked layer,
    each strip with its own F-curves (its animated influence and time: a look fading in and out)
    and their keys and modifiers (:func:`carry_strip_curves`); returns how many."""
    ad = nid.animation_data or nid.animation_data_create()
    n = 0
    for t in oid.animation_data.nla_tracks:
        if t.name == TRACKED or not len(t.strips):
            continue
        nt = ad.nla_tracks.new()
        nt.name, nt.mute, nt.is_solo = t.name, t.mute, False
        for s in t.strips:
            if s.action is None:
                continue
            ns = nt.strips.new(s.name, int(s.frame_start), s.action)
            if s.action_slot is not None:
                ns.action_slot = s.action_slot
            for attr in ("action_frame_start", "action_frame_end", "scale", "repeat", "frame_start", "frame_end",
                         "blend_type", "extrapolation", "use_auto_blend", "blend_in", "blend_out", "influence",
                         "use_animated_influence", "use_animated_time", "use_animated_time_cyclic", "mute",
                         "use_reverse", "use_sync_length"):
                try:
                    setattr(ns, attr, getattr(s, attr))
                except (AttributeError, TypeError, ValueError, RuntimeError):
                    pass
            carry_strip_curves(s, ns)
        nt.lock = t.lock
        n += 1
    return n


def carry_strip_curves(src, dst):
    """The F-curves of NLA strip ``src`` (influence, strip_time: made when their animation is
    switched on) as those of ``dst``: every key, the modifiers, the extrapolation. Before
    2026-12-06 ``dst`` kept the one influence key Blender sets when the animation is switched on
    (a look strip fading in and out stayed at its value on frame 1: the look never played) while
    the report said the track was kept."""
    for fc in src.fcurves:
        nf = dst.fcurves.find(fc.data_path, index=fc.array_index)
        if nf is None:
            continue
        write_keys(nf, read_keys(fc))
        for m in list(nf.modifiers):
            nf.modifiers.remove(m)
        copy_modifiers(fc, nf)
        nf.extrapolation = fc.extrapolation
        nf.update()
