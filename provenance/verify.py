# SPDX-License-Identifier: GPL-3.0-or-later
"""``verify_path``: the watermark verdict and the C2PA manifest of a movie, an image or a folder
of frames, as one JSON-able dict (what ``reenact verify`` and Blender's Verify Strip show)."""

import os

import numpy as np

from . import pixel_aspect as pa
from .watermark import DEFAULT_KEY, detect

__all__ = ["verify_path", "format_report", "job_ranges"]


def verify_path(path, key=DEFAULT_KEY, window=1.0, fps=None, manifest=True, progress=None, look_again=True,
                trust=None, pixel_aspect=True):
    """Verify one movie, image, folder of frames or list of image files (an image-sequence
    strip). Raises ``ValueError`` (one line naming the file) when it cannot be read. Returns
    ``{file, kind, frames, fps, duration, watermark, manifest}`` (and for a movie with a start
    timecode ``timecode`` and ``timecode_ranges``: the synthesised frame ranges' first and last
    frames as timecodes): ``watermark`` is
    :func:`reenact.provenance.watermark.detect`'s verdict (``frame_ranges`` are 0-based frame
    numbers of the file), ``manifest`` :func:`reenact.provenance.manifest.read_manifest`'s (None
    when ``manifest`` is False). For a folder or list every frame's manifest is read (a render
    signs only the frames it synthesised; the frames it copies through are the footage's own):
    ``manifest`` is the first signed frame's (``of``: its name; the first frame's when none is
    signed) and ``manifests`` counts them: ``{frames, signed, valid, invalid}`` (``invalid``: the
    names of up to 10 signed frames whose manifest does not validate, e.g. edited afterwards). ``progress(done,
    total, message)`` after each frame; returning False raises
    :class:`reenact.progress.Cancelled`. ``look_again``: where the ``window`` windows find no mark
    or no job id, look again in :data:`SHORT_WINDOW` windows (:func:`_look_again`). ``trust``: a PEM
    file of root certificates whose signers count as trusted (``reenact verify --trust``; default
    this machine's local root), named in the result as ``trust``. ``pixel_aspect``: where the
    windows find no mark or no job id, try the common pixel-aspect changes undone first
    (:func:`.pixel_aspect.look`: an editing system's conform to square pixels)."""
    from ..progress import Cancelled
    from ..video import open_video

    listed = isinstance(path, (list, tuple))
    path = [os.fspath(p) for p in path] if listed else os.fspath(path)
    if not (listed or os.path.isdir(path) or "%" in path or "#" in path):  # a movie or an image: its own
        fps = None  # rate (before 2026-12-05 --fps, meant for frame folders, re-timed a movie's seconds)
    # (times approximate; a folder of frames with some deleted and a movie cut short by a download
    # are verified on what is there, and the report says so: before 2026-12-06 they gave no verdict)
    with open_video(path, fps=fps, allow_variable_rate=True, allow_gaps=True, allow_truncated=True) as src:
        seq = listed or os.path.isdir(path)
        kind = src.kind if src.frame_count > 1 or seq else "image"
        rate = src.rate
        total = src.frame_count
        missing = [int(m) for m in getattr(src, "missing", None) or []]
        truncated = bool(getattr(src, "truncated", False))
        # a sequence's manifests are read after its frames: one progress over both passes
        steps = 2 * total if (manifest and seq) else total

        def frames(a=0, b=None, again=False):
            blank = None
            for i, f in src.iter_frames(a, b):
                if progress is not None and progress(total if again else i + 1, steps, "{} frame {}".format(
                        "look again at" if again else "verify", i)) is False:
                    raise Cancelled()
                if f is None:  # a missing frame: a blank one keeps the later frames at their times
                    if blank is None:
                        blank = np.full((src.size[1], src.size[0], 3), 128, np.uint8)
                    f = blank
                yield f

        # (each window's average kept for the pixel-aspect tries: a search each, no decode)
        averages = pa.Averages(rate, window) if pixel_aspect else None
        wm = detect(averages.feed(frames()) if pixel_aspect else frames(), rate, key=key, window=window,
                    prepared=bool(pixel_aspect))
        if pixel_aspect:  # (a conform to square pixels: since 2026-12-06)
            wm = pa.look(wm, averages, lambda: frames(0, None, True), rate, key, window)
        if look_again:  # (short windows where the default ones find nothing or no job id: since 2026-12-06)
            wm = _look_again(wm, lambda a, b: frames(a, b, True), rate, key, window)
        # a movie of variable frame rate: its seconds are its frames' own times, not i / its average rate
        # (before 2026-12-06 a dub's synthesised seconds were read so, 0.26 s off on a clip of 20 then 29.97 fps)
        times = src.frame_times() if getattr(src, "variable_rate", False) else None
        uneven = times is not None and len(times) >= wm["frames"] > 1
        duration = _at_frame_times(wm, times[:wm["frames"]]) if uneven else round(wm["frames"] / float(rate), 3)
        # a folder of frames has no rate: read at 25 fps unless given, and the report says so (before: unsaid)
        assumed = fps is None and kind == "sequence"
        files = list(getattr(src, "files", None) or [])
        timecode = getattr(src, "timecode", None)
        number = getattr(src, "first_number", None)  # a numbered sequence's (a plate's 1001)
    label = path[0] if listed and path else path
    out = {"file": os.path.abspath(label), "kind": kind, "frames": wm["frames"], "fps": float(rate),
           "duration": duration, "watermark": wm, "manifest": None}
    if uneven:
        out["variable_rate"] = True  # (its seconds: each frame's own time)
    if assumed:
        out["fps_assumed"] = True  # (its seconds follow the assumed rate: --fps gives the folder's)
    if missing:  # (their frame numbers; read as blank frames, never as marked)
        out["missing_frames"] = missing
    if truncated:
        out["truncated"] = True
    if timecode:  # the movie's start timecode: the synthesised frames as an editor's timeline names them
        from ..video.timecode import timecode_after

        out["timecode"] = timecode
        out["timecode_ranges"] = [[timecode_after(timecode, fa, rate), timecode_after(timecode, fb - 1, rate)]
                                  for fa, fb in wm["frame_ranges"]]
    if number:  # the synthesised frames by their file numbers, as a compositor names them
        out["file_ranges"] = [[int(number) + fa, int(number) + fb - 1] for fa, fb in wm["frame_ranges"]]
    if manifest:
        from .manifest import read_manifest as read

        if trust:  # (a studio's roots: before 2026-12-06 its signed files read "signer not trusted" always)
            out["trust"] = os.path.abspath(trust)

        def read_manifest(name):
            return read(name, trust=out["trust"]) if "trust" in out else read(name)

        if not seq:
            out["manifest"] = _with_ingredients(read_manifest(path), path)
            return out
        names = [f for f in files if f] or (list(path) if listed else [])
        first, signed, bad = None, 0, []
        for k, name in enumerate(names):
            m = read_manifest(name)
            if m["present"]:
                signed += 1
                first = first or (name, m)
                if not m["valid"]:
                    bad.append(os.path.basename(name))
            if progress is not None and progress(min(steps, total + k + 1), steps,
                                                 "manifest of frame {}".format(k)) is False:
                raise Cancelled()
        if first is None and names:
            first = (names[0], read_manifest(names[0]))
        if first is not None:
            out["manifest"] = dict(_with_ingredients(first[1], first[0]), of=os.path.basename(first[0]))
        out["manifests"] = {"frames": len(names), "signed": signed, "valid": signed - len(bad), "invalid": bad[:10]}
    return out


