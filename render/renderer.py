# SPDX-License-Identifier: GPL-3.0-or-later
"""Neural renderer inference with onnxruntime (no torch).

:class:`NeuralRenderer` opens a renderer exported by :mod:`reenact.training.export` through the
project's session factory (CUDA when it really loads, CPU otherwise; ``provider`` says which),
reads its configuration from the ONNX metadata, runs batches of conditioning stacks and returns
crops. :func:`reenact.render.pipeline.render_clip` drives a whole Track over a clip (the one
render path of the CLI and of Blender).
"""

import json
import os

import numpy as np

from ..session import CUDA, create_session, session_provider
from ..errors import ReenactError
from ..paths import MODELS_DIR

BASE_MODEL = os.path.join(MODELS_DIR, "renderer_base.onnx")


#: what is pasted back: the mouth region (visual dubbing), the face, or the whole head moved to
#: the requested pose (full reenactment)
REGIONS = ("mouth", "face", "head")


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
        #: the network wants the actor reference (reenact.render.reference) in its input
        self.ref = bool(self.config.get("ref", False))
        #: how the reference is moved onto the frame (reenact.render.reference.REF_WARPS)
        self.ref_warp = str(self.config.get("ref_warp", "similarity"))
        #: what the model can render: a face-only model draws the face (and its mouth region)
        #: into the footage's head, and the whole head once the head is warped to the request
        #: (reenact.render.motion); a model may declare fewer ("regions" in its config)
        self.regions = tuple(self.config.get("regions", REGIONS if self.mode == "face-only" else ("mouth", "face")))
        self.input_name = sess.get_inputs()[0].name
        self.output_name = sess.get_outputs()[0].name

    def check_region(self, region):
        """Refuse, in one line naming the model, a region this model cannot render."""
        if region not in REGIONS:
            raise ReenactError("unknown region '{}' (choose {})".format(region, ", ".join(REGIONS)))
        if region not in self.regions:
            raise ReenactError("this renderer cannot render region '{}' (it renders {}); train or pick a "
                               "model made for it".format(region, ", ".join(self.regions)),
                               path=os.path.basename(self.path))

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
