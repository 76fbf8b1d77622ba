# SPDX-License-Identifier: GPL-3.0-or-later
"""The fp16 variant that CUDA renders run instead of a model must be that model's export: a
failure-path review (2026-12-06) found that an export stopped between the two files leaves a
new ``.fp16.onnx`` beside an older ``.onnx`` (or the reverse), and CUDA ran whatever file had
the name. Here the CUDA provider is stood in for (this machine has none): the check itself runs
on the real bundled files."""

import os
import shutil

import onnx
import pytest

from reenact.render import renderer as rmod
from reenact.session import CUDA

MODELS = os.path.join(os.path.dirname(rmod.__file__), "..", "models")


@pytest.fixture
def on_cuda(monkeypatch):
    monkeypatch.setattr(rmod, "session_provider", lambda sess: CUDA)


def _pair(tmp_path, fp32="renderer_base.onnx", fp16="renderer_base.fp16.onnx"):
    path = str(tmp_path / "actor.onnx")
    shutil.copyfile(os.path.join(MODELS, fp32), path)
    shutil.copyfile(os.path.join(MODELS, fp16), str(tmp_path / "actor.fp16.onnx"))
    return path


def _card(path, **meta):
    m = onnx.load(path)
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.save(m, path)


def test_the_fp16_export_of_this_model_runs_on_cuda(tmp_path, on_cuda):
    r = rmod.NeuralRenderer(_pair(tmp_path), prefer_gpu=True)
    assert r.precision == "fp16" and r.warnings == []


def test_an_fp16_file_of_another_model_is_not_run(tmp_path, on_cuda):
    r = rmod.NeuralRenderer(_pair(tmp_path, fp16="renderer_base256.fp16.onnx"), prefer_gpu=True)
    assert r.precision == "fp32" and r.size == 128
    assert r.warnings == ["actor.fp16.onnx: exported from another training than actor.onnx (train it again to "
                          "export both): the fp32 model runs"], r.warnings


def test_an_fp16_file_of_an_earlier_run_of_the_same_configuration_is_not_run(tmp_path, on_cuda):
    path = _pair(tmp_path)
    _card(path, **{"reenact.train_run": "b2", "reenact.train_steps": "900"})  # (the newer training's model)
    _card(str(tmp_path / "actor.fp16.onnx"), **{"reenact.train_run": "a1", "reenact.train_steps": "500"})
    r = rmod.NeuralRenderer(path, prefer_gpu=True)
    assert r.precision == "fp32" and len(r.warnings) == 1, r.warnings


def test_a_damaged_fp16_file_leaves_the_fp32_model_running(tmp_path, on_cuda):
    path = _pair(tmp_path)
    with open(str(tmp_path / "actor.fp16.onnx"), "wb") as fh:
        fh.write(b"not a model")
    r = rmod.NeuralRenderer(path, prefer_gpu=True)
    assert r.precision == "fp32" and "actor.fp16.onnx: cannot be loaded" in r.warnings[0], r.warnings
