# SPDX-License-Identifier: GPL-3.0-or-later
"""A shot and its results in the sequencer (imports bpy): the strips an editor makes of one shot
strip by cutting it (Split) or duplicating it keep its ``reenact_id`` and its footage, and each
shows the same clip frames at the timeline place it is given. A result of the shot (a render, a
restyle: a file holding every clip frame, changed or the footage's own) is shown over every
piece, trimmed as that piece is, and follows it when it moves (:func:`follow_shots`, run after
every change). Before 2026-12-05 a result followed the one strip of its shot's name: cutting the
shot trimmed the result to the first piece and left the rest without it, and cutting shot and
result together moved the second piece of the result onto the first piece of the shot.
A result (and a preview) also follows its piece's look, property by property (:mod:`.look`;
since 2026-12-06, before which the dub stayed where the shot had been, a mouth floating beside
the reframed face). A render again gives its new take to the result strips in place
(:func:`add_result_strip`, :func:`refile`)."""

import os

import bpy

from . import actor as actor_data
from . import blend, look, timing

#: the names of the pieces of its shot a result knew at its last placing: a piece made since
#: (a cut, a duplicate) gets its copy of the result, one the editor took the result off does not
PIECES = "reenact_shot_pieces"
#: the digest of its shot's footage (``actor.footage_stamp``) when a result was made
STAMP = "reenact_shot_stamp"
#: a result's properties that are its own, not copied onto its copies over the shot's other pieces
OWN = ("reenact_look_note", blend.VERIFY_PROP, look.LOOK, "reenact_id")  # (the id: a restyled dub's copies are
# not one another's pieces; since 2026-12-06)


def shot_of(result):
    """The piece of its shot a result (or preview) strip lies on: the strip of its shot's id and
    recorded name, else the one strip of that id; None when gone."""
    rid = result.get("reenact_shot") or result.get("reenact_preview_of")
    ed = result.id_data.sequence_editor
    if not rid or ed is None:
        return None
    found = [s for s in ed.strips_all if s.get("reenact_id") == rid and s.type in {"MOVIE", "IMAGE"}
             and not blend.is_preview(s)]
    shots = [s for s in found if "reenact_result" not in s] or found  # (a restyle of a dub: the dub)
    named = [s for s in shots if s.name == result.get("reenact_shot_name")]
    return named[0] if named else shots[0] if len(shots) == 1 else None


#: on a result made from a result strip (a restyle of a dub): the dub's take it was made from
SOURCE_TAKE = "reenact_source_take"
#: on a result strip whose take holds only some clip frames (Output Images): [c, d), the others
#: one transparent frame (render/pipeline.py ``keep``); a restyle of it takes those from the shot
KEPT = "reenact_kept"


def stale_note(strip):
    """One line when ``strip`` is a result made from other footage than its shot shows now (the
    shot given another file, or its file written over by a new export), or a shot with such
    results; '' otherwise."""

    def stamp(shot):
        try:
            return actor_data.footage_stamp(shot)
        except ValueError:
            return None

    if strip.get("reenact_shot"):
        shot = shot_of(strip)
        take = strip.get(SOURCE_TAKE)  # (a restyle of a dub: the take of the dub it restyled)
        if shot is not None and take and "reenact_result" in shot and blend._strip_paths(shot) != take:
            return "Made from an earlier take of '{}' than it shows now: Restyle Strip on it again".format(shot.name)
        now = stamp(shot) if shot is not None and STAMP in strip else None
        if now is not None and strip[STAMP] != now:  # (footage offline: nothing said)
            return "Made from other footage than '{}' shows now: render again".format(shot.name)
        return ""
    rid = strip.get("reenact_id")
    mine = [r for r in blend.siblings(strip) if rid and r.get("reenact_shot") == rid and STAMP in r
            and r.get("reenact_shot_name") == strip.name]
    now = stamp(strip) if mine else None
    old = sorted(r.name for r in mine if now is not None and r[STAMP] != now)
    if old:
        return "{} made from other footage than this shows now: render again".format(
            ", ".join("'{}'".format(n) for n in old))
    return ""