#: the windows (seconds) verify looks again with where its windows find no mark or no job id: a
#: short edit (5 frames) is averaged with 25 unmarked frames in a one-second window
SHORT_WINDOW = 0.2
#: a window is looked at again where its scale-1 test reached this z or its search this (on the 129
#: unmarked seconds of ../shared/data's clips: 1.5 % and none; highest 3.4 and 5.41)
HINT_PRIOR, HINT_SEARCH = 2.5, 5.5
#: the most windows looked at again (the strongest hints first: a long unmarked movie stays quick)
MAX_LOOKS = 60
#: the most synthesised ranges whose frames alone are read for the job id
MAX_FITTED = 4


def _look_again(wm, read, fps, key, window):
    """The verdict ``wm`` (:func:`detect`'s, ``window`` s windows) looked at again in
    :data:`SHORT_WINDOW` windows where it found no mark or no job id (before 2026-12-06 five marked
    frames of a 30-frame second, re-encoded, read "payload unreadable", and downscaled too "no
    Reenact watermark found", though ``--window 0.2`` found them with their job id).

    Only the windows worth it are read again (``read(a, b)``: frames a..b-1): the detected ones
    and their neighbours, and those whose scale-1 test or search came near
    (:data:`HINT_PRIOR`, :data:`HINT_SEARCH`). The budget: the short windows of a default window
    share its false-positive limit (each is detected at ``FALSE_POSITIVE_LIMIT x SHORT_WINDOW /
    window``, 2e-7), so the short windows of a file spend what its default windows do; and a file
    the default windows found nothing in is called marked only where a job id is read too (CRC,
    at most 9.5e-7 likely from noise, on cells the sync test does not use): unmarked footage keeps
    the default windows' figure. Where the short windows give no job id, each synthesised range's
    frames alone are read as one window (the payload only; its CRC guards it). Adopted, the verdict
    has the short windows in place of the default ones looked at again, and ``looked_again``:
    ``{window, seconds, why ("no mark" | "no job id"), default {window, score, false_positive_probability},
    found, job_from ("the short windows" | "the synthesised frames" | None)}``; its
    ``false_positive_probability`` is the best short window's times the number of short windows the
    file holds (or the default windows' figure, where they had found the mark)."""
    import math

    from .ranges import frame_ranges as place
    from .watermark import FALSE_POSITIVE_LIMIT

    wins, n = wm["windows"], int(wm["frames"])
    rate, fps = fps, float(wm["fps"])  # (detect's rate as given; the seconds in float)
    if (wm["detected"] and wm.get("payload")) or window < 2 * SHORT_WINDOW or n < 2 or not wins:
        return wm
    limit = FALSE_POSITIVE_LIMIT * SHORT_WINDOW / window

    def hint(w):
        return max(float(w.get("prior_score") or 0.0) / HINT_PRIOR, float(w.get("search_score") or 0.0) / HINT_SEARCH)

    pick = {}
    for k, w in enumerate(wins):
        if w["detected"]:
            for j in (k - 1, k, k + 1):
                if 0 <= j < len(wins):
                    pick[j] = max(pick.get(j, 0.0), 100.0 if j == k else 50.0)
        elif hint(w) >= 1.0:
            pick[k] = max(pick.get(k, 0.0), hint(w))
    pick = sorted(sorted(pick, key=lambda j: -pick[j])[:MAX_LOOKS])
    stretches = []
    for k in pick:
        a, b = (int(v) for v in wins[k]["frames"])
        if stretches and stretches[-1][1] == a:
            stretches[-1][1] = b
        else:
            stretches.append([a, b])
    if not stretches:
        return wm
    note = {"window": SHORT_WINDOW, "seconds": [[round(a / fps, 3), round(b / fps, 3)] for a, b in stretches],
            "why": "no job id" if wm["detected"] else "no mark", "found": False, "job_from": None,
            "default": {"window": window, "score": wm["score"],
                        "false_positive_probability": wm["false_positive_probability"]}}
    looks = []
    for a, b in stretches:
        r = detect(read(a, b), rate, key=key, window=SHORT_WINDOW, keep_frame_scores=True)
        for w in r["windows"]:
            if w["detected"] and w["false_positive_probability"] >= limit:  # (the short windows' share)
                w["detected"] = False
                w.pop("payload_match", None)
                w.pop("payload_score", None)
        got = [w for w in r["windows"] if w["detected"]]
        ranges = place(r["windows"], {i: (sc,) for i, sc in r["frame_scores"].items()}, r["frames"]) if got else []
        for w in r["windows"]:
            f0, f1 = (a + int(v) for v in w["frames"])
            w.update(frames=[f0, f1], start=round(f0 / fps, 6), end=round(f1 / fps, 6))
        looks.append({"span": (a, b), "r": r, "got": got, "ranges": [[a + x, a + y] for x, y in ranges],
                      "payload": r["payload"] if got else None, "from": "the short windows" if got else None})
    found = [lk for lk in looks if lk["got"]]
    note["found"] = bool(found)
    for lk in found:  # no job id in the short windows: each synthesised range's frames alone, as one window
        if lk["payload"] is None:
            for x, y in sorted(lk["ranges"], key=lambda ab: ab[0] - ab[1])[:MAX_FITTED]:
                pl = detect(read(x, y), rate, key=key, window=(y - x) / fps + 1.0)["payload"]
                if pl:
                    lk["payload"], lk["from"] = pl, "the synthesised frames"
                    break
    with_id = [lk for lk in found if lk["payload"]]
    if not with_id and wm["detected"]:  # the default windows' ranges, their frames alone
        for x, y in sorted(wm["frame_ranges"], key=lambda ab: ab[0] - ab[1])[:MAX_FITTED]:
            pl = detect(read(x, y), rate, key=key, window=(y - x) / fps + 1.0)["payload"]
            if pl:
                note["job_from"] = "the synthesised frames"
                return dict(wm, payload=pl, payload_valid=True, looked_again=note)
    if not with_id:
        if found:
            best = max((w for lk in found for w in lk["got"]), key=lambda w: w["score"])
            note["best"] = {"start": best["start"], "end": best["end"], "score": best["score"]}
        return dict(wm, looked_again=note)
    lead = max(with_id, key=lambda lk: max(w["score"] for w in lk["got"]))
    payload = lead["payload"]
    note["job_from"] = lead["from"]
    for lk in found:  # another stretch read another job's id: its windows say so
        if lk["payload"] and lk["payload"]["job_id"] != payload["job_id"]:
            for w in lk["got"]:
                w["payload_match"] = False
                w["payload"] = w.get("payload") or lk["payload"]
    looked = set(pick)
    windows = [w for k, w in enumerate(wins) if k not in looked] + [w for lk in looks for w in lk["r"]["windows"]]
    windows.sort(key=lambda w: w["frames"][0])
    inside = [lk["span"] for lk in looks]
    ranges = sorted([r for r in wm["frame_ranges"] if not any(r[0] < b and a < r[1] for a, b in inside)]
                    + [r for lk in found for r in lk["ranges"]])
    best = min((w for lk in found for w in lk["got"]), key=lambda w: (w["false_positive_probability"], -w["score"]))
    shorts = max(1, int(math.ceil(n / (fps * SHORT_WINDOW) - 1e-9)))
    p = wm["false_positive_probability"] if wm["detected"] else min(1.0, best["false_positive_probability"] * shorts)
    return dict(wm, detected=True, payload=payload, payload_valid=True, windows=windows, frame_ranges=ranges,
                ranges=[[round(a / fps, 3), round(b / fps, 3)] for a, b in ranges],
                score=max(wm["score"] if wm["detected"] else 0.0, best["score"]),
                false_positive_probability=float("{:.3g}".format(p)), alignment=lead["r"]["alignment"],
                looked_again=note)


