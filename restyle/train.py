# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle training (the only module of :mod:`reenact.restyle` that imports torch).

Unpaired X -> Y in the manner of Recycle-GAN (Bansal et al. 2018): generators G_XY, G_YX,
temporal predictors P_X, P_Y (frames t-2, t-1 -> t), LSGAN discriminators D_X, D_Y, and

- adversarial (LSGAN)      ``(D_Y(G_XY(x)) - 1)^2`` and the same for X
- recurrent                ``|P_X(x_{t-2}, x_{t-1}) - x_t|`` (and Y)
- recycle                  ``|G_YX(P_Y(G_XY(x_{t-2}), G_XY(x_{t-1}))) - x_t|`` (and Y -> X -> Y)
- cycle (optional)         ``|G_YX(G_XY(x)) - x|`` (and Y)
- identity (optional)      ``|G_XY(y) - y|`` (and X)

``method="cycle"`` drops recurrent and recycle (the per-frame CycleGAN baseline). What keeps this
loop on the style instead of drifting toward the reference clips' content (see docs/restyle.md):
the generators predict a per-pixel colour transform on a coarse grid that starts at the identity
(:mod:`.colour`), the discriminators see colour/texture statistics (a small receptive field on a
half-resolution image) rather than layout, and the adversarial term waits ``warmup`` steps.

