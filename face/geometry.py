# SPDX-License-Identifier: GPL-3.0-or-later
"""Plane and space geometry shared by the fit, the crop and the reference: similarity fits,
affine application and the inter-ocular distance (numpy + OpenCV only)."""

import cv2
import numpy as np

from .topology import EYE_LEFT_OUTER, EYE_RIGHT_OUTER


def similarity_batch(src, dst, with_scale=True):
    """Per-frame least-squares 3-D similarity (Umeyama): ``dst[t] ~ s[t] R[t] src + tr[t]``;
    ``src`` (N, 3) or (T, N, 3), ``dst`` (T, N, 3). Returns (s (T,), R (T, 3, 3), tr (T, 3))."""
    src = np.broadcast_to(src, dst.shape)
    ms, md = src.mean(1), dst.mean(1)
    a, b = src - ms[:, None], dst - md[:, None]
    Sig = np.einsum("tni,tnj->tij", b, a)
    U, S, Vt = np.linalg.svd(Sig)
    d = np.sign(np.linalg.det(U @ Vt))
    D = np.ones((len(dst), 3))
    D[:, 2] = d
    R = U @ (D[:, :, None] * Vt)
    s = (S * D).sum(1) / (a**2).sum((1, 2)) if with_scale else np.ones(len(dst))
    tr = md - s[:, None] * np.einsum("tij,tj->ti", R, ms)
    return s, R, tr


def similarity_2d(src, dst):
    """Least-squares 2-D similarity ``dst ~ s R(theta) src + t`` of (N, 2) points; returns
    (s, theta, t)."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    var = (a**2).sum()
    c = (a * b).sum()  # sum of dot products
    d = (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()
    s = np.hypot(c, d) / var
    th = np.arctan2(d, c)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    t = md - s * R @ ms
    return s, th, t


def robust_similarity_2d(src_points, dst_points):
    """2x3 similarity taking (N, 2) ``src`` onto ``dst``, fitted robustly (least median of
    squares), so that the points an expression moves (mouth, lids) count as outliers while the
    face outline stays aligned; the identity if it cannot be fitted."""
    A, _ = cv2.estimateAffinePartial2D(np.asarray(src_points, np.float32), np.asarray(dst_points, np.float32),
                                       method=cv2.LMEDS)
    if A is None or not np.isfinite(A).all():
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return A


def apply_affine(A, pts):
    """Apply a 2x3 affine ``A`` to (..., 2) points."""
    pts = np.asarray(pts, np.float64)
    return pts @ np.asarray(A)[:, :2].T + np.asarray(A)[:, 2]


def iod_px(landmarks):
    """Inter-ocular distance (outer eye corners) of (T, N, >=2) landmarks, in their units."""
    L = np.asarray(landmarks)
    return np.linalg.norm(L[:, EYE_RIGHT_OUTER, :2] - L[:, EYE_LEFT_OUTER, :2], axis=-1)
