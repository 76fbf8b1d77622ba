# SPDX-License-Identifier: GPL-3.0-or-later
"""Train the renderer base on a lent GPU machine, and time the network there.

Two steps, one on each machine (docs/renderer.md, *The 256 px base*):

``python tools/gpu_base.py pack --tracks DIR --clips DIR --out PACK``
    here: checks every Track against its footage with the project's own check and writes
    ``PACK/footage.json`` (each clip's identity: size, frame count, rate, digest) beside copies of
    the Tracks and clips, so that the run there can check them without decoding the way this
    machine does.

``python tools/gpu_base.py train --pack PACK --out DIR [train options]``
    there: ``python -m reenact.training.train`` with ``--device cuda --workers N`` on the packed
    clips (all but ``--eval`` trained on), then the network's speed on that GPU (PyTorch fp32 /
    fp16, batch 1 and 16, 256²; onnxruntime's CUDA provider too when the machine has one).
    Where PyAV is missing (an image of its own), clips are decoded with OpenCV and their identity
    is the one ``pack`` recorded; the weights come back as ``weights.pt.partNN`` pieces (the machine
    returns files under 16 MiB), joined here by ``python tools/gpu_base.py join``.
"""

import argparse
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))  # reenact must be importable (installed, or on PYTHONPATH)

PIECE = 12 * 1024 * 1024


def pack(a):
    import shutil

    from reenact.face.track import Track
    from reenact.video.identity import check_footage, footage_id

    os.makedirs(a.out, exist_ok=True)
    ids = {}
    for tp in sorted(glob.glob(os.path.join(a.tracks, "*.npz"))):
        name = os.path.splitext(os.path.basename(tp))[0]
        video = os.path.join(a.clips, name + ".mp4")
        check_footage(Track.load(tp), video, track_label=tp)
        fid = footage_id(video)
        ids[name] = dict(width=fid.width, height=fid.height, frames=fid.frames, rate=fid.rate, digest=fid.digest)
        shutil.copyfile(tp, os.path.join(a.out, name + ".npz"))
        shutil.copyfile(video, os.path.join(a.out, name + ".mp4"))
    with open(os.path.join(a.out, "footage.json"), "w") as fh:
        json.dump(ids, fh, indent=1, sort_keys=True)
    print("packed {} clips: {}".format(len(ids), ", ".join(sorted(ids))))


class _CvVideo:
    """Sequential RGB frames of a movie through OpenCV (where PyAV is missing)."""

    def __init__(self, path):
        import cv2

        self.cap = cv2.VideoCapture(str(path))
        if not self.cap.isOpened():
            raise OSError("{}: OpenCV cannot open it".format(path))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cap.release()

    def iter_frames(self, start=0, stop=None, step=1):
        import cv2

        i = 0
        while stop is None or i < stop:
            ok, bgr = self.cap.read()
            if not ok:
                break
            if i >= start and (i - start) % step == 0:
                yield i, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            i += 1


def _without_pyav(pack_dir):
    """Point the training's decoding and footage identity at OpenCV and ``footage.json``."""
    from reenact.training import data as D
    from reenact.training import train as T
    from reenact.video import identity as I

    with open(os.path.join(pack_dir, "footage.json")) as fh:
        ids = json.load(fh)

    def footage_id(video):
        name = os.path.splitext(os.path.basename(str(video)))[0]
        return I.FootageId(label=str(video), **ids[name])

    I.footage_id = T.footage_id = footage_id
    D.open_video = lambda path, **kw: _CvVideo(path)


def _speed(log):
    """ms per frame of the bundled base's network at 256² on this GPU (:func:`reenact.training.speed.cuda_speed`)."""
    from reenact.training.speed import cuda_speed

    res = cuda_speed(os.path.join(os.path.dirname(HERE), "models", "renderer_base.pt"))
    log("speed: " + json.dumps(res))
    return res


