# SPDX-License-Identifier: GPL-3.0-or-later
"""Neural renderer inference with onnxruntime (no torch).

:class:`NeuralRenderer` opens a renderer exported by :mod:`reenact.training.export` through the
project's session factory (CUDA when it really loads, CPU otherwise; ``provider`` says which),
reads its configuration from the ONNX metadata, runs batches of conditioning stacks and returns
crops. :func:`render_frames` drives a whole Track over a clip: crops, conditioning window,
inference, and paste-back through :func:`reenact.inference.composite.paste_back`.
"""

import json
import os

import numpy as np

from .session import CUDA, create_session, session_provider

BASE_MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "renderer_base.onnx")


class NeuralRenderer:
    def __init__(self, path=BASE_MODEL, prefer_gpu=True, threads=None):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ValueError("{}: renderer model not found".format(os.path.basename(path)))
        sess = create_session(path, prefer_gpu=prefer_gpu, threads=threads)
        if session_provider(sess) == CUDA:  # the fp16 variant, when it was exported beside it
            p16 = os.path.splitext(path)[0] + ".fp16.onnx"
            if os.path.isfile(p16):
                s16 = create_session(p16, prefer_gpu=True, threads=threads)
                if session_provider(s16) == CUDA:
                    sess, path = s16, p16
        meta = sess.get_modelmeta().custom_metadata_map
        if "reenact.config" not in meta:
            raise ValueError("{}: not a Reenact renderer (no reenact.config metadata)".format(os.path.basename(path)))
        self.config = json.loads(meta["reenact.config"])
        self.path = path
        self.sess = sess
        self.provider = session_provider(sess)
        self.size = int(self.config["size"])
        self.window = int(self.config["window"])
        self.mode = self.config["mode"]
        self.input_name = sess.get_inputs()[0].name
        self.output_name = sess.get_outputs()[0].name

    def run(self, x, batch=8):
        """(N, C, H, W) float32 0..1 -> (N, H, W, 3) uint8 crops, ``batch`` at a time."""
        x = np.ascontiguousarray(x, np.float32)
        outs = []
        for i in range(0, len(x), int(batch)):
            xb = x[i:i + int(batch)]
            if self.provider == CUDA:  # IO binding: output stays on the device until copied once
                io = self.sess.io_binding()
                io.bind_cpu_input(self.input_name, xb)
                io.bind_output(self.output_name, "cuda")
                self.sess.run_with_iobinding(io)
                y = io.copy_outputs_to_cpu()[0]
            else:
                y = self.sess.run([self.output_name], {self.input_name: xb})[0]
            outs.append(np.clip(y.transpose(0, 2, 3, 1) * 255.0 + 0.5, 0, 255).astype(np.uint8))
        return np.concatenate(outs) if outs else np.zeros((0, x.shape[2], x.shape[3], 3), np.uint8)


def render_frames(track, video, renderer, frames=None, region="face", batch=8, progress=None):
    """Yield ``(clip frame index, composited frame (H, W, 3) uint8)`` for clip frames
    ``frames = (a, b)`` (default: the whole clip). Frames the track does not cover or did not
    track are passed through unchanged. ``region``: ``face`` or ``mouth``."""
    from ..face.raster import Rasterizer, crop_frame, crop_transforms, hole_mask, stack_window
    from ..video import open_video
    from .composite import paste_back

    if region not in ("face", "mouth"):
        raise ValueError("region must be face or mouth")
    S, W = renderer.size, renderer.window
    xf = crop_transforms(track, S)
    rast = Rasterizer(track, S, xf)
    T = track.n_frames
    f0 = int(track.frame_start)
    cond_cache = {}

    def cond(r):
        if r not in cond_cache:
            cond_cache[r] = rast.cond(r) if rast.ok[r] else np.zeros((5, S, S), np.uint8)
            for k in [k for k in cond_cache if k < r - W]:
                del cond_cache[k]
        return cond_cache[r]

    with open_video(video) as src:
        n = len(src)
        a, b = (0, n) if frames is None else (max(0, int(frames[0])), min(n, int(frames[1])))
        pending = []

        def flush():
            xs = np.stack([p[3] for p in pending])
            crops = renderer.run(xs, batch)
            for (i, frame, r, _, mask), crop in zip(pending, crops):
                yield i, paste_back(frame, crop, mask, xf.Minv[r])
            pending.clear()

        for i, frame in src.iter_frames(a, b):
            r = i - f0
            if not (0 <= r < T) or not rast.ok[r]:
                yield from (flush() if pending else ())
                yield i, frame
                continue
            out = rast.render(r)
            cond_cache[r] = np.round(np.clip(np.concatenate(
                [out["corr"], out["eyes"][..., None], out["mouth"][..., None]], 2), 0, 1) * 255).astype(np.uint8).transpose(2, 0, 1)
            lo = max(0, r - W + 1)
            stack = np.stack([cond(k) for k in range(lo, r + 1)])
            hole = hole_mask(out["face"], S)
            x = stack_window(stack, len(stack) - 1, W, renderer.mode, crop_frame(frame, xf.M[r], S), hole)
            mask = hole if region == "face" else out["mouth_region"]
            pending.append((i, frame, r, x, mask))
            if len(pending) >= batch:
                yield from flush()
            if progress is not None:
                progress(i - a + 1, b - a)
        if pending:
            yield from flush()