def _footage(s):
    """What makes strips show the same clip frame at the same place from their start: the file
    (an image strip's first image) and a hard cut's offset into it."""
    return blend.strip_filepath(s), int(getattr(s, "animation_offset_start", 0))


def _pieces_among(strip, candidates):
    rid = strip.get("reenact_id")
    if not rid:
        return [strip]
    mine, home = _footage(strip), strip.parent_meta()
    out = [s for s in candidates if s.type == strip.type and s.get("reenact_id") == rid and s.parent_meta() == home
           and "reenact_result" not in s and not blend.is_preview(s) and _footage(s) == mine]
    return sorted(out or [strip], key=lambda s: (s.frame_final_start, s.channel))


def pieces(strip):
    """``strip`` and the strips of its collection that are pieces of the same shot: the same
    ``reenact_id`` and the same footage, movie or image strips that are not Reenact's results
    or previews, in timeline order."""
    return _pieces_among(strip, blend.siblings(strip))


def clip_span(strips):
    """Clip frames [a, b) that ``strips`` (pieces of one shot) show between them, from the first
    to the last (a render of the shot covers every piece), as Blender maps them
    (:func:`timing.shown_span`: a reversed strip shows its clip from the end; before 2026-12-06 a
    reversed shot trimmed at its start was tracked and rendered on the frames it hides, and its
    result showed the footage on those it shows). Strips that show nothing (a meta's trims hide
    them): their frames minus their starts."""
    a, b = timing.shown_span(strips)
    if b > a:
        return a, b
    spans = [(int(s.frame_final_start - s.frame_start), int(s.frame_final_end - s.frame_start)) for s in strips]
    return max(0, min(a for a, _ in spans)), max(b for _, b in spans)


def _copy_result(scene, result, piece):
    """A copy of ``result`` (same file, same Reenact properties) over ``piece``, trimmed as it is,
    directly above it (:func:`blend.channel_above`); returns it."""
    strips = blend.strips_of(scene, piece)
    channel = blend.free_channel_above(scene, piece)
    start = int(piece.frame_start)
    if result.type == "IMAGE":
        folder = bpy.path.abspath(result.directory, library=result.id_data.library)
        st = strips.new_image(name=result.name, filepath=os.path.join(folder, result.elements[0].filename),
                              channel=channel, frame_start=start)
        for e in list(result.elements)[1:]:
            st.elements.append(e.filename)
    else:
        st = strips.new_movie(name=result.name, filepath=bpy.path.abspath(result.filepath), channel=channel,
                              frame_start=start)
    blend.project_relative(st)
    for k in result.keys():  # (not its look, its note, nor its Verify Strip's timeline ranges: the copy's own)
        if k.startswith("reenact_") and k not in OWN:
            st[k] = result[k]
    place(st, piece)
    keep, _ = blend.channel_above(piece, piece.frame_final_start, piece.frame_final_end, new=st)
    if st.channel != keep:
        st.channel = keep
    _note(st, look.match_look(st, piece))
    return st


def _note(strip, note):
    """``note`` (what the strip could not take from its shot) as its ``reenact_look_note``."""
    if note:
        strip["reenact_look_note"] = note
    elif "reenact_look_note" in strip:
        del strip["reenact_look_note"]


def place(result, piece, names=None):
    """Give ``result`` ``piece``'s start and trims and make it that piece's result (``names``:
    the names of the pieces of its shot, when known)."""
    start, left, right = blend._timing(piece)
    result.frame_start = start
    result.frame_offset_start, result.frame_offset_end = left, right
    result.frame_start = start  # (again: Blender keeps the handles when the offsets change)
    result["reenact_shot"], result["reenact_shot_name"] = blend._shot_ref(piece)
    result["reenact_shot_at"] = [start, left, right]
    result[PIECES] = names if names is not None else sorted(p.name for p in pieces(piece))