Colourise mode: X = grey (luminance), Y = colour. G_XY predicts chroma only (starting at the mean
reference chroma), G_YX is the fixed luminance; the paired term ``G_XY(grey(y)) = y`` is added.
"""

import io
import json
import os
import sys
import time

import numpy as np

from ..fsutil import write_atomic, write_bytes
from ..progress import StopFlag
from ..training.files import load_checkpoint, load_torch, save_torch
from ..training.resume import clean_temporaries
from .colour import KB, KG, KR, N_FEAT, identity_coefs
from .config import RestyleConfig
from .data import clip_records, data_key, load_domain, sample_triplets
from .resume import already_trained, choose_checkpoint, fitting, model_card, new_run

KIND = "restyle"


def _torch():
    import torch

    return torch


# ================================================================= networks
def _nets():
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    def gn(c):
        return nn.GroupNorm(min(8, max(1, c // 4)), c)

    class Block(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), gn(cout), nn.LeakyReLU(0.2),
                                     nn.Conv2d(cout, cout, 3, padding=1), gn(cout), nn.LeakyReLU(0.2))

        def forward(self, x):
            return self.net(x)

    class UNet(nn.Module):
        """Small GroupNorm U-Net (3 levels) with a global-context vector at the bottom; zero head."""

        def __init__(self, cin, cout, base):
            super().__init__()
            b = base
            self.e1, self.e2, self.e3 = Block(cin, b), Block(b, 2 * b), Block(2 * b, 4 * b)
            self.ctx = nn.Linear(4 * b, 4 * b)
            self.d2, self.d1 = Block(6 * b, 2 * b), Block(3 * b, b)
            self.head = nn.Conv2d(b, cout, 1)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

        def forward(self, x):
            e1 = self.e1(x)
            e2 = self.e2(F.avg_pool2d(e1, 2))
            e3 = self.e3(F.avg_pool2d(e2, 2))
            e3 = e3 + self.ctx(e3.mean((2, 3)))[:, :, None, None]
            d2 = self.d2(torch.cat([F.interpolate(e3, scale_factor=2.0, mode="nearest"), e2], 1))
            d1 = self.d1(torch.cat([F.interpolate(d2, scale_factor=2.0, mode="nearest"), e1], 1))
            return self.head(d1)

    class TransformG(nn.Module):
        """Image (N, C, S, S) -> colour-transform coefficients (N, K, S/2, S/2), identity at init."""

        def __init__(self, cin, K, base, ident, global_only=False):
            super().__init__()
            self.body = UNet(cin, K, base)
            self.global_only = bool(global_only)
            self.register_buffer("ident", torch.tensor(np.asarray(ident, np.float32)).view(1, K, 1, 1))

        def forward(self, x):
            c = self.body(F.avg_pool2d(x, 2))
            if self.global_only:  # one transform per image, broadcast over the grid
                c = c.mean((2, 3), keepdim=True).expand_as(c)
            return c + self.ident

    class PriorG(nn.Module):
        """Colourise with the retrieval prior: input (N, 6, S, S) = luminance, the prior's chroma
        coefficients (a_cb, b_cb, a_cr, b_cr) and its confidence; output at half resolution.
        ``trust`` (default): the mean reference chroma plus the prior's departure from it scaled per
        pixel by sigmoid(. + 4) (for Cb and for Cr; 0.98 at the start): it can doubt the prior but
        paints no colour of its own and never strengthens one. ``gate``: the same scale by
        2 * sigmoid(.) (1 at the start), which can also strengthen the prior. ``residual``: the
        prior plus a free correction (zero at the start)."""

        def __init__(self, cin, base, mean, head="gate"):
            super().__init__()
            self.gate = head in ("gate", "trust")
            self.trust = head == "trust"
            self.body = UNet(cin, 2 if self.gate else 4, base)
            self.register_buffer("mean", torch.tensor(np.asarray(mean, np.float32)).view(1, 4, 1, 1))

        def forward(self, x):
            h = F.avg_pool2d(x, 2)
            p = h[:, 1:5]
            if not self.gate:
                return self.body(h) + p
            g = torch.sigmoid(self.body(h) + 4.0) if self.trust else 2.0 * torch.sigmoid(self.body(h))
            g = torch.cat([g[:, 0:1], g[:, 0:1], g[:, 1:2], g[:, 1:2]], 1)
            return self.mean + g * (p - self.mean)

    class ResidualG(nn.Module):
        """Textbook-style: image -> image (input + a free residual) at the working resolution."""

        def __init__(self, cin, base):
            super().__init__()
            self.body = UNet(cin, cin, base)

        def forward(self, x):
            return x + self.body(x)

    class Predictor(nn.Module):
        """(t-2, t-1) -> t: frame t-1 plus a residual predicted at half resolution."""

        def __init__(self, c, base):
            super().__init__()
            self.body = UNet(2 * c, c, base)

        def forward(self, a, b):
            r = self.body(F.avg_pool2d(torch.cat([a, b], 1), 2))
            return b + F.interpolate(r, size=b.shape[-2:], mode="bilinear", align_corners=False)

    class StatsD(nn.Module):
        """Discriminator on local colour/texture statistics: half-resolution input, receptive
        field ~18 px of the working image, per-patch LSGAN scores."""

        def __init__(self, c=3, w=32):
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(c, w, 3, padding=1), nn.LeakyReLU(0.2),
                nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), gn(2 * w), nn.LeakyReLU(0.2),
                nn.Conv2d(2 * w, 2 * w, 3, padding=1), gn(2 * w), nn.LeakyReLU(0.2),
                nn.Conv2d(2 * w, 1, 1))

        def forward(self, x):
            return self.net(F.avg_pool2d(x, 2))

    class PixelD(nn.Module):
        """Discriminator on per-pixel colour statistics only: each half-resolution pixel's colour
        and its difference from the local (3x3) mean, through 1x1 convolutions. It cannot see
        layout or content, only which colours (and local contrasts) occur."""

        def __init__(self, c=3, w=64):
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(2 * c, w, 1), nn.LeakyReLU(0.2), nn.Conv2d(w, w, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(w, w, 1), nn.LeakyReLU(0.2), nn.Conv2d(w, 1, 1))

        def forward(self, x):
            h = F.avg_pool2d(x, 2)
            return self.net(torch.cat([h, h - F.avg_pool2d(h, 3, 1, 1, count_include_pad=False)], 1))

    class PatchD(nn.Module):
        """Textbook PatchGAN (4x4 convs, three stride-2, ~70 px receptive field)."""

        def __init__(self, c=3, w=32):
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(w, 2 * w, 4, 2, 1), gn(2 * w), nn.LeakyReLU(0.2),
                nn.Conv2d(2 * w, 4 * w, 4, 2, 1), gn(4 * w), nn.LeakyReLU(0.2),
                nn.Conv2d(4 * w, 4 * w, 4, 1, 1), gn(4 * w), nn.LeakyReLU(0.2),
                nn.Conv2d(4 * w, 1, 4, 1, 1))

        def forward(self, x):
            return self.net(x)

    return dict(UNet=UNet, TransformG=TransformG, PriorG=PriorG, ResidualG=ResidualG, Predictor=Predictor,
                StatsD=StatsD, PatchD=PatchD, PixelD=PixelD)


# ================================================================= differentiable colour maths
def t_luma(x):
    return x[:, 0:1] * KR + x[:, 1:2] * KG + x[:, 2:3] * KB


def t_ycc_to_rgb(y, cb, cr):
    torch = _torch()
    r = y + cr * (2 * (1 - KR))
    b = y + cb * (2 * (1 - KB))
    g = (y - KR * r - KB * b) / KG
    return torch.cat([r, g, b], 1)


def t_upsample(coef, size):
    F = _torch().nn.functional
    if tuple(coef.shape[-2:]) == tuple(size):
        return coef
    return F.interpolate(coef, size=size, mode="bilinear", align_corners=False)


def t_apply_rgb(x, coef):
    """torch twin of :func:`reenact.restyle.colour.apply_rgb` (N, 3, H, W), (N, 21, h, w)."""
    c = t_upsample(coef, x.shape[-2:])
    A = c.view(c.shape[0], 3, N_FEAT, c.shape[-2], c.shape[-1])
    feats = _torch().cat([x, x * x, _torch().ones_like(x[:, :1])], 1)  # (N, 7, H, W)
    return (A * feats[:, None]).sum(2)


def t_colourise(y, coef):
    c = t_upsample(coef, y.shape[-2:])
    cb = c[:, 0:1] * y + c[:, 1:2]
    cr = c[:, 2:3] * y + c[:, 3:4]
    return t_ycc_to_rgb(y, cb, cr)


# ================================================================= the model bundle
class Restyle:
    """Networks, optimisers and the loss of one training step."""

    def __init__(self, cfg: RestyleConfig):
        torch = _torch()
        N = _nets()
        self.cfg = cfg
        C = 1 if cfg.colourise else cfg.in_ch  # the X domain's channels (the prior is extra input)
        torch.manual_seed(cfg.seed)
        if cfg.uses_prior:
            cb0, cr0 = cfg.chroma_prior
            self.G_xy = N["PriorG"](cfg.in_ch, cfg.base, [0.0, cb0, 0.0, cr0], cfg.prior_head)
            self.G_yx = None
            self.P_x = N["Predictor"](1, max(8, cfg.base // 2))
        elif cfg.colourise:
            cb0, cr0 = cfg.chroma_prior
            self.G_xy = N["TransformG"](1, 4, cfg.base, [0.0, cb0, 0.0, cr0])
            self.G_yx = None  # the luminance
            self.P_x = N["Predictor"](1, max(8, cfg.base // 2))
        elif cfg.arch in ("transform", "global"):
            self.G_xy = N["TransformG"](3, 21, cfg.base, identity_coefs(), cfg.arch == "global")
            self.G_yx = N["TransformG"](3, 21, cfg.base, identity_coefs(), cfg.arch == "global")
            self.P_x = N["Predictor"](3, max(8, cfg.base // 2))
        else:
            self.G_xy = N["ResidualG"](3, cfg.base)
            self.G_yx = N["ResidualG"](3, cfg.base)
            self.P_x = N["Predictor"](3, max(8, cfg.base // 2))
        self.P_y = N["Predictor"](3, max(8, cfg.base // 2))
        Dcls = {"stats": N["StatsD"], "patch": N["PatchD"], "pixel": N["PixelD"]}[cfg.disc]
        self.D_y = Dcls(3)
        self.D_x = None if cfg.colourise else Dcls(3)
        gparams = [p for m in (self.G_xy, self.G_yx, self.P_x, self.P_y) if m is not None for p in m.parameters()]
        dparams = [p for m in (self.D_x, self.D_y) if m is not None for p in m.parameters()]
        self.opt_g = torch.optim.Adam(gparams, lr=cfg.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(dparams, lr=cfg.lr * cfg.d_lr_mult, betas=(0.5, 0.999))
        self.C = C

    # -- the generators as image -> image
    def gxy(self, x, prior=None):
        """G_XY as image -> image; colourise with the retrieval prior: ``prior`` (N, 5, S, S)."""
        if self.cfg.colourise:
            inp = x if prior is None else _torch().cat([x, prior], 1)
            return t_colourise(x, self.G_xy(inp))
        if self.cfg.arch != "unet":
            return t_apply_rgb(x, self.G_xy(x))
        return self.G_xy(x)

    def gyx(self, y):
        if self.cfg.colourise:
            return t_luma(y)
        if self.cfg.arch != "unet":
            return t_apply_rgb(y, self.G_yx(y))
        return self.G_yx(y)

    def set_banks(self, X, Y, n=256):
        """Domain-level colour distributions for the sliced-Wasserstein term: ``n`` frames spread
        over each domain's clips (uint8 lists of (T, S, S, 3)), as (n, 3, S, S) tensors. Matching
        the whole reference domain, not the 4 frames of a batch, keeps the term off the content."""
        torch = _torch()

        def bank(clips):
            frames = np.concatenate([c[:: max(1, len(c) * len(clips) // n)] for c in clips])[:n]
            return torch.from_numpy(frames).float().div_(255.0).permute(0, 3, 1, 2)

        self.banks = (bank(Y), bank(X))

    def set_stat_targets(self, X, Y, n=1 << 16):
        """Domain-level targets of the tone-conditioned colour statistics term (:func:`band_stats`
        of ``n`` pixels drawn, seeded, from all of each domain's clips), and the running estimates
        of the generators' output statistics (start: the targets of the source domain, i.e. the
        identity's)."""
        torch = _torch()

        def pixels(clips, seed):
            rng = np.random.default_rng([int(self.cfg.seed), seed])
            lens = np.array([c.shape[0] * c.shape[1] * c.shape[2] for c in clips], np.int64)
            idx = np.sort(rng.integers(0, lens.sum(), n))
            flat, out, start = None, [], 0
            for c, L in zip(clips, lens):
                sel = idx[(idx >= start) & (idx < start + L)] - start
                flat = c.reshape(-1, 3)
                out.append(flat[sel])
                start += L
            return torch.from_numpy(np.concatenate(out)).float().div_(255.0)

        K = int(self.cfg.cstat_bands)
        with torch.no_grad():
            ty, tx = band_stats(pixels(Y, 1), K), band_stats(pixels(X, 2), K)
        self.stat_target = (ty, tx)
        self.stat_run = [tx.clone(), ty.clone()]  # running stats of G_XY(x) (starts as X's), G_YX(y)

    def _stat_term(self, out, inp, which):
        """L1 between the target and a running (domain-level) estimate of the output's band
        statistics whose gradient flows through this batch's: a batch shows one or two clips,
        the target is a whole domain, so the batch alone would pull toward its own content."""
        cfg = self.cfg
        t = self.stat_target[which]
        lum = t_luma(inp[:, :3]) if inp.shape[1] >= 3 else inp
        s = band_stats(out, int(cfg.cstat_bands), lum)
        m = float(cfg.cstat_momentum)
        run = m * self.stat_run[which] + (1 - m) * s.detach()
        self.stat_run[which] = run
        est = run + (s - s.detach())  # the value of the running estimate, the gradient of the batch
        return (est - t).abs().mean()

    def modules(self):
        return {k: getattr(self, k) for k in ("G_xy", "G_yx", "P_x", "P_y", "D_x", "D_y") if getattr(self, k) is not None}

    def state(self):
        d = {k: m.state_dict() for k, m in self.modules().items()}
        d["opt_g"], d["opt_d"] = self.opt_g.state_dict(), self.opt_d.state_dict()
        if getattr(self, "stat_run", None) is not None:
            d["stat_run"] = [r.clone() for r in self.stat_run]
        return d

    def load_state(self, d):
        for k, m in self.modules().items():
            m.load_state_dict(d[k])
        self.opt_g.load_state_dict(d["opt_g"])
        self.opt_d.load_state_dict(d["opt_d"])
        if "stat_run" in d and getattr(self, "stat_run", None) is not None:
            self.stat_run = [r.clone() for r in d["stat_run"]]

    def step(self, xb, yb, step, xp=None, yp=None):
        """One generator + discriminator update on uint8 triplets (B, 3, S, S, 3) (colourise with the
        prior: ``xp``, ``yp`` the triplets' priors (B, 3, S, S, 5)); returns the terms."""
        torch = _torch()
        cfg = self.cfg
        B = xb.shape[0]

        def tens(a):
            t = torch.from_numpy(np.ascontiguousarray(a)).float().div_(255.0)
            return t.permute(0, 1, 4, 2, 3)  # (B, 3 frames, C, S, S)

        x, y = tens(xb), tens(yb)
        if cfg.colourise:
            x = t_luma(x.flatten(0, 1)).view(B, 3, 1, x.shape[-2], x.shape[-1])
        S = x.shape[-1]
        xa, ya = x.flatten(0, 1), y.flatten(0, 1)
        pxa = pya = py3 = None
        if xp is not None:  # the priors (float16 arrays) as (B * 3, 5, S, S)
            pxa = torch.from_numpy(np.ascontiguousarray(xp, np.float32)).permute(0, 1, 4, 2, 3).flatten(0, 1)
            py3 = torch.from_numpy(np.ascontiguousarray(yp, np.float32)).permute(0, 1, 4, 2, 3)
            pya = py3.flatten(0, 1)
        fy = self.gxy(xa, pxa)
        fx = self.gyx(ya)
        fy3, fx3 = fy.view(B, 3, 3, S, S), fx.view(B, 3, self.C, S, S)
        L1 = lambda a, b: (a - b).abs().mean()  # noqa: E731
        terms = {}
        adv_on = step >= cfg.warmup
        if adv_on and cfg.w_gan > 0:
            g = ((self.D_y(fy) - 1) ** 2).mean()
            if self.D_x is not None:
                g = g + ((self.D_x(fx) - 1) ** 2).mean()
            terms["gan"] = cfg.w_gan * g
        if cfg.colourise:
            terms["paired"] = cfg.w_paired * L1(self.gxy(fx, pya), ya)
        else:
            if cfg.w_cycle > 0:
                terms["cycle"] = cfg.w_cycle * (L1(self.gyx(fy3[:, 2]), x[:, 2]) + L1(self.gxy(fx3[:, 2]), y[:, 2]))
            if cfg.w_identity > 0:
                terms["identity"] = cfg.w_identity * (L1(self.gxy(y[:, 2]), y[:, 2]) + L1(self.gyx(x[:, 2]), x[:, 2]))
        if cfg.method == "recycle":
            terms["recurrent"] = cfg.w_recurrent * (L1(self.P_x(x[:, 0], x[:, 1]), x[:, 2])
                                                    + L1(self.P_y(y[:, 0], y[:, 1]), y[:, 2]))
            terms["recycle"] = cfg.w_recycle * (L1(self.gyx(self.P_y(fy3[:, 0], fy3[:, 1])), x[:, 2])
                                                + L1(self.gxy(self.P_x(fx3[:, 0], fx3[:, 1]),
                                                              None if py3 is None else py3[:, 2]), y[:, 2]))
        if cfg.w_cstat > 0 and not cfg.colourise and getattr(self, "stat_target", None) is not None:
            terms["cstat"] = cfg.w_cstat * (self._stat_term(fy, xa, 0) + self._stat_term(fx, ya, 1))
        if cfg.w_swd > 0:
            gen = torch.Generator().manual_seed(int(cfg.seed) * 1000003 + int(step))
            by, bx = getattr(self, "banks", (ya, xa))  # the whole domains' pixels when set_banks() was called
            terms["swd"] = cfg.w_swd * sliced_wasserstein(fy, by, gen)
            if not cfg.colourise:
                terms["swd"] = terms["swd"] + cfg.w_swd * sliced_wasserstein(fx, bx, gen)
        loss = sum(terms.values())
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        # discriminators (LSGAN)
        d = ((self.D_y(ya) - 1) ** 2).mean() + (self.D_y(fy.detach()) ** 2).mean()
        if self.D_x is not None:
            d = d + ((self.D_x(xa) - 1) ** 2).mean() + (self.D_x(fx.detach()) ** 2).mean()
        d = 0.5 * d
        self.opt_d.zero_grad(set_to_none=True)
        d.backward()
        self.opt_d.step()
        out = {k: float(v.detach()) for k, v in terms.items()}
        out["g"], out["d"] = float(loss.detach()), float(d.detach())
        self._last = (xa[:B * 3:3], fy[:B * 3:3].detach())
        return out


# ================================================================= losses as plain functions (tested)
def sliced_wasserstein(a, b, gen, n_proj=32, n_pix=4096):
    """Sliced Wasserstein distance between the colour distributions of two image batches
    (N, 3, H, W): pixels (and their 3x3-blurred local mean, so local contrast counts) projected on
    ``n_proj`` random directions, sorted, compared (L1). ``gen``: torch.Generator (deterministic)."""
    torch = _torch()
    F = torch.nn.functional

    def feats(z):
        z = z[:, :3]
        return torch.cat([z, F.avg_pool2d(z, 3, 1, 1)], 1).permute(1, 0, 2, 3).reshape(6, -1)

    fa, fb = feats(a), feats(b)
    ia = torch.randint(0, fa.shape[1], (n_pix,), generator=gen)
    ib = torch.randint(0, fb.shape[1], (n_pix,), generator=gen)
    d = torch.randn(n_proj, 6, generator=gen)
    d = d / d.norm(dim=1, keepdim=True)
    pa = torch.sort(d @ fa[:, ia], 1)[0]
    pb = torch.sort(d @ fb[:, ib], 1)[0]
    return (pa - pb).abs().mean()



def band_stats(img, bands, key=None):
    """Colour statistics conditioned on tone: the pixels of ``img`` (N, 3, H, W) 0..1 (or (P, 3)
    pixels) split into ``bands`` equal-count luminance-quantile bands, ordered by ``key`` (a (P,)
    luminance to rank by, e.g. the *input's*, so a monotone tone change keeps each pixel in its
    band; default the image's own luminance), and per band: mean luminance (the tone quantile),
    median Cb and Cr, spread (std) of Cb and Cr -> (5 * bands,) tensor. Differentiable in ``img``.
    Medians and spreads per tone are what a grade sets (a tone curve, a colour balance and a
    saturation per tone); content differences between clips move them far less than means."""
    torch = _torch()
    p = img if img.dim() == 2 else img[:, :3].permute(0, 2, 3, 1).reshape(-1, 3)
    y = p[:, 0] * KR + p[:, 1] * KG + p[:, 2] * KB
    cb = (p[:, 2] - y) * (0.5 / (1 - KB))
    cr = (p[:, 0] - y) * (0.5 / (1 - KR))
    order = torch.argsort((y if key is None else key).detach().reshape(-1))
    n = (len(order) // bands) * bands
    c = torch.stack([y, cb, cr])[:, order[:n]].view(3, bands, -1)
    return torch.cat([c[0].mean(1), c[1:].median(2)[0].reshape(-1), c[1:].std(2).reshape(-1)])


def recycle_loss(x0, x1, x2, g_xy, g_yx, p_y):
    """``|G_YX(P_Y(G_XY(x_{t-2}), G_XY(x_{t-1}))) - x_t|`` (mean absolute error)."""
    return (g_yx(p_y(g_xy(x0), g_xy(x1))) - x2).abs().mean()


def recurrent_loss(x0, x1, x2, p):
    return (p(x0, x1) - x2).abs().mean()


# ================================================================= export
def export_onnx(bundle: Restyle, path, extra_meta=None, opset=17):
    """Write G_XY to ``path`` (input ``input`` (N, C, S, S) 0..1, output ``coef``) with the config in
    the metadata; returns the parity figures against PyTorch (raises above tolerance)."""
    import onnx
    import torch

    from ..training.export import PARITY_ATOL_FP32, parity

    cfg = bundle.cfg
    model = bundle.G_xy.eval()
    x = torch.rand(1, cfg.in_ch, cfg.size, cfg.size)
    buf = io.BytesIO()  # in memory, then written whole (fsutil)
    dyn = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(model, x, buf, dynamo=False, input_names=["input"], output_names=["coef"],
                      dynamic_axes={"input": dyn, "coef": dyn}, opset_version=opset)
    m = onnx.load_from_string(buf.getvalue())
    meta = {"reenact.kind": KIND, "reenact.config": cfg.to_json(),
            "reenact.input": ("luminance, prior a_cb b_cb a_cr b_cr, prior confidence" if cfg.uses_prior else
                              "luminance" if cfg.colourise else "rgb"),
            "reenact.output": ("rgb-image" if cfg.arch == "unet" and not cfg.colourise else
                               "chroma-coefficients (a_cb, b_cb, a_cr, b_cr) at half resolution" if cfg.colourise
                               else "rgb-transform-coefficients (3 x [r g b r2 g2 b2 1]) at half resolution")}
    meta.update(extra_meta or {})
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, str(v)
    data = m.SerializeToString()  # checked before it replaces a model (before 2026-12-05: written first)
    par = parity(model, data, {"size": cfg.size, "in_ch": cfg.in_ch}, atol=PARITY_ATOL_FP32, name=path)
    write_bytes(path, data)
    model.train()
    return par


# ================================================================= training loop
def _preview(path, bundle):
    import cv2

    x, f = bundle._last
    a = x[0].numpy().transpose(1, 2, 0)
    if a.shape[2] == 1:
        a = np.repeat(a, 3, 2)
    img = np.concatenate([a, f[0].numpy().transpose(1, 2, 0)], 1)
    ok, png = cv2.imencode(".png", np.clip(np.round(img[..., ::-1] * 255), 0, 255).astype(np.uint8))
    if ok:
        write_bytes(path, png.tobytes())


def mean_chroma(clips):
    from .colour import rgb_to_ycc

    acc = np.zeros(2)
    n = 0
    for c in clips:
        sub = c[:: max(1, len(c) // 50)].astype(np.float32) / 255.0
        acc += rgb_to_ycc(sub)[..., 1:].reshape(-1, 2).mean(0) * len(sub)
        n += len(sub)
    return tuple(float(v) for v in acc / max(1, n))


def train(x_items, y_items, out, cfg: RestyleConfig = None, steps=None, minutes=None, checkpoint=None,
          resume=True, checkpoint_every=100, report=None, preview=None, preview_every=50, progress=None,
          log=None, cache_dir=None, max_frames=None, threads=None, stop_at=None, on_step=None, on_preview=None,
          adopt=()):
    """Train X -> Y and export G_XY to ``out`` (ONNX). ``x_items``/``y_items``: paths, ``PATH@A:B``
    or :class:`~.data.ClipSpec` (a frame range), or loaded (T, S, S, 3) uint8 arrays. Stops at
    ``steps`` or after ``minutes`` (whichever first; the checkpoint is kept and training resumes
    from it, when it was trained on the same clips and configuration). ``progress(done, total,
    message)`` returning False cancels (checkpoint kept, no export). ``on_step(step, total,
    terms)`` sees every step's loss terms, ``on_preview(path)`` every preview written. ``adopt``:
    checkpoints of this training elsewhere, the first that fits resumed when ``checkpoint`` is not
    there (left as they are). Returns a summary dict."""
    torch = _torch()
    from .colour import TONED_HINT, is_grey

    cfg = (cfg or RestyleConfig()).check()
    log = log or (lambda *a: print(*a, file=sys.stderr, flush=True))
    if threads:
        torch.set_num_threads(int(threads))
    if steps is None and minutes is None:
        steps = 2000
    total = int(steps) if steps is not None else None
    checkpoint = checkpoint or (os.path.splitext(out)[0] + ".ckpt.pt")
    # what runs killed outright while writing left (before 2026-12-06 kept for good, the renderer's removed)
    clean_temporaries([p for p in (checkpoint, out, preview, report) if p], log)
    t0 = time.perf_counter()
    x_shots, y_shots = [], []  # (each clip's shots, for the model card)
    X = load_domain(x_items, cfg.size, max_frames, cache_dir, "X (the shots)", x_shots)
    Y = load_domain(y_items, cfg.size, max_frames, cache_dir, "Y (the reference)", y_shots)
    PX = PY = pool = None
    if cfg.colourise:
        if not all(is_grey(c[:: max(1, len(c) // 8)]) for c in X):
            raise ValueError("--colourise: the shot (X) is already in colour; give a black-and-white shot " + TONED_HINT)
        cfg.chroma_prior = mean_chroma(Y)
    log("restyle: X {} clip(s) / {} frames, Y {} clip(s) / {} frames, {:.1f} s".format(
        len(X), sum(map(len, X)), len(Y), sum(map(len, Y)), time.perf_counter() - t0))
    if cfg.uses_prior:  # the pool the model ships, and every training frame's prior from it
        from .prior import POOL_FRAMES, RefPool

        t1 = time.perf_counter()
        for c in Y:  # (each shot of each clip)
            if is_grey(c[:: max(1, len(c) // 8)]):
                raise ValueError("--colourise: the reference footage (Y) holds a black-and-white shot; it must "
                                 "be in colour")
        pool = RefPool.from_clips(Y, cfg.pool_frames or POOL_FRAMES)
        PX = [pool.clip_priors(c, cfg.prior_k) for c in X]
        PY = [pool.clip_priors(c, cfg.prior_k, clip_id=i) for i, c in enumerate(Y)]  # never its own clip
        log("restyle: retrieval prior: {} reference frames, priors of {} frames in {:.1f} s".format(
            len(pool), sum(map(len, X + Y)), time.perf_counter() - t1))
    bundle = Restyle(cfg)
    if cfg.w_swd > 0 and not cfg.colourise:
        bundle.set_banks(X, Y)
    if cfg.w_cstat > 0 and not cfg.colourise:
        bundle.set_stat_targets(X, Y)
    recs = [[dict(r, shots=n) for r, n in zip(clip_records(items), shots)] for items, shots in ((x_items, x_shots),
                                                                                                 (y_items, y_shots))]
    data = json.dumps([data_key(x_items, max_frames, recs[0]), data_key(y_items, max_frames, recs[1])])
    step, history, run, again, resumes = 0, [], new_run(), False, []  # (run: this training's id, kept by every resume)
    keys = ("config", "state", "step", "history")
    ck, earlier, adopted = choose_checkpoint(  # (earlier: a checkpoint not resumed, set aside at this run's first save)
        checkpoint, fitting(cfg, data, x_items, y_items, max_frames), resume, adopt,
        lambda path: load_checkpoint(path, keys, log), lambda path: load_torch(path, keys), log)
    if ck is not None:
        bundle.load_state(ck["state"])
        step, run = int(ck["step"]), ck.get("run") or run
        resumes = [r for r in ck.get("resumes") or [] if r["step"] != step] + [  # (the model card's train_resumes)
            {"step": step, "from": os.path.basename(ck.get("path", checkpoint))}]
        history = json.loads(ck["history"])
        log("restyle: resumed from {} at step {}".format(ck.get("path", checkpoint), step))
        if total is not None and step >= total:  # its model exported again where --out is not it
            again = already_trained(out, ck, ck.get("path", checkpoint), step, total, adopted, log)
            if on_step is not None and history:  # (the step and loss Blender's Train Restyle says)
                on_step(step, step, {"g": history[-1][1], "d": history[-1][2]})

    def save_ck():
        nonlocal earlier
        if earlier is not None:
            earlier.before_save()
            earlier = None
        cfg.steps = step
        d = {"config": cfg.to_json(), "state": bundle.state(), "step": step, "history": json.dumps(history), "data": data,
             "run": run, "resumes": resumes}
        save_torch(d, checkpoint)

    # SIGTERM / SIGINT: save and stop at the next step; after the last, once exported (before 2026-12-06 the
    # handlers were put back before the last save and the export: a stop there killed the run, no model)
    stop = StopFlag().install()
    cancelled = False
    t_train = time.perf_counter()
    start_step = step
    try:
        while total is None or step < total:
            if stop.flag or (stop_at is not None and step >= stop_at):
                cancelled = True
                break
            if minutes is not None and time.perf_counter() - t_train > 60.0 * minutes:
                log("restyle: time budget reached at step {}".format(step))
                break
            rng = np.random.default_rng([cfg.seed, step])
            if PX is not None:
                xb, xp = sample_triplets(X, rng, cfg.batch, PX)
                yb, yp = sample_triplets(Y, rng, cfg.batch, PY)
                terms = bundle.step(xb, yb, step, xp, yp)
            else:
                terms = bundle.step(sample_triplets(X, rng, cfg.batch), sample_triplets(Y, rng, cfg.batch), step)
            step += 1
            history.append([step] + [round(terms.get(k, 0.0), 5) for k in ("g", "d")])
            el = time.perf_counter() - t_train
            if step % 10 == 0 or step == total:
                msg = "step {} g {:.3f} d {:.3f} {} {:.2f} s/step".format(
                    step, terms["g"], terms["d"], " ".join("{} {:.3f}".format(k, v) for k, v in terms.items()
                                                          if k not in ("g", "d")), el / max(1, step - start_step))
                log("restyle: " + msg)
            # the steps the budget allows at this run's rate, after those it resumed from (before
            # 2026-12-06 the resumed steps counted as trained in this run's time: a bar at 5 %)
            by_time = None if minutes is None else max(step + 1, start_step + int(
                (step - start_step) * 60.0 * minutes / max(el, 1e-3)))
            tot = by_time if total is None else total if by_time is None else min(total, by_time)
            if on_step is not None:
                on_step(step, tot, terms)
            if progress is not None:
                if progress(step, tot, "g {:.3f} d {:.3f}".format(terms["g"], terms["d"])) is False:
                    cancelled = True
                    break
            if preview and (step % preview_every == 0 or step == 1):
                _preview(preview, bundle)
                if on_preview is not None:
                    on_preview(preview)
            if step % checkpoint_every == 0:
                save_ck()
        if not (cancelled and earlier is not None and earlier.keeps_place(step)):
            save_ck()
        summary = {"checkpoint": checkpoint, "steps": step, "cancelled": cancelled, "signal": stop.signum,
                   "resumed_from": start_step, "exported_again": again,
                   "train_seconds": round(time.perf_counter() - t_train, 1), "config": json.loads(cfg.to_json())}
        if cancelled:
            return summary
        meta = model_card(run, step, recs[0], recs[1], max_frames, [r for r in resumes if r["step"] < step],
                          len(X), len(Y))  # (a resume at the last step trained nothing: an export again)
        if pool is not None and cfg.pool_frames > 0:  # the reference frames the prior retrieves from
            meta["reenact.pool"] = pool.to_text()
        par = export_onnx(bundle, out, meta)
        if stop.flag:  # after the last step: the model is complete
            summary.update(signal=stop.signum, stopped="stopped after the last step: the checkpoint is saved and the "
                           "model exported")
            log("warning: " + summary["stopped"])
        summary.update(out=out, parity=par, final_g=float(np.mean([h[1] for h in history[-20:]])) if history else None)
        if report:
            text = json.dumps(dict(summary, history=history), indent=1)
            write_atomic(report, lambda fh: fh.write(text.encode()))
        return summary
    finally:
        stop.restore()
