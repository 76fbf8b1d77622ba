# SPDX-License-Identifier: GPL-3.0-or-later
"""Convert MediaPipe's face tracking TFLite models to ONNX (development time only).

Reproducible recipe for ``models/face_detection_short_range.onnx``,
``models/face_landmark.onnx`` and ``models/iris_landmark.onnx``.

Runs in its own virtual environment (never the runtime one)::

    python3.11 -m venv .venv-tools
    .venv-tools/bin/pip install -r requirements/tools.txt
    .venv-tools/bin/python tools/convert_mediapipe.py            # writes models/*.onnx
    .venv-tools/bin/python tools/convert_mediapipe.py --check    # only verify existing files

Steps:

1. ``pip download --no-deps mediapipe==0.10.21`` (or ``--wheel PATH``) and read the three
   ``.tflite`` files straight out of the wheel (a zip); mediapipe is never imported.
2. Convert each with ``tf2onnx.convert.from_tflite`` (opset 13).
3. Rewrite every ``PRelu(x, a)`` (per-channel slope a) into identical depthwise-1x1-conv /
   Relu / Add ops (``x + Relu((a - 1) x)`` when all a <= 1, else
   ``a x + (1 - a) Relu(x)``): onnxruntime's CPU PRelu breaks its blocked-layout (NCHWc) conv
   chain and made face_landmark/iris_landmark 3-4x slower than TFLite/XNNPACK; the rewrite
   keeps the whole network in NCHWc (max diff ~1e-5).
4. Make the batch dimension dynamic: graph inputs/outputs get the symbolic dim ``batch`` and
   every ``Reshape`` whose constant target shape starts with the fixed batch ``1`` is rewritten
   to ``-1`` (or ``0`` = "copy the input's dim 0" where the shape already holds a ``-1``).
5. Verify: ONNX (onnxruntime, batch 1 and batch 3) against the TFLite interpreter on random
   inputs in the model's input range; prints the max abs difference and fails above a tolerance.
6. Print the sha256 of every written file (paste into models/README.md).

Nothing in the runtime package imports this module.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

MEDIAPIPE_VERSION = "0.10.21"
OPSET = 13
TOLERANCE = 2e-3  # max abs diff allowed between TFLite and ONNX outputs (float32 reordering)

# (wheel member, output file, input range of the pixel tensor as MediaPipe feeds it)
MODELS = [
    ("mediapipe/modules/face_detection/face_detection_short_range.tflite",
     "face_detection_short_range.onnx", (-1.0, 1.0)),
    ("mediapipe/modules/face_landmark/face_landmark.tflite",
     "face_landmark.onnx", (0.0, 1.0)),
    ("mediapipe/modules/iris_landmark/iris_landmark.tflite",
     "iris_landmark.onnx", (0.0, 1.0)),
]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS_DIR = os.path.join(REPO, "models")


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheel(dest: str) -> str:
    """pip download the pinned mediapipe wheel (no dependencies) into dest; return its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
           f"mediapipe=={MEDIAPIPE_VERSION}", "-d", dest]
    subprocess.run(cmd, check=True)
    wheels = [f for f in os.listdir(dest) if f.startswith("mediapipe-") and f.endswith(".whl")]
    if not wheels:
        raise SystemExit("pip download produced no mediapipe wheel")
    return os.path.join(dest, wheels[0])


def extract(wheel: str, member: str, dest: str) -> str:
    with zipfile.ZipFile(wheel) as z:
        out = os.path.join(dest, os.path.basename(member))
        with z.open(member) as src, open(out, "wb") as dst:
            dst.write(src.read())
    return out


