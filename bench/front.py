# SPDX-License-Identifier: GPL-3.0-or-later
"""What stands in front of the face: a real hand held before the mouth, and footage whose face
nothing covers.

A hand has the face's own colour and shading, so the survey's colour test (``render/front.py``)
misses most of it; the hand finder (``tracking/hands.py``) is meant to see it. The hand is a
real one: source_s29's hand (frame 80, her right hand over her wrist, cut out by the hand
finder's landmarks and GrabCut), given the target's skin colour (its shading kept), pasted
before the mouth of another actor's shot (driving_d19
and driving_d3 by default): it comes up from below over HAND_IN frames, covers the mouth and
chin, sways a little, and goes down again. Reported per clip:

- ``rows_kept`` / ``hand_rows``: the rows the survey keeps in front among the rows the hand
  covers the face (at least 2 % of its hull), and the rows kept outside them (false);
- ``hand_kept``: per hand row, the share of the hand's pixels on the face that the render's
  matte keeps (median, 10th percentile): 1 = all of the hand stays in front;
- ``render_changed``: a mouth dub of the clip (``transfer --mode mouth`` from driving_d10,
  ``render --region mouth --mouth shot``): the share of the hand's pixels on the face that the
  render changed by more than 8 levels (median, 90th percentile): 0 = the dub stays behind it;
  the same with ``--no-front`` (nothing kept: what the dub draws over it);
- ``track_*``: what the Track of the hand clip says (``Track.hidden``, the tracker's hand finder):
  the hand rows it flags and the rows without the hand it flags (should be 0), its share of the
  face against the pasted hand's, the confidence on hand rows and clear rows, and the head's
  rotation against the same frames tracked without the hand (both at 50 mm: the hand bends the
  landmarks beside it too, and the head's pitch with them);
- on the shared clips whose faces nothing covers: the rows kept (all should be 0), the
  survey's milliseconds a frame, the rows the Track flags (all should be 0) and the tracker's
  milliseconds a frame with and without its hand finder (first TIMED_FRAMES frames).

``rows_kept_colour_test_alone``: the same survey without the hand finder (the survey before it).

``--side N``: the targets scaled up so their longer side is N px first (the shared clips are
480-512 px; artists' footage is HD or 4K, where the tracker looks for hands on frames made
smaller: the figures should not move), the clean clips skipped; writes ``front_<N>.json``.

    python -m bench.front [--clips driving_d19,driving_d3] [--no-clean] [--side N] [--work DIR] [--sheet JPG]

Writes ``bench/results/front.json``. Skips with one line without ../shared/data. About 4 minutes.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import cv2
import numpy as np

from .reenact_measures import clip_path, cli, track_clip
from .scaled import scaled_clip

HERE = os.path.dirname(os.path.abspath(__file__))
HAND_SOURCE, HAND_FRAME = "source_s29", 80
#: the part of s29's frame the hand is looked for in (x0, y0, x1, y1)
HAND_REGION = (0, 780, 420, 1200)
#: clip frames of the hand clip: it comes in, holds, goes out; the clip's length
HAND_IN, HAND_HOLD, HAND_OUT, LENGTH = 40, 55, 100, 140
DRIVER = "driving_d10"
#: the tracker is timed on this many first frames of each clean clip
TIMED_FRAMES = 150
CLEAN = ("driving_d0", "driving_d3", "driving_d10", "driving_d11", "driving_d12", "driving_d13", "driving_d14",
         "driving_d18", "driving_d19", "driving_d20", "source_s20", "source_s29", "source_s32")


#: target -> the footage used for it (``--side``: the clip scaled up); the others are the clips
SOURCES = {}


def _target(name):
    return SOURCES.get(name) or clip_path(name)


def scale_up(name, side, work, log):
    """``name``'s first LENGTH frames scaled so their longer side is ``side`` px (in ``work``),
    tracked as the bench tracks a clip; used in its place from then on (:data:`SOURCES`)."""
    path = scaled_clip(clip_path(name), os.path.join(work, "{}_{}.mp4".format(name, side)), side, LENGTH)
    os.makedirs(os.path.join(work, "tracks"), exist_ok=True)
    cli(["track", path, "--out", os.path.join(work, "tracks", name + ".npz")], log)
    SOURCES[name] = path


def cut_hand():
    """(RGB uint8 (h, w, 3), alpha float32 (h, w)) of source_s29's hand (module doc)."""
    from reenact.tracking.hands import HandFinder, hand_mask
    from reenact.video import open_video

    with open_video(clip_path(HAND_SOURCE)) as v:
        frame = v.read(HAND_FRAME)
    x0, y0, x1, y1 = HAND_REGION
    crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
    H, W = crop.shape[:2]
    hands = HandFinder().find(crop, np.array([W / 2, H / 2, max(H, W), max(H, W), 0.0]))
    hands.sort(key=lambda p: p[:, 1].min())  # (the upper hand: the back of her right hand)
    m = hand_mask(hands[:1], crop.shape)
    gc = np.full(m.shape, cv2.GC_BGD, np.uint8)
    gc[cv2.dilate(m, np.ones((31, 31), np.uint8)) > 0] = cv2.GC_PR_BGD
    gc[m > 0] = cv2.GC_PR_FGD
    gc[cv2.erode(m, np.ones((15, 15), np.uint8)) > 0] = cv2.GC_FGD
    if len(hands) > 1:  # (the other hand is not pasted)
        gc[(hand_mask(hands[1:2], crop.shape) > 0) & (cv2.erode(m, np.ones((5, 5), np.uint8)) == 0)] = cv2.GC_BGD
    cv2.setRNGSeed(0)
    cv2.grabCut(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), gc, None, np.zeros((1, 65)), np.zeros((1, 65)), 8,
                cv2.GC_INIT_WITH_MASK)
    fg = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.uint8)
    n, lab, st, _ = cv2.connectedComponentsWithStats(fg)
    fg = (lab == 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    fg = cv2.erode(cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)), np.ones((3, 3), np.uint8))
    x, y, w, h = cv2.boundingRect(fg)
    alpha = cv2.GaussianBlur(fg[y:y + h, x:x + w].astype(np.float32), (0, 0), 1.0)
    return crop[y:y + h, x:x + w].copy(), alpha


