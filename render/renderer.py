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
import threading
from collections import OrderedDict

import numpy as np

from ..session import CUDA, create_session, session_provider
from .conditioning import StackedInput
from ..errors import ReenactError
from ..paths import MODELS_DIR

#: the 128 px bundled renderer (``base``: a quarter of the 256 px network's time)
BASE_MODEL = os.path.join(MODELS_DIR, "renderer_base.onnx")
#: the bundled renderers by name: ``base`` (128 px crops) and ``base256`` (256 px crops: draws the
#: face better, sharper on faces of 256 px and more; about 4x the network's time)
BUNDLED_MODELS = {"base": BASE_MODEL, "base256": os.path.join(MODELS_DIR, "renderer_base256.onnx")}
#: the bundled renderer used where none is named (and the weights a fine-tune starts from)
DEFAULT_BUNDLED = "base256"
DEFAULT_MODEL = BUNDLED_MODELS[DEFAULT_BUNDLED]


def bundled_weights(name):
    """The training weights (.pt) beside bundled renderer ``name`` (:data:`BUNDLED_MODELS`):
    what ``reenact train --init NAME`` and Train Renderer fine-tune from."""
    return os.path.splitext(BUNDLED_MODELS[name])[0] + ".pt"


def model_path(model):
    """The file of ``model``: a path, or a bundled renderer's name (:data:`BUNDLED_MODELS`)."""
    if model is None:
        return DEFAULT_MODEL
    name = os.fspath(model)
    return BUNDLED_MODELS.get(name, name)


#: what is pasted back: the mouth region (visual dubbing), the face, or the whole head moved to
#: the requested pose (full reenactment)
REGIONS = ("mouth", "face", "head")


#: bounds of a renderer's configuration (its ONNX metadata is checked against them on load: a
#: crafted size must not allocate terabytes)
SIZE_RANGE = (32, 1024)
WINDOW_RANGE = (1, 64)


def check_config(text, path):
    """The renderer configuration (``reenact.config`` metadata, JSON) of the model at ``path``,
    checked: known mode and reference warp, ``size`` a multiple of 16 in :data:`SIZE_RANGE`,
    ``window`` in :data:`WINDOW_RANGE`, ``in_ch`` the channel count they imply. Raises
    ReenactError naming the file."""
    from .conditioning import MODES, in_channels
    from .reference import REF_WARPS

    name = os.path.basename(os.fspath(path))

    def bad(problem):
        raise ReenactError("not a usable Reenact renderer: " + problem, path=name)

    try:
        c = json.loads(text)
    except ValueError:
        bad("its reenact.config metadata is not JSON")
    if not isinstance(c, dict):
        bad("its reenact.config metadata is not a JSON object")

    def integer(key, lo, hi):
        v = c.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            bad("{} is {!r}, expected a whole number in {}..{}".format(key, v, lo, hi))
        return v

    if c.get("mode") not in MODES:
        bad("mode is {!r}, expected one of {}".format(c.get("mode"), ", ".join(MODES)))
    size = integer("size", *SIZE_RANGE)
    if size % 16:
        bad("size {} is not a multiple of 16".format(size))
    window = integer("window", *WINDOW_RANGE)
    ref = c.get("ref", False)
    if not isinstance(ref, bool) or (ref and c["mode"] != "face-only"):
        bad("ref is {!r} (a true/false, and only for face-only models)".format(ref))
    if c.get("ref_warp", REF_WARPS[0]) not in REF_WARPS:
        bad("ref_warp is {!r}, expected one of {}".format(c.get("ref_warp"), ", ".join(REF_WARPS)))
    regions = c.get("regions", list(REGIONS))
    if not isinstance(regions, list) or not regions or any(r not in REGIONS for r in regions):
        bad("regions is {!r}, expected some of {}".format(regions, ", ".join(REGIONS)))
    want = in_channels(window, c["mode"], ref)
    if c.get("in_ch") != want:
        bad("in_ch is {!r}, but a {} model with window {}{} takes {} channels".format(
            c.get("in_ch"), c["mode"], window, " and the reference" if ref else "", want))
    return c