#: a render's result strip: who rendered it beyond the actor's name (:func:`reenact.blender.farm.result_of`)
ACTOR_KEY = "reenact_actor_key"


def shows_key(s, key):
    """Whether strip ``s`` is a render of ``key`` ((actor name, region[, identity]), as
    :func:`reenact.blender.farm.result_of` makes it): the same actor, found by its identity
    (renamed since, or not), or by its name where either has none, and the same region."""
    if s.get("reenact_region") != key[1] or s.get("reenact_actor") is None:
        return False
    ident = key[2] if len(key) > 2 else None
    if ident and s.get(ACTOR_KEY):
        return s[ACTOR_KEY] == ident
    return s.get("reenact_actor") == key[0]


def _same_result(a, b):
    """Whether strips ``a`` and ``b`` are the same render or restyle (one key, or one file): the
    same actor by identity where both have one, else by name (a result made before 2026-12-06 and
    a new take's)."""
    if a.get("reenact_actor") is not None or b.get("reenact_actor") is not None:
        same = a[ACTOR_KEY] == b[ACTOR_KEY] if a.get(ACTOR_KEY) and b.get(ACTOR_KEY) else \
            a.get("reenact_actor") == b.get("reenact_actor")
        return same and a.get("reenact_region") == b.get("reenact_region")
    return blend._strip_paths(a) == blend._strip_paths(b)


def _first_on(results, original):
    """Of ``results`` (one key's, over ``original``'s place), the one a render again gives its take:
    named for ``original``, in the lowest channel (a compositor's copy above, to compare takes,
    keeps its take), laid as the shot is, shown. Render Performance's checks and the new take
    both take this one (before 2026-12-06 they could take different strips)."""
    return min(results, key=lambda s: (s.get("reenact_shot_name") != original.name, s.channel,
                                       blend._timing(s) != blend._timing(original), s.mute), default=None)


def result_parts(original, key):
    """The result strip of ``key`` on shot strip ``original`` that a render again gives its take
    (:func:`_first_on`), then the parts the compositor cut from it (the same kind, in its channel,
    named for the shot): [] when it has none."""
    mine = [s for s in blend.siblings(original) if s != original and s.type in {"MOVIE", "IMAGE"}
            and not blend.is_preview(s) and s.get("reenact_shot") and shows_key(s, key)
            and s.get("reenact_shot_name") == original.name]
    on = _first_on(mine, original)
    return [] if on is None else [on] + [s for s in mine if s != on and s.channel == on.channel and s.type == on.type]


def _refile_copy(result, copy, piece):
    """``copy`` (a result of another piece of ``result``'s shot, of the same kind) given
    ``result``'s file in place (:func:`refile`: what the editor set on it stays) and placed
    on ``piece`` as it is now."""
    refile(copy, *result_files(result))
    for k in result.keys():
        if k.startswith("reenact_") and k not in OWN + ("reenact_shot_name",):
            copy[k] = result[k]
    place(copy, piece)
    if not blend._free(blend.siblings(piece), copy.channel, piece.frame_final_start, piece.frame_final_end,
                       ignore=copy):  # (a longer take over what lies after it there)
        copy.channel, _ = blend.channel_above(piece, piece.frame_final_start, piece.frame_final_end, new=copy)
    _note(copy, _retake(copy, piece))
    return copy


def _retake(strip, piece):
    """A result given a new take: shown (unless its piece is hidden), the piece's look carried
    where it changed since the strip took it (what the compositor set on it stays); returns what
    it cannot take from the piece (:func:`look.look_note`)."""
    strip.mute = look.hidden(piece)
    look.follow(strip, piece)
    return look.look_note(piece)


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
    blend.project_relative(strip)
    if blend.VERIFY_PROP in strip:
        del strip[blend.VERIFY_PROP]


