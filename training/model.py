# SPDX-License-Identifier: GPL-3.0-or-later
"""The rendering-to-video network: a small U-Net (PyTorch; training only).

Input: (N, C, H, W) float32 0..1, the space-time conditioning stack of
:func:`reenact.render.conditioning.stack_window` (C = 5 W, plus 4 in face-only mode: masked real crop RGB
and the hole mask, plus 8 before those with the actor reference). H and W must be multiples of 16. Output: (N, 3, H, W) RGB 0..1. In face-only
mode the output keeps the real crop outside the hole (``real + hole * (pred - real)``), so the
network only has to synthesise the face interior.

Cost is kept CPU-friendly: a 1x1 input mix at full resolution, strided 3x3 encoder down to 1/16,
two residual blocks at the bottom, additive (FPN-like) skips in the decoder and a pixel-shuffle
output from 1/2 resolution. Width 40 (the default): 4.9 M parameters (19.6 MB fp32), ~2.5 GMAC
per 256x256 frame.
"""

import torch
from torch import nn
import torch.nn.functional as F


def _act():
    return nn.LeakyReLU(0.2, inplace=True)


class _Res(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.act = _act()

    def forward(self, x):
        return x + 0.5 * self.c2(self.act(self.c1(x)))


def context_stats(real, hole, cell=8, reach=2, eps=0.03):
    """Per-sample, per-channel mean and std (N, 3, 1, 1) of the visible real crop in a ring
    around the hole: cells of ``cell`` px (``H/16``-ish at 128) within ``reach`` cells of a
    hole cell, weighted by how much of each cell is visible. ``real`` is zero inside the hole.
    Only pooling and arithmetic, so ONNX sees exactly the same computation."""
    vis = 1.0 - hole
    hs = F.avg_pool2d(hole, cell)  # fraction of each cell inside the hole
    # 1 for cells within ``reach`` of the hole (a binary hole covers >= 1/64 of such a cell),
    # written without comparison/cast so that the fp16 export stays in one type
    near = torch.clamp(F.max_pool2d(hs, 2 * reach + 1, 1, reach) * 100.0, 0.0, 1.0)
    w = F.avg_pool2d(vis, cell) * near  # visible fraction of cells near the hole
    s1 = (F.avg_pool2d(real * vis, cell) * near).sum((2, 3), keepdim=True)
    s2 = (F.avg_pool2d(real * real * vis, cell) * near).sum((2, 3), keepdim=True)
    n = w.sum((2, 3), keepdim=True).clamp_min(1e-3)
    mu = s1 / n
    sd = torch.sqrt((s2 / n - mu * mu).clamp_min(0.0) + eps * eps)
    return mu, sd


class RendererNet(nn.Module):
    """``ref`` (face-only): the input holds the actor reference (:mod:`reenact.render.reference`:
    aligned reference crop RGB + its 5 conditioning channels) just before the masked real crop,
    and the network predicts a *correction* of that reference: ``ref + sd * out`` (``ref + out``
    without ``ctx_norm``). Where the reference fits (skin, beard, teeth of a similar mouth) its
    pixels pass at full detail, and what the network draws (another mouth shape, gaze, seams)
    is relative to the actor's own colours, so it carries over to actors it never saw. The
    output layer of a fresh model is zero: it starts as a copy of the reference.

    ``ctx_norm`` (face-only): the real crop is fed normalised by the colour statistics of the
    visible ring around the hole (:func:`context_stats`), and the network predicts the face in
    that normalised space (``mu + sd * out``, clipped to 0..1), so a global per-channel colour
    change (exposure, white balance, a skin filter that also brightens the neck and forehead)
    of the footage carries over to the synthesised face."""

    def __init__(self, in_ch, base=32, face_only=True, ctx_norm=False, ref=False):
        super().__init__()
        b = int(base)
        self.config = {"in_ch": int(in_ch), "base": b, "face_only": bool(face_only), "ctx_norm": bool(ctx_norm),
                       "ref": bool(ref)}
        self.face_only = bool(face_only)
        self.ctx_norm = bool(ctx_norm) and self.face_only
        self.ref = bool(ref) and self.face_only
        self.mix = nn.Conv2d(in_ch, b // 2, 1)
        self.stem = nn.Conv2d(b // 2, b, 3, 2, 1)  # 1/2
        self.d1 = nn.Conv2d(b, 2 * b, 3, 2, 1)  # 1/4
        self.d2 = nn.Conv2d(2 * b, 4 * b, 3, 2, 1)  # 1/8
        self.d2b = nn.Conv2d(4 * b, 4 * b, 3, 1, 1)
        self.d3 = nn.Conv2d(4 * b, 8 * b, 3, 2, 1)  # 1/16
        self.mid = nn.Sequential(_Res(8 * b), _Res(8 * b))
        self.l3 = nn.Conv2d(8 * b, 4 * b, 1)
        self.u3 = nn.Conv2d(4 * b, 4 * b, 3, 1, 1)
        self.l2 = nn.Conv2d(4 * b, 2 * b, 1)
        self.u2 = nn.Conv2d(2 * b, 2 * b, 3, 1, 1)
        self.l1 = nn.Conv2d(2 * b, b, 1)
        self.u1 = nn.Conv2d(b, b, 3, 1, 1)
        self.out = nn.Conv2d(b, 12, 3, 1, 1)  # RGB x 4 (pixel shuffle)
        if self.ref:  # a fresh model with the reference starts as a copy of the reference
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)
        self.act = _act()

    @staticmethod
    def _up(x):
        return F.interpolate(x, scale_factor=2.0, mode="nearest")

    def forward(self, x):
        a = self.act
        if self.ctx_norm:
            real = x[:, -4:-1]
            hole = x[:, -1:]
            mu, sd = context_stats(real, hole)
            if self.ref:  # the reference crop (same footage) in the same normalised colours
                xn = torch.cat([x[:, :-12], (x[:, -12:-9] - mu) / sd, x[:, -9:-4],
                                (real - mu) / sd * (1.0 - hole), hole], 1)
            else:
                xn = torch.cat([x[:, :-4], (real - mu) / sd * (1.0 - hole), hole], 1)
        else:
            xn = x
        m = a(self.mix(xn))
        e0 = a(self.stem(m))
        e1 = a(self.d1(e0))
        e2 = a(self.d2(e1))
        e2 = a(self.d2b(e2))
        e3 = a(self.d3(e2))
        e3 = self.mid(e3)
        y = a(self.u3(self._up(self.l3(e3)) + e2))
        y = a(self.u2(self._up(self.l2(y)) + e1))
        y = a(self.u1(self._up(self.l1(y)) + e0))
        o = F.pixel_shuffle(self.out(y), 2)
        if self.ref:  # a correction of the aligned reference
            y = torch.clamp(x[:, -12:-9] + o, 0.0, 1.0)
        elif self.ctx_norm:
            y = torch.clamp(mu + sd * o, 0.0, 1.0)
        else:
            y = torch.sigmoid(o)
        if self.face_only:
            real = x[:, -4:-1]
            hole = x[:, -1:]
            y = real + hole * (y - real)
        return y


def count_params(model):
    return sum(p.numel() for p in model.parameters())


class PatchDiscriminator(nn.Module):
    """A small 70x70-style PatchGAN on (conditioning current frame + RGB)."""

    def __init__(self, in_ch, base=32):
        super().__init__()
        b = base
        self.net = nn.Sequential(
            nn.Conv2d(in_ch, b, 4, 2, 1), _act(),
            nn.Conv2d(b, 2 * b, 4, 2, 1), _act(),
            nn.Conv2d(2 * b, 4 * b, 4, 2, 1), _act(),
            nn.Conv2d(4 * b, 1, 3, 1, 1),
        )

    def forward(self, x):
        return self.net(x)
