# SPDX-License-Identifier: GPL-3.0-or-later
"""Camera and pose conventions: pinhole camera, Euler XYZ rotations, OpenCV <-> OpenGL/Blender
pose, projection of the face model (numpy only). The conventions are written out in
:mod:`reenact.face.fit` and docs/track-format.md."""

from dataclasses import dataclass

import numpy as np


SENSOR_WIDTH_MM = 36.0


DEFAULT_FOCAL_MM = 50.0  # on a 36 mm-wide sensor: f = 1.39 x image width


@dataclass(frozen=True)
class Camera:
    """Pinhole camera: focal length in pixels, principal point (cx, cy), image size (w, h)."""

    focal_px: float
    principal: tuple
    size: tuple

    @classmethod
    def centered(cls, size, focal_px=None):
        w, h = float(size[0]), float(size[1])
        f = focal_mm_to_px(DEFAULT_FOCAL_MM, w) if focal_px is None else float(focal_px)
        return cls(f, (w / 2.0, h / 2.0), (int(size[0]), int(size[1])))

    @property
    def focal_mm(self):
        return focal_px_to_mm(self.focal_px, self.size[0])


def focal_mm_to_px(focal_mm, width_px, sensor_width_mm=SENSOR_WIDTH_MM):
    """Focal length in pixels for a lens of ``focal_mm`` on a sensor ``sensor_width_mm`` wide."""
    return float(focal_mm) * float(width_px) / float(sensor_width_mm)


def focal_px_to_mm(focal_px, width_px, sensor_width_mm=SENSOR_WIDTH_MM):
    """Inverse of :func:`focal_mm_to_px`."""
    return float(focal_px) * float(sensor_width_mm) / float(width_px)


def euler_to_matrix(euler):
    """(..., 3) XYZ Euler radians -> (..., 3, 3) rotation ``Rz @ Ry @ Rx``."""
    e = np.asarray(euler, np.float64)
    cx, cy, cz = np.cos(e[..., 0]), np.cos(e[..., 1]), np.cos(e[..., 2])
    sx, sy, sz = np.sin(e[..., 0]), np.sin(e[..., 1]), np.sin(e[..., 2])
    R = np.empty(e.shape[:-1] + (3, 3))
    R[..., 0, 0] = cz * cy
    R[..., 0, 1] = cz * sy * sx - sz * cx
    R[..., 0, 2] = cz * sy * cx + sz * sx
    R[..., 1, 0] = sz * cy
    R[..., 1, 1] = sz * sy * sx + cz * cx
    R[..., 1, 2] = sz * sy * cx - cz * sx
    R[..., 2, 0] = -sy
    R[..., 2, 1] = cy * sx
    R[..., 2, 2] = cy * cx
    return R


def matrix_to_euler(R):
    """(..., 3, 3) rotation -> (..., 3) XYZ Euler radians with R = Rz @ Ry @ Rx.

    ry in [-pi/2, pi/2], rz in (-pi, pi], rx in [0, 2 pi) (so that a face seen from the front,
    rx ~ pi, never wraps).
    """
    R = np.asarray(R, np.float64)
    ry = np.arctan2(-R[..., 2, 0], np.hypot(R[..., 0, 0], R[..., 1, 0]))
    rx = np.arctan2(R[..., 2, 1], R[..., 2, 2]) % (2 * np.pi)
    rz = np.arctan2(R[..., 1, 0], R[..., 0, 0])
    # gimbal lock (|ry| = pi/2): put everything into rx
    lock = np.hypot(R[..., 0, 0], R[..., 1, 0]) < 1e-9
    if np.any(lock):
        rz = np.where(lock, 0.0, rz)
        rx = np.where(lock, np.arctan2(-R[..., 1, 2], R[..., 1, 1]) % (2 * np.pi), rx)
    return np.stack([rx, ry, rz], -1)


