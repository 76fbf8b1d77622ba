# SPDX-License-Identifier: GPL-3.0-or-later
"""An int8 variant of a renderer for the CPU (``reenact quantize``).

``MODEL.int8.onnx`` beside ``MODEL.onnx``: the same network with its convolutions (all but the
first and the last) in int8 weights (per output channel) and uint8 activations (QDQ format,
static ranges), which onnxruntime runs with integer convolutions: about half the CPU time of
the fp32 model per frame. The activation ranges are
calibrated on real network inputs: the render path's own conditioning stacks for a few clips
(region face, each clip's mouth re-timed so the network draws something new), recorded while
rendering them. Before the file is written, the int8 model's output is compared with the fp32
model's on inputs kept out of the calibration; below :data:`MIN_PSNR` dB inside the face it is
refused (nothing written).

The file records the digest of the fp32 model it was made from (``reenact.int8_of``): the
renderer uses it on the CPU only when that digest matches the model beside it, so a model
retrained after its int8 variant was made is never run from the stale variant
(:class:`reenact.render.renderer.NeuralRenderer`). Needs ``onnx`` and ``ml_dtypes`` (the
training requirements), not torch."""

import os
import tempfile

import numpy as np

from ..errors import ReenactError

#: the int8 output against the fp32 output on inputs the calibration did not see, inside the
#: face (the hole the network draws): a variant below this is refused
MIN_PSNR = 40.0
from ..render.renderer import INT8_OF, int8_path


def check_inputs(model, out=None):
    """What ``reenact quantize`` can know before its calibration renders: the training
    requirements importable, ``model`` a loadable fp32 Reenact renderer, and ``out`` (default
    :func:`int8_path`) a file that can be written and is not the model itself. Returns ``out``;
    ReenactError (one line) otherwise. Before 2026-12-05 a missing requirement, a damaged model or
    a read-only ``out`` failed only after minutes of calibration (some with a traceback), and
    ``--out`` naming the model replaced it with its int8 variant."""
    from ..fsutil import check_output_file, refuse_overwriting

    import importlib

    try:
        for name in ("onnx", "ml_dtypes", "onnxruntime.quantization"):
            importlib.import_module(name)
    except ImportError as exc:
        raise ReenactError("quantize needs the training requirements (onnx, ml_dtypes): {}".format(exc)) from None
    import onnxruntime as ort

    model = os.fspath(model)
    if not os.path.isfile(model):
        raise ReenactError("no such model", model)
    try:
        meta = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    except Exception as exc:  # not an ONNX file, damaged
        raise ReenactError("cannot load the model ({})".format(type(exc).__name__), model) from None
    if meta.get("reenact.kind") != "renderer":
        raise ReenactError("not a Reenact renderer (no reenact.kind metadata)", model)
    if INT8_OF in meta:
        raise ReenactError("is already an int8 variant", model)
    out = os.fspath(out) if out else int8_path(model)
    if os.path.realpath(out) == os.path.realpath(model):
        raise ReenactError("is the model it is made from; --out wants another file", out)
    refuse_overwriting(out, [model])
    check_output_file(out)
    return out