def check_io(sess, in_ch, out_ch, path):
    """One float input and one float output, both (N, C, H, W), with ``in_ch`` / ``out_ch``
    channels where the model declares a number. Raises ReenactError naming the file."""
    name = os.path.basename(os.fspath(path))
    ins, outs = sess.get_inputs(), sess.get_outputs()
    for what, args, ch in (("input", ins, in_ch), ("output", outs, out_ch)):
        if len(args) != 1:
            raise ReenactError("not a usable Reenact model: {} {}s, expected one".format(len(args), what), path=name)
        a = args[0]
        if a.type != "tensor(float)" or len(a.shape or ()) != 4:
            raise ReenactError("not a usable Reenact model: its {} is {} of shape {}, expected float (N, {}, H, W)"
                               .format(what, a.type, a.shape, ch), path=name)
        if isinstance(a.shape[1], int) and a.shape[1] != ch:
            raise ReenactError("not a usable Reenact model: its {} has {} channels, its metadata says {}".format(
                what, a.shape[1], ch), path=name)


#: the metadata key of an int8 variant naming the fp32 model it was made from (its file digest,
#: :func:`reenact.render.cache.file_digest`); ``reenact quantize`` writes it
INT8_OF = "reenact.int8_of"
#: which weights a renderer runs on the CPU: ``auto`` the int8 variant when one made from this
#: very model lies beside it (about half the CPU time), else the fp32 model; ``fp32`` always
#: the model itself
PRECISIONS = ("auto", "fp32")


def int8_path(model):
    """``MODEL.int8.onnx`` for ``MODEL.onnx`` (where ``reenact quantize`` writes its variant)."""
    return os.path.splitext(os.fspath(model))[0] + ".int8.onnx"


def _session_beside(variant, prefer_gpu, threads, warnings):
    """A session of the file ``variant`` beside a model, or None: not there, or damaged (a line in
    ``warnings``: a damaged file beside the model must not stop the render)."""
    if not os.path.isfile(variant):
        return None
    try:
        return create_session(variant, prefer_gpu=prefer_gpu, threads=threads)
    except Exception as exc:
        warnings.append("{}: cannot be loaded ({}): the fp32 model runs".format(os.path.basename(variant),
                                                                               type(exc).__name__))
        return None


def _int8_variant(path, threads, warnings):
    """A CPU session of ``path``'s int8 variant, or None (none beside it, or made from another
    model: then a line in ``warnings``)."""
    p8 = int8_path(path)
    s8 = _session_beside(p8, False, threads, warnings)
    if s8 is None:
        return None
    from .cache import file_digest

    made_from = s8.get_modelmeta().custom_metadata_map.get(INT8_OF)
    if made_from != file_digest(path):
        warnings.append("{}: made from another version of {} (quantize it again): the fp32 model runs".format(
            os.path.basename(p8), os.path.basename(path)))
        return None
    return s8


def fp16_path(path):
    """The fp16 variant CUDA runs beside the model ``path`` (written by the training's export)."""
    return os.path.splitext(os.fspath(path))[0] + ".fp16.onnx"


def _fp16_variant(path, sess, threads, warnings):
    """A CUDA session of ``path``'s fp16 variant (``sess``: the model's own session), or None:
    none beside it, not on CUDA, damaged, or exported from another training (its ``reenact.*``
    card differs from the model's: another run, step count or configuration; a line in
    ``warnings``). Before 2026-12-06 19:38 UTC any file of that name ran on CUDA: the fp16 of an
    earlier training left beside a newer model (an export stopped between the two files) rendered
    the earlier actor."""
    p16 = fp16_path(path)
    s16 = _session_beside(p16, True, threads, warnings)
    if s16 is None or session_provider(s16) != CUDA:
        return None
    mine, its = sess.get_modelmeta().custom_metadata_map, s16.get_modelmeta().custom_metadata_map
    if any(its.get(k) != v for k, v in mine.items() if k.startswith("reenact.")):
        warnings.append("{}: exported from another training than {} (train it again to export both): the fp32 "
                        "model runs".format(os.path.basename(p16), os.path.basename(path)))
        return None
    return s16