def result_files(strip):
    """(the file or frame folder a movie or image strip shows, its images' names or None)."""
    if strip.type == "IMAGE":
        return bpy.path.abspath(strip.directory, library=strip.id_data.library), [e.filename for e in strip.elements]
    return bpy.path.abspath(strip.filepath, library=strip.id_data.library), None


def _set_timing(strip, timing):
    """Give ``strip`` the start and trims ``timing`` (:func:`blend._timing`)."""
    strip.frame_start = timing[0]
    strip.frame_offset_start, strip.frame_offset_end = timing[1], timing[2]
    strip.frame_start = timing[0]  # (again: Blender keeps the handles when the offsets change)


def add_result_strip(scene, original, out, n_frames, name, key=None, spare=()):
    """The rendered clip ``out`` (a movie, or a frame folder of ``n_frames``) as the result strip
    of ``original``: same start, same trims, so it lines up frame for frame, with ``original``'s
    look (:func:`look.match_look`; what it cannot carry is the strip's ``reenact_look_note``).
    ``key`` (actor name, region): one result per key and piece. A render again gives its file to
    the result of that key lying on ``original`` (else named for it, else the lowest) in place
    (:func:`refile`: what the compositor set on it stays; shown unless its shot is hidden; the
    shot's look carried where it changed since: :func:`look.follow`); a result of the other kind
    (an image sequence, now a movie) is replaced by a new strip in its channel, as are results
    of the key left in another collection. Other strips of the key there (the compositor's
    copies of a take, to compare) are left as they are, and named in the note when they lie over
    the result. ``spare``: names of the shot's other pieces whose results the caller re-files
    (:func:`add_result_strips`). A new strip goes directly above the original and its other
    results, below everything else there (:func:`blend.channel_above`, which may insert a
    channel; the clause is in the note); a shot inside a meta strip gets its result inside that
    meta (before 2026-12-05 at the top level, where the meta's framing did not reach it). Preview
    strips over the original's range are removed (the render supersedes them). A new strip is
    made before anything is removed (a failure then leaves the sequencer as it was); a strip
    re-filed keeps the new take if placing it fails afterwards (no open channel: one line)."""
    target = os.path.normpath(out)
    kind = "IMAGE" if os.path.isdir(out) else "MOVIE"

    def replaced(s):
        same_key = key is not None and shows_key(s, key)
        return s != original and s.type in {"MOVIE", "IMAGE"} and not blend.is_preview(s) and (
            same_key or blend._strip_paths(s) == target)

    strips = blend.strips_of(scene, original)
    start = int(original.frame_start)
    names = None
    if kind == "IMAGE":
        from ..video.pngs import frame_numbers

        # the folder's frames in order: frame_000000.png ..., or a plate's numbered as the plate
        # (frame_001001.exr ...)
        names = [nm for _n, nm in frame_numbers(out)][:n_frames]
        if len(names) < n_frames:
            raise ValueError("{}: {} of the {} frames are there".format(out, len(names), n_frames))
    home = original.parent_meta()
    old = [s for s in blend.all_strips(scene) if replaced(s)]
    here = [s for s in old if s.parent_meta() == home and s.get("reenact_shot_name") not in spare]
    on = _first_on(here, original)
    reuse = on if on is not None and on.type == kind else None
    keep = on.channel if on is not None else None
    # trimmed or cut by the compositor since the last render (its shot as it was then): each part
    # takes the new take where and as it was put (before 2026-12-06 the result was stretched over
    # the whole shot again, over a part muted to keep the shot's own mouth there)
    shot_at = blend._timing(original)
    by_hand = [] if reuse is None or list(reuse.get("reenact_shot_at", [])) != shot_at else [reuse] + [
        s for s in here if s != reuse and s.type == kind and s.channel == reuse.channel
        and list(s.get("reenact_shot_at", [])) == shot_at and s.get("reenact_shot_name") == original.name]
    if by_hand and all(blend._timing(s) == shot_at for s in by_hand):
        by_hand = []  # (as placed by the last render: placed again below)
    if reuse is not None:  # a render again: the file changes under what the compositor set on the strip
        st = reuse
        for s in by_hand or [st]:
            was = blend._timing(s)
            refile(s, out, names)
            if by_hand:
                _set_timing(s, was)
    elif kind == "IMAGE":
        st = strips.new_image(name=name, filepath=os.path.join(out, names[0]),
                              channel=blend.free_channel_above(scene, original), frame_start=start)
        for nm in names[1:]:
            st.elements.append(nm)
    else:
        st = strips.new_movie(name=name, filepath=out, channel=blend.free_channel_above(scene, original),
                              frame_start=start)
    blend.project_relative(st)
    gone = [s for s in old if s != st and (s.parent_meta() != home or s.type != kind)]
    for s in gone:  # (a dub replaced by one of the other kind keeps the id its restyle follows: 2026-12-06)
        if s.get("reenact_id") and not st.get("reenact_id") and s.get("reenact_shot_name") == original.name:
            st["reenact_id"] = s["reenact_id"]
    remove_previews(scene, original.frame_final_start, original.frame_final_end)
    keep = on.channel if on is not None else None  # (a preview's channel given back moves the strips above it)
    for s in gone:
        look.remove_strip(scene, s)
    if reuse is None:
        st.name = name
    a, b = original.frame_final_start, original.frame_final_end
    moved = ""
    if by_hand:
        moved = "kept as trimmed or cut by hand ({}): drag its ends to show more of the new take".format(
            ", ".join("frames {}-{}".format(s.frame_final_start, s.frame_final_end - 1) for s in
                      sorted(by_hand, key=lambda s: s.frame_final_start)))
    else:
        _set_timing(st, [start, original.frame_offset_start, original.frame_offset_end])
        near = blend.siblings(original)
        if keep is None or keep <= original.channel or not blend._free(near, keep, a, b, ignore=st):
            keep, moved = blend.channel_above(original, a, b, new=st)
        if st.channel != keep:
            st.channel = keep
    st["reenact_result"] = True  # (blend.channel_above passes over it)
    st["reenact_shot"], st["reenact_shot_name"] = blend._shot_ref(original)  # (follow_shots)
    st["reenact_shot_at"] = blend._timing(original)
    if key is not None:  # (the actor's name as it is now, and who it is)
        st["reenact_actor"], st["reenact_region"] = key[:2]
        if len(key) > 2 and key[2]:
            st[ACTOR_KEY] = key[2]
    over = [s for s in blend.siblings(original) if s != st and ("reenact_result" in s or "reenact_actor" in s)
            and not blend.is_preview(s) and s.frame_final_start < b and s.frame_final_end > a]
    under = sorted(s.name for s in over if original.channel < s.channel < st.channel)
    hides = "it lies over {} and hides {}: mute one to see the other".format(
        ", ".join("'{}'".format(n) for n in under), "them" if len(under) > 1 else "it") if under else ""
    above = sorted(s.name for s in over if s.channel > st.channel and not s.mute and s in old)
    hidden_by = "{} ({}, another take) lie{} over it: mute {} to see this one".format(
        ", ".join("'{}'".format(n) for n in above), "copies of it" if len(above) > 1 else "a copy of it",
        "" if len(above) > 1 else "s", "them" if len(above) > 1 else "it") if above else ""
    # another render over it (another actor's or region's; before 2026-12-06 unsaid: the new take
    # went in under a result that hid it); a restyle of this result is one of an earlier take now
    mine = st.get("reenact_id")
    restyles = sorted(s.name for s in over if mine and s.get("reenact_shot") == mine and s not in old)
    if restyles:
        hidden_by = "; ".join(n for n in (hidden_by, "{} restyle{} an earlier take of it: Restyle Strip on '{}' again "
                                          "to restyle this one".format(", ".join("'{}'".format(n) for n in restyles),
                                                                       "" if len(restyles) > 1 else "s", st.name))
                              if n)
    others = sorted(s.name for s in over if s.channel > st.channel and not s.mute and s not in old
                    and s.name not in restyles)
    if others:
        hidden_by = "; ".join(n for n in (hidden_by, "{} (another Reenact result) lie{} over it: mute {} to see this "
                                          "one".format(", ".join("'{}'".format(n) for n in others),
                                                       "" if len(others) > 1 else "s",
                                                       "them" if len(others) > 1 else "it")) if n)
    if reuse is not None:
        note = _retake(st, original)
    else:
        note = look.match_look(st, original)  # (after the name: its keys are the strip's)
    _note(st, "; ".join(n for n in (moved, hides, hidden_by, note) if n))
    return st