def calibration_inputs(model, data, frames=48, every=2, size=None, progress=None, accept_footage=False):
    """(N, C, S, S) uint8 network inputs recorded while rendering ``data`` (list of (Track,
    clip) pairs) with ``model``: ``frames`` frames from the middle of each clip, region face,
    the mouth re-timed by 15 frames; every ``every``-th input is kept. ``size``: crop size
    (default the model's); ``accept_footage``: as :func:`~reenact.render.pipeline.render_clip`."""
    from ..face.transfer import transfer
    from ..render.pipeline import render_clip
    from ..render.renderer import NeuralRenderer

    kept = []

    class Recorder(NeuralRenderer):
        def run(self, x, batch=8, session=None):
            items = list(x) if isinstance(x, (list, tuple)) else list(np.asarray(x))
            kept.extend(np.array(a, np.uint8) for a in items[::every])
            return super().run(x, batch, session)

    rend = Recorder(model, prefer_gpu=False, precision="fp32")
    if size:
        rend.size = int(size)
    for k, (track, clip) in enumerate(data):
        ok = np.flatnonzero(np.asarray(track.tracked, bool))
        if len(ok) < 2:
            raise ReenactError("too few tracked frames to calibrate on", getattr(track, "path", None))
        mid = int(ok[len(ok) // 2])
        a = max(int(ok[0]), mid - frames // 2)
        b = min(int(ok[-1]) + 1, a + int(frames))
        a0, b0 = a + int(track.frame_start), b + int(track.frame_start)
        perf = transfer(track, track, "mouth", offset=min(15, max(1, (b - a) // 2)), frames=(a0, b0))
        with tempfile.TemporaryDirectory(prefix="reenact_calib_") as tmp:
            render_clip(perf, clip, rend, out=None, frames=(a0, b0), region="face", crop_track=track,
                        cache_dir=tmp, prefer_gpu=False, mouth_mode="renderer", watermark=False, sign=False,
                        accept_footage=accept_footage)
        if progress is not None:
            progress(k + 1, len(data))
    if not kept:
        raise ReenactError("the calibration clips gave the network nothing to draw")
    return np.stack(kept)


def _psnr_in_hole(ya, yb, x):
    hole = x[:, -1:] > 0.5
    n = max(float(hole.sum()) * 3.0, 1.0)
    mse = float((((ya - yb) * 255.0) ** 2 * hole).sum()) / n
    return 99.0 if mse <= 1e-12 else 10.0 * np.log10(255.0 ** 2 / mse)


def quantize(model, inputs, out=None, min_psnr=MIN_PSNR, check_every=4):
    """Write the int8 variant of the fp32 renderer ``model`` to ``out`` (default
    :func:`int8_path`), calibrated on ``inputs`` ((N, C, S, S) uint8, from
    :func:`calibration_inputs`; every ``check_every``-th input is kept out of the calibration
    and used for the parity check). Returns a summary dict (``psnr_db`` inside the face against
    the fp32 model, sizes). Refused (ReenactError, nothing written) below ``min_psnr``."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from ..fsutil import write_bytes
    from ..render.cache import file_digest

    model = os.fspath(model)
    out = os.fspath(out) if out else int8_path(model)
    inputs = np.asarray(inputs)
    if inputs.dtype != np.uint8 or inputs.ndim != 4 or len(inputs) < 4:
        raise ReenactError("needs at least 4 recorded network inputs (N, C, S, S) uint8")
    hold = np.arange(len(inputs)) % int(check_every) == 0
    calib, check = inputs[~hold], inputs[hold]
    try:
        fp32 = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    except Exception as exc:  # not an ONNX file, damaged
        raise ReenactError("cannot load the model ({})".format(type(exc).__name__), model) from exc
    meta = fp32.get_modelmeta().custom_metadata_map
    if meta.get("reenact.kind") != "renderer":
        raise ReenactError("not a Reenact renderer (no reenact.kind metadata)", model)
    if INT8_OF in meta:
        raise ReenactError("is already an int8 variant", model)
    name = fp32.get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.i = 0

        def get_next(self):
            if self.i >= len(calib):
                return None
            x = calib[self.i:self.i + 1].astype(np.float32) / np.float32(255.0)
            self.i += 1
            return {name: x}

    with tempfile.TemporaryDirectory(prefix="reenact_int8_") as tmp:
        pre, q = os.path.join(tmp, "pre.onnx"), os.path.join(tmp, "int8.onnx")
        quant_pre_process(model, pre, skip_symbolic_shape=True)
        # the convolutions only (the context normalisation's pooling and arithmetic stay in
        # float), and not the first (the input mix) and the last (the picture's own values):
        # 46 -> 52 dB against fp32 on held-out footage, and no slower
        convs = [n.name for n in onnx.load(pre).graph.node if n.op_type == "Conv"]
        quantize_static(pre, q, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=["Conv"], nodes_to_exclude=convs[:1] + convs[-1:])
        m = onnx.load(q)
        keep = [p for p in m.metadata_props if p.key.startswith("reenact.")]
        del m.metadata_props[:]
        for p in keep:
            m.metadata_props.add(key=p.key, value=p.value)
        m.metadata_props.add(key=INT8_OF, value=file_digest(model))
        data = m.SerializeToString()
        i8 = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        x = check.astype(np.float32) / np.float32(255.0)
        ya = np.concatenate([fp32.run(None, {name: x[k:k + 4]})[0] for k in range(0, len(x), 4)])
        yb = np.concatenate([i8.run(None, {name: x[k:k + 4]})[0] for k in range(0, len(x), 4)])
        psnr = _psnr_in_hole(ya, yb, x)
        if psnr < float(min_psnr):
            raise ReenactError("the int8 variant draws the face {:.1f} dB from the fp32 model's (at least {:g} "
                               "needed): not written".format(psnr, float(min_psnr)), model)
        write_bytes(out, data)
    return {"out": out, "psnr_db": round(float(psnr), 2), "max_abs_levels": round(float(np.abs(ya - yb).max() * 255), 2),
            "calibration_inputs": int(len(calib)), "checked_inputs": int(len(check)),
            "bytes": os.path.getsize(out), "fp32_bytes": os.path.getsize(model)}
