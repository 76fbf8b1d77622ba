# SPDX-License-Identifier: GPL-3.0-or-later
"""The numpy kernels of MediaPipe's custom ops (reenact.tracking.attention_ops) on known cases.

The end-to-end check against MediaPipe's own C++ kernels is in test_facemesh_parity.py
(``test_attention_per_roi_matches_mediapipe``); these pin the semantics case by case.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from reenact.tracking import attention_ops as ops
from reenact import session
from reenact.tracking.facemesh import EYE_CONTOUR_33, EYE_CONTOUR_263, LIPS, refine_attention_landmarks


def _matrix(a, t):
    """4x4 matrix with 2x2 linear part a and translation t (the ops' layout)."""
    m = np.eye(4, dtype=np.float32)
    m[:2, :2] = a
    m[:2, 3] = t
    return m[None]


# ------------------------------------------------------------------ TransformTensorBilinear
def _ramp(h=6, w=7, c=2):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([x + 10 * y, 100 - x * y][:c], -1)[None]  # (1, h, w, c)


def test_bilinear_identity_and_integer_shift():
    data = _ramp()
    out = ops.transform_tensor_bilinear(data, _matrix(np.eye(2), (0, 0)), 4, 5)
    np.testing.assert_array_equal(out[0], data[0, :4, :5])
    out = ops.transform_tensor_bilinear(data, _matrix(np.eye(2), (2, 1)), 4, 5)
    np.testing.assert_array_equal(out[0], data[0, 1:5, 2:7])


def test_bilinear_half_pixel_and_outside():
    data = _ramp()
    out = ops.transform_tensor_bilinear(data, _matrix(np.eye(2), (0.5, 0)), 2, 3)
    np.testing.assert_allclose(out[0], (data[0, :2, :3] + data[0, :2, 1:4]) / 2, rtol=1e-6)
    # one column left of the map: outside -> 0 in every channel; the rest shifted
    out = ops.transform_tensor_bilinear(data, _matrix(np.eye(2), (-1, 0)), 3, 4)
    assert (out[0, :, 0] == 0).all()
    np.testing.assert_array_equal(out[0, :, 1:], data[0, :3, :3])
    # the last row/column itself (position exactly W-1) is inside
    out = ops.transform_tensor_bilinear(data, _matrix(np.eye(2), (6, 5)), 1, 1)
    np.testing.assert_array_equal(out[0, 0, 0], data[0, 5, 6])


def test_bilinear_scale_maps_pixel_centres():
    """x2 downscale: output pixel centre u + 0.5 -> input 2u + 1, i.e. the 2x2 block mean."""
    data = _ramp(6, 8, 1)
    out = ops.transform_tensor_bilinear(data, _matrix(2 * np.eye(2), (0, 0)), 3, 4)
    blocks = data[0, :, :, 0].reshape(3, 2, 4, 2).mean((1, 3))
    np.testing.assert_allclose(out[0, :, :, 0], blocks, rtol=1e-6)


def test_bilinear_batch_is_per_sample():
    rng = np.random.default_rng(1)
    data = rng.random((3, 12, 12, 4), dtype=np.float32)
    mats = np.concatenate([_matrix([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]],
                                   (5 + a, 4 - a)) for a in (0.0, 0.3, -1.0)])
    batched = ops.transform_tensor_bilinear(data, mats, 5, 5)
    for b in range(3):
        one = ops.transform_tensor_bilinear(data[b:b + 1], mats[b:b + 1], 5, 5)
        np.testing.assert_array_equal(batched[b], one[0])


# ------------------------------------------------------------------ TransformLandmarks
def test_transform_landmarks_rotation_translation():
    a = math.pi / 2
    m = _matrix([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], (10, 20))
    pts = np.array([[[1, 0], [0, 1], [2, 3]]], np.float32)
    out = ops.transform_landmarks(pts, m)
    np.testing.assert_allclose(out[0], [[10, 21], [9, 20], [7, 22]], atol=1e-5)
    pts3 = np.array([[[1, 0, 7.5]]], np.float32)  # a third coordinate is copied
    np.testing.assert_allclose(ops.transform_landmarks(pts3, m)[0], [[10, 21, 7.5]], atol=1e-5)


# ------------------------------------------------------------------ Landmarks2TransformMatrix
def _square_landmarks(angle, centre=(30.0, 20.0), half=(8.0, 4.0)):
    """4 corners of a (2 half[0]) x (2 half[1]) box rotated by ``angle``; 0 -> 1 is +x."""
    c, s = math.cos(angle), math.sin(angle)
    corners = np.array([[-1, 0], [1, 0], [1, 1], [-1, -1]], np.float64) * half
    rot = corners @ np.array([[c, s], [-s, c]])
    pts = np.zeros((1, 4, 3))
    pts[0, :, :2] = rot + centre
    pts[0, :, 2] = 99.0  # z is ignored
    return pts