def looked_again_words(wm):
    """One line on :func:`_look_again`'s look, or on the pixel-aspect tries where they found
    something (:func:`.pixel_aspect.words`): what ``reenact verify`` and Verify Strip say, or None."""
    la = wm.get("looked_again")
    if not la or (wm.get("pixel_aspect") or {}).get("found"):
        return pa.words(wm)
    at = ", ".join("{}-{} s".format(_fmt_time(a), _fmt_time(b)) for a, b in la["seconds"][:6]) + (
        " …" if len(la["seconds"]) > 6 else "")
    dflt = "{:g} s windows".format(la["default"].get("window", 1.0))
    if la.get("job_from"):
        return "found by looking again in {:g} s windows at {} (the {} {}); job id read from {}".format(
            la["window"], at, dflt, "found no mark: best score {:.1f}".format(la["default"]["score"])
            if la["why"] == "no mark" else "could not read the job id", la["job_from"] + (
                " alone" if la["job_from"] == "the synthesised frames" else ""))
    head = "looked again in {:g} s windows at {}: ".format(la["window"], at)
    if la["why"] == "no job id":
        return head + "the job id is still unreadable"
    if la.get("best"):
        return head + "a mark-like signal at {}-{} s (score {:.1f}), but no job id can be read: not counted as " \
            "found".format(_fmt_time(la["best"]["start"]), _fmt_time(la["best"]["end"]), la["best"]["score"])
    return head + "nothing found"