def add_result_strips(scene, original, out, n_frames, name, key=None):
    """:func:`add_result_strip` over ``original``, and its file over each other piece of
    ``original``'s shot: the result there re-filed in place when the piece has one (a render
    again), else a copy of it; returns (the result strip, those over the other pieces)."""
    group = pieces(original)
    others = {p.name: p for p in group if p != original}
    # a piece whose copy the compositor removed since the last render (to keep the shot's own
    # picture there) gets none again (before 2026-12-06 every render again made it anew); said
    removed = []
    if key is not None:
        mine = [r for r in blend.all_strips(scene) if r.get("reenact_shot") and shows_key(r, key)]
        had = {n for r in mine if r.get("reenact_shot_name") == original.name for n in r.get(PIECES, [])}
        removed = sorted(n for n in others if n in had and not any(r.get("reenact_shot_name") == n for r in mine))
    st = add_result_strip(scene, original, out, n_frames, name, key=key, spare=tuple(others))
    st[PIECES] = sorted(p.name for p in group)
    st[STAMP] = actor_data.footage_stamp(original)  # (copied onto the copies below)
    if "reenact_result" in original:  # (a restyle of a dub: the dub's take, for stale_note, and whose dub)
        st[SOURCE_TAKE] = blend._strip_paths(original) or ""
        if original.get("reenact_actor") is not None:
            st["reenact_source_actor"] = [str(original.get("reenact_actor")), str(original.get("reenact_region"))]
    kept = {}  # each other piece's result: the one lying on it, else the lowest (not the compositor's copies)
    for r in sorted(blend.all_strips(scene), key=lambda r: (r.get("reenact_shot_name") not in others or blend._timing(
            r) != blend._timing(others[r["reenact_shot_name"]]), r.channel)):
        if (r != st and r.get("reenact_shot_name") in others and r.get("reenact_shot") and _same_result(r, st)
                and r.type == st.type and r.parent_meta() == st.parent_meta()):
            kept.setdefault(r["reenact_shot_name"], r)
    if removed:
        _note(st, "; ".join(n for n in (st.get("reenact_look_note", ""), "no result made again over {} (its copy "
                                        "was removed by hand; delete the result strips to have them all made "
                                        "again)".format(", ".join("'{}'".format(n) for n in removed))) if n))
    return st, [_refile_copy(st, kept[p.name], p) if p.name in kept else _copy_result(scene, st, p)
                for p in group if p != original and p.name not in removed]