@pytest.mark.parametrize("angle", [0.0, 0.4, -2.5])
def test_landmarks_to_matrix_box_and_rotation(angle):
    lm = _square_landmarks(angle)
    m = ops.landmarks_to_transform_matrix(
        lm, subset_idxs=[0, 1, 2, 3], left_rotation_idx=0, right_rotation_idx=1,
        target_rotation_radians=0.0, output_height=16, output_width=16, scale_x=1.5,
        scale_y=1.5)
    assert m.shape == (1, 4, 4) and m.dtype == np.float32
    np.testing.assert_array_equal(m[0, 2:], [[0, 0, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(m[0, :2, 2], [0, 0])
    crop = np.array([[[8, 8], [16, 8], [8, 16], [0, 0]]], np.float32)
    got = ops.transform_landmarks(crop, m)[0]
    c, s = math.cos(angle), math.sin(angle)
    x_axis, y_axis = np.array([c, s]), np.array([-s, c])
    # crop centre -> box centre; +8 crop px along u -> 1.5 * 16 / 16 * 8 = 12 px along the
    # box's x axis (box 16 x 8 scaled by 1.5 over 16 crop px)
    np.testing.assert_allclose(got[0], (30, 20), atol=1e-4)
    np.testing.assert_allclose(got[1] - got[0], 8 * 1.5 * 16 / 16 * x_axis, atol=1e-4)
    np.testing.assert_allclose(got[2] - got[0], 8 * 1.5 * 8 / 16 * y_axis, atol=1e-4)
    np.testing.assert_allclose(got[3], got[0] - 8 * 1.5 * (x_axis + 0.5 * y_axis), atol=1e-4)


def test_landmarks_to_matrix_odd_subset_and_batch():
    """An odd subset list reads its last index twice (pairs); batches are per sample."""
    lm = np.concatenate([_square_landmarks(0.2), _square_landmarks(1.0, (5, 6), (3, 9))])
    kw = dict(left_rotation_idx=0, right_rotation_idx=1, target_rotation_radians=0.0,
              output_height=8, output_width=12, scale_x=1.2, scale_y=2.0)
    odd = ops.landmarks_to_transform_matrix(lm, subset_idxs=[0, 1, 2, 3, 2], **kw)
    even = ops.landmarks_to_transform_matrix(lm, subset_idxs=[0, 1, 2, 3], **kw)
    np.testing.assert_array_equal(odd, even)
    for b in range(2):
        np.testing.assert_array_equal(
            odd[b], ops.landmarks_to_transform_matrix(lm[b:b + 1], subset_idxs=[0, 1, 2, 3],
                                                      **kw)[0])


def test_run_custom_ops_and_unknown_op():
    env = {"pts": np.array([[[1, 2]]], np.float32), "m": _matrix(np.eye(2), (1, 1))}
    ops.run_custom_ops([{"op": "TransformLandmarks", "inputs": ["pts", "m"], "outputs": ["o"],
                         "attrs": {}}], env)
    np.testing.assert_array_equal(env["o"], [[[2, 3]]])
    with pytest.raises(ValueError):
        ops.run_custom_ops([{"op": "Nope", "inputs": [], "outputs": ["x"]}], env)


# ------------------------------------------------------------------ the bundled model
def test_bundled_stages_metadata():
    """The two stages chain: every tensor a stage or custom op reads exists by then."""
    stages = [session.create_session(session.model_path(f"face_landmark_with_attention_{k}.onnx"),
                                     prefer_gpu=False, threads=1) for k in (1, 2)]
    model = ops.StagedModel(stages)
    have = {model.input_name}
    kinds = set()
    for sess in stages:
        assert {i.name for i in sess.get_inputs()} <= have
        have |= {o.name for o in sess.get_outputs()}
        for node in json.loads(sess.get_modelmeta().custom_metadata_map[ops.META_CUSTOM_OPS]):
            assert set(node["inputs"]) <= have
            have |= set(node["outputs"])
            kinds.add(node["op"])
    assert kinds == set(ops.OPS)
    assert [n for n, _ in model.outputs] == [
        "output_mesh_identity", "output_lips", "output_left_eye", "output_right_eye",
        "output_left_iris", "output_right_iris", "conv_faceflag"]
    out = model(np.full((2, 192, 192, 3), 0.5, np.float32))
    assert out["output_lips"].shape == (2, 80, 2)
    assert out["output_mesh_identity"].reshape(2, -1).shape == (2, 1404)
    np.testing.assert_allclose(out["output_lips"][0], out["output_lips"][1], atol=1e-5)


# ------------------------------------------------------------------ refinement
def test_refinement_indices_and_iris_z():
    rng = np.random.default_rng(0)
    mesh = rng.normal(size=(2, 468, 3))
    parts = [rng.normal(size=(2, k, 2)) for k in (80, 71, 71, 5, 5)]
    out = refine_attention_landmarks(mesh, *parts)
    assert out.shape == (2, 478, 3)
    np.testing.assert_array_equal(out[:, LIPS, :2], parts[0])
    np.testing.assert_array_equal(out[:, EYE_CONTOUR_33, :2], parts[1])
    np.testing.assert_array_equal(out[:, EYE_CONTOUR_263, :2], parts[2])
    np.testing.assert_array_equal(out[:, 468:473, :2], parts[3])
    np.testing.assert_array_equal(out[:, 473:478, :2], parts[4])
    np.testing.assert_array_equal(out[:, :468, 2], mesh[:, :, 2])  # z stays the mesh's
    untouched = np.setdiff1d(np.arange(468), LIPS + EYE_CONTOUR_33 + EYE_CONTOUR_263)
    np.testing.assert_array_equal(out[:, untouched], mesh[:, untouched])
    for sl, eye in ((slice(468, 473), EYE_CONTOUR_33), (slice(473, 478), EYE_CONTOUR_263)):
        z = mesh[:, eye[:16], 2].mean(1)
        np.testing.assert_allclose(out[:, sl, 2], np.repeat(z[:, None], 5, 1))
    assert len(set(LIPS)) == 80 and not set(LIPS) & set(EYE_CONTOUR_33 + EYE_CONTOUR_263)