def _at_frame_times(wm, times):
    """``wm`` (:func:`detect`'s verdict, frame ``i`` at ``i / fps``) with its seconds read off each
    frame's own time ``times`` (from the first frame's; a frame lasts until the next, the last as
    long as the one before it). Returns the clip's duration."""
    n, fps = wm["frames"], wm["fps"]
    end = float(times[-1] + (times[-1] - times[-2]))

    def at(i, digits):
        return round(float(times[i]) if i < n else end, digits)

    wm["ranges"] = [[at(a, 3), at(b, 3)] for a, b in wm["frame_ranges"]]
    for w in wm["windows"]:
        w["start"], w["end"] = at(int(round(w["start"] * fps)), 6), at(int(round(w["end"] * fps)), 6)
    return round(end, 3)


def _fmt_time(t):
    return "{:.2f}".format(t)


def _frame_list(ranges):
    """[[a, b), ...] as "a-(b-1), ..." (a lone frame as "a")."""
    return ", ".join("{}-{}".format(a, b - 1) if b - a > 1 else str(a) for a, b in ranges)


def _job_of(w, file_job):
    """The job whose mark the detected window ``w`` carries: the file's where its data cells agree
    with the file's payload, else its own payload's job (None: unreadable)."""
    if w.get("payload_match") is True:
        return file_job
    own = (w.get("payload") or {}).get("job_id")
    return own if own is not None or w.get("payload_match") is False else file_job


