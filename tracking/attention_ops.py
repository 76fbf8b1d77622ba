# SPDX-License-Identifier: GPL-3.0-or-later
"""The attention face-landmark network (``face_landmark_with_attention.tflite``) without TFLite.

MediaPipe's ``FaceMesh(refine_landmarks=True)`` runs ``face_landmark_with_attention.tflite``,
whose graph contains three custom TFLite ops that no converter handles. The converter
(``tools/convert_mediapipe.py``) cuts the graph at those ops into two ONNX stages; the ops run
here, in numpy, vectorised over the batch, with the semantics of MediaPipe's C++ kernels
(``mediapipe/util/tflite/operations/*.cc``, version 2 of each op, as the model uses):

- ``Landmarks2TransformMatrix``: from the coarse mesh, a 4x4 matrix taking the pixels of a
  small crop (lips, one eye) to the coordinates of the landmarks: rotation that brings
  ``landmarks[left] -> landmarks[right]`` to ``target_rotation_radians``, centre and size of
  the rotated bounding box of the subset, scaled by ``scale_x`` / ``scale_y``.
- ``TransformTensorBilinear``: samples a feature map (B, H, W, C) at the crop's pixel centres
  through that matrix (bilinear, zero outside the map).
- ``TransformLandmarks``: applies the first two rows of a matrix to 2-D points.

Which op runs on which tensors between the stages, and with which attributes, is read from the
stages' ONNX metadata (``reenact.custom_ops``, written by the converter from the TFLite
graph), so nothing here hard-codes the model. :class:`StagedModel` runs the chain and returns
the TFLite model's outputs by name.
"""

from __future__ import annotations

import json

import numpy as np

#: metadata keys written by tools/convert_mediapipe.py
META_CUSTOM_OPS = "reenact.custom_ops"
META_OUTPUTS = "reenact.outputs"


def landmarks_to_transform_matrix(landmarks, subset_idxs, left_rotation_idx: int,
                                  right_rotation_idx: int, target_rotation_radians: float,
                                  output_height: int, output_width: int, scale_x: float,
                                  scale_y: float) -> np.ndarray:
    """``Landmarks2TransformMatrix`` v2. landmarks (B, N, 3) -> (B, 4, 4) float32.

    The matrix maps a pixel (u, v) of the (output_height x output_width) crop to landmark
    coordinates: ``shift(centre) . rotate(-r) . scale(s_x, s_y) . shift(-w/2, -h/2)`` with
    r = target - atan2(right - left), the crop centre and size from the subset's bounding box
    in the frame rotated by r, ``s_x = scale_x * box_width / output_width`` (same for y).
    """
    lm = np.asarray(landmarks, np.float64)
    lm = lm.reshape(lm.shape[0], -1, lm.shape[-1])
    # The kernel reads subset_idxs as pairs (an odd last index paired with itself) and uses
    # both members of each pair: the set of points is the listed indices.
    idx = np.asarray(subset_idxs, np.int64).reshape(-1)
    left = lm[:, int(left_rotation_idx), :2]
    right = lm[:, int(right_rotation_idx), :2]
    r = float(target_rotation_radians) - np.arctan2(right[:, 1] - left[:, 1],
                                                    right[:, 0] - left[:, 0])
    c, s = np.cos(r)[:, None], np.sin(r)[:, None]
    px, py = lm[:, idx, 0], lm[:, idx, 1]
    rx = c * px - s * py
    ry = s * px + c * py
    x0, x1 = rx.min(1), rx.max(1)
    y0, y1 = ry.min(1), ry.max(1)
    width, height = x1 - x0, y1 - y0
    mx, my = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    c, s = c[:, 0], s[:, 0]
    # back through the inverse rotation: rotate(-r) = [[c, s], [-s, c]]
    crop_x = c * mx + s * my
    crop_y = -s * mx + c * my
    sx = float(scale_x) * width / float(output_width)
    sy = float(scale_y) * height / float(output_height)
    a00, a01 = c * sx, s * sy
    a10, a11 = -s * sx, c * sy
    hx, hy = -float(output_width) / 2.0, -float(output_height) / 2.0
    out = np.zeros((lm.shape[0], 4, 4), np.float64)
    out[:, 0, 0], out[:, 0, 1], out[:, 0, 3] = a00, a01, crop_x + a00 * hx + a01 * hy
    out[:, 1, 0], out[:, 1, 1], out[:, 1, 3] = a10, a11, crop_y + a10 * hx + a11 * hy
    out[:, 2, 2] = 1.0
    out[:, 3, 3] = 1.0
    return out.astype(np.float32)


