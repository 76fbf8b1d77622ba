# SPDX-License-Identifier: GPL-3.0-or-later
"""Models, checkpoints and Track files that are crafted, damaged or of another program: one
line naming the file (docs/errors.md), never an allocation of what a file asks for, a
traceback, or torch's advice to load a file unsafely."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from reenact.errors import ReenactError
from reenact.face.track import Track

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = {"base": 40, "ctx_norm": True, "in_ch": 67, "mode": "face-only", "ref": True, "size": 128, "window": 11}


def _model(path, meta, in_ch=67, out_ch=3, symbolic=False):
    """A small valid ONNX graph with ``meta``: a 1x1 convolution from ``in_ch`` to ``out_ch``
    channels; ``symbolic``: an Identity whose channel count is declared by name only (the
    output has as many channels as the input it is given)."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [out_ch, in_ch, 1, 1], np.zeros(out_ch * in_ch, np.float32))
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", "c" if symbolic else in_ch, "h", "w"])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "c" if symbolic else out_ch, "h", "w"])
    node = helper.make_node("Identity", ["input"], ["output"]) if symbolic else \
        helper.make_node("Conv", ["input", "w"], ["output"])
    g = helper.make_graph([node], "g", [x], [y], [] if symbolic else [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, str(path))
    return str(path)


def _renderer(tmp_path, config=GOOD, **kw):
    from reenact.render.renderer import NeuralRenderer

    meta = {"reenact.kind": "renderer", "reenact.config": config if isinstance(config, str) else json.dumps(config)}
    return NeuralRenderer(_model(tmp_path / "crafted.onnx", meta, **kw), prefer_gpu=False)


# ----------------------------------------------------------------------------- renderer models
def test_a_sound_crafted_renderer_loads(tmp_path):
    r = _renderer(tmp_path)
    assert r.size == 128 and r.run(np.zeros((2, 67, 16, 16), np.float32)).shape == (2, 16, 16, 3)


@pytest.mark.parametrize("change,words", [
    ({"size": 1_000_000}, "size is 1000000"),
    ({"size": 100}, "multiple of 16"),
    ({"size": "128"}, "size is '128'"),
    ({"window": 10_000}, "window is 10000"),
    ({"mode": "everything"}, "mode is 'everything'"),
    ({"in_ch": 5}, "in_ch is 5"),
    ({"ref_warp": "teleport"}, "ref_warp"),
    ({"regions": ["feet"]}, "regions"),
])
def test_renderer_metadata_is_bounded(tmp_path, change, words):
    with pytest.raises(ReenactError) as e:
        _renderer(tmp_path, dict(GOOD, **change))
    assert str(e.value).startswith("crafted.onnx: ") and words in str(e.value)
    assert "\n" not in str(e.value)


def test_renderer_shapes_are_checked(tmp_path):
    with pytest.raises(ReenactError, match="crafted.onnx: .*input has 5 channels"):
        _renderer(tmp_path, in_ch=5)
    with pytest.raises(ReenactError, match="crafted.onnx: .*output has 4 channels"):
        _renderer(tmp_path, out_ch=4)
    with pytest.raises(ReenactError, match="not JSON"):
        _renderer(tmp_path, "{size: 128")
    r = _renderer(tmp_path, symbolic=True)  # channels declared by name only: checked on the output
    with pytest.raises(ReenactError, match=r"crafted.onnx: the model gave an output of shape \(1, 67, 16, 16\)"):
        r.run(np.zeros((1, 67, 16, 16), np.float32))


def test_cli_render_with_a_crafted_model_is_one_line(tmp_path, carphone, carphone_track):
    track = tmp_path / "t.npz"
    carphone_track.save(str(track))
    model = _model(tmp_path / "crafted.onnx", {"reenact.config": json.dumps(GOOD)}, in_ch=5)
    res = subprocess.run([sys.executable, "-m", "reenact", "render", str(track), "--video", carphone, "--model", model,
                          "--out", str(tmp_path / "r.mp4")], capture_output=True, text=True, timeout=600)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert res.stderr.strip().splitlines()[-1].startswith("reenact: error: crafted.onnx: ")
    assert not (tmp_path / "r.mp4").exists()


# ----------------------------------------------------------------------------- restyle models
def _restyle(tmp_path, cfg, **kw):
    from reenact.restyle.apply import RestyleModel

    meta = {"reenact.kind": "restyle", "reenact.config": json.dumps(cfg)}
    return RestyleModel(_model(tmp_path / "style.onnx", meta, **kw), prefer_gpu=False)


def test_restyle_metadata_and_shapes_are_checked(tmp_path):
    from reenact.restyle.apply import RestyleError

    ok = _restyle(tmp_path, {"size": 64}, in_ch=3, out_ch=21)
    assert ok.predict(np.zeros((64, 64, 3), np.float32)).shape == (64, 64, 21)
    with pytest.raises(RestyleError, match="style.onnx: .*size is 1000000"):
        _restyle(tmp_path, {"size": 1_000_000}, in_ch=3, out_ch=21)
    with pytest.raises(RestyleError, match="style.onnx: .*input has 3 channels"):
        _restyle(tmp_path, {"size": 64, "colourise": True}, in_ch=3, out_ch=4)
    with pytest.raises(RestyleError, match="style.onnx: .*output has 3 channels"):
        _restyle(tmp_path, {"size": 64}, in_ch=3, out_ch=3)
    with pytest.raises(RestyleError, match="style.onnx: not a usable restyle model"):
        _restyle(tmp_path, {"size": 64, "arch": "magic"}, in_ch=3, out_ch=21)
    odd = _restyle(tmp_path, {"size": 64}, symbolic=True)
    with pytest.raises(RestyleError, match="style.onnx: the model gave an output of shape"):
        odd.predict(np.zeros((64, 64, 3), np.float32))


# ----------------------------------------------------------------------------- torch files
torch_needed = pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="needs torch")