def copies_note(copies):
    """The report's words for the copies of a result over the shot's other pieces."""
    if not copies:
        return ""
    return " and over the shot's other piece{} ({})".format(
        "s" if len(copies) > 1 else "", ", ".join("'{}' in channel {}".format(c.name, c.channel) for c in copies))


def follow_shots(scene):
    """Keep every result strip on its piece of its shot: when the piece was moved in time or
    trimmed since the result was placed (or last followed it), the result takes its start and
    trims, so it still shows each of the shot's frames over that frame. A result cut together
    with its shot stays with the piece it lies on; a piece made since (the shot cut alone, or
    duplicated) gets a copy of the result. A result moved by hand, its piece unchanged, is left
    where it was put; a shot gone leaves its results alone. A Preview Frame strip moves with its
    shot (it shows one of its frames). Run after every change (a depsgraph handler; it writes
    only what changed, each write being another update); returns how many strips moved or were
    made."""
    ed = scene.sequence_editor if scene is not None else None
    if ed is None:
        return 0
    ids, results, previews = {}, [], []
    for s in ed.strips_all:
        if s.get("reenact_shot"):
            results.append(s)
        elif s.get("reenact_preview_of"):
            previews.append(s)
        # (a result restyled, Restyle Strip on a dub, is the shot of its restyle, which keeps to it
        # as it keeps to its own shot: before 2026-12-06 the restyled dub stayed put)
        if s.get("reenact_id") and s.type in {"MOVIE", "IMAGE"} and not s.get("reenact_preview_of"):
            ids.setdefault(s["reenact_id"], []).append(s)
    restyled = {s["reenact_id"] for s in results if s.get("reenact_id")}
    results.sort(key=lambda s: s.get("reenact_shot") in restyled)  # (a dub follows its shot before its restyle)

    def named(s, key):
        """The piece of the recorded name; the one strip of the id when that name is gone (the
        shot renamed); else None (a piece tracked on its own has an id of its own since)."""
        shots, name = ids.get(s[key], []), s.get("reenact_shot_name")
        exact = [x for x in shots if x.name == name]
        if exact:
            return exact[0]
        return shots[0] if len(shots) == 1 and (not name or ed.strips_all.get(name) is None) else None

    moved = 0
    index = look.fcurve_index(scene) if results or previews else {}  # (once: the look of every piece from it)

    memo = {}  # (each piece's look digested once in this pass)

    def follow_look(strip, piece, single_frame=False):
        return look.follow(strip, piece, index, single_frame=single_frame, memo=memo)

    for pv in previews:  # a Preview Frame strip moves with its shot's frames, and takes its look
        shot = named(pv, "reenact_preview_of")
        was = int(pv.get("reenact_shot_start", 0))
        if shot is not None and int(shot.frame_start) != was:
            pv.frame_start += int(shot.frame_start) - was
            pv["reenact_shot_start"] = int(shot.frame_start)
            moved += 1
        if shot is not None:
            moved += follow_look(pv, shot, single_frame=True)
    made = []
    for res in results:
        mine = blend._timing(res)
        on = [p for p in ids.get(res["reenact_shot"], []) if blend._timing(p) == mine
              and p.parent_meta() == res.parent_meta()]
        if on:  # it lies on a piece as the piece is (cut together with it, or nothing changed)
            piece = next((p for p in on if p.name == res.get("reenact_shot_name")), on[0])
            changed = res.get("reenact_shot_name") != piece.name or list(res.get("reenact_shot_at", [])) != mine
        else:
            piece = named(res, "reenact_shot")
            if piece is None or any(r != res and _same_result(r, res) and blend._timing(r) == blend._timing(piece)
                                    for r in results + made):
                continue  # its shot gone (or its piece gone, the piece left has this result): left alone
            changed = list(res.get("reenact_shot_at", mine)) != blend._timing(piece)
        group = _pieces_among(piece, ids[res["reenact_shot"]])
        known = set(res.get(PIECES, [res.get("reenact_shot_name")]))
        names = sorted(p.name for p in group)
        if changed:
            place(res, piece, names)  # (a result moved by hand, its piece unchanged, stays where it was put)
            moved += 1
        elif list(res.get(PIECES, [])) != names:
            res[PIECES] = names
        # (a result re-coloured by hand, its piece's look unchanged, stays; a restyle of a dub takes the
        # dub's mute only when the dub has its own shot's (a hidden take: all hidden), not a dub muted by
        # hand under its restyle)
        base = shot_of(piece) if piece.get("reenact_shot") else None
        follows_mute = base is None or bool(piece.mute) == look.hidden(base)
        moved += look.follow(res, piece, index, mute=follows_mute if piece.get("reenact_shot") else True, memo=memo)
        for p in group:  # pieces made since it was placed (the shot cut alone, or duplicated)
            if p.name not in known and p != piece and not any(
                    r != res and _same_result(r, res) and blend._timing(r) == blend._timing(p) for r in results + made):
                made.append(_copy_result(scene, res, p))
                # a restyle of this dub over the dub's copy too (before 2026-12-06 the new piece showed the
                # dub unrestyled: "run Restyle Strip on it too"); the copy keeps to the dub's copy after
                made += [_copy_result(scene, r, made[-1]) for r in results if res.get("reenact_id")
                         and r.get("reenact_shot") == res["reenact_id"] and r.get("reenact_shot_name") == res.name]
    return moved + len(made)