def train(a, rest):
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    log_fh = open(os.path.join(out, "log.txt"), "a")

    def log(*parts):
        line = " ".join(str(p) for p in parts)
        print(line, file=sys.stderr, flush=True)
        log_fh.write(line + "\n")
        log_fh.flush()

    t0 = time.time()
    import importlib.util

    if a.opencv or importlib.util.find_spec("av") is None:
        log("no PyAV here (or --opencv): decoding with OpenCV, footage identity from footage.json")
        _without_pyav(a.pack)
    from reenact.training import train as T

    if a.speed_first:
        try:
            _speed(log)
        except Exception as exc:  # noqa: BLE001 - the training matters more
            log("speed: failed: {}".format(exc))
    names = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(a.pack, "*.npz")))
    data = [(os.path.join(a.pack, n + ".npz"), os.path.join(a.pack, n + ".mp4")) for n in names if n not in a.eval]
    ev = [(os.path.join(a.pack, n + ".npz"), os.path.join(a.pack, n + ".mp4")) for n in names if n in a.eval]
    log("training on {} clips: {}; evaluated on {}".format(len(data), ", ".join(n for n in names if n not in a.eval),
                                                          ", ".join(a.eval)))
    T.export_onnx = lambda model, path, config, fp16=True, **kw: {"skipped": "exported on the machine that joins the weights"}
    argv = sum((["--data", "{}={}".format(*p)] for p in data), []) + sum((["--eval-data", "{}={}".format(*p)] for p in ev), [])
    argv += ["--out", os.path.join(out, "model.onnx"), "--report", os.path.join(out, "metrics.json"),
             "--preview", os.path.join(out, "preview.png"), "--no-int8"] + rest
    log("train " + " ".join(argv))
    rc = T.main(argv)
    log("train exit {} after {:.0f} s".format(rc, time.time() - t0))
    pt = os.path.join(out, "model.pt")
    ck = os.path.join(out, "model.ckpt.pt")
    if not os.path.isfile(pt) and os.path.isfile(ck):  # stopped early: the last checkpoint's weights
        from reenact.training.files import load_torch, save_torch

        d = load_torch(ck, ("config", "model", "step"))
        save_torch({"config": d["config"], "state_dict": d["model"]}, pt)
        log("weights of the checkpoint at step {}".format(d["step"]))
    if os.path.isfile(pt):
        with open(pt, "rb") as fh:
            blob = fh.read()
        for k in range(0, len(blob), PIECE):
            with open(os.path.join(out, "weights.pt.part{:02d}".format(k // PIECE)), "wb") as fh:
                fh.write(blob[k:k + PIECE])
        for f in glob.glob(os.path.join(out, "model*")):
            os.remove(f)
    if not a.speed_first:
        try:
            res = _speed(log)
            with open(os.path.join(out, "speed.json"), "w") as fh:
                json.dump(res, fh, indent=1, sort_keys=True)
        except Exception as exc:  # noqa: BLE001
            log("speed: failed: {}".format(exc))
    log("done after {:.0f} s".format(time.time() - t0))
    return rc


def join(a):
    """Join ``weights.pt.partNN`` into ``--out`` (a weights file of ``save_weights``), then export
    it (ONNX fp32 + fp16, parity checked) beside it."""
    from reenact.training.export import export_onnx
    from reenact.training.train import build_model, load_weights

    parts = sorted(glob.glob(os.path.join(a.parts, "weights.pt.part*")))
    if not parts:
        raise SystemExit("{}: no weights.pt.partNN files".format(a.parts))
    from reenact.fsutil import write_atomic

    def write(fh):
        for p in parts:
            with open(p, "rb") as src:
                fh.write(src.read())

    write_atomic(a.out, write)  # whole or not at all
    cfg, state = load_weights(a.out)  # weights only: refuses anything else
    model = build_model(cfg)
    model.load_state_dict(state)
    model.eval()
    onnx = os.path.splitext(a.out)[0] + ".onnx"
    print(json.dumps(export_onnx(model, onnx, cfg, fp16=True), sort_keys=True))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("pack")
    q.add_argument("--tracks", required=True)
    q.add_argument("--clips", required=True)
    q.add_argument("--out", required=True)
    q = sub.add_parser("train")
    q.add_argument("--pack", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--eval", action="append", default=[], help="clip names evaluated, never trained on")
    q.add_argument("--speed-first", action="store_true")
    q.add_argument("--opencv", action="store_true", help="decode with OpenCV even where PyAV is installed")
    q = sub.add_parser("join")
    q.add_argument("--parts", required=True)
    q.add_argument("--out", required=True)
    a, rest = p.parse_known_args(argv)
    if a.cmd == "train":
        return train(a, rest)
    if rest:
        p.error("unrecognized arguments: " + " ".join(rest))
    return pack(a) if a.cmd == "pack" else join(a)


if __name__ == "__main__":
    sys.exit(main())