class Foreign:  # a class torch's safe loader refuses
    pass


@torch_needed
def test_foreign_weights_file_never_gets_torchs_advice(tmp_path):
    import torch

    from reenact.training.train import load_weights

    evil = tmp_path / "evil.pt"
    torch.save({"config": {}, "state_dict": {}, "x": Foreign()}, str(evil))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    for path in (evil, junk):
        with pytest.raises(ReenactError) as e:
            load_weights(str(path))
        assert str(e.value).startswith(path.name + ": not a Reenact renderer weights file")
        assert "weights_only" not in str(e.value)


@torch_needed
def test_cli_train_with_foreign_init_is_one_line(tmp_path, carphone, carphone_track):
    import torch

    track = tmp_path / "t.npz"
    carphone_track.save(str(track))
    evil = tmp_path / "evil.pt"
    torch.save({"config": {}, "state_dict": {}, "x": Foreign()}, str(evil))
    res = subprocess.run([sys.executable, "-m", "reenact", "train", str(track), "--video", carphone, "--out",
                          str(tmp_path / "m.onnx"), "--init", str(evil), "--steps", "1", "--size", "32"],
                         capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "weights_only" not in res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        "reenact: error: evil.pt: not a Reenact renderer weights file (damaged, or written by another program)")


@torch_needed
def test_damaged_checkpoint_is_moved_aside_and_training_starts_fresh(tmp_path, carphone, carphone_track):
    from reenact.training.files import load_torch

    track = tmp_path / "t.npz"
    carphone_track.save(str(track))
    out = tmp_path / "m.onnx"
    ck = tmp_path / "m.ckpt.pt"
    ck.write_bytes(b"PK\x03\x04" + os.urandom(3000))  # a zip cut short: a crash mid-write in another tool
    args = [sys.executable, "-m", "reenact", "train", str(track), "--video", carphone, "--out", str(out),
            "--size", "32", "--batch", "2", "--no-fp16", "--steps"]
    res = subprocess.run(args + ["2"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "m.ckpt.pt: not a Reenact checkpoint" in res.stderr and "moved aside to m.ckpt.pt.damaged-" in res.stderr
    aside = [n for n in os.listdir(tmp_path) if n.startswith("m.ckpt.pt.damaged-")]
    assert len(aside) == 1 and os.path.getsize(tmp_path / aside[0]) == 3004
    assert int(load_torch(str(ck), ("step",))["step"]) == 2 and out.exists()
    res = subprocess.run(args + ["3"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and "resumed from" in res.stderr and "at step 2" in res.stderr, res.stderr[-3000:]


@torch_needed
def test_train_from_the_256_px_base(tmp_path, carphone, carphone_track):
    """``reenact train --init base256`` fine-tunes the bundled 256 px base at its own size (no
    --size needed); the model it writes renders 256 px crops."""
    from reenact.render.renderer import NeuralRenderer

    if not os.path.isfile(os.path.join(ROOT, "models", "renderer_base256.pt")):
        pytest.skip("models/renderer_base256.pt is not in this checkout")
    track = tmp_path / "t.npz"
    carphone_track.save(str(track))
    out = tmp_path / "m.onnx"
    res = subprocess.run([sys.executable, "-m", "reenact", "train", str(track), "--video", carphone, "--out", str(out),
                          "--init", "base256", "--batch", "1", "--steps", "1", "--no-fp16", "--no-int8"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert NeuralRenderer(str(out), prefer_gpu=False).size == 256


# ----------------------------------------------------------------------------- Track files
def _bad(track, words):
    with pytest.raises(ValueError) as e:
        track.validate("t.npz")
    assert str(e.value).startswith("t.npz: ") and words in str(e.value), str(e.value)


def test_track_dtypes_are_enforced(tmp_path, carphone_track):
    tr = carphone_track.subset(0, 10)
    tr.pose = tr.pose.astype(np.float16)
    _bad(tr, "pose must be float32 or float64, got float16")
    with pytest.raises(ValueError):
        tr.save(str(tmp_path / "t.npz"))
    assert os.listdir(tmp_path) == []  # nothing written
    tr = carphone_track.subset(0, 10)
    tr.size = np.array([176.0, 144.0])
    _bad(tr, "size must be integers, got float64")
    tr = carphone_track.subset(0, 10)
    tr.landmarks = tr.landmarks.astype(np.float16)
    _bad(tr, "landmarks must be float32 or float64")
    tr = carphone_track.subset(0, 10)
    tr.tracked = tr.tracked.astype(np.uint8)
    _bad(tr, "tracked must be bool")


@pytest.mark.parametrize("field,value,words", [
    ("size", np.array([1_000_000_000, 144]), "size must be 1..32768 pixels"),
    ("fps", 1e9, "fps must lie in 0..1000"),
    ("focal_px", 1e12, "focal_px must lie in"),
    ("source_frames", 10**12, "source_frames must be at most"),
    ("actor", -1, "actor must lie in"),
    ("principal", np.array([1e12, 0.0]), "principal must be finite pixels"),
])
def test_track_ranges_are_enforced(carphone_track, field, value, words):
    tr = carphone_track.subset(0, 10)
    setattr(tr, field, value)
    _bad(tr, words)


def test_crafted_track_file_is_refused_on_load(tmp_path, carphone_track):
    arrays = carphone_track.subset(0, 10).to_arrays()
    for key, value, words in (("size", np.array([1_000_000_000, 1_000_000_000]), "size must be 1..32768"),
                              ("pose", arrays["pose"].astype(np.float16), "pose must be float32 or float64"),
                              ("fps", np.array("fast"), "fps is 'fast', not a float")):
        path = tmp_path / "crafted.npz"
        np.savez(str(path), **dict(arrays, **{key: value}))
        with pytest.raises(ValueError) as e:
            Track.load(str(path))
        assert str(e.value).startswith("crafted.npz: ") and words in str(e.value), str(e.value)


def _bomb_npz(path, members):
    """An .npz whose members' headers declare ``members`` {name: shape} of float32, with no data
    behind them: what a zip bomb's header says, without the gigabytes."""
    import zipfile

    with zipfile.ZipFile(str(path), "w") as z:
        for name, shape in members.items():
            header = {"descr": "<f4", "fortran_order": False, "shape": tuple(shape)}
            buf = __import__("io").BytesIO()
            np.lib.format.write_array_header_1_0(buf, header)
            z.writestr(name + ".npy", buf.getvalue())


def test_a_track_or_pool_declaring_gigabytes_is_refused_before_reading(tmp_path, carphone_track):
    """A Track .npz (or a restyle model's pool) whose array headers declare gigabytes, as a zip
    bomb's do, is refused from the header, nothing allocated; members a Track does not have are
    never read (before 2026-12-05 every member was read whole first: a 3.9 MB file took 4 GB);
    a restyle config nested 100000 deep is one line (a RecursionError traceback before)."""
    from reenact.restyle.apply import RestyleError, check_config
    from reenact.restyle.prior import RefPool

    path = tmp_path / "bomb.npz"
    _bomb_npz(path, {"landmarks": (10 ** 9, 478, 2)})
    with pytest.raises(ValueError, match=r"bomb.npz: not a usable Track .npz: its landmarks array would take 3.82e\+03 GB"):
        Track.load(str(path))
    good = tmp_path / "good.npz"
    carphone_track.subset(0, 5).save(str(good))
    import zipfile

    with zipfile.ZipFile(str(good), "a") as z:  # an extra member no Track has, declaring 4 TB
        buf = __import__("io").BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (10 ** 12,)})
        z.writestr("junk.npy", buf.getvalue())
    assert Track.load(str(good)).n_frames == 5  # never read
    pool = tmp_path / "pool.npz"
    _bomb_npz(pool, {"y": (10 ** 6, 256, 256), "c": (1,), "clip": (1,), "pos": (1,)})
    text = __import__("base64").b64encode(pool.read_bytes()).decode("ascii")
    with pytest.raises(ValueError, match="the reference pool in the model is damaged .*its y array would take"):
        RefPool.from_text(text)
    with pytest.raises(RestyleError, match="m.onnx: not a usable restyle model"):
        check_config("[" * 100000 + "]" * 100000, str(tmp_path / "m.onnx"))
