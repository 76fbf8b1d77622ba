# SPDX-License-Identifier: GPL-3.0-or-later
"""What still changes an actor's performance from its tracking once Reset to Tracked or Mute
Edit Layer has put the tracked keys back or muted the edit layer: a driver, an F-curve modifier
of the edit layer, an NLA track of the animator's, a constraint on the head. The operators name
them and the frames they still change, and delete none of them (the animator's own); before
2026-12-06 they said "tracked" while the gaze still followed a driver (imports bpy through
layers)."""

import numpy as np

from . import layers
from .curves import TRACKED, _channelbag_of, animated_ids, edit_bag, timeline_frames


def _label(path, index):
    """'gaze_left_x', 'jawOpen', 'rotation_euler[2]' for an F-curve's path and index."""
    if path.startswith('["') and path.endswith('"]'):
        return path[2:-2]
    if path.startswith('key_blocks["') and '"]' in path:
        return path[len('key_blocks["'):path.index('"]')]
    return "{}[{}]".format(path, index)


def causes(ob, mode="full"):
    """What besides the edit layer's keys changes the channels of ``mode`` of actor ``ob``: its
    drivers, the modifiers of the edit layer's F-curves (while it has an influence), its own
    unmuted NLA tracks (on channels the edit layer does not cover whole), constraints on the
    head (pose); as phrases."""
    names = [k.name for k in ob.data.shape_keys.key_blocks][1:]
    want = layers._channel_filter(mode, names)
    out = []
    for which, idd in enumerate(animated_ids(ob)):
        ad = idd.animation_data if idd is not None else None
        if ad is None:
            continue
        out += ["a driver on {}".format(_label(fc.data_path, fc.array_index)) for fc in ad.drivers
                if not fc.mute and want(which, fc.data_path, fc.array_index)]
        bag = edit_bag(idd)
        over = set()  # (the channels the edit layer covers whole: Replace at 1 hides what lies under them)
        if bag is not None and ad.action_influence >= 1.0 and ad.action_blend_type == "REPLACE":
            over = {(fc.data_path, fc.array_index) for fc in bag.fcurves if not fc.mute}
        if bag is not None and ad.action_influence > 0:
            for fc in bag.fcurves:
                if fc.mute or not want(which, fc.data_path, fc.array_index):
                    continue
                out += ["a {} modifier on {}".format(m.bl_rna.properties["type"].enum_items[m.type].name,
                                                     _label(fc.data_path, fc.array_index))
                        for m in fc.modifiers if not m.mute]
        tracks = list(ad.nla_tracks)
        below = max([i for i, t in enumerate(tracks) if t.name == TRACKED and not t.mute], default=-1)
        for t in tracks[below + 1:]:  # (under the Tracked layer, Replace on every channel: hidden)
            if t.mute or not len(t.strips):
                continue
            bags = [_channelbag_of(s.action, s.action_slot) for s in t.strips
                    if not s.mute and s.action is not None and s.action_slot is not None]
            if any(want(which, fc.data_path, fc.array_index) and (fc.data_path, fc.array_index) not in over
                   for b in bags if b for fc in b.fcurves):
                out.append("its NLA track '{}'".format(t.name))
    if mode in ("full", "pose"):
        out += ["a constraint '{}'".format(c.name) for c in ob.constraints if not c.mute and c.influence > 0]
    return out


def over_transfer(ob, mode):
    """What shows a transfer of ``mode`` onto actor ``ob`` otherwise than it was written, as
    phrases: its edit layer muted or at a partial influence, and :func:`causes` (a driver, which
    hides it, a modifier, an NLA track, a constraint). Before 2026-12-06 Transfer Performance said
    only "24 frames (1-24)" while the target showed none of it."""
    out = []
    for which, idd in enumerate(animated_ids(ob)):
        ad = idd.animation_data if idd is not None else None
        if ad is None or ad.action is None or (mode in ("expression", "mouth"), mode in ("pose", "gaze"))[which]:
            continue
        w, what = float(ad.action_influence), ("the head and gaze", "the expressions")[which]
        if w <= 0.0:
            out.append("its edit layer muted on {} (Mute Edit Layer unmutes it)".format(what))
        elif w < 1.0:
            out.append("its edit layer at influence {:.2f} on {} (the transfer blended with the tracking)".format(
                w, what))
    return out + causes(ob, mode)


def still_edited(ob, scene, track, mode="full", first=None, last=None):
    """'' when the channels of ``mode`` of actor ``ob`` evaluate to its tracked performance
    (``track``) on timeline frames ``first``..``last`` (None: all); else a clause naming what still
    changes them (:func:`causes`) and the frames: "'A' keeps a driver on gaze_left_x, a Noise
    modifier on gaze_right_x: frame(s) 1-24 still edited"."""
    from ..face.transfer import mode_channels
    from ..render.actors import frame_runs

    perf = layers.curves_to_track(ob, scene, track)
    names = [str(n) for n in track.expression_names]
    expr, pose, gaze = mode_channels(mode, names)
    ok = np.asarray(track.tracked, bool) & np.asarray(perf.tracked, bool)
    diff = np.zeros(len(ok), bool)
    cols = [names.index(n) for n in expr]
    for key, on in (("expression", cols), ("pose", pose), ("gaze", gaze)):
        if on is False or (key == "expression" and not cols):
            continue
        a, b = (np.nan_to_num(np.asarray(getattr(t, key), np.float64)) for t in (perf, track))
        if key == "expression":
            a, b = a[:, cols], b[:, cols]
        diff |= np.abs(a - b).reshape(len(ok), -1).max(axis=1) > 1e-4
    tl = np.asarray(timeline_frames(ob, track))
    keep = ok & diff & (tl >= (tl[0] if first is None else first)) & (tl <= (tl[-1] if last is None else last))
    frames = [int(f) for f in tl[keep]]
    if not frames:
        return ""
    why = causes(ob, mode)
    if not why:
        return "frame(s) {} of '{}' still differ from its tracking".format(frame_runs(frames), ob.name)
    return "'{}' keeps {}: frame(s) {} still edited".format(
        ob.name, ", ".join(why[:4]) + (" and {} more".format(len(why) - 4) if len(why) > 4 else ""), frame_runs(frames))