def job_ranges(wm):
    """The synthesised frame ranges of the verdict ``wm`` (:func:`detect`'s) by the render job whose
    mark they carry: ``[{"job_id": str or None (unreadable), "frame_ranges": [[a, b), ...]}]``, the
    file's payload's job first. A cut of two renders has each job's frames apart (a detected window
    whose data cells do not agree with the file's payload, ``payload_match`` false, is its own
    payload's job); a range's frames outside detected windows go with the nearest detected one's.
    Before 2026-12-06 Blender's Verify Strip credited every range to the file's job."""
    file_job = (wm.get("payload") or {}).get("job_id")
    wins = [w for w in wm.get("windows") or [] if w.get("detected")]
    pieces = []  # [job, a, b]
    for a, b in wm.get("frame_ranges") or []:
        label = [None] * (b - a)
        known = [False] * (b - a)
        for w in wins:
            fa, fb = max(a, int(w["frames"][0])), min(b, int(w["frames"][1]))
            for i in range(fa, fb):
                label[i - a], known[i - a] = _job_of(w, file_job), True
        if not any(known):
            label, known = [file_job] * (b - a), [True] * (b - a)
        for order in (range(1, b - a), range(b - a - 2, -1, -1)):  # filled from the neighbours, both ways
            for i in order:
                j = i - 1 if order.step == 1 else i + 1
                if not known[i] and known[j]:
                    label[i], known[i] = label[j], True
        for i, job in enumerate(label):
            if pieces and pieces[-1][0] == job and pieces[-1][2] == a + i:
                pieces[-1][2] += 1
            else:
                pieces.append([job, a + i, a + i + 1])
    out = []
    for job, a, b in pieces:
        entry = next((e for e in out if e["job_id"] == job), None)
        if entry is None:
            entry = {"job_id": job, "frame_ranges": []}
            out.append(entry)
        entry["frame_ranges"].append([a, b])
    out.sort(key=lambda e: (e["job_id"] != file_job or file_job is None, e["job_id"] is None))
    return out


def _with_ingredients(m, path):
    """``m`` (:func:`~.manifest.read_manifest`'s dict of ``path``) with ``ingredients`` added where
    it is valid (:func:`ingredient_manifests`)."""
    if m.get("present") and m.get("valid"):
        ings = ingredient_manifests(path)
        if ings:
            return dict(m, ingredients=ings)
    return m


def _actions(manifest):
    """A manifest's (the c2pa Reader's JSON) actions as :func:`~.manifest.read_manifest` gives them."""
    out = []
    for a in manifest.get("assertions") or []:
        if isinstance(a, dict) and str(a.get("label", "")).startswith("c2pa.actions"):
            for act in ((a.get("data") or {}).get("actions") or []) if isinstance(a.get("data"), dict) else []:
                if not isinstance(act, dict):
                    continue
                agent = act.get("softwareAgent")
                if isinstance(agent, dict):
                    agent = "{} {}".format(agent.get("name", ""), agent.get("version", "")).strip()
                out.append({"action": act.get("action"), "digitalSourceType": act.get("digitalSourceType"),
                            "softwareAgent": agent, "parameters": act.get("parameters")})
    return out


#: how deep :func:`ingredient_manifests` follows ingredients' own ingredients
INGREDIENT_DEPTH = 4