def transform_tensor_bilinear(data, matrix, output_height: int, output_width: int) -> np.ndarray:
    """``TransformTensorBilinear`` v2. data (B, H, W, C), matrix (B, 4, 4) -> (B, h, w, C).

    Output pixel (u, v) reads the input at ``M . (u + 0.5, v + 0.5, 0, 1) - 0.5`` (the kernel's
    align-corners correction: pixel centres map to pixel centres), bilinearly; a sample whose
    position falls outside [0, W-1] x [0, H-1] is 0 in every channel.
    """
    data = np.asarray(data, np.float32)
    b, h, w, ch = data.shape
    m = np.asarray(matrix, np.float32).reshape(b, 4, 4)
    half = np.float32(0.5)
    u, v = _pixel_grid(int(output_height), int(output_width))
    xt = m[:, 0, 3] + m[:, 0, 0] * half + m[:, 0, 1] * half - half
    yt = m[:, 1, 3] + m[:, 1, 0] * half + m[:, 1, 1] * half - half
    tx = m[:, 0, 0, None] * u + m[:, 0, 1, None] * v + xt[:, None]  # (B, P)
    ty = m[:, 1, 0, None] * u + m[:, 1, 1, None] * v + yt[:, None]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    fx, fy = np.floor(tx), np.floor(ty)
    rc = (tx - fx)[..., None]  # right contribution
    lc = (ty - fy)[..., None]  # lower contribution
    x0 = np.clip(fx, 0, w - 1).astype(np.intp)
    y0 = np.clip(fy, 0, h - 1).astype(np.intp)
    # x0 + 1 == W only where tx == W - 1 exactly, i.e. with weight rc == 0 (same for y)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    first = (np.arange(b) * (h * w))[:, None, None]
    idx = np.stack([y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1], -1) + first
    q = data.reshape(-1, ch)[idx]  # (B, P, 4, C): q_11, q_21, q_12, q_22
    upper = (1 - rc) * q[:, :, 0] + rc * q[:, :, 1]
    lower = (1 - rc) * q[:, :, 2] + rc * q[:, :, 3]
    out = lc * lower + (1 - lc) * upper
    out *= inside[..., None]
    return out.reshape(b, int(output_height), int(output_width), ch)


_GRIDS: dict = {}


def _pixel_grid(h: int, w: int):
    """(u, v) of the pixels of an h x w image, each (1, h*w) float32, row-major."""
    if (h, w) not in _GRIDS:
        v, u = np.mgrid[0:h, 0:w].astype(np.float32)
        _GRIDS[(h, w)] = (u.reshape(1, -1), v.reshape(1, -1))
    return _GRIDS[(h, w)]


def transform_landmarks(landmarks, matrix) -> np.ndarray:
    """``TransformLandmarks`` v2. landmarks (B, N, D) with D = 2 or 3, matrix (B, 4, 4).

    x, y -> the first two rows of the matrix applied to (x, y, 0, 1); a third coordinate is
    copied unchanged.
    """
    lm = np.asarray(landmarks, np.float32)
    m = np.asarray(matrix, np.float32).reshape(-1, 4, 4)
    out = lm.copy()
    x, y = lm[..., 0], lm[..., 1]
    out[..., 0] = m[:, 0, 0, None] * x + m[:, 0, 1, None] * y + m[:, 0, 3, None]
    out[..., 1] = m[:, 1, 0, None] * x + m[:, 1, 1, None] * y + m[:, 1, 3, None]
    return out


def _run_landmarks_to_transform_matrix(inputs, attrs):
    return landmarks_to_transform_matrix(inputs[0], **attrs)


def _run_transform_tensor_bilinear(inputs, attrs):
    return transform_tensor_bilinear(inputs[0], inputs[1], attrs["output_height"],
                                     attrs["output_width"])


def _run_transform_landmarks(inputs, attrs):
    return transform_landmarks(inputs[0], inputs[1])


OPS = {
    "Landmarks2TransformMatrix": _run_landmarks_to_transform_matrix,
    "TransformTensorBilinear": _run_transform_tensor_bilinear,
    "TransformLandmarks": _run_transform_landmarks,
}


def run_custom_ops(nodes, env: dict) -> None:
    """Run custom-op nodes ``[{"op", "inputs", "outputs", "attrs"}, ...]`` on ``env`` in place."""
    for node in nodes:
        fn = OPS.get(node["op"])
        if fn is None:
            raise ValueError(f"unknown custom op {node['op']!r}")
        env[node["outputs"][0]] = fn([env[i] for i in node["inputs"]], node.get("attrs", {}))


class StagedModel:
    """A TFLite graph cut at its custom ops: ONNX stages, each followed by numpy custom ops.

    ``stages``: onnxruntime sessions in order. Each stage reads its inputs from the tensors
    computed so far (the first stage's single input is the model input), then the custom ops
    listed in its metadata run. The last stage's ``reenact.outputs`` metadata names which
    tensor is each of the original model's outputs. ``__call__(x)`` returns
    ``{output name: array}`` in that order.
    """

    def __init__(self, stages):
        self.stages = list(stages)
        self.input_name = self.stages[0].get_inputs()[0].name
        self._plan = []
        outputs = None
        for sess in self.stages:
            meta = sess.get_modelmeta().custom_metadata_map
            ops = json.loads(meta.get(META_CUSTOM_OPS, "[]"))
            self._plan.append(([i.name for i in sess.get_inputs()],
                               [o.name for o in sess.get_outputs()], ops))
            if META_OUTPUTS in meta:
                outputs = json.loads(meta[META_OUTPUTS])
        if outputs is None:
            raise ValueError("the last stage names no outputs (metadata reenact.outputs)")
        self.outputs = outputs  # [[model output name, tensor name], ...]

    def __call__(self, x) -> dict:
        env = {self.input_name: x}
        for sess, (ins, outs, ops) in zip(self.stages, self._plan):
            env.update(zip(outs, sess.run(outs, {i: env[i] for i in ins})))
            run_custom_ops(ops, env)
        return {name: env[tensor] for name, tensor in self.outputs}
