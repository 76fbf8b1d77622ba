# SPDX-License-Identifier: GPL-3.0-or-later
"""The configuration of one restyle model: written once here, used by the CLI, the training loop
and saved as JSON into the exported ONNX (``reenact.config``)."""

import dataclasses
import json
import math


@dataclasses.dataclass
class RestyleConfig:
    method: str = "recycle"        # recycle | cycle (cycle: no temporal losses, the per-frame baseline)
    colourise: bool = False        # X = grey shots, Y = colour reference; predicts chroma only
    size: int = 128                # working resolution (frames are resized to size x size)
    base: int = 16                 # generator / predictor width
    arch: str = "transform"        # transform: spatially varying colour transform starting at identity;
                                   # global: one colour transform per frame; unet: free RGB residual (textbook)
    disc: str = "stats"            # stats: small-receptive-field D on colour/texture; pixel: per-pixel colour
                                   # statistics only (1x1); patch: textbook 70x70-style PatchGAN
    batch: int = 4
    lr: float = 3e-4
    d_lr_mult: float = 1.0         # discriminator learning rate = lr * d_lr_mult
    w_gan: float = 1.0
    w_cycle: float = 10.0          # cycle term (always on for --method cycle; optional for recycle)
    w_recycle: float = 10.0
    w_recurrent: float = 10.0
    w_identity: float = 5.0
    w_paired: float = 20.0         # colourise: G(grey(y)) = y
    w_swd: float = 0.0             # sliced Wasserstein distance between G_XY(x) and y colour distributions
    w_cstat: float = 0.0           # colour statistics per luminance band (tone quantile, median and spread of
                                   # Cb/Cr) of G_XY(x) against the whole Y domain's (and G_YX(y) against X's)
    cstat_bands: int = 8           # luminance-quantile bands of that term
    cstat_momentum: float = 0.9    # running (domain-level) estimate of the output's band statistics
    warmup: int = 20               # steps of discriminator-only training before the generators see it
    seed: int = 0
    prior: str = "none"            # colourise: none | retrieval (the nearest reference frames' chroma, aligned
                                   # by flow, fed to G_XY as extra input channels; restyle/prior.py)
    prior_k: int = 6               # reference frames blended into the prior
    prior_head: str = "trust"      # G_XY on the prior: trust (scales the prior's departure from the mean
                                   # chroma per pixel by 0..1) | gate (by 0..2) | residual (adds a free correction)
    pool_frames: int = 512         # reference frames shipped in the ONNX for the prior (0: give --reference)
    # filled by training
    chroma_prior: tuple = (0.0, 0.0)   # colourise: mean reference (Cb, Cr), the generator's starting point
    steps: int = 0

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text):
        d = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in names}
        if "chroma_prior" in d:
            d["chroma_prior"] = tuple(d["chroma_prior"])
        return cls(**d)

    @property
    def uses_prior(self):
        return bool(self.colourise) and self.prior == "retrieval"

    @property
    def in_ch(self):
        if self.colourise:
            return 6 if self.uses_prior else 1  # luminance (+ the prior: 4 coefficients, confidence)
        return 3

    @property
    def coef_ch(self):
        return 4 if self.colourise else 21

    def check(self):
        if self.method not in ("recycle", "cycle"):
            raise ValueError("method must be recycle or cycle, not {!r}".format(self.method))
        if self.arch not in ("transform", "global", "unet"):
            raise ValueError("arch must be transform, global or unet")
        if self.disc not in ("stats", "pixel", "patch"):
            raise ValueError("disc must be stats, pixel or patch")
        if self.prior not in ("none", "retrieval"):
            raise ValueError("prior must be none or retrieval")
        if self.prior == "retrieval" and not self.colourise:
            raise ValueError("the retrieval prior is for --colourise only")
        if self.prior_head not in ("gate", "trust", "residual"):
            raise ValueError("prior_head must be gate, trust or residual")
        if isinstance(self.prior_k, bool) or not isinstance(self.prior_k, int) or not 1 <= self.prior_k <= 32:
            raise ValueError("prior_k must be 1..32")
        if isinstance(self.pool_frames, bool) or not isinstance(self.pool_frames, int) or not 0 <= self.pool_frames <= 4096:
            raise ValueError("pool_frames must be 0..4096")
        if self.size % 16 or not 32 <= self.size <= 1024:  # (apply's SIZE_RANGE: before 2026-12-05 a larger model
            raise ValueError("--size must be a multiple of 16 from 32 to 1024")  # trained, then apply refused it)
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise ValueError("--batch must be at least 1")
        if isinstance(self.base, bool) or not isinstance(self.base, int) or self.base % 8 or not 8 <= self.base <= 256:
            # (the GroupNorms' groups divide it; before 2026-12-05 0 or 36 failed with a traceback)
            raise ValueError("--base must be a multiple of 8 from 8 to 256")
        if not (isinstance(self.w_gan, (int, float)) and math.isfinite(self.w_gan) and self.w_gan >= 0):
            raise ValueError("--gan must be a weight of 0 or more")
        return self