def ingredient_manifests(path):
    """What the manifests of ``path``'s ingredients say (a restyle of a dub: the dub, a render of
    its footage; before 2026-12-06 only the file's own manifest was shown): ``[{title,
    relationship, manifest}]``, ``manifest`` None for an ingredient without one, else ``{signer,
    claim_generator, actions (as read_manifest's), valid (its validation recorded when it was
    made an ingredient, and none failed now), errors, ingredients (its own, as deep as
    INGREDIENT_DEPTH)}``. Read from the c2pa Reader's store of ``path`` (a second, cheap read:
    :func:`~.manifest.read_manifest` keeps only the active manifest); [] where it cannot be read."""
    import json

    import c2pa

    from .manifest import MIME_TYPES, _settings

    ext = os.path.splitext(path)[1].lower()
    if ext not in MIME_TYPES:
        return []
    try:
        ctx = c2pa.Context(c2pa.Settings.from_dict(_settings()))
        with open(path, "rb") as f:
            with c2pa.Reader(MIME_TYPES[ext], f, context=ctx) as reader:
                store = json.loads(reader.json())
    except (c2pa.C2paError, OSError, ValueError):
        return []
    manifests = store.get("manifests") if isinstance(store.get("manifests"), dict) else {}
    deltas = [d for d in ((store.get("validation_results") or {}).get("ingredientDeltas") or [])
              if isinstance(d, dict) and ((d.get("validationDeltas") or {}).get("failure"))]

    def failures(results):
        fail = ((results or {}).get("activeManifest") or {}).get("failure") or [] if isinstance(results, dict) else []
        return sorted({f.get("code") for f in fail if isinstance(f, dict) and f.get("code")
                       and f.get("code") != "signingCredential.untrusted"})

    def walk(label, depth, seen):
        out = []
        for ing in (manifests.get(label) or {}).get("ingredients") or []:
            if not isinstance(ing, dict):
                continue
            e = {"title": ing.get("title"), "relationship": ing.get("relationship"), "manifest": None}
            sub = ing.get("active_manifest")
            if isinstance(sub, str) and isinstance(manifests.get(sub), dict) and sub not in seen:
                sm = manifests[sub]
                si = sm.get("signature_info") or {}
                gi = [g for g in sm.get("claim_generator_info") or [] if isinstance(g, dict)]
                errors = failures(ing.get("validation_results")) + (["ingredient validation failed now"] if any(
                    sub in json.dumps(d) for d in deltas) else [])
                e["manifest"] = {"signer": si.get("common_name") or si.get("issuer"),
                                 "claim_generator": "{} {}".format(gi[0].get("name", ""), gi[0].get(
                                     "version", "")).strip() if gi else None,
                                 "actions": _actions(sm), "valid": not errors, "errors": errors,
                                 "ingredients": walk(sub, depth - 1, seen | {sub}) if depth > 1 else []}
            out.append(e)
        return out

    return walk(store.get("active_manifest"), INGREDIENT_DEPTH, {store.get("active_manifest")})


def ingredient_words(ing):
    """One ingredient (:func:`ingredient_manifests`) said: "r1.mp4: Reenact render, job 1111111111,
    frames 45-74 (signer 'Reenact renderer (user)'; actions c2pa.opened, c2pa.edited)"."""
    m = ing.get("manifest")
    title = str(ing.get("title") or "an ingredient")
    if not m:
        return "{}: no manifest of its own".format(title)
    what = []
    for a in m.get("actions") or []:
        p = a.get("parameters") if isinstance(a.get("parameters"), dict) else {}
        if a.get("action") == "c2pa.edited" or p.get("job_id"):
            op = p.get("operation") or ("render" if p.get("model") else "edit")
            tool = str(m.get("claim_generator") or "").split(" ")[0] or "an unnamed tool"
            bits = ["{} {}".format(tool, op)] + ["job {}".format(p["job_id"])] * bool(p.get("job_id")) + [
                "frames {}".format(p["frames"])] * isinstance(p.get("frames"), str) + declared_synthesised(a)
            what.append(", ".join(str(b) for b in bits))
    return "{}: {} (signer {!r}; {}actions {})".format(
        title, "; ".join(what) or "no edit declared", m.get("signer"),
        "" if m.get("valid") else "its manifest INVALID [{}]; ".format(", ".join(m.get("errors") or [])),
        ", ".join(str(a.get("action")) for a in m.get("actions") or []) or "none")


def declared_synthesised(action):
    """What an action's parameters declare synthesised ("'strip' frames 5-12", "1.00-2.00 s"), read
    defensively: a signed file is anyone's to write, and parameters of other shapes are skipped
    (before 2026-12-05 a number there made ``reenact verify`` and Blender's Verify panel fail)."""
    p = action.get("parameters") if isinstance(action, dict) else None
    p = p if isinstance(p, dict) else {}
    strips, seconds = p.get("synthesised"), p.get("synthesised_seconds")
    return (["'{}' frames {}".format(x.get("strip"), x.get("frames")) for x in
             (strips if isinstance(strips, list) else []) if isinstance(x, dict)]
            + ["{} s".format(x) for x in (seconds if isinstance(seconds, list) else []) if isinstance(x, (str, int, float))])


