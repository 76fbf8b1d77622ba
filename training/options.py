# SPDX-License-Identifier: GPL-3.0-or-later
"""Training command-line options shared by ``reenact train`` and ``python -m reenact.training.train``.

Plain argparse (no numpy, no torch), so building the ``reenact`` parser stays instant.
"""

DEFAULT_WINDOW = 11  # = reenact.render.conditioning.DEFAULT_WINDOW


def add_common(p):
    """Options shared by this script and ``reenact train``."""
    p.add_argument("--mode", choices=("face-only", "full"), default="face-only")
    p.add_argument("--size", type=int, default=128, help="crop size, multiple of 16 (default 128)")
    p.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="space-time window in frames (default 11)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--base", type=int, default=40, help="U-Net width (default 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", default=None, help="weights (.pt) to start from; reenact train defaults to the bundled models/renderer_base.pt, 'none' starts from scratch")
    p.add_argument("--report", default=None, metavar="METRICS.json")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--no-resume", action="store_true")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--mouth-weight", type=float, default=2.0)
    p.add_argument("--ssim-weight", type=float, default=0.2)
    p.add_argument("--gan", type=float, default=0.0, help="PatchGAN weight (0 = off)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS")
    p.add_argument("--progress-lines", action="store_true")
    p.add_argument("--preview", default=None, metavar="PNG")
    p.add_argument("--preview-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-fp16", action="store_true")
    p.add_argument("--augment", action="store_true", help="photometric colour augmentation (same change on context and target)")
    p.add_argument("--flip", action="store_true", help="random left/right mirroring of training samples")
    p.add_argument("--ctx-norm", choices=("auto", "on", "off"), default="auto",
                   help="face-only: work in colour normalised by the ring around the hole (auto: as the --init weights)")
    p.add_argument("--ref", choices=("auto", "on", "off"), default="auto",
                   help="face-only: also show the network the actor's nearest own frame (auto: as the --init weights)")
    p.add_argument("--ref-gap", type=int, default=10, metavar="FRAMES",
                   help="training: a frame's reference is at least this many frames away (default 10)")
    p.add_argument("--ref-warp", choices=("auto", "similarity", "mesh"), default="auto",
                   help="how the reference is moved onto the frame: a 2-D similarity, or the dense mesh warp "
                        "(warp, then refine); auto: as the --init weights")
    p.add_argument("--ref-top", type=int, default=1, metavar="N",
                   help="training: draw a frame's reference among its N nearest candidates (default 1)")


def common_kwargs(a):
    return dict(mode=a.mode, size=a.size, window=a.window, steps=a.steps, batch=a.batch, lr=a.lr, base=a.base,
                seed=a.seed, init=a.init, report=a.report, checkpoint=a.checkpoint, resume=not a.no_resume,
                checkpoint_every=a.checkpoint_every, mouth_weight=a.mouth_weight, ssim_weight=a.ssim_weight,
                gan=a.gan, time_limit=a.time_limit, progress_lines=a.progress_lines, preview=a.preview,
                preview_every=a.preview_every, threads=a.threads, fp16=not a.no_fp16, augment=a.augment, flip=a.flip,
                ctx_norm={"auto": None, "on": True, "off": False}[a.ctx_norm],
                ref={"auto": None, "on": True, "off": False}[a.ref], ref_gap=a.ref_gap,
                ref_warp=None if a.ref_warp == "auto" else a.ref_warp, ref_top=a.ref_top)


