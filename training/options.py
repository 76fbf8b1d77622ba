# SPDX-License-Identifier: GPL-3.0-or-later
"""The training configuration: one dataclass, :class:`TrainConfig`, that ``reenact train``,
``python -m reenact.training.train``, Blender's Train Renderer subprocess and
:func:`reenact.training.train.train` all read; the command-line options are generated from it.

Plain dataclasses + argparse (no numpy, no torch), so building the ``reenact`` parser stays instant.
"""

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Optional

DEFAULT_WINDOW = 11  # = reenact.render.conditioning.DEFAULT_WINDOW
#: the share of each clip's frames, its last, kept out of training by default (the benchmarks
#: and --report score them: bench/render.py scores a `reenact train` fine-tune on them)
HOLDOUT = 0.15


def _opt(default, help, **cli):
    """A field with its command-line help (and argparse extras: choices, metavar, tri-state)."""
    return field(default=default, metadata=dict(help=help, **cli))


#: tri-state options: "auto" (None: as the --init weights), "on", "off"
_TRI = {"auto": None, "on": True, "off": False}


@dataclass
class TrainConfig:
    """Every option of a renderer training run, with its default (docs/renderer.md, Training)."""

    mode: str = _opt("face-only", "what the network draws", choices=("face-only", "full"))
    size: Optional[int] = _opt(None, "crop size, multiple of 16 (default: the --init weights' size, else 128)")
    window: int = _opt(DEFAULT_WINDOW, "space-time window in frames (default 11)")
    steps: int = _opt(2000, "training steps")
    batch: int = _opt(8, "batch size")
    lr: float = _opt(5e-4, "learning rate (Adam, cosine decay)")
    base: int = _opt(40, "U-Net width (default 40)")
    seed: int = _opt(0, "random seed")
    init: Optional[str] = _opt(None, "weights (.pt) to start from; reenact train defaults to the bundled "
                                     "models/renderer_base256.pt ('base256'; 'base': the 128 px base), "
                                     "'none' starts from scratch")
    report: Optional[str] = _opt(None, "write held-out metrics here", metavar="METRICS.json")
    checkpoint: Optional[str] = _opt(None, "checkpoint file (default OUT.ckpt.pt)")
    resume: bool = _opt(True, "resume from the checkpoint when its configuration matches", flag="--no-resume")
    checkpoint_every: int = _opt(200, "steps between checkpoints")
    mouth_weight: float = _opt(2.0, "loss weight of the mouth region")
    ssim_weight: float = _opt(0.2, "weight of the (1 - SSIM) term")
    gan: float = _opt(0.0, "PatchGAN weight (0 = off)")
    time_limit: Optional[float] = _opt(None, "stop after this many seconds", metavar="SECONDS")
    progress_lines: bool = _opt(False, "progress as lines (for a parent process)")
    preview: Optional[str] = _opt(None, "write a preview image here", metavar="PNG")
    preview_every: int = _opt(100, "steps between previews")
    threads: Optional[int] = _opt(None, "torch threads")
    device: str = _opt("auto", "where the network trains: auto = a CUDA GPU when this torch build sees one, else the "
                               "CPU", choices=("auto", "cpu", "cuda"))
    workers: int = _opt(0, "processes that decode the clips and assemble training batches beside the training loop "
                           "(same batches, same weights; helps a GPU or 256 px crops; 0 = in the loop; Linux only)", metavar="N")
    fp16: bool = _opt(True, "also export an fp16 ONNX model", flag="--no-fp16")
    int8: bool = _opt(True, "also make the int8 variant for the CPU (MODEL.int8.onnx, calibrated on the training "
                            "footage: reenact quantize)", flag="--no-int8")
    augment: bool = _opt(False, "photometric colour augmentation (same change on context and target)")
    flip: bool = _opt(False, "random left/right mirroring of training samples")
    ctx_norm: Optional[bool] = _opt(None, "face-only: work in colour normalised by the ring around the hole "
                                          "(auto: as the --init weights)", tri=True)
    ref: Optional[bool] = _opt(None, "face-only: also show the network the actor's nearest own frame "
                                     "(auto: as the --init weights)", tri=True)
    ref_gap: int = _opt(10, "training: a frame's reference is at least this many frames away (default 10)",
                        metavar="FRAMES")
    ref_warp: Optional[str] = _opt(None, "how the reference is moved onto the frame: a 2-D similarity, or the dense "
                                         "mesh warp (warp, then refine); auto: as the --init weights",
                                   choices=("similarity", "mesh"), auto=True)
    accept_footage: bool = _opt(False, "accept footage whose pixels or frame rate differ from its Track's (a "
                                       "re-encoded copy of the same shot); frame size and count must still match")
    ref_top: int = _opt(1, "training: draw a frame's reference among its N nearest candidates (default 1)",
                        metavar="N")
    anchor: Optional[float] = _opt(None, "fine-tuning: weight of the pull back toward the --init weights (L2-SP: the "
                                         "squared distance, per weight, to the weights it started from; default "
                                         "0.01 with --init, else 0)", metavar="W")
    rehearse_share: float = _opt(0.25, "share of each batch drawn from the rehearsal clips (other actors), so that "
                                       "a fine-tune keeps what the base learnt from them", metavar="F")
    holdout: float = _opt(HOLDOUT, "share of each clip's frames, its last, kept out of training for the held-out "
                                   "scores of --report and the benchmarks (default 0.15); 0 trains on every frame",
                          metavar="F")
    rehearse_sample: bool = _opt(True, "fine-tuning from --init: rehearse on the bundled sample clip (another "
                                       "actor) as --rehearse-share of each batch, so that the actor's renderer still "
                                       "opens a mouth its footage never shows", flag="--no-rehearse-sample")


def add_common(p):
    """The options of :class:`TrainConfig` on an argparse parser (``--name-with-dashes``)."""
    for f in fields(TrainConfig):
        md, flag = f.metadata, "--" + f.name.replace("_", "-")
        if md.get("tri"):
            p.add_argument(flag, choices=tuple(_TRI), default="auto", help=md["help"])
        elif md.get("auto"):
            p.add_argument(flag, choices=("auto",) + tuple(md["choices"]), default="auto", help=md["help"])
        elif f.type is bool:
            if f.default:
                p.add_argument(md["flag"], dest=f.name, action="store_false", help="do not: " + md["help"])
            else:
                p.add_argument(flag, action="store_true", help=md["help"])
        else:
            kind = {int: int, float: float, Optional[int]: int, Optional[float]: float}.get(f.type, str)
            extra = {k: md[k] for k in ("choices", "metavar") if k in md}
            p.add_argument(flag, type=kind, default=f.default, help=md["help"], **extra)


def config_from_args(a):
    """The :class:`TrainConfig` an argparse namespace from :func:`add_common` describes."""
    kw = {}
    for f in fields(TrainConfig):
        v = getattr(a, f.name)
        if f.metadata.get("tri"):
            v = _TRI[v]
        elif f.metadata.get("auto") and v == "auto":
            v = None
        kw[f.name] = v
    return TrainConfig(**kw)


def common_kwargs(a):
    """:func:`config_from_args` as keyword arguments of :func:`reenact.training.train.train`."""
    return asdict(config_from_args(a))


def defaults():
    """{option: default} of :class:`TrainConfig`."""
    return {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}