class NeuralRenderer:
    def __init__(self, path=DEFAULT_MODEL, prefer_gpu=True, threads=None, precision="auto"):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ValueError("{}: renderer model not found".format(os.path.basename(path)))
        if precision not in PRECISIONS:
            raise ValueError("precision must be one of {}".format(", ".join(PRECISIONS)))
        #: lines for the render summary (a stale or damaged int8 variant)
        self.warnings = []
        sess = create_session(path, prefer_gpu=prefer_gpu, threads=threads)
        if session_provider(sess) == CUDA:  # the fp16 variant, when it was exported beside it from this model
            s16 = _fp16_variant(path, sess, threads, self.warnings)
            if s16 is not None:
                sess, path = s16, fp16_path(path)
        elif precision == "auto":  # on the CPU, the int8 variant made from this model
            s8 = _int8_variant(path, threads, self.warnings)
            if s8 is not None:
                sess, path = s8, int8_path(path)
        #: the weights that run: "fp16" (CUDA), "int8" (CPU variant) or "fp32"
        self.precision = "fp16" if path.endswith(".fp16.onnx") else "int8" if path.endswith(".int8.onnx") else "fp32"
        meta = sess.get_modelmeta().custom_metadata_map
        if "reenact.config" not in meta:
            raise ValueError("{}: not a Reenact renderer (no reenact.config metadata)".format(os.path.basename(path)))
        self.config = check_config(meta["reenact.config"], path)
        check_io(sess, self.config["in_ch"], 3, path)
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
        #: intra-op threads asked for (None: the session's default, all cores)
        self.threads = threads
        self._local = threading.local()
        self.output_name = sess.get_outputs()[0].name

    def _buffer(self, shape):
        """A float32 array of ``shape`` reused between batches of this thread."""
        buf = getattr(self._local, "buf", None)
        n = int(np.prod(shape))
        if buf is None or buf.size < n:
            buf = self._local.buf = np.empty(n, np.float32)
        return buf[:n].reshape(shape)

    def check_region(self, region):
        """Refuse, in one line naming the model, a region this model cannot render."""
        if region not in REGIONS:
            raise ReenactError("unknown region '{}' (choose {})".format(region, ", ".join(REGIONS)))
        if region not in self.regions:
            raise ReenactError("this renderer cannot render region '{}' (it renders {}); train or pick a "
                               "model made for it".format(region, ", ".join(self.regions)),
                               path=os.path.basename(self.path))

    def lane_session(self):
        """The session for a network that runs beside other work (the render path's infer lane,
        :func:`~reenact.render.pipeline.render_clip`): on the CPU, one intra-op thread fewer than
        the cores (the main thread keeps one: two threads fighting for one core cost more CPU
        than they save), unless threads were asked for; else the renderer's own session."""
        if self.provider == CUDA or self.threads or os.environ.get("REENACT_ORT_THREADS", "").strip():
            return self.sess
        n = max(1, (os.cpu_count() or 1) - 1)
        if n >= (os.cpu_count() or 1):
            return self.sess
        return create_session(self.path, prefer_gpu=False, threads=n)

    def run(self, x, batch=8, session=None):
        """(N, C, H, W) float32 0..1 -> (N, H, W, 3) uint8 crops, ``batch`` at a time
        (``session``: another session of the same model, e.g. :meth:`lane_session`). A uint8
        ``x`` (:func:`~reenact.render.conditioning.stack_window_u8`) is the same input scaled by
        1/255, and ``x`` may be a list of (C, H, W) arrays or
        :class:`~reenact.render.conditioning.StackedInput` (the render path's pending frames,
        never stacked): each batch is written into a float buffer kept per thread, exactly as
        ``x.astype(np.float32) / 255`` would be (a batch of 256 px float inputs is 140 MB:
        making it anew for every batch cost more than a tenth of the inference)."""
        items = list(x) if isinstance(x, (list, tuple)) else None
        if items is None:
            x = np.asarray(x)
            if x.dtype != np.uint8:
                x = np.ascontiguousarray(x, np.float32)
            n = len(x)
        else:
            n = len(items)
        if n == 0:
            shape = x.shape[2:] if items is None else (self.size, self.size)
            return np.zeros((0,) + tuple(shape) + (3,), np.uint8)
        sess = self.sess if session is None else session
        outs = []
        for i in range(0, n, int(batch)):
            if items is None and x.dtype != np.uint8:
                xb = x[i:i + int(batch)]
            else:
                part = x[i:i + int(batch)] if items is None else items[i:i + int(batch)]
                xb = self._buffer((len(part),) + tuple(np.shape(part[0])))
                for j, a in enumerate(part):
                    if isinstance(a, StackedInput):  # scaled part by part
                        a.fill(xb[j])
                        continue
                    a = np.asarray(a)
                    if a.dtype == np.uint8:
                        np.divide(a, np.float32(255.0), out=xb[j], dtype=np.float32)
                    else:
                        xb[j] = a
            if self.provider == CUDA:  # IO binding: output stays on the device until copied once
                io = sess.io_binding()
                io.bind_cpu_input(self.input_name, xb)
                io.bind_output(self.output_name, "cuda")
                sess.run_with_iobinding(io)
                y = io.copy_outputs_to_cpu()[0]
            else:
                y = sess.run([self.output_name], {self.input_name: xb})[0]
            if y.shape != (len(xb), 3) + xb.shape[2:]:  # declared shapes can be symbolic: check what came
                raise ReenactError("the model gave an output of shape {} for an input of {} (expected {})".format(
                    tuple(y.shape), tuple(xb.shape), (len(xb), 3) + xb.shape[2:]), path=os.path.basename(self.path))
            outs.append(np.clip(y.transpose(0, 2, 3, 1) * 255.0 + 0.5, 0, 255).astype(np.uint8))
        return np.concatenate(outs)