def skin_matched(rgb, alpha, frame, face):
    """The hand ``rgb`` in the colour of the face's skin in ``frame`` (``face``: its hull): its
    Lab mean moved onto the face's median and its colour spread scaled to the face's (its
    shading kept), so it is the actor's own hand, the colour test's hard case."""
    hand = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)[face]
    on = alpha > 0.5
    for c in range(3):
        h = hand[..., c]
        mh, sh = float(np.median(h[on])), float(np.std(h[on])) + 1e-6
        mf, sf = float(np.median(lab[:, c])), float(np.std(lab[:, c]))
        hand[..., c] = mf + (h - mh) * (1.0 if c == 0 else min(1.0, sf / sh))
    return cv2.cvtColor(np.clip(np.round(hand), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def hand_place(track, j):
    """(centre (x, y), scale) of the hand on clip frame ``j`` of the hand clip, or None (not in
    the frame): below the frame before HAND_IN, up over the mouth by HAND_HOLD, swaying, down
    again after HAND_OUT."""
    L = np.asarray(track.landmarks[j, :468], np.float64)
    mouth = L[[13, 14, 61, 291]].mean(0)
    size = float(np.ptp(L[:, 0]))
    target = mouth + (0.05 * size, 0.15 * size)
    low = np.array([target[0], track.size[1] + 0.6 * size])
    if j < HAND_IN or j >= HAND_OUT + (HAND_HOLD - HAND_IN):
        return None
    if j < HAND_HOLD:
        t = (j - HAND_IN) / (HAND_HOLD - HAND_IN)
    elif j < HAND_OUT:
        t = 1.0
    else:
        t = 1.0 - (j - HAND_OUT) / (HAND_HOLD - HAND_IN)
    t = 0.5 - 0.5 * np.cos(np.pi * t)
    sway = 0.04 * size * np.array([np.sin(j / 7.0), np.cos(j / 11.0)])
    return low + (target - low) * t + sway, 1.0 * size / 181.0


def make_hand_clip(target, work, log):
    """The hand clip of ``target`` (module doc) in ``work``: (path, the hand's mask per frame
    {j: bool (H, W)})."""
    from reenact.face.track import Track
    from reenact.video import VideoWriter, open_video

    rgb, alpha = cut_hand()
    own = Track.load(track_clip(target, work, log))
    with open_video(_target(target)) as src:
        rgb = skin_matched(rgb, alpha, src.read(0), _hull(own, 0))
    path = os.path.join(work, "{}_hand.mp4".format(target))
    masks = {}
    with open_video(_target(target)) as src, VideoWriter(path, src.fps, src.size, crf=16) as wr:
        for j in range(min(LENGTH, len(src))):
            f = src.read(j)
            place = hand_place(own, j)
            if place is not None:
                (cx, cy), s = place
                h, w = alpha.shape
                M = np.float32([[s, 0, cx - s * w / 2], [0, s, cy - s * h / 2]])
                a = cv2.warpAffine(alpha, M, f.shape[1::-1], flags=cv2.INTER_LINEAR)[..., None]
                c = cv2.warpAffine(rgb, M, f.shape[1::-1], flags=cv2.INTER_LINEAR)
                f = np.round(f * (1 - a) + c * a).astype(np.uint8)
                masks[j] = a[..., 0] > 0.5
            wr.write(f)
    return path, masks


def _hull(track, r):
    face = np.zeros((track.size[1], track.size[0]), np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(np.ascontiguousarray(track.landmarks[r, :468], np.float32)).astype(np.int32), 1)
    return face > 0


def survey(path, own, hands):
    """The :class:`~reenact.render.front.InFront` of all of ``own``'s rows (``hands``: with the
    hand finder) and its seconds."""
    from reenact.render import front as F

    t0 = time.perf_counter()
    res = F.InFront(own, path, (0, own.n_frames), hands=hands)
    return res, time.perf_counter() - t0


def _sheet(path, out, dest, frames):
    """footage | nothing kept in front (``--no-front``: what the colour test alone drew here) |
    the render, at ``frames``, written to ``dest`` (JPEG)."""
    from reenact.video import open_video

    rows = []
    with open_video(path) as v:
        for j in frames:
            cols = [v.read(j)] + [cv2.cvtColor(cv2.imread(os.path.join(d, "frame_{:06d}.png".format(j))),
                                               cv2.COLOR_BGR2RGB) for d in (out + "_no_front", out)]
            rows.append(np.hstack([cv2.resize(c, (320, int(round(320 * c.shape[0] / c.shape[1])))) for c in cols]))
    img = np.vstack(rows)
    for k, label in enumerate(("footage", "before: drawn over the hand", "now: the hand kept in front")):
        cv2.putText(img, label, (8 + 320 * k, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2, cv2.LINE_AA)
    cv2.imwrite(dest, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def measure_hand_clip(target, work, log, sheet=None):
    from reenact.tracking.tracker import track_video
    from reenact.video import open_video

    path, masks = make_hand_clip(target, work, log)
    own = track_video(path)[0]
    tracking = _tracking(target, path, own, masks)
    own_path = os.path.join(work, "{}_hand.npz".format(target))
    own.save(own_path)
    front, seconds = survey(path, own, True)
    colour = survey(path, own, False)[0]
    on_face = {j: m & _hull(own, j) for j, m in masks.items()}
    hand_rows = sorted(j for j, m in on_face.items() if m.sum() >= 0.02 * _hull(own, j).sum())
    kept_rows = set(np.flatnonzero(front.rows).tolist())
    kept_share = []
    with open_video(path) as v:
        for j in hand_rows:
            m = front.matte(j, v.read(j))
            kept_share.append(0.0 if m is None else float((m[on_face[j]] > 0.5).mean()))
    # a mouth dub of the clip, rendered as a compositor would
    drv = track_clip(DRIVER, work, log)
    req = os.path.join(work, "{}_hand_request.npz".format(target))
    out = os.path.join(work, "{}_hand_render".format(target))
    cli(["transfer", "--source", drv, "--target", own_path, "--mode", "mouth", "--frames", "0:{}".format(own.n_frames),
         "--out", req], log)
    changed, over = [], []
    for dest, extra, into in ((out, [], changed), (out + "_no_front", ["--no-front"], over)):
        cli(["render", req, "--video", path, "--model", "base256", "--out", dest, "--region", "mouth", "--mouth",
             "shot", "--cpu", "--job-id", "bench-front", "--cache", os.path.join(work, "cache")] + extra, log)
        with open_video(path) as v:
            for j in hand_rows:
                res = cv2.cvtColor(cv2.imread(os.path.join(dest, "frame_{:06d}.png".format(j))), cv2.COLOR_BGR2RGB)
                d = np.abs(res.astype(np.int16) - v.read(j).astype(np.int16)).max(-1)
                into.append(float((d[on_face[j]] > 8).mean()))
    if sheet:
        _sheet(path, out, sheet, [HAND_HOLD + 3, (HAND_HOLD + HAND_OUT) // 2, HAND_OUT - 3])
    return {
        "target": target, "hand_rows": len(hand_rows), "frames": int(own.n_frames),
        "rows_kept": int(len(kept_rows & set(hand_rows))),
        "rows_kept_colour_test_alone": int(colour.rows[hand_rows].sum()),
        "rows_kept_without_hand": int(len(kept_rows - set(range(HAND_IN, HAND_OUT + HAND_HOLD - HAND_IN)))),
        "hand_kept_median": round(float(np.median(kept_share)), 3) if kept_share else None,
        "hand_kept_p10": round(float(np.percentile(kept_share, 10)), 3) if kept_share else None,
        "render_changed_median": round(float(np.median(changed)), 3) if changed else None,
        "render_changed_p90": round(float(np.percentile(changed, 90)), 3) if changed else None,
        "render_changed_no_front_median": round(float(np.median(over)), 3) if over else None,
        "largest_share": round(float(np.nanmax(front.share)), 3),
        "survey_ms_per_frame": round(1000 * seconds / own.n_frames, 1),
        **tracking,
    }


def _rotation_deg(a, b):
    from reenact.face.camera import euler_to_matrix

    return np.array([np.degrees(np.arccos(np.clip((np.trace(euler_to_matrix(p[:3]).T @ euler_to_matrix(q[:3])) - 1) / 2,
                                                  -1, 1))) for p, q in zip(a, b)])


def _tracking(target, path, own, masks):
    """What the Track of the hand clip says about the hand (module doc: ``track_*``), and how far
    its head turns from the same frames' without the hand (both at a 50 mm focal length)."""
    from reenact.tracking.tracker import track_video

    share = np.array([(masks[j] & _hull(own, j)).sum() / _hull(own, j).sum() if j in masks else 0.0
                      for j in range(own.n_frames)])
    hand, clear = share >= 0.02, share == 0.0
    hidden = np.nan_to_num(own.hidden)
    plain = track_video(_target(target), frames=(0, own.n_frames), focal_mm=50)[0]
    fixed = track_video(path, focal_mm=50)[0]
    err = _rotation_deg(fixed.pose, plain.pose)
    return {
        "track_hidden_rows": int((hidden[hand] > 0).sum()),
        "track_hidden_outside": int((hidden[clear] > 0).sum()),
        "track_hidden_median": round(float(np.median(hidden[hand])), 3),
        "hand_share_median": round(float(np.median(share[hand])), 3),
        "track_confidence_hand_median": round(float(np.median(own.confidence[hand])), 3),
        "track_confidence_clear_median": round(float(np.median(own.confidence[clear])), 3),
        "track_rotation_error_hand_deg": round(float(np.median(err[hand])), 2),
        "track_rotation_error_clear_deg": round(float(np.median(err[clear])), 2),
        # (the head's pitch under the hand, less the same frames' without it: + = read as nodding down)
        "track_pitch_bias_hand_deg": round(float(np.median(np.degrees(fixed.pose[hand, 0] - plain.pose[hand, 0]))), 2),
    }


def measure_clean(name, work, log):
    from reenact.face.track import Track
    from reenact.tracking.tracker import track_video

    own = Track.load(track_clip(name, work, log))
    front, seconds = survey(clip_path(name), own, True)
    ms = {}
    for hands in (True, False):  # (the tracker with and without its hand finder, on the first frames)
        t0 = time.perf_counter()
        n = track_video(clip_path(name), frames=(0, TIMED_FRAMES), hands=hands)[0].n_frames
        ms[hands] = round(1000 * (time.perf_counter() - t0) / n, 1)
    return {"clip": name, "rows_kept": int(front.rows.sum()), "largest_share": round(float(np.nanmax(front.share)), 3),
            "survey_ms_per_frame": round(1000 * seconds / own.n_frames, 1),
            "track_hidden_rows": int((np.nan_to_num(own.hidden) > 0).sum()),
            "track_ms_per_frame": ms[True], "track_ms_per_frame_no_hands": ms[False]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", default="driving_d19,driving_d3", help="targets of the hand clip")
    ap.add_argument("--no-clean", action="store_true", help="skip the clips nothing covers")
    ap.add_argument("--side", type=int, default=None, metavar="N",
                    help="scale the targets up to N px on their longer side first (the clean clips skipped)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--sheet", default=None, metavar="JPG", help="write the first clip's contact sheet here")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if not os.path.isfile(clip_path(HAND_SOURCE)):
        print("bench.front: ../shared/data not present; skipped")
        return 0
    out = a.out or os.path.join(HERE, "results", "front.json" if a.side is None else "front_{}.json".format(a.side))
    log = []
    with tempfile.TemporaryDirectory() as tmp:
        work = a.work or tmp
        os.makedirs(work, exist_ok=True)
        targets = [t for t in a.clips.split(",") if t]
        for t in targets if a.side else ():
            scale_up(t, a.side, work, log)
        rows = [measure_hand_clip(t, work, log, a.sheet if k == 0 else None)
                for k, t in enumerate(targets)]
        clean = [] if a.no_clean or a.side else [measure_clean(c, work, log) for c in CLEAN]
    print("a hand of the face's own colour before the mouth:")
    print("| target | hand rows | kept (colour test alone) | kept elsewhere | hand kept by the matte, median (p10) | "
          "changed by the dub, median (p90) | with --no-front | survey ms/frame |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| {target} | {hand_rows} | {rows_kept} ({rows_kept_colour_test_alone}) | {rows_kept_without_hand} | "
              "{hand_kept_median} ({hand_kept_p10}) | "
              "{render_changed_median} ({render_changed_p90}) | {render_changed_no_front_median} | "
              "{survey_ms_per_frame} |".format(**r))
    print("\nthe tracker (the Track of the hand clip):")
    print("| target | hand rows | flagged `hidden` (outside) | hidden, median (the hand's share) | confidence hand / "
          "clear rows | head rotation off, hand / clear rows (pitch bias) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| {target} | {hand_rows} | {track_hidden_rows} ({track_hidden_outside}) | {track_hidden_median} "
              "({hand_share_median}) | {track_confidence_hand_median} / {track_confidence_clear_median} | "
              "{track_rotation_error_hand_deg}° / {track_rotation_error_clear_deg}° ({track_pitch_bias_hand_deg}°) |"
              .format(**r))
    if clean:
        print("faces nothing covers: rows kept {} (largest share {}), survey {:.1f}-{:.1f} ms a frame; rows the Track "
              "flags hidden {}; tracking {:.1f}-{:.1f} ms a frame ({:.1f}-{:.1f} without the hand finder)".format(
                  sum(c["rows_kept"] for c in clean), max(c["largest_share"] for c in clean),
                  min(c["survey_ms_per_frame"] for c in clean), max(c["survey_ms_per_frame"] for c in clean),
                  sum(c["track_hidden_rows"] for c in clean),
                  min(c["track_ms_per_frame"] for c in clean), max(c["track_ms_per_frame"] for c in clean),
                  min(c["track_ms_per_frame_no_hands"] for c in clean),
                  max(c["track_ms_per_frame_no_hands"] for c in clean)))
    res = {"command": "python -m bench.front " + " ".join(argv if argv is not None else sys.argv[1:]),
           "hand_clip": rows, "clean": clean,
           "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