def remove_previews(scene, start=None, end=None, give_back=True):
    """Remove the Preview Frame strips (those over frames [start, end) when given); a channel
    inserted for one is given back (the strips above move down again: before 2026-12-06 a preview
    moved them up for good). Returns how many were removed; with ``give_back`` False, the places
    [(meta, channel)] of those whose channel was inserted, not given back."""
    n, places = 0, []
    for s in list(blend.all_strips(scene)):
        if blend.is_preview(s) and (start is None or (s.frame_final_start < end and s.frame_final_end > start)):
            if s.get("reenact_preview_inserted"):
                places.append((s.parent_meta(), int(s.channel)))
            look.remove_strip(scene, s)
            n += 1
    if not give_back:
        return places
    for meta, channel in sorted(places, key=lambda p: -p[1]):  # (from the top: the lower ones stay put)
        blend.remove_inserted_channel(scene, meta, channel)
    return n


def preview_strip(scene, original, path, frame, actor=None):
    """Show ``path`` for one frame at ``frame`` in an image strip directly above ``original``
    and its results there (:func:`blend.channel_above`; before 2026-12-05 above everything there, a
    grade's adjustment layer included), in ``original``'s collection (its meta's when inside
    one; the scene's one preview strip: the previous one is replaced)."""
    import time as _time

    strips = blend.strips_of(scene, original)
    old = [s for s in blend.all_strips(scene) if blend.is_preview(s)]  # (removed once the new one has its place)
    try:
        channel, moved = blend.channel_above(original, frame, frame + 1, ignore=old)
    except ValueError as exc:
        raise ValueError("preview: {}".format(exc)) from None
    places = remove_previews(scene, give_back=False)
    home = original.parent_meta()
    kept = (home, channel) in places  # (the new preview takes the channel inserted for the last one)
    st = strips.new_image(name=blend.PREVIEW_STRIP, filepath=path, channel=channel, frame_start=int(frame))
    for meta, c in sorted((p for p in places if p != (home, channel)), key=lambda p: -p[1]):
        blend.remove_inserted_channel(scene, meta, c)  # (the new one moves down with what is above)
    blend.project_relative(st)
    note = "; ".join(n for n in (moved, look.match_look(st, original, single_frame=True)) if n)
    if note:
        st["reenact_look_note"] = note
    st["reenact_preview_time"] = _time.time()
    if moved or kept:  # (a channel inserted for it: given back when it goes, remove_previews)
        st["reenact_preview_inserted"] = True
    st["reenact_preview_of"], st["reenact_shot_name"] = blend._shot_ref(original)  # (shots.follow_shots moves it with its shot)
    st["reenact_shot_start"] = int(original.frame_start)
    if actor is not None:
        st["reenact_actor"] = actor
    return st
