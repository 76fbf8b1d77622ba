# SPDX-License-Identifier: GPL-3.0-or-later
"""A model's card, as `reenact probe` shows it (modelcard.py)."""

import json
import os


def test_probe_shows_a_models_card(tmp_path, capsys):
    """`reenact probe MODEL.onnx` prints a Reenact model's card (its reenact.* metadata), says a
    bundled one's is models/README.md, and refuses an ONNX file without one in one line (before
    the evening of 2026-12-06 no command showed a model's card: probe read every file as footage)."""
    import shutil

    from reenact.cli import main
    from reenact.paths import MODELS_DIR

    base = os.path.join(MODELS_DIR, "renderer_base256.onnx")
    assert main(["probe", base, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)["results"][0]
    assert r["kind"] == "model" and r["model"] == "renderer" and r["bundled"], r
    assert r["card"]["config"]["size"] == 256 and r["inputs"][0][1][1] == r["card"]["config"]["in_ch"], r
    copy = shutil.copy(base, str(tmp_path / "mine.onnx"))
    assert main(["probe", copy]) == 0
    text = capsys.readouterr().out
    assert text.startswith(copy + ": Reenact renderer model") and "models/README.md" not in text, text
    assert "  mode: face-only" in text, text
    other = shutil.copy(os.path.join(MODELS_DIR, "face_detection_short_range.onnx"), str(tmp_path / "det.onnx"))
    assert main(["probe", other]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["reenact: error: {}: not a Reenact model (its ONNX metadata holds no reenact.* model card)".format(
        other)], err
