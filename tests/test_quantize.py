# SPDX-License-Identifier: GPL-3.0-or-later
"""The renderer's int8 variant for the CPU (``reenact quantize``, training/quantize.py): made from
real network inputs, checked against the fp32 model before it is written, used by the renderer
only beside the very model it was made from, and the bundled one is the bundled base's."""

import os
import shutil

import numpy as np
import pytest

from reenact.errors import ReenactError
from reenact.render.renderer import BASE_MODEL, DEFAULT_MODEL, NeuralRenderer, int8_path

pytest.importorskip("onnxruntime.quantization")


@pytest.fixture(scope="module")
def calib(carphone, carphone_track):
    from reenact.training.quantize import calibration_inputs

    x = calibration_inputs(BASE_MODEL, [(carphone_track, carphone)])
    assert x.dtype == np.uint8 and x.ndim == 4 and x.shape[1] == 67 and len(x) >= 8
    return x


def test_bundled_int8_variant_is_made_from_the_bundled_model():
    r = NeuralRenderer(prefer_gpu=False)  # the default renderer, the 256 px base
    assert r.precision == "int8" and r.path == int8_path(DEFAULT_MODEL) and not r.warnings
    r = NeuralRenderer(BASE_MODEL, prefer_gpu=False)
    assert r.precision == "int8" and r.path == int8_path(BASE_MODEL) and not r.warnings
    assert NeuralRenderer(prefer_gpu=False, precision="fp32").precision == "fp32"


def test_quantize_writes_a_variant_that_draws_like_the_model(calib, tmp_path):
    from reenact.training.quantize import quantize

    model = str(tmp_path / "actor.onnx")
    shutil.copy(BASE_MODEL, model)
    s = quantize(model, calib)
    assert s["out"] == int8_path(model) and os.path.isfile(s["out"])
    assert s["psnr_db"] >= 40.0 and s["bytes"] < 0.4 * s["fp32_bytes"], s
    r8 = NeuralRenderer(model, prefer_gpu=False)
    r32 = NeuralRenderer(model, prefer_gpu=False, precision="fp32")
    assert r8.precision == "int8" and r32.precision == "fp32"
    x = calib[:4]
    a, b = r32.run(x), r8.run(x)
    hole = np.transpose(x[:, -1:] > 127, (0, 2, 3, 1))[..., 0]
    d = np.abs(a.astype(int) - b.astype(int))[hole]
    assert d.mean() < 2.0 and d.max() < 40, (d.mean(), d.max())  # the same face, not another picture
    assert np.abs(a.astype(int) - b.astype(int))[~hole].max() <= 1  # outside the face: the footage


def test_a_variant_of_another_model_is_not_used(calib, tmp_path):
    import onnx

    from reenact.training.quantize import quantize

    model = str(tmp_path / "actor.onnx")
    shutil.copy(BASE_MODEL, model)
    quantize(model, calib)
    m = onnx.load(model)  # the actor model retrained (here: changed) after its variant was made
    m.metadata_props.add(key="reenact.note", value="retrained")
    onnx.save(m, model)
    r = NeuralRenderer(model, prefer_gpu=False)
    assert r.precision == "fp32" and r.path == model
    assert len(r.warnings) == 1 and "actor.int8.onnx" in r.warnings[0] and "quantize it again" in r.warnings[0]


def test_a_damaged_variant_is_not_used(tmp_path):
    model = str(tmp_path / "actor.onnx")
    shutil.copy(BASE_MODEL, model)
    with open(int8_path(model), "wb") as f:
        f.write(b"not an onnx file")
    r = NeuralRenderer(model, prefer_gpu=False)
    assert r.precision == "fp32" and len(r.warnings) == 1 and "cannot be loaded" in r.warnings[0]


def test_quantize_refuses_a_variant_that_draws_another_face(calib, tmp_path):
    from reenact.training.quantize import quantize

    model = str(tmp_path / "actor.onnx")
    shutil.copy(BASE_MODEL, model)
    with pytest.raises(ReenactError, match="dB from the fp32 model"):
        quantize(model, calib, min_psnr=90.0)
    assert sorted(os.listdir(tmp_path)) == ["actor.onnx"]  # nothing written, no temporary left
    with pytest.raises(ReenactError, match="already an int8 variant"):
        quantize(int8_path(BASE_MODEL), calib)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(ReenactError, match="cannot load the model"):
        quantize(str(bad), calib)


def test_bundled_fp16_variants_draw_like_their_models(carphone, carphone_track):
    """Every bundled renderer has its fp16 variant beside it (what a CUDA session runs), and it
    draws real network inputs like the fp32 model (run here on the CPU provider)."""
    from reenact.render.renderer import BUNDLED_MODELS
    from reenact.training.quantize import calibration_inputs

    for name, path in BUNDLED_MODELS.items():
        p16 = os.path.splitext(path)[0] + ".fp16.onnx"
        assert os.path.isfile(p16), name
        x = calibration_inputs(path, [(carphone_track, carphone)], frames=8, every=4)
        r16 = NeuralRenderer(p16, prefer_gpu=False, precision="fp32")
        assert r16.precision == "fp16" and r16.size == NeuralRenderer(path, prefer_gpu=False).size
        a = NeuralRenderer(path, prefer_gpu=False, precision="fp32").run(x).astype(int)
        b = r16.run(x).astype(int)
        assert np.abs(a - b).max() <= 2 and 10 * np.log10(255.0 ** 2 / max(np.mean((a - b) ** 2), 1e-9)) > 50, name


def test_quantize_checks_its_model_and_output_before_calibrating(tmp_path, capsys):
    """What can be known at the start is said there, in one line, with nothing written (before
    2026-12-05: --out naming the model replaced it with its int8 variant, and a damaged model or
    an unwritable --out failed only after the calibration's renders, a damaged model with a
    traceback)."""
    from reenact.cli import main

    model = str(tmp_path / "actor.onnx")
    shutil.copy(BASE_MODEL, model)
    size = os.path.getsize(model)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    data = ["--data", "{}={}".format(tmp_path / "none.npz", tmp_path / "none.mp4")]  # (never reached)
    cases = [([model, "--out", model], "is the model it is made from; --out wants another file"),
             ([str(bad)], "cannot load the model (InvalidProtobuf)"),
             ([model, "--out", str(tmp_path / "no" / "x.onnx")], "output folder does not exist"),
             ([int8_path(BASE_MODEL)], "is already an int8 variant")]
    for argv, said in cases:
        capsys.readouterr()
        assert main(["quantize"] + argv + data) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0], (argv, err)
    assert os.path.getsize(model) == size and sorted(os.listdir(tmp_path)) == ["actor.onnx", "bad.onnx"]