def make_batch_dynamic(model):
    """Symbolic batch dim on inputs/outputs; Reshape constants no longer pin batch = 1."""
    import numpy as np
    from onnx import numpy_helper

    for vi in list(model.graph.input) + list(model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and dims[0].dim_value == 1:
            dims[0].Clear()
            dims[0].dim_param = "batch"
    # Intermediate value_info carries the old static batch: drop it, shapes are re-inferred.
    del model.graph.value_info[:]

    inits = {t.name: t for t in model.graph.initializer}
    consumers: dict[str, int] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    for n in model.graph.node:
        if n.op_type != "Reshape" or n.input[1] not in inits:
            continue
        shape = numpy_helper.to_array(inits[n.input[1]]).copy()
        if shape.size == 0 or shape[0] != 1:
            continue
        shape[0] = 0 if (shape == -1).any() else -1
        new = numpy_helper.from_array(shape.astype(np.int64), inits[n.input[1]].name)
        inits[n.input[1]].CopyFrom(new)
    return model


def rewrite_prelu(model):
    """Rewrite PRelu(x, a) (per-channel a) into ops onnxruntime keeps in its NCHWc layout.

    Layers whose slopes are all <= 1:  y = x + Relu((a - 1) * x)   (depthwise 1x1 conv, Relu
    fused into it, Add). Others:        y = a * x + (1 - a) * Relu(x)  (two depthwise 1x1
    convs, the second fused with the Add). Both are exact identities.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    nodes, new_inits = [], []
    for k, n in enumerate(model.graph.node):
        if n.op_type != "PRelu" or n.input[1] not in inits:
            nodes.append(n)
            continue
        x, y = n.input[0], n.output[0]
        slope = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32).reshape(-1)
        c = slope.size
        base = f"prelu{k}"

        def dw(inp, weights, out, name):
            w = numpy_helper.from_array(weights.reshape(c, 1, 1, 1).astype(np.float32),
                                        f"{base}_{name}_w")
            new_inits.append(w)
            return helper.make_node("Conv", [inp, w.name], [out], name=f"{base}_{name}",
                                    group=c, kernel_shape=[1, 1])

        if float(slope.max()) <= 1.0:
            nodes += [
                dw(x, slope - 1.0, base + "_neg", "neg"),
                helper.make_node("Relu", [base + "_neg"], [base + "_negrelu"],
                                 name=base + "_relu"),
                helper.make_node("Add", [x, base + "_negrelu"], [y], name=base + "_add"),
            ]
        else:
            nodes += [
                helper.make_node("Relu", [x], [base + "_relu"], name=base + "_relu"),
                dw(x, slope, base + "_lin", "lin"),
                dw(base + "_relu", 1.0 - slope, base + "_pos", "pos"),
                helper.make_node("Add", [base + "_lin", base + "_pos"], [y], name=base + "_add"),
            ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    still_used = {i for n in nodes for i in n.input}
    keep = [t for t in model.graph.initializer if t.name in still_used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep + new_inits)
    return model


def canonicalize(model):
    """Deterministic names: tf2onnx numbers its constants in a run-dependent order."""
    graph = model.graph
    keep = {v.name for v in list(graph.input) + list(graph.output)}
    inits = {t.name: t for t in graph.initializer}
    rename: dict[str, str] = {}
    ordered_inits = []
    for k, n in enumerate(graph.node):
        for i in n.input:
            if i in inits and i not in rename:
                rename[i] = f"const_{len(ordered_inits)}"
                ordered_inits.append(inits[i])
        for j, o in enumerate(n.output):
            if o not in keep and o not in rename:
                rename[o] = f"{n.op_type.lower()}_{k}" + (f"_{j}" if j else "")
        n.name = f"{n.op_type.lower()}_{k}"
    for n in graph.node:
        n.input[:] = [rename.get(i, i) for i in n.input]
        n.output[:] = [rename.get(o, o) for o in n.output]
    for t in ordered_inits:
        t.name = rename[t.name]
    del graph.initializer[:]
    graph.initializer.extend(ordered_inits)
    del graph.value_info[:]
    return model


def convert(tflite_path: str, out_path: str):
    import onnx
    import tf2onnx

    model, _ = tf2onnx.convert.from_tflite(tflite_path, opset=OPSET)
    model = rewrite_prelu(model)
    model = make_batch_dynamic(model)
    model = canonicalize(model)
    model.doc_string = (f"Converted from MediaPipe {MEDIAPIPE_VERSION} "
                        f"{os.path.basename(tflite_path)} with tf2onnx {tf2onnx.__version__} "
                        f"(opset {OPSET}, dynamic batch, PRelu rewritten as depthwise convs + Relu). "
                        f"Apache-2.0, see LICENSE-mediapipe.txt.")
    model.producer_name = "reenact/tools/convert_mediapipe.py"
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, out_path)


def verify(tflite_path: str, onnx_path: str, value_range) -> float:
    """Max abs diff ONNX vs TFLite over a few random inputs, batch 1 and batch 3."""
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=tflite_path)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    outs = interp.get_output_details()
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    onnx_in = sess.get_inputs()[0].name
    onnx_outs = [o.name for o in sess.get_outputs()]
    tfl_names = [o["name"] for o in outs]
    if sorted(onnx_outs) != sorted(tfl_names):
        raise SystemExit(f"{onnx_path}: outputs {onnx_outs} != tflite {tfl_names}")

    rng = np.random.default_rng(0)
    lo, hi = value_range
    shape = tuple(inp["shape"][1:])
    batch = rng.uniform(lo, hi, size=(3,) + shape).astype(np.float32)
    # A smooth image-like input too (random noise alone is far from the training data).
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]] / float(shape[0])
    smooth = np.stack([np.sin(3 * xx + c) * np.cos(2 * yy - c) for c in range(3)], -1)
    batch[2] = (lo + (hi - lo) * (smooth * 0.5 + 0.5)).astype(np.float32)

    ref = {n: [] for n in tfl_names}
    for b in range(batch.shape[0]):
        interp.set_tensor(inp["index"], batch[b:b + 1])
        interp.invoke()
        for o in outs:
            ref[o["name"]].append(interp.get_tensor(o["index"]).copy())
    worst = 0.0
    got_b = dict(zip(onnx_outs, sess.run(onnx_outs, {onnx_in: batch})))
    for b in range(batch.shape[0]):
        got_1 = dict(zip(onnx_outs, sess.run(onnx_outs, {onnx_in: batch[b:b + 1]})))
        for name in tfl_names:
            r = ref[name][b]
            worst = max(worst, float(np.abs(got_1[name] - r).max()),
                        float(np.abs(got_b[name][b:b + 1] - r).max()))
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", help="use this mediapipe wheel instead of pip download")
    ap.add_argument("--out", default=MODELS_DIR, help="output folder (default: models/)")
    ap.add_argument("--check", action="store_true",
                    help="do not convert; only verify the existing ONNX files against TFLite")
    args = ap.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(tmp)
        failed = False
        for member, out_name, value_range in MODELS:
            tfl = extract(wheel, member, tmp)
            out_path = os.path.join(args.out, out_name)
            if not args.check:
                convert(tfl, out_path)
            diff = verify(tfl, out_path, value_range)
            ok = diff <= TOLERANCE
            failed |= not ok
            print(f"{out_name}: max abs diff vs TFLite = {diff:.3g} "
                  f"({'ok' if ok else 'FAIL'}), sha256 {sha256(out_path)}, "
                  f"{os.path.getsize(out_path)} bytes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