def rodrigues(w):
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices."""
    w = np.asarray(w, np.float64)
    th = np.linalg.norm(w, axis=-1)[..., None, None]
    K = np.zeros(w.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2] = -w[..., 2], w[..., 1]
    K[..., 1, 0], K[..., 1, 2] = w[..., 2], -w[..., 0]
    K[..., 2, 0], K[..., 2, 1] = -w[..., 1], w[..., 0]
    small = th < 1e-8
    ths = np.where(small, 1.0, th)
    a = np.where(small, 1.0, np.sin(ths) / ths)
    b = np.where(small, 0.5, (1 - np.cos(ths)) / ths**2)
    return np.eye(3) + a * K + b * (K @ K)


#: model frame -> OpenGL/Blender camera axes of a camera looking at the face: flip y and z
GL_FROM_CV = np.diag([1.0, -1.0, -1.0])


# OpenCV -> Blender/OpenGL camera: ry, rz, ty, tz change sign (rx is shifted by pi separately)
_GL_SIGNS = np.array([1.0, -1.0, -1.0, 1.0, -1.0, -1.0])


def pose_to_gl(pose):
    """(..., 6) pose in the OpenCV camera -> (..., 6) in an OpenGL/Blender camera frame.

    The returned rotation (XYZ Euler, Blender's default mode) and translation (cm) place the
    face mesh in the frame of a camera at the origin looking down -z with y up (a Blender camera
    object with zero rotation): a frontal face gets rotation (0, 0, 0). Since
    ``diag(1,-1,-1) @ Rz(c) Ry(b) Rx(a) = Rz(-c) Ry(-b) Rx(a - pi)``, this is
    ``(rx - pi, -ry, -rz, tx, -ty, -tz)``. Convert metres for Blender scenes yourself (x 0.01).
    """
    out = np.asarray(pose, np.float64) * _GL_SIGNS
    out[..., 0] = (out[..., 0] - np.pi + np.pi) % (2 * np.pi) - np.pi
    return out


def pose_from_gl(pose_gl):
    """Inverse of :func:`pose_to_gl`."""
    out = np.asarray(pose_gl, np.float64) * _GL_SIGNS
    out[..., 0] = (out[..., 0] + np.pi) % (2 * np.pi)
    return out


def shapes_from(identity, basis, coeffs, points=None):
    """identity (468,3) + coeffs (T,K) @ basis (K,468,3) -> (T,468,3); with ``points`` (vertex
    indices) only those vertices, (T, len(points), 3): a long shot's mouth measures need 60 of the
    468, and the whole mesh of 20,000 rows took a second each time."""
    c = np.asarray(coeffs, np.float64)
    B = np.asarray(basis, np.float64)
    ident = np.asarray(identity, np.float64)
    if points is not None:
        points = np.asarray(points, np.int64)
        B, ident = B[:, points], ident[points]
    return ident[None] + (c @ B.reshape(len(B), -1)).reshape(len(c), -1, 3)


def project_points(X, f, c):
    z = X[..., 2]
    return np.stack([f * X[..., 0] / z + c[0], f * X[..., 1] / z + c[1]], -1)


def project(identity, basis, coeffs, pose, camera, points=None):
    """Pixels (T, 468, 2) of the model: identity + coeffs @ basis, posed by ``pose`` (T, 6).

    ``camera``: a :class:`Camera` (or anything with ``focal_px`` and ``principal``). Frames
    whose pose or coefficients are NaN give NaN. ``points``: only those vertices, (T, len(points), 2).
    """
    return project_points(posed_vertices(identity, basis, coeffs, pose, points), float(camera.focal_px),
                          camera.principal)


def posed_vertices(identity, basis, coeffs, pose, points=None):
    """Camera-space points (T, 468, 3) cm of the model ``identity + coeffs @ basis`` posed by
    ``pose`` (T, 6); NaN on frames whose pose or coefficients are NaN. ``points``: only those
    vertices (:func:`shapes_from`)."""
    pose = np.asarray(pose, np.float64)
    S = shapes_from(identity, basis, np.nan_to_num(np.asarray(coeffs, np.float64)), points)
    R = euler_to_matrix(np.nan_to_num(pose[:, :3]))
    X = rotate(R, S) + np.nan_to_num(pose[:, None, 3:])
    bad = ~(np.isfinite(pose).all(1) & np.isfinite(np.asarray(coeffs, np.float64)).all(1))
    X[bad] = np.nan
    return X


def rotation_angle_deg(Ra, Rb):
    """Angle in degrees of the rotation between (..., 3, 3) rotations ``Ra`` and ``Rb``."""
    c = (np.trace(np.swapaxes(Ra, -1, -2) @ Rb, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def rotate(R, S):
    """Rotate points S (T,N,3) or (N,3) by R (T,3,3): (T,N,3)."""
    return np.matmul(S, np.swapaxes(R, 1, 2))