def printable(text):
    """``text`` with its control characters escaped (``\\x1b``, ``\\n``): what a file says (a strip
    name in its manifest, its own name) printed as it is could move the cursor, retitle the
    terminal or forge a verdict line of its own (before 2026-12-05 a signed file could)."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in str(text))


def _trust_words(m, roots):
    """", trusted by roots.pem", ", signer not trusted" ...: a valid manifest's signer as the roots
    given (``reenact verify --trust``) or this machine's local root judge it."""
    if m.get("trust_list") == "given" and roots:
        return ", trusted by {}".format(os.path.basename(roots)) if m["trusted"] else (
            ", signer not trusted (its chain ends at no root in {})".format(os.path.basename(roots)))
    return (", signer not trusted" if not m["trusted"] else ", trusted by this machine's local root only"
            if m.get("trust_list") == "local root" else ", trusted")


def format_report(r):
    """A few human-readable lines for one :func:`verify_path` result."""
    wm = r["watermark"]
    lines = []
    if wm["detected"]:
        pl = wm.get("payload")
        pls = ("tool {} v{} job {}".format(pl.get("tool_name") or "0x{:02x}".format(pl["tool"]), pl["version"],
                                        pl["job_id"]) if pl else "payload unreadable")
        lines.append("{}: watermark DETECTED (score {:.1f}, false-positive probability {:.2g}); {}".format(
            r["file"], wm["score"], wm["false_positive_probability"], pls))
        tcs = r.get("timecode_ranges") or [None] * len(wm["ranges"])
        fns = r.get("file_ranges") or [None] * len(wm["ranges"])
        # a still has no seconds (before 2026-12-06 "0.00-0.04 s (frames 0-0)", at an invented 25 fps)
        rng = "this image" if r.get("kind") == "image" else ", ".join("{}-{} s (frames {}-{}{}{})".format(_fmt_time(a), _fmt_time(b), fa, fb - 1,
                                                           "; TC {}-{}".format(*tc) if tc else "",
                                                           "; files {}-{}".format(*fn) if fn else "")
                        for (a, b), (fa, fb), tc, fn in zip(wm["ranges"], wm["frame_ranges"], tcs, fns))
        lines.append("  synthesised: {}".format(rng or "none"))
        # a cut holding two renders: the seconds another job marked, with that job's id and frames
        # (before 2026-12-06 "another job's mark (not job <the file's>)", the other id unsaid)
        file_job = (wm.get("payload") or {}).get("job_id")
        for job in [j for j in job_ranges(wm) if j["job_id"] != file_job] if file_job else []:
            secs = [[w["start"], w["end"]] for w in wm["windows"] if w.get("detected")
                    and w.get("payload_match") is False and _job_of(w, None) == job["job_id"]]
            runs = []
            for a, b in secs:  # (adjacent windows of one job joined)
                if runs and abs(runs[-1][1] - a) < 1e-6:
                    runs[-1][1] = b
                else:
                    runs.append([a, b])
            lines.append("  another job's mark, {}: {} (frames {})".format(
                "job " + job["job_id"] if job["job_id"] else "its job id unreadable",
                ", ".join("{}-{} s".format(_fmt_time(a), _fmt_time(b)) for a, b in runs[:12]) + (
                    " …" if len(runs) > 12 else ""), _frame_list(job["frame_ranges"])))
    else:
        lines.append("{}: no Reenact watermark found (best score {:.1f}, {})".format(
            r["file"], wm["score"], "one image" if r.get("kind") == "image" else "{} frames, {:.2f} s".format(
                r["frames"], r["duration"])))
    said = looked_again_words(wm)
    if said:
        lines.append("  " + said)
    if said and wm.get("looked_again") and pa.words(wm):  # (both looks said where both said something)
        lines.append("  " + pa.words(wm))
    wins = wm["windows"]
    if 1 < len(wins) <= 12:
        # said in words: before 2026-12-06 "-4.2" for a window not found read as a negative score, and
        # the second look's "(tile 2.0)" was shown on windows it did not find; a window the second look
        # found (the whole tile, the payload known) shows that score
        cells = ["{}-{}s {}".format(_fmt_time(w["start"]), _fmt_time(w["end"]), (
            "found (whole tile, score {:.1f})".format(w["second_look"]) if "second_look" in w else
            "found (score {:.1f})".format(w["score"])) if w["detected"] else "not found (score {:.1f})".format(
                w["score"])) for w in wins]
        for k in range(0, len(cells), 3):
            lines.append(("  windows: " if k == 0 else "           ") + "  ".join(cells[k:k + 3]))
    elif len(wins) > 12:  # long files: runs of windows with the same verdict
        runs = []
        for w in wins:
            if runs and runs[-1][0] == w["detected"]:
                runs[-1][2] = w["end"]
                runs[-1][3].append(w["score"])
            else:
                runs.append([w["detected"], w["start"], w["end"], [w["score"]]])
        lens = [round(w["end"] - w["start"], 2) for w in wins]
        if lens[-1] < max(lens[:-1]) and lens[-1] not in lens[:-1]:  # (a file's last window, cut short)
            lens = lens[:-1]
        sizes = sorted(set(lens))
        lines.append("  windows ({} x {} s):".format(len(wins), " and ".join("{:.2g}".format(x) for x in sizes[-2:]))
                     if len(sizes) <= 2 else "  windows ({}):".format(len(wins)))
        for det, a, b, sc in runs:
            lines.append("    {}-{} s  {}  score {:.1f}-{:.1f}".format(
                _fmt_time(a), _fmt_time(b), "detected" if det else "not detected", min(sc), max(sc)))
    if r.get("variable_rate"):
        lines.append("  variable frame rate: the seconds are the frames' own times")
    if r.get("fps_assumed"):
        lines.append("  a folder of frames has no rate: read at {:g} fps (--fps gives its rate; the seconds follow "
                     "it)".format(r["fps"]))
    if r.get("missing_frames"):  # (read as blank frames: a mark there would not be seen)
        mf = r["missing_frames"]
        lines.append("  {} frame(s) missing from the sequence ({}{}): read as blank".format(
            len(mf), ", ".join(str(m) for m in mf[:8]), ", ..." if len(mf) > 8 else ""))
    if r.get("truncated"):
        lines.append("  the file is truncated: verified on its first {} readable frames".format(r["frames"]))
    m = r.get("manifest")
    ms = r.get("manifests")
    if ms is not None:
        if not ms["signed"]:  # (before 2026-12-06 "0 of 96 frames signed, all valid")
            lines.append("  manifests: none of the {} frames signed".format(ms["frames"]))
        else:
            lines.append("  manifests: {} of {} frames signed, {}".format(
                ms["signed"], ms["frames"], "all valid" if ms["valid"] == ms["signed"] else "{} INVALID ({}{})".format(
                    ms["signed"] - ms["valid"], ", ".join(ms["invalid"]),
                    ", ..." if ms["signed"] - ms["valid"] > 10 else "")))
    if m is None:
        lines.append("  manifest: not checked")
    elif not m["present"]:
        lines.append("  manifest: absent" + (" ({})".format(m["errors"][0]) if m.get("errors") else ""))
    else:
        acts = ", ".join(str(a.get("action")) + (" ({})".format(str(a["digitalSourceType"]).rsplit("/", 1)[-1])
                                                 if a.get("digitalSourceType") else "") for a in m["actions"])
        lines.append("  manifest{}: present, {}{}, signer {!r}{}; actions: {}".format(
            " ({})".format(m["of"]) if m.get("of") else "",
            "valid" if m["valid"] else "INVALID",
            "" if not m["valid"] else _trust_words(m, r.get("trust")),
            m.get("signer"), " [{}]".format(", ".join(m["errors"])) if m["errors"] else "", acts or "none"))
        for a in m["actions"]:  # what a signed edit declares synthesised (Blender's render, `reenact sign`)
            said = declared_synthesised(a)
            if said:
                lines.append("  declared synthesised: " + ", ".join(said))

        def made_from(ings, depth):  # the ingredients' own manifests (a restyle of a dub: the dub's)
            for ing in ings:
                if ing.get("manifest"):
                    lines.append("  " + "  " * depth + "made from " + ingredient_words(ing))
                    made_from(ing["manifest"].get("ingredients") or [], depth + 1)

        made_from(m.get("ingredients") or [], 0)
    return "\n".join(printable(line) for line in lines)
