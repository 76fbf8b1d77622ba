# SPDX-License-Identifier: GPL-3.0-or-later
"""Renderer training on real footage at a tiny size (carphone, 64 px), export parity, resume."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reenact.face.raster import in_channels  # noqa: E402
from reenact.training import train as T  # noqa: E402
from reenact.training.data import Dataset, prepare_clip  # noqa: E402
from reenact.training.export import PARITY_ATOL_FP16, PARITY_ATOL_FP32, export_onnx  # noqa: E402
from reenact.training.model import RendererNet  # noqa: E402

SIZE, WINDOW = 64, 3


@pytest.fixture(scope="module")
def track(carphone):
    from reenact.inference.tracker import track_video

    return track_video(carphone)[0]


@pytest.fixture(scope="module")
def clip(track, carphone):
    return prepare_clip(track, carphone, SIZE)


def test_clip_cache(clip):
    assert clip.cond.dtype == np.uint8 and clip.cond.shape == (120, 5, SIZE, SIZE)
    assert clip.crops.shape == (120, SIZE, SIZE, 3)
    tr, va = clip.split()
    assert len(va) == 18 and tr.max() < va.min()  # last 15 % held out


def test_few_steps_reduce_loss(clip):
    torch.manual_seed(0)
    torch.set_num_threads(2)
    ds = Dataset([clip], WINDOW, "face-only")
    model = RendererNet(in_channels(WINDOW), base=16)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    kernel = T._gauss_kernel(torch, 3)

    def loss_of(rows):
        x, y, f, m, h = (torch.from_numpy(a) for a in ds.batch(rows))
        w = T.loss_weights(torch, f, m, h, "face-only", 2.0)
        return T.recon_loss(model(x), y, w, kernel, 0.2)[0]

    fixed = ds.sample(10_000, 8)
    with torch.no_grad():
        before = float(loss_of(fixed))
    for step in range(40):
        loss = loss_of(ds.sample(step, 4))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = float(loss_of(fixed))
    assert after < 0.8 * before, (before, after)


def test_onnx_export_parity(tmp_path):
    import onnxruntime as ort

    torch.manual_seed(0)
    config = {"in_ch": in_channels(WINDOW), "base": 8, "mode": "face-only", "window": WINDOW, "size": SIZE}
    model = T.build_model(config)
    res = export_onnx(model, str(tmp_path / "m.onnx"), config, fp16=True)
    # stated tolerances: fp32 |onnx - torch| <= 1e-4, fp16 <= 2e-2 on random 0..1 inputs
    assert res["parity_fp32"]["max_abs_diff"] <= PARITY_ATOL_FP32 == 1e-4
    assert res["parity_fp16"]["max_abs_diff"] <= PARITY_ATOL_FP16 == 2e-2
    s16 = ort.InferenceSession(res["onnx_fp16"], providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).random((3, config["in_ch"], 32, 48), dtype=np.float32)  # dynamic N, H, W
    y = s16.run(None, {"input": x})[0]
    assert y.shape == (3, 3, 32, 48) and y.dtype == np.float32
    meta = ort.InferenceSession(res["onnx"], providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert meta["reenact.mode"] == "face-only" and meta["reenact.window"] == str(WINDOW)


def test_checkpoint_resume_identical_next_step(track, carphone, tmp_path):
    kw = dict(size=SIZE, window=WINDOW, steps=4, batch=2, base=8, checkpoint_every=1, threads=2, bar=False,
              fp16=False, log=lambda *a: None)
    full = T.train([(track, carphone)], str(tmp_path / "a.onnx"), **kw)
    assert len(full["losses"]) == 4 and (tmp_path / "a.onnx").exists() and (tmp_path / "a.pt").exists()
    part = T.train([(track, carphone)], str(tmp_path / "b.onnx"), stop_at=2, **kw)
    assert part["cancelled"] and part["step"] == 2 and not (tmp_path / "b.onnx").exists()
    rest = T.train([(track, carphone)], str(tmp_path / "b.onnx"), **kw)
    assert rest["steps"] == 4 and len(rest["losses"]) == 2
    assert rest["losses"][0] == pytest.approx(full["losses"][2], rel=1e-5, abs=1e-7)
    # weights-only file loads back (used by --init)
    cfg, state = T.load_weights(str(tmp_path / "b.pt"))
    assert cfg["window"] == WINDOW and "mix.weight" in state
