# SPDX-License-Identifier: GPL-3.0-or-later
"""Convert MediaPipe's face tracking TFLite models to ONNX (development time only).

Reproducible recipe for ``models/face_detection_short_range.onnx``,
``models/face_landmark.onnx``, ``models/iris_landmark.onnx``, the hand models
``models/palm_detection_full.onnx`` and ``models/hand_landmark_full.onnx`` (hands in front of a
face, ``tracking/hands.py``), the two stages
``models/face_landmark_with_attention_{1,2}.onnx`` of the attention landmark model, and
``models/selfie_segmentation.onnx`` (the actor's matte of region ``head``; its custom op
``Convolution2DTransposeBias`` becomes ONNX ``ConvTranspose``, :func:`rewrite_transpose_conv_bias`).

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
4. Make the batch dimension dynamic: graph inputs/outputs get the symbolic dim ``batch``,
   every ``Reshape`` whose constant target shape starts with the fixed batch ``1`` is rewritten
   to ``-1`` (or ``0`` = "copy the input's dim 0" where the shape already holds a ``-1``), and a
   ``Slice`` of the batch axis from 0 to 1 runs to the end instead.
5. Verify: ONNX (onnxruntime, batch 1 and batch 3) against the TFLite interpreter on random
   inputs in the model's input range; prints the max abs difference and fails above a tolerance.
6. Print the sha256 of every written file (paste into models/README.md).

``face_landmark_with_attention.tflite`` (what ``FaceMesh(refine_landmarks=True)`` runs) holds
three MediaPipe custom ops (``Landmarks2TransformMatrix``, ``TransformTensorBilinear``,
``TransformLandmarks``, all version 2) that no converter knows. It is converted with tf2onnx
keeping them as ``mediapipe``-domain nodes, PRelu is rewritten as above, and the graph is cut at
those nodes (:func:`split_at_custom_ops`) into ONNX stages that contain only standard ops:

- stage 1: the 192x192 image -> coarse mesh (x 0.25, as the ops read it), the 48x48x32 feature
  map, ``output_mesh_identity`` and ``conv_faceflag``;
- numpy: the three crop matrices (lips, "left" and "right" eye) and the three 16x16x32 feature
  crops (``inference/attention_ops.py``);
- stage 2: the crops and matrices -> lips (80), eyes (2 x 71) and irises (2 x 5) points in crop
  coordinates and the matrices that take them to the 192x192 frame;
- numpy: ``TransformLandmarks`` -> ``output_lips``, ``output_left_eye``, ... .

The custom nodes (op, input/output tensor names, attributes parsed from the TFLite flexbuffer
options) are stored as JSON in each stage's ONNX metadata (``reenact.custom_ops``: the nodes that
run after that stage; ``reenact.outputs`` on the last stage: which tensor is each model output),
so the runtime reads the glue from the model files. Stage boundaries carry the TFLite tensor
names and layouts (NHWC). Verification cuts the TFLite flatbuffer at the same tensors
(:func:`tflite_cut`) and compares every stage with the TFLite interpreter on the same inputs, then
the whole chain (ONNX stages + numpy ops) against the TFLite stages chained by the same numpy
ops. The numpy ops themselves are checked against MediaPipe's C++ kernels end to end by
``tests/test_facemesh_parity.py`` (MediaPipe's FaceLandmarkCpu subgraph on the same ROIs).

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
    # the hands in front of a face (render/front.py): palm detector and hand landmarks
    ("mediapipe/modules/palm_detection/palm_detection_full.tflite",
     "palm_detection_full.onnx", (0.0, 1.0)),
    ("mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
     "hand_landmark_full.onnx", (0.0, 1.0)),
]

# (wheel member, output file, input range) of models whose one MediaPipe custom op,
# Convolution2DTransposeBias (a transposed convolution with bias), is rewritten into ONNX's
# ConvTranspose: the selfie segmentation (person matte) region ``head`` composites with. Opset 14
# (HardSwish).
TRANSPOSE_CONV_MODELS = [
    ("mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
     "selfie_segmentation.onnx", (0.0, 1.0)),
]
TRANSPOSE_CONV_OPSET = 14

# (wheel member, output file pattern with {} = stage number, input range) of models with
# MediaPipe custom ops, cut into ONNX stages at those ops.
STAGED_MODELS = [
    ("mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
     "face_landmark_with_attention_{}.onnx", (0.0, 1.0)),
]
CUSTOM_DOMAIN = "mediapipe"
# The numpy kernels (inference/attention_ops.py) implement version 2 of each op.
CUSTOM_OPS = {"Landmarks2TransformMatrix": 2, "TransformTensorBilinear": 2,
              "TransformLandmarks": 2}
META_CUSTOM_OPS = "reenact.custom_ops"
META_OUTPUTS = "reenact.outputs"

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
    # Constants also read by other ops (tf2onnx shares equal constants, e.g. a Reshape target
    # that is also a Slice's ends) get a copy of their own before being rewritten.
    other_uses = {i for n in model.graph.node for k, i in enumerate(n.input)
                  if not (n.op_type == "Reshape" and k == 1)}
    for n in model.graph.node:
        if n.op_type != "Reshape" or n.input[1] not in inits:
            continue
        shape = numpy_helper.to_array(inits[n.input[1]]).copy()
        if shape.size == 0 or shape[0] != 1:
            continue
        shape[0] = 0 if (shape == -1).any() else -1
        name = n.input[1]
        if name in other_uses:
            name = f"{name}__reshape_batch"
            if name not in inits:
                inits[name] = model.graph.initializer.add()
            n.input[1] = name
        inits[name].CopyFrom(numpy_helper.from_array(shape.astype(np.int64), name))
    # A Slice over the batch axis from 0 to the fixed batch 1 keeps every batch entry.
    for n in model.graph.node:
        if n.op_type != "Slice" or len(n.input) < 4 or not all(i in inits for i in n.input[1:4]):
            continue
        starts, ends, axes = (numpy_helper.to_array(inits[i]) for i in n.input[1:4])
        hit = [k for k, a in enumerate(axes) if a == 0 and starts[k] == 0 and ends[k] == 1]
        if hit:
            ends = ends.copy()
            ends[hit] = np.iinfo(np.int64).max
            name = f"{n.input[2]}__slice_batch"
            if name not in inits:
                inits[name] = model.graph.initializer.add()
                inits[name].CopyFrom(numpy_helper.from_array(ends.astype(np.int64), name))
            n.input[2] = name
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


def convert(tflite_path: str, out_path: str, opset: int = OPSET, transpose_conv: bool = False):
    import onnx
    import tf2onnx

    model, _ = tf2onnx.convert.from_tflite(tflite_path, opset=opset)
    if transpose_conv:
        model = rewrite_transpose_conv_bias(model, tflite_path)
    model = rewrite_prelu(model)
    model = make_batch_dynamic(model)
    model = canonicalize(model)
    model.doc_string = (f"Converted from MediaPipe {MEDIAPIPE_VERSION} "
                        f"{os.path.basename(tflite_path)} with tf2onnx {tf2onnx.__version__} "
                        f"(opset {opset}, dynamic batch, PRelu rewritten as depthwise convs + Relu"
                        + (", Convolution2DTransposeBias as ConvTranspose" if transpose_conv else "") + "). "
                        "Apache-2.0, see LICENSE-mediapipe.txt.")
    model.producer_name = "reenact/tools/convert_mediapipe.py"
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, out_path)


def _transpose_conv_ops(tflite_path: str):
    """[(input, weights, bias, output tensor names, (padding, stride_w, stride_h))] of every
    Convolution2DTransposeBias in a TFLite flatbuffer (its custom options are MediaPipe's
    TfLiteTransposeConvParams struct: three int32; weights (O, kh, kw, I), bias (O,))."""
    import numpy as np
    from tensorflow.lite.python import schema_py_generated as schema

    with open(tflite_path, "rb") as f:
        m = schema.ModelT.InitFromPackedBuf(f.read(), 0)
    g = m.subgraphs[0]
    out = []
    for op in g.operators:
        if m.operatorCodes[op.opcodeIndex].customCode == b"Convolution2DTransposeBias":
            params = tuple(int(v) for v in np.frombuffer(bytes(op.customOptions), np.int32)[:3])
            names = [g.tensors[i].name.decode() for i in list(op.inputs[:3]) + [op.outputs[0]]]
            out.append((*names, params))
    return out


def rewrite_transpose_conv_bias(model, tflite_path: str):
    """Replace tf2onnx's unconverted ``TFL_Convolution2DTransposeBias`` node (NHWC in, NHWC
    out; weights (O, kh, kw, I) and bias as initializers) by ONNX ``ConvTranspose`` (NCHW)
    between transposes. Only what the bundled model has is handled: one such op, kernel =
    stride (no overlap and no padding, for SAME as for VALID)."""
    import numpy as np
    from onnx import helper, numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    ops = _transpose_conv_ops(tflite_path)
    found = [n for n in model.graph.node if n.op_type == "TFL_Convolution2DTransposeBias"]
    if len(ops) != 1 or len(found) != 1:
        raise SystemExit(f"{tflite_path}: expected one Convolution2DTransposeBias, found {len(ops)} ({len(found)} nodes)")
    sw, sh = ops[0][4][1:]
    nodes = []
    for n in model.graph.node:
        if n is not found[0]:
            nodes.append(n)
            continue
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)   # (O, kh, kw, I)
        b = numpy_helper.to_array(inits[n.input[2]]).astype(np.float32).reshape(-1)
        kh, kw = w.shape[1:3]
        if (kh, kw) != (sh, sw):
            raise SystemExit(f"{n.name}: kernel {kh}x{kw} with stride {sh}x{sw} is not handled")
        wt = numpy_helper.from_array(np.ascontiguousarray(w.transpose(3, 0, 1, 2)), "tconv_w")  # (I, O, kh, kw)
        bt = numpy_helper.from_array(b, "tconv_b")
        model.graph.initializer.extend([wt, bt])
        nodes += [
            helper.make_node("Transpose", [n.input[0]], ["tconv_nchw"], name="tconv_in", perm=[0, 3, 1, 2]),
            helper.make_node("ConvTranspose", ["tconv_nchw", wt.name, bt.name], ["tconv_out"], name="tconv",
                             kernel_shape=[int(kh), int(kw)], strides=[int(sh), int(sw)]),
            helper.make_node("Transpose", ["tconv_out"], [n.output[0]], name="tconv_outt", perm=[0, 2, 3, 1]),
        ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    return model


def verify_transpose_conv(tflite_path: str, onnx_path: str, value_range) -> float:
    """Max abs diff of the rewritten model against TFLite: the TFLite graph up to the custom
    op (:func:`tflite_cut`; the interpreter gives its input and its dequantized weights and
    bias), the op in numpy (each input pixel spreads over a kernel-sized block of the output,
    plus the bias), then the graph's tail, a sigmoid (the output's producer, checked by
    name); batch 1 and 3 like :func:`verify`."""
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf

    ops = _transpose_conv_ops(tflite_path)
    if len(ops) != 1:
        raise SystemExit(f"{tflite_path}: expected one Convolution2DTransposeBias, found {len(ops)}")
    src, wname, bname, _, (_, sw, sh) = ops[0]
    with open(tflite_path, "rb") as f:
        head = tflite_cut(f.read(), [_input_name(tflite_path)], [src, wname, bname])
    # without XNNPACK: it folds the dequantized weights away and fails to give them as outputs
    interp = tf.lite.Interpreter(model_content=head, experimental_op_resolver_type=
                                 tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    outs = {o["name"]: o["index"] for o in interp.get_output_details()}
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    lo, hi = value_range
    shape = tuple(inp["shape"][1:])
    batch = rng.uniform(lo, hi, size=(3,) + shape).astype(np.float32)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]] / float(shape[0])
    batch[2] = (lo + (hi - lo) * (np.stack([np.sin(3 * xx + c) * np.cos(2 * yy - c) for c in range(3)], -1)
                                  * 0.5 + 0.5)).astype(np.float32)
    worst = 0.0
    name = sess.get_inputs()[0].name
    got_b = sess.run(None, {name: batch})[0]
    for i in range(len(batch)):
        interp.set_tensor(inp["index"], batch[i:i + 1])
        interp.invoke()
        x = interp.get_tensor(outs[src])[0]                                     # (H, W, I)
        w, b = interp.get_tensor(outs[wname]), interp.get_tensor(outs[bname]).reshape(-1)
        y = np.einsum("hwc,oijc->hiwjo", x, w).reshape(x.shape[0] * sh, x.shape[1] * sw, -1) + b
        ref = 1.0 / (1.0 + np.exp(-y))
        got_1 = sess.run(None, {name: batch[i:i + 1]})[0][0]
        worst = max(worst, float(np.abs(got_1 - ref).max()), float(np.abs(got_b[i] - ref).max()))
    return worst


def _input_name(tflite_path: str) -> str:
    from tensorflow.lite.python import schema_py_generated as schema

    with open(tflite_path, "rb") as f:
        g = schema.Model.GetRootAsModel(f.read(), 0).Subgraphs(0)
    return g.Tensors(int(g.Inputs(0))).Name().decode()


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


# ----------------------------------------------------------------------------------------
# Models with MediaPipe custom ops: cut into ONNX stages at those ops
# ----------------------------------------------------------------------------------------

def tflite_info(tflite_path: str):
    """Custom ops of a TFLite flatbuffer: ({op name: version}, {first output: input names})."""
    from tensorflow.lite.python import schema_py_generated as schema

    with open(tflite_path, "rb") as f:
        m = schema.Model.GetRootAsModel(f.read(), 0)
    g = m.Subgraphs(0)

    def name(i):
        return g.Tensors(int(i)).Name().decode()

    custom, inputs_of = {}, {}
    for i in range(g.OperatorsLength()):
        op = g.Operators(i)
        oc = m.OperatorCodes(op.OpcodeIndex())
        if oc.CustomCode():
            custom[oc.CustomCode().decode()] = oc.Version()
            inputs_of[name(op.Outputs(0))] = [name(j) for j in op.InputsAsNumpy()]
    return custom, inputs_of


def _rename_tensor(graph, old: str, new: str) -> None:
    for n in graph.node:
        n.input[:] = [new if i == old else i for i in n.input]
        n.output[:] = [new if o == old else o for o in n.output]
    for vi in list(graph.value_info) + list(graph.output) + list(graph.input):
        if vi.name == old:
            vi.name = new


def _attr_json(attr):
    from onnx import helper

    v = helper.get_attribute_value(attr)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, (list, tuple)):
        return [x.decode() if isinstance(x, bytes) else x for x in v]
    return v


def split_at_custom_ops(model, tflite_inputs: dict):
    """Cut a model with ``mediapipe``-domain nodes into stages of standard ops.

    Returns ``(stages, outputs)``: ``stages`` a list of ``(onnx model, custom nodes that run
    after it)``, custom nodes as JSON-able dicts (op, inputs, outputs, attrs); ``outputs`` the
    list of ``[model output name, tensor name]``. A graph output that is only a Reshape of a
    custom op's output is served by that output directly (the Reshape to (1, 1, 1, n) is
    dropped).

    Tensors handed to custom ops are renamed to the TFLite tensor the op reads
    (``tflite_inputs``: custom op's first output -> its input names), so the stage boundaries
    can be found in the TFLite graph and the names do not depend on tf2onnx's run: where tf2onnx
    merged duplicate nodes, the smallest of the TFLite names; where it put a layout Transpose
    in front, the Transpose's output takes the TFLite name (NHWC, as TFLite) and the NCHW
    tensor becomes ``NAME__nchw``.
    """
    from onnx import helper, utils

    graph = model.graph
    if not any(o.domain == CUSTOM_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(CUSTOM_DOMAIN, 1))
    producer = {o: n for n in graph.node for o in n.output}
    custom = [n for n in graph.node if n.domain == CUSTOM_DOMAIN]

    # Boundary tensors get their TFLite names.
    wanted: dict[str, set] = {}
    for c in custom:
        for j, i in enumerate(c.input):
            wanted.setdefault(i, set()).add(tflite_inputs[c.output[0]][j])
    existing = {t for n in graph.node for t in list(n.input) + list(n.output)}
    for tensor, names in wanted.items():
        target = min(names)
        if tensor == target:
            continue
        p = producer.get(tensor)
        if target in existing:
            layout = p is not None and p.op_type == "Transpose" and p.input[0] == target
            _rename_tensor(graph, target, target + ("__nchw" if layout else "__dup"))
        _rename_tensor(graph, tensor, target)
    producer = {o: n for n in graph.node for o in n.output}

    # Graph outputs that merely reshape a custom output.
    outputs, dropped = [], set()
    for o in graph.output:
        p = producer[o.name]
        src = producer.get(p.input[0]) if p.op_type == "Reshape" else None
        if src is not None and src.domain == CUSTOM_DOMAIN:
            outputs.append([o.name, p.input[0]])
            dropped.add(p.name)
        else:
            outputs.append([o.name, o.name])

    # Stage of every standard node, block of every custom node (block k runs after stage k).
    inits = {t.name for t in graph.initializer}
    stage_of = {i.name: 0 for i in graph.input}
    block_of: dict[str, int] = {}
    node_stage, blocks = {}, {}
    for n in graph.node:
        if n.name in dropped:
            continue
        ins = [i for i in n.input if i and i not in inits]
        if n.domain == CUSTOM_DOMAIN:
            b = max([stage_of[i] if i in stage_of else block_of[i] for i in ins] or [0])
            blocks.setdefault(b, []).append(n)
            for o in n.output:
                block_of[o] = b
        else:
            s = max([stage_of[i] if i in stage_of else block_of[i] + 1 for i in ins] or [0])
            node_stage[n.name] = s
            for o in n.output:
                stage_of[o] = s
    n_stages = max(node_stage.values()) + 1
    graph_outs = [t for _, t in outputs]

    extractor = utils.Extractor(model)
    stages = []
    for k in range(n_stages):
        nodes = [n for n in graph.node if node_stage.get(n.name) == k]
        made = {o for n in nodes for o in n.output}
        ins = []
        for n in nodes:
            for i in n.input:
                if i and i not in inits and i not in made and i not in ins:
                    ins.append(i)
        outs = []
        for n in graph.node:
            if n.name in dropped or node_stage.get(n.name) == k:
                continue
            for i in n.input:
                if i in made and i not in outs:
                    outs.append(i)
        outs += [t for t in graph_outs if t in made and t not in outs]  # TFLite order
        sub = extractor.extract_model(ins, outs)
        del sub.opset_import[:]
        sub.opset_import.extend(o for o in model.opset_import if o.domain != CUSTOM_DOMAIN)
        ops = [{"op": c.op_type[4:] if c.op_type.startswith("TFL_") else c.op_type,
                "inputs": list(c.input), "outputs": list(c.output),
                "attrs": {a.name: _attr_json(a) for a in c.attribute}}
               for c in blocks.get(k, [])]
        stages.append((sub, ops))
    return stages, outputs


def convert_staged(tflite_path: str, out_pattern: str) -> list:
    """Convert a model with MediaPipe custom ops into ONNX stages; returns the written paths."""
    import json

    import onnx
    import tf2onnx

    custom, inputs_of = tflite_info(tflite_path)
    for op, version in custom.items():
        if CUSTOM_OPS.get(op) != version:
            raise SystemExit(f"{tflite_path}: custom op {op} v{version} has no numpy kernel "
                             f"(known: {CUSTOM_OPS})")
    model, _ = tf2onnx.convert.from_tflite(
        tflite_path, opset=OPSET, custom_ops={f"TFL_{op}": CUSTOM_DOMAIN for op in custom})
    model = rewrite_prelu(model)
    stages, outputs = split_at_custom_ops(model, inputs_of)
    paths = []
    for k, (sub, ops) in enumerate(stages):
        sub = make_batch_dynamic(sub)
        sub = canonicalize(sub)
        sub.doc_string = (f"Stage {k + 1} of {len(stages)} of MediaPipe {MEDIAPIPE_VERSION} "
                          f"{os.path.basename(tflite_path)}, cut at its custom ops "
                          f"({', '.join(sorted(custom))}; they run in numpy between the "
                          f"stages, see metadata {META_CUSTOM_OPS}). tf2onnx "
                          f"{tf2onnx.__version__}, opset {OPSET}, dynamic batch, PRelu "
                          f"rewritten as depthwise convs + Relu. Apache-2.0, see "
                          f"LICENSE-mediapipe.txt.")
        sub.producer_name = "reenact/tools/convert_mediapipe.py"
        meta = {META_CUSTOM_OPS: json.dumps(ops)}
        if k == len(stages) - 1:
            meta[META_OUTPUTS] = json.dumps(outputs)
        onnx.helper.set_model_props(sub, meta)
        sub = onnx.shape_inference.infer_shapes(sub)
        onnx.checker.check_model(sub, full_check=True)
        path = out_pattern.format(k + 1)
        onnx.save(sub, path)
        paths.append(path)
    return paths


def tflite_cut(buf: bytes, inputs, outputs) -> bytes:
    """The sub-graph of a TFLite flatbuffer from tensors ``inputs`` to ``outputs``."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    mt = schema.ModelT.InitFromPackedBuf(buf, 0)
    g = mt.subgraphs[0]
    index = {t.name.decode(): i for i, t in enumerate(g.tensors)}
    ins, outs = [index[n] for n in inputs], [index[n] for n in outputs]
    producer = {o: k for k, op in enumerate(g.operators) for o in op.outputs}
    keep, seen, stack = set(), set(ins), list(outs)
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        if t in producer and producer[t] not in keep:
            keep.add(producer[t])
            stack += [i for i in g.operators[producer[t]].inputs if i >= 0]
    g.operators = [op for k, op in enumerate(g.operators) if k in keep]
    g.inputs, g.outputs = ins, outs
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(mt.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _attention_ops():
    """inference/attention_ops.py (numpy only), loaded without the package."""
    import importlib.util

    path = os.path.join(REPO, "inference", "attention_ops.py")
    spec = importlib.util.spec_from_file_location("reenact_attention_ops", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def verify_staged(tflite_path: str, onnx_paths: list, value_range) -> tuple:
    """(worst stage diff, worst chain diff) of the ONNX stages against TFLite.

    Stage diff: each ONNX stage against the same cut of the TFLite graph, fed the same inputs
    (batch 3 at once and one by one). Chain diff: the model outputs of the ONNX stages chained
    by the numpy custom ops against the TFLite cuts chained by the same ops.
    """
    import json

    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf

    ops_mod = _attention_ops()
    sessions = [ort.InferenceSession(p, providers=["CPUExecutionProvider"]) for p in onnx_paths]
    with open(tflite_path, "rb") as f:
        buf = f.read()
    plan, outputs = [], None
    for sess in sessions:
        meta = sess.get_modelmeta().custom_metadata_map
        ins = [i.name for i in sess.get_inputs()]
        outs = [o.name for o in sess.get_outputs()]
        interp = tf.lite.Interpreter(model_content=tflite_cut(buf, ins, outs))
        interp.allocate_tensors()
        plan.append((sess, interp, ins, outs, json.loads(meta.get(META_CUSTOM_OPS, "[]"))))
        outputs = json.loads(meta[META_OUTPUTS]) if META_OUTPUTS in meta else outputs

    def run_tflite(interp, feeds):
        by_name = {d["name"]: d for d in interp.get_input_details()}
        for name, value in feeds.items():
            interp.set_tensor(by_name[name]["index"], value)
        interp.invoke()
        return {d["name"]: interp.get_tensor(d["index"]).copy()
                for d in interp.get_output_details()}

    rng = np.random.default_rng(0)
    lo, hi = value_range
    shape = tuple(sessions[0].get_inputs()[0].shape[1:])
    batch = rng.uniform(lo, hi, size=(3,) + shape).astype(np.float32)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]] / float(shape[0])
    smooth = np.stack([np.sin(3 * xx + c) * np.cos(2 * yy - c) for c in range(3)], -1)
    batch[2] = (lo + (hi - lo) * (smooth * 0.5 + 0.5)).astype(np.float32)

    stage_worst, ref_out = 0.0, []
    for b in range(batch.shape[0]):
        env = {sessions[0].get_inputs()[0].name: batch[b:b + 1]}
        for sess, interp, ins, outs, ops in plan:
            feeds = {i: env[i] for i in ins}
            ref = run_tflite(interp, feeds)
            got = dict(zip(outs, sess.run(outs, feeds)))
            for name in outs:
                stage_worst = max(stage_worst, float(np.abs(got[name] - ref[name]).max()))
            env.update(ref)
            ops_mod.run_custom_ops(ops, env)
        ref_out.append({name: env[t] for name, t in outputs})
    chained = ops_mod.StagedModel(sessions)
    chain_worst = 0.0
    got_b = chained(batch)
    for b in range(batch.shape[0]):
        got_1 = chained(batch[b:b + 1])
        for name, _ in outputs:
            r = ref_out[b][name].reshape(-1)
            chain_worst = max(chain_worst, float(np.abs(got_1[name].reshape(-1) - r).max()),
                              float(np.abs(got_b[name][b].reshape(-1) - r).max()))
    return stage_worst, chain_worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", help="use this mediapipe wheel instead of pip download")
    ap.add_argument("--out", default=MODELS_DIR, help="output folder (default: models/)")
    ap.add_argument("--only", nargs="+", default=None, metavar="FILE.onnx",
                    help="convert or check only these outputs (e.g. selfie_segmentation.onnx)")
    ap.add_argument("--check", action="store_true",
                    help="do not convert; only verify the existing ONNX files against TFLite")
    args = ap.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(tmp)
        failed = False
        # (member, output, input range, convert, verify, what the verification compares with)
        single = ([(m, o, r, convert, verify, "TFLite") for m, o, r in MODELS]
                  + [(m, o, r, lambda t, p: convert(t, p, TRANSPOSE_CONV_OPSET, transpose_conv=True),
                      verify_transpose_conv, "TFLite (+ the op in numpy)") for m, o, r in TRANSPOSE_CONV_MODELS])
        for member, out_name, value_range, convert_one, verify_one, against in single:
            if args.only and out_name not in args.only:
                continue
            tfl = extract(wheel, member, tmp)
            out_path = os.path.join(args.out, out_name)
            if not args.check:
                convert_one(tfl, out_path)
            diff = verify_one(tfl, out_path, value_range)
            ok = diff <= TOLERANCE
            failed |= not ok
            print(f"{out_name}: max abs diff vs {against} = {diff:.3g} "
                  f"({'ok' if ok else 'FAIL'}), sha256 {sha256(out_path)}, "
                  f"{os.path.getsize(out_path)} bytes")
        for member, pattern, value_range in STAGED_MODELS:
            if args.only and pattern.format(1) not in args.only:
                continue
            tfl = extract(wheel, member, tmp)
            pattern = os.path.join(args.out, pattern)
            if args.check:
                paths, k = [], 1
                while os.path.exists(pattern.format(k)):
                    paths.append(pattern.format(k))
                    k += 1
            else:
                paths = convert_staged(tfl, pattern)
            stage_diff, chain_diff = verify_staged(tfl, paths, value_range)
            ok = stage_diff <= TOLERANCE and chain_diff <= TOLERANCE
            failed |= not ok
            print(f"{os.path.basename(member)} -> {len(paths)} stages: max abs diff vs TFLite "
                  f"per stage {stage_diff:.3g}, chained with the numpy custom ops "
                  f"{chain_diff:.3g} ({'ok' if ok else 'FAIL'})")
            for p in paths:
                print(f"  {os.path.basename(p)}: sha256 {sha256(p)}, {os.path.getsize(p)} bytes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
