# SPDX-License-Identifier: GPL-3.0-or-later
"""Export a trained renderer to ONNX (dynamic batch, height and width) plus an fp16 variant.

The fp32 file ``MODEL.onnx`` has input ``input`` (N, C, H, W) float32 0..1 and output ``output``
(N, 3, H, W) float32 0..1; its metadata (``reenact.*`` keys) carries the configuration the
renderer needs (mode, window, size, channels) and, from a training run, its model card: the steps,
what it was trained on and held out, its ``--init`` and options (docs/renderer.md, *Model card*).
``MODEL.fp16.onnx`` stores the weights and runs the graph in float16 (for CUDA) but keeps float32
input and output (Cast nodes at both ends). :func:`parity` checks onnxruntime against PyTorch on
random inputs, both variants before either is written.
"""

import io
import json
import os

import numpy as np

from ..fsutil import atomic_path, write_bytes
from ..render.conditioning import COND_CHANNELS

#: max |onnx - torch| accepted on random inputs (outputs are 0..1)
PARITY_ATOL_FP32 = 1e-4
PARITY_ATOL_FP16 = 2e-2


def _meta(config, card=None):
    return dict({
        "reenact.kind": "renderer",
        "reenact.config": json.dumps(config, sort_keys=True),
        "reenact.mode": config["mode"],
        "reenact.window": str(config["window"]),
        "reenact.size": str(config["size"]),
        "reenact.cond_channels": str(COND_CHANNELS),
        "reenact.layout": "window x (corr x,y,z, eyes, mouth) oldest first"
        + (", then reference RGB, reference (corr x,y,z, eyes, mouth)" if config.get("ref") else "")
        + (", then masked real RGB, hole" if config["mode"] == "face-only" else ""),
    }, **{"reenact." + k: v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in (card or {}).items()})


def _set_meta(model, meta):
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v


def to_fp16(src, dst):
    """fp16 variant of an fp32 ONNX file: float initialisers/constants in fp16, float32 I/O."""
    import onnx

    write_bytes(dst, fp16_bytes(onnx.load(src)))
    return dst


def fp16_bytes(m):
    """The serialised fp16 variant of the fp32 ONNX model ``m`` (a ModelProto, changed in place)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = m.graph
    keep32 = set()
    for n in g.node:  # Resize roi/scales must stay float32
        if n.op_type == "Resize":
            keep32.update(n.input[1:3])
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and init.name not in keep32:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for n in g.node:
        if n.op_type == "Constant" and n.output[0] not in keep32:
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                    a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
    inp, out = g.input[0].name, g.output[0].name
    for n in g.node:
        n.input[:] = [inp + "_fp16" if i == inp else i for i in n.input]
        n.output[:] = [out + "_fp16" if o == out else o for o in n.output]
    g.node.insert(0, helper.make_node("Cast", [inp], [inp + "_fp16"], to=TensorProto.FLOAT16, name="cast_in"))
    g.node.append(helper.make_node("Cast", [out + "_fp16"], [out], to=TensorProto.FLOAT, name="cast_out"))
    del g.value_info[:]
    onnx.checker.check_model(m)
    return m.SerializeToString()


def export_onnx(model, path, config, fp16=True, opset=17, card=None):
    """Write ``path`` (fp32) and, with ``fp16``, ``<path stem>.fp16.onnx`` (without, an earlier
    one is removed); returns a summary with the parity figures. ``card``: {key: str or JSON-able}
    stored as ``reenact.<key>`` metadata in both. Both are checked before anything is written,
    and ``path`` is written last: a model out of tolerance leaves the earlier files as they were
    (before 2026-12-06 an fp16 refusal came after the new fp32 model was written and the earlier
    fp16 one deleted, and said "the model was not written"), and a run stopped in between leaves
    the earlier ``path``, which the next run finds is not its checkpoint's export."""
    import onnx
    import torch

    model = model.eval()
    S = int(config["size"])
    x = torch.rand(1, int(config["in_ch"]), S, S)
    buf = io.BytesIO()  # in memory, then written whole (fsutil): nothing half-written on a full disk
    dyn = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(model, x, buf, dynamo=False, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": dyn, "output": dyn}, opset_version=opset)
    m = onnx.load_from_string(buf.getvalue())
    _set_meta(m, _meta(config, card))
    data = m.SerializeToString()
    # checked before it is written: a model out of tolerance never replaces a good one (before
    # 2026-12-05 it was written first, then refused with an AssertionError traceback)
    res = {"onnx": path, "parity_fp32": parity(model, data, config, atol=PARITY_ATOL_FP32, name=path)}
    p16 = os.path.splitext(path)[0] + ".fp16.onnx"
    if fp16:
        data16 = fp16_bytes(m)
        res["onnx_fp16"] = p16
        res["parity_fp16"] = parity(model, data16, config, atol=PARITY_ATOL_FP16, name=p16)
        # both written to their temporaries before either is renamed into place, ``path`` last: a
        # full disk while writing either leaves the earlier pair (before 2026-12-06 the new fp16
        # file was in place when the fp32 one failed, beside the earlier model: CUDA renders ran
        # the new training's fp16 with the old one's card)
        with atomic_path(path) as tmp32:
            with atomic_path(p16) as tmp16:
                _write(tmp16, data16)
                _write(tmp32, data)
        return res
    if os.path.isfile(p16):  # an earlier export's: CUDA renders would run it instead of this model
        os.remove(p16)       # (before 2026-12-06 left, and rendered with)
    write_bytes(path, data)
    return res


def _write(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


class ExportError(ValueError):
    """An exported model that does not compute what the network does (one line)."""


def parity(model, path, config, atol=PARITY_ATOL_FP32, batch=2, seed=0, name=None):
    """Max abs difference between onnxruntime (CPU) and PyTorch on random 0..1 inputs (``path``:
    the .onnx file, or the model's bytes, ``name`` naming it); raises :class:`ExportError` above
    ``atol``."""
    import onnxruntime as ort
    import torch

    rng = np.random.default_rng(seed)
    S = int(config["size"])
    x = rng.random((batch, int(config["in_ch"]), S, S), dtype=np.float32)
    with torch.no_grad():
        ref = model.eval()(torch.from_numpy(x)).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x})[0]
    err = float(np.abs(got - ref).max())
    if err > atol:
        raise ExportError("{}: ONNX differs from PyTorch by {:.2e} > {:.0e}; the model was not written".format(
            os.path.basename(os.fspath(name if name is not None else path)), err, atol))
    return {"max_abs_diff": err, "atol": atol}
