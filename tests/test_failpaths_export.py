# SPDX-License-Identifier: GPL-3.0-or-later
"""The renderer's ONNX export on a full disk (a review of disk failures, 2026-12-06)."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

_EXPORT = textwrap.dedent("""
    import resource, signal, sys
    import torch
    from reenact.render.conditioning import in_channels
    from reenact.training import train as T
    from reenact.training.export import export_onnx

    seed, path, limit = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    torch.manual_seed(seed)
    config = {"in_ch": in_channels(3), "base": 8, "mode": "face-only", "window": 3, "size": 64}
    model = T.build_model(config)
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # (as the CLI: a write past the limit fails, EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        export_onnx(model, path, config, fp16=True)
    except OSError as exc:
        print("failed:", exc)
        sys.exit(2)
""")


def _export(seed, path, limit=0):
    return subprocess.run([sys.executable, "-c", _EXPORT, str(seed), path, str(limit)], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))


def test_a_full_disk_while_exporting_leaves_the_earlier_pair(tmp_path):
    """The fp32 model does not fit (its fp16 variant, half its size, does): the earlier model and
    its fp16 variant stay as they were, and no temporary is left. Before 2026-12-06 the new fp16
    file was already in place beside the earlier fp32 model."""
    out = str(tmp_path / "m.onnx")
    p16 = str(tmp_path / "m.fp16.onnx")
    first = _export(0, out)
    assert first.returncode == 0, first.stderr
    earlier = {p: open(p, "rb").read() for p in (out, p16)}
    limit = (len(earlier[out]) + len(earlier[p16])) // 2  # (the fp16 file fits, the fp32 one not)
    res = _export(1, out, limit)
    assert res.returncode == 2 and "File too large" in res.stdout, (res.stdout, res.stderr)
    assert {p: open(p, "rb").read() for p in (out, p16)} == earlier
    assert sorted(os.listdir(tmp_path)) == ["m.fp16.onnx", "m.onnx"]