# ----------------------------------------------------------------------------- kept open
_RENDERERS = OrderedDict()
_RENDERERS_LOCK = threading.Lock()


def get_renderer(model=None, prefer_gpu=True, threads=None, precision="auto"):
    """A :class:`NeuralRenderer` for ``model`` (path or instance; None = the default bundled renderer),
    kept open between calls (Preview Frame must not reload the session); ``precision``: see
    :data:`~reenact.render.renderer.PRECISIONS`."""
    if model is not None and not isinstance(model, (str, os.PathLike)):
        return model
    path = os.path.abspath(model_path(model))
    if not os.path.isfile(path):
        raise ValueError("{}: renderer model not found".format(path))
    st = os.stat(path)
    k = (path, st.st_size, st.st_mtime_ns, bool(prefer_gpu), threads, precision)
    with _RENDERERS_LOCK:
        if k in _RENDERERS:
            return _RENDERERS[k]
    try:
        r = NeuralRenderer(path, prefer_gpu=prefer_gpu, threads=threads, precision=precision)
    except ValueError:
        raise
    except Exception as exc:  # onnxruntime load errors
        raise ValueError("{}: cannot load the model ({})".format(os.path.basename(path), type(exc).__name__)) from exc
    with _RENDERERS_LOCK:
        _RENDERERS[k] = r
        while len(_RENDERERS) > 2:
            _RENDERERS.popitem(last=False)
    return r
