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


def test_probe_shows_a_tracks_clip_and_its_mouths_driver(carphone_track, tmp_path, capsys):
    """`reenact probe TRACK.npz` says which clip and frames a Track tracks and, for a transfer's
    output, which footage drives its mouth on which frames (what `render --mouth-from` must be
    given: since the evening of 2026-12-06, when chains of transfers record their first driver);
    a file that is not a Track is one line (before, probe read every file as footage)."""
    from reenact.cli import main
    from reenact.face import transfer as X

    own = str(tmp_path / "shot.npz")
    carphone_track.save(own)
    driver = X._copy(carphone_track)
    driver.source, driver.source_digest = "dub.mp4", "ab" * 32
    dubbed = str(tmp_path / "dubbed.npz")
    X.transfer(driver, carphone_track, "mouth", offset=10, frames=(20, 60)).save(dubbed)
    assert main(["probe", own, dubbed, "--json"]) == 0
    a, b = json.loads(capsys.readouterr().out)["results"]
    assert a["kind"] == b["kind"] == "track" and a["frames"] == [0, carphone_track.n_frames], a
    assert not a["edited"] and a["mouth_driver"] is None, a
    assert b["edited"] and b["mouth_driver"] == {"footage": "ab" * 8, "frames": "20-59",
                                                 "driver_frames": [10.0, 49.0]}, b
    assert main(["probe", dubbed]) == 0
    text = capsys.readouterr().out
    assert "its mouth driven on frames 20-59 by the footage abababababababab (its frames 10-49)" in text, text
    bad = tmp_path / "not_a_track.npz"
    bad.write_bytes(b"PK\x03\x04 nothing")
    assert main(["probe", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reenact: error: ") and "not_a_track.npz" in err[0], err
