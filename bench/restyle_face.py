# SPDX-License-Identifier: GPL-3.0-or-later
"""Face to face, unpaired (issue 12): X = one actor's clip, Y = another actor's clip, both cropped
to the face; a restyle model trained X -> Y is applied to X, and the result is re-tracked with
reenact's tracker. The result should keep X's performance (mouth and eye openings, against X's
own re-tracked crop: correlation) and take Y's look (fitted identity shape and face colour: nearer
Y than X?); temporal flicker: warping error (flow from the input) over the input's own.

    python -m bench.restyle_face prepare                      # face crops of X and Y (lossless)
    python -m bench.restyle_face train --name face-recycle --minutes 10 [--set JSON]
    python -m bench.restyle_face eval                         # table + bench/results/restyle_face.json
    python -m bench.restyle_face reenact                      # the same measures for Reenact's own reenactment
                                                              # (transfer full + render region head; no training)

Transductive, as in Recycle-GAN's face-to-face: the model is applied to the X clip it trained on.
Clips from ../shared/data/clips (never committed; no picture of them is committed either).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
from .restyle import CLIPS  # noqa: E402  (the shared clips folder, or "")

WORK = os.environ.get("RESTYLE_FACE_WORK", "/tmp/restyle_face")
TRACK_CACHE = os.environ.get("REENACT_TRACK_CACHE", "/tmp/bh/tracks")


def _code_key():
    """A digest of the tracker's and the face fit's source: the Tracks and face crops cached in
    /tmp are named by it, so a run after a tracker change tracks afresh (before 2026-12-05 they
    were reused by the clip's name alone, and the figures came from the old tracker)."""
    import hashlib

    root = os.path.dirname(HERE)
    h = hashlib.sha1()
    for sub in ("tracking", "face"):
        for fn in sorted(os.listdir(os.path.join(root, sub))):
            if fn.endswith(".py"):
                with open(os.path.join(root, sub, fn), "rb") as fh:
                    h.update(fn.encode() + fh.read())
    return h.hexdigest()[:10]


CODE = _code_key()
RESULTS = os.path.join(HERE, "results", "restyle_face.json")
X_CLIP, Y_CLIP = "driving_d12", "driving_d18"
CROP = 256
#: name: RestyleConfig overrides (size 128 unless --size)
MODELS = {"face-recycle": dict(method="recycle"),
          "face-cycle": dict(method="cycle"),
          "face-recycle-unet": dict(method="recycle", arch="unet", disc="patch"),
          "face-cycle-unet": dict(method="cycle", arch="unet", disc="patch")}

# MediaPipe landmark indices: inner lips, eye corners, eyelids
LIP = (13, 14)
EYE_L, EYE_R = (33, 133), (362, 263)
LID_L, LID_R = (159, 145), (386, 374)


def _path(name):
    return os.path.join(CLIPS, name + ".mp4")


def _crop_path(name):
    return os.path.join(WORK, "{}_face_{}.mkv".format(name, CODE))


def clip_track(path, cache=None):
    from reenact.face.track import Track
    from reenact.tracking.tracker import track_video

    if cache and os.path.isfile(cache):
        return Track.load(cache)
    tr = track_video(path)[0]
    if cache:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        tr.save(cache)
    return tr


def face_box(landmarks, size, scale=1.5):
    """One square (x, y, side) for the whole clip: the union of the tracked faces, ``scale`` x its
    larger side, moved inside the frame."""
    P = landmarks[np.isfinite(landmarks[:, 0, 0])]
    lo, hi = np.nanmin(P.reshape(-1, 2), 0), np.nanmax(P.reshape(-1, 2), 0)
    c = (lo + hi) / 2.0
    side = int(min(scale * float((hi - lo).max()), size[0], size[1]))
    x = int(np.clip(round(c[0] - side / 2), 0, size[0] - side))
    y = int(np.clip(round(c[1] - side / 2), 0, size[1] - side))
    return x, y, side


def cmd_prepare(a, names=(X_CLIP, Y_CLIP)):
    import cv2

    from reenact.video import VideoWriter, open_video

    os.makedirs(WORK, exist_ok=True)
    info = {}
    for name in names:
        tr = clip_track(_path(name), os.path.join(TRACK_CACHE, "{}_{}.npz".format(name, CODE)))
        with open_video(_path(name)) as src:
            x, y, side = face_box(np.asarray(tr.landmarks), (src.width, src.height))
            with VideoWriter(_crop_path(name), src.fps, (CROP, CROP), lossless=True) as w:
                for _, f in src.iter_frames():
                    w.write(cv2.resize(f[y:y + side, x:x + side], (CROP, CROP), interpolation=cv2.INTER_AREA))
            info[name] = {"box": [x, y, side], "frames": len(src), "fps": src.fps}
    print(json.dumps(info))
    return 0


def cmd_train(a):
    import torch

    from reenact.restyle.config import RestyleConfig
    from reenact.restyle.train import train

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    over = dict(MODELS[a.job or a.name] if (a.job or a.name) in MODELS else {}, **json.loads(a.set or "{}"))
    cfg = RestyleConfig(size=a.size, **over)
    out = os.path.join(WORK, a.name + ".onnx")
    s = train([_crop_path(X_CLIP)], [_crop_path(Y_CLIP)], out, cfg, steps=a.steps, minutes=a.minutes,
              report=os.path.join(WORK, a.name + ".json"), preview=os.path.join(WORK, a.name + ".png"),
              resume=not a.no_resume, cache_dir=os.path.join(WORK, "cache"))
    print(json.dumps({k: v for k, v in s.items() if k != "history"}))
    return 0


# ------------------------------------------------------------------------------- measures
def _dist(P, i, j):
    return np.linalg.norm(P[:, i] - P[:, j], axis=-1)


def openings(track):
    """(mouth, eyes): inner-lip gap and mean eyelid gap, over the inter-ocular distance, per frame."""
    P = np.asarray(track.landmarks, np.float64)
    iod = np.linalg.norm((P[:, EYE_L[0]] + P[:, EYE_L[1]]) / 2 - (P[:, EYE_R[0]] + P[:, EYE_R[1]]) / 2, axis=-1)
    mouth = _dist(P, *LIP) / iod
    eyes = (_dist(P, *LID_L) / _dist(P, *EYE_L) + _dist(P, *LID_R) / _dist(P, *EYE_R)) / 2
    return mouth, eyes


def corr(a, b):
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def identity_rms(a, b):
    """RMS vertex distance (cm) between two fitted identity shapes, each centred."""
    a = np.asarray(a.identity, np.float64)
    b = np.asarray(b.identity, np.float64)
    return float(np.sqrt((((a - a.mean(0)) - (b - b.mean(0))) ** 2).sum(-1).mean()))


def face_colour(frames, track):
    """Mean CIELAB colour inside the tracked face (convex hull of the landmarks), over the clip."""
    import cv2

    acc = []
    for f, P in zip(frames, np.asarray(track.landmarks)):
        if not np.isfinite(P).all():
            continue
        m = np.zeros(f.shape[:2], np.uint8)
        cv2.fillConvexPoly(m, cv2.convexHull(np.round(P[:468]).astype(np.int32)), 1)
        lab = cv2.cvtColor(f, cv2.COLOR_RGB2LAB).astype(np.float32)
        acc.append(lab[m > 0].mean(0) * np.array([100 / 255.0, 1, 1]) - np.array([0, 128, 128]))
    return np.mean(acc, 0)


def _frames(path):
    from reenact.video import open_video

    with open_video(path) as src:
        return [f for _, f in src.iter_frames()]


def _domains(xn, yn):
    """Both clips' crops (X, Y), their Tracks (tx, ty), X's openings (mx, ex), the face colours
    (col_x, col_y) and the result's head (res: names, sizes, X vs Y, no models yet)."""
    from reenact.tracking.tracker import track_video

    X, Y = _frames(_crop_path(xn)), _frames(_crop_path(yn))
    tx, ty = track_video(_crop_path(xn))[0], track_video(_crop_path(yn))[0]
    mx, ex = openings(tx)
    col_x, col_y = face_colour(X, tx), face_colour(Y, ty)
    res = {"x": xn, "y": yn, "crop": CROP, "frames": len(X),
           "x_vs_y": {"identity_rms_cm": identity_rms(tx, ty), "face_lab_dist": float(np.linalg.norm(col_x - col_y))},
           "models": {}}
    return dict(X=X, Y=Y, tx=tx, ty=ty, mx=mx, ex=ex, col_x=col_x, col_y=col_y, res=res)


def cmd_eval(a):
    from reenact.restyle.apply import RestyleModel, restyle_frames
    from reenact.restyle.metrics import flows_with_occlusion, warping_error
    from reenact.tracking.tracker import track_video
    from reenact.video import VideoWriter

    d = _domains(X_CLIP, Y_CLIP)
    X, Y, tx, ty, mx, ex, col_x, col_y = (d[k] for k in ("X", "Y", "tx", "ty", "mx", "ex", "col_x", "col_y"))
    small = [f.astype(np.float32) / 255.0 for f in X]
    flows = flows_with_occlusion(small)
    warp_x = warping_error(small, flows)
    res = dict(d["res"], stabilise=a.stabilise)
    for name in sorted(MODELS) + sorted(set(a.extra or [])):
        p = os.path.join(WORK, name + ".onnx")
        if not os.path.isfile(p):
            continue
        m = RestyleModel(p, prefer_gpu=False)
        t0 = time.perf_counter()
        R = restyle_frames(m, X, a.stabilise)
        ms = 1000 * (time.perf_counter() - t0) / len(X)
        out = os.path.join(WORK, name + "_result.mkv")
        with VideoWriter(out, 25.0, (CROP, CROP), lossless=True) as w:
            for f in R:
                w.write(f)
        tr = track_video(out)[0]
        mr, er = openings(tr)
        col_r = face_colour(R, tr)
        info = {}
        jp = os.path.join(WORK, name + ".json")
        if os.path.isfile(jp):
            with open(jp) as fh:
                j = json.load(fh)
            info = {"steps": j["steps"], "train_minutes": round(j["train_seconds"] / 60.0, 1),
                    "config": {k: j["config"][k] for k in ("method", "arch", "disc", "size")}}
        res["models"][name] = dict(
            info, ms_per_frame=round(ms, 1),
            tracked=float(np.mean(np.isfinite(np.asarray(tr.landmarks)[:, 0, 0]))),
            mouth_r=corr(mr, mx), eyes_r=corr(er, ex),
            mouth_mae_iod=float(np.nanmean(np.abs(mr - mx))),
            warp_ratio_input=warping_error([f.astype(np.float32) / 255.0 for f in R], flows) / warp_x,
            identity_rms_cm_to_x=identity_rms(tr, tx), identity_rms_cm_to_y=identity_rms(tr, ty),
            face_lab_dist_to_x=float(np.linalg.norm(col_r - col_x)),
            face_lab_dist_to_y=float(np.linalg.norm(col_r - col_y)),
            mean_abs_change=float(np.mean([np.abs(r.astype(np.float32) - x).mean() for r, x in zip(R, X)])))
        if a.sheet:
            import cv2

            k = [len(X) // 4, len(X) // 2, 3 * len(X) // 4]
            rows = [np.concatenate([X[i], R[i], Y[min(i, len(Y) - 1)]], 1) for i in k]
            cv2.imwrite(os.path.join(WORK, name + "_sheet.png"), np.concatenate(rows, 0)[..., ::-1])
    _write(res, RESULTS)
    return 0


def _write(res, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as fh:
        json.dump(res, fh, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)
    print_table(res)


def cmd_reenact(a):
    """The reenactment row alone (no training; in ``make bench``): the crops made when missing."""
    xn, yn = a.x, a.y
    if not all(os.path.isfile(_crop_path(n)) for n in (xn, yn)):
        cmd_prepare(a, (xn, yn))
    d = _domains(xn, yn)
    res = d.pop("res")
    res["models"]["reenact-head"] = reenact_row(sheet=a.sheet, y_name=yn, **d)
    _write(res, a.out or os.path.join(HERE, "results", "restyle_face_reenact{}.json".format(
        "" if (xn, yn) == (X_CLIP, Y_CLIP) else "_{}_{}".format(xn, yn))))
    return 0


def reenact_row(X, Y, tx, ty, mx, ex, col_x, col_y, sheet=False, y_name=Y_CLIP):  # (:func:`_domains`' fields)
    """The same measures for Reenact's own way of putting X's performance on Y: no restyle
    network, but ``transfer --mode full`` (X's head motion, expressions and gaze onto Y's Track)
    and ``render --region head`` on Y's footage (Y's own pixels, moved by the fitted meshes;
    Y's room around the head). The transfer goes by time (Y's frame t takes X at t x X's rate /
    Y's rate), so X's openings are read at those times. Its frames are Y's shot, not X's
    layout: its warping error is read with the result's own flow, over X's own (the motion is
    X's performance), and "change" is against Y's footage."""
    from reenact.face.transfer import transfer
    from reenact.render.pipeline import render_clip
    from reenact.restyle.metrics import flows_with_occlusion, warping_error
    from reenact.tracking.tracker import track_video
    from reenact.video import VideoWriter

    pos = np.arange(len(Y)) * float(tx.fps) / float(ty.fps)  # X's frame (fractional) at each Y frame
    n = int(np.sum(pos <= len(X) - 1))
    pos = pos[:n]
    req = transfer(tx, ty, "full", frames=(0, n))
    got = {}
    t0 = time.perf_counter()
    s = render_clip(req, _crop_path(y_name), None, frames=(0, n), region="head", crop_track=ty, prefer_gpu=False,
                    cache_dir=os.path.join(WORK, "reenact_cache"), on_frame=lambda i, f: got.__setitem__(i, f.copy()))
    ms = 1000 * (time.perf_counter() - t0) / n
    R = [got[i] for i in range(n)]
    out = os.path.join(WORK, "reenact-head_{}_result.mkv".format(y_name))
    with VideoWriter(out, float(ty.fps), (CROP, CROP), lossless=True) as w:
        for f in R:
            w.write(f)
    tr = track_video(out)[0]
    mr, er = openings(tr)
    at = np.arange(len(mx))
    mx_t, ex_t = np.interp(pos, at, mx), np.interp(pos, at, ex)  # X's openings at Y's frame times
    col_r = face_colour(R, tr)

    def own_warp(frames):
        small = [f.astype(np.float32) / 255.0 for f in frames]
        return warping_error(small, flows_with_occlusion(small))

    if sheet:
        import cv2

        k = [n // 4, n // 2, 3 * n // 4]
        rows = [np.concatenate([X[int(round(pos[i]))], R[i], Y[i]], 1) for i in k]
        cv2.imwrite(os.path.join(WORK, "reenact-head_{}_sheet.jpg".format(y_name)), np.concatenate(rows, 0)[..., ::-1],
                    [cv2.IMWRITE_JPEG_QUALITY, 88])
    return dict(method="reenactment: transfer --mode full X -> Y, render --region head on Y's footage",
                steps=0, train_minutes=0.0, ms_per_frame=round(ms, 1), rendered=s["rendered"], frames=n,
                unseen_pose_frames=int(sum(b - a for a, b, _ in s["unseen_pose"])),
                tracked=float(np.mean(np.isfinite(np.asarray(tr.landmarks)[:, 0, 0]))),
                mouth_r=corr(mr, mx_t), eyes_r=corr(er, ex_t), mouth_r_to_y_footage=corr(mr, openings(ty)[0][:n]),
                mouth_mae_iod=float(np.nanmean(np.abs(mr - mx_t))),
                warp_ratio_input=own_warp(R) / own_warp(X), warp_note="own flow, over X's own",
                identity_rms_cm_to_x=identity_rms(tr, tx), identity_rms_cm_to_y=identity_rms(tr, ty),
                face_lab_dist_to_x=float(np.linalg.norm(col_r - col_x)),
                face_lab_dist_to_y=float(np.linalg.norm(col_r - col_y)),
                mean_abs_change=float(np.mean([np.abs(r.astype(np.float32) - y).mean() for r, y in zip(R, Y)])),
                change_note="against Y's footage")


def print_table(res):
    xy = res["x_vs_y"]
    print("Face to face: X = {} -> Y = {} ({} frames, {}x{} face crops); X vs Y: identity {:.3f} cm, face "
          "colour {:.1f} Lab".format(res["x"], res["y"], res["frames"], res["crop"], res["crop"],
                                     xy["identity_rms_cm"], xy["face_lab_dist"]))
    print("| model | steps, min | tracked | mouth r | eyes r | warp / input | identity to X / Y cm | "
          "face colour to X / Y | mean change |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, m in res["models"].items():
        print("| {} | {}, {} | {:.2f} | {:.3f} | {:.3f} | {:.2f} | {:.3f} / {:.3f} | {:.1f} / {:.1f} | {:.1f} |".format(
            n, m.get("steps"), m.get("train_minutes"), m["tracked"], m["mouth_r"], m["eyes_r"], m["warp_ratio_input"],
            m["identity_rms_cm_to_x"], m["identity_rms_cm_to_y"], m["face_lab_dist_to_x"], m["face_lab_dist_to_y"],
            m["mean_abs_change"]))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.restyle_face", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("prepare")
    t = sub.add_parser("train")
    t.add_argument("--name", required=True)
    t.add_argument("--job", default=None, choices=sorted(MODELS), help="configuration (default: --name's)")
    t.add_argument("--minutes", type=float, default=None)
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--size", type=int, default=128)
    t.add_argument("--set", default=None, help="JSON of RestyleConfig overrides")
    t.add_argument("--no-resume", action="store_true")
    e = sub.add_parser("eval")
    e.add_argument("--stabilise", type=float, default=0.8)
    e.add_argument("--extra", action="append", help="also evaluate WORK/NAME.onnx")
    e.add_argument("--sheet", action="store_true", help="X | result | Y pictures into WORK (not the repository)")
    r = sub.add_parser("reenact", help="Reenact's own reenactment of X onto Y (no training; in make bench)")
    r.add_argument("--sheet", action="store_true", help="X | result | Y pictures into WORK (not the repository)")
    r.add_argument("--out", default=None, help="JSON (default bench/results/restyle_face_reenact[_X_Y].json)")
    r.add_argument("--x", default=X_CLIP, help="the performer's clip (default %(default)s)")
    r.add_argument("--y", default=Y_CLIP, help="the actor who takes it (default %(default)s)")
    a = p.parse_args(argv)
    if not CLIPS:
        print("skipping the face-to-face benchmark: ../shared/data/clips not present")
        return 0
    if a.cmd is None:
        p.print_help()
        return 2
    return {"prepare": cmd_prepare, "train": cmd_train, "eval": cmd_eval, "reenact": cmd_reenact}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
