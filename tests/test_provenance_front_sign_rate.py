# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact sign FOLDER`` needs ``--fps``: a folder of frames has no rate, and the seconds
sign finds are written into every signed frame's manifest, which cannot be signed again.
Before 2026-12-06 a folder was read at 25 fps without a word: a 29.97 fps folder was signed
"1.60-4.80 s" where its frames were 1.33-4.00 s."""

import os

import pytest

from reenact.provenance import watermark as wm
from test_provenance import JOB, synthetic_clip


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REENACT_C2PA_DIR", str(tmp_path_factory.getbasetemp() / "c2pa-chain"))


def _marked_folder(folder):
    """60 PNG frames, the second second at 30 fps (frames 30-59) marked."""
    import cv2

    pl = wm.make_payload(JOB)
    folder.mkdir()
    for i, f in enumerate(synthetic_clip(60)):
        g = wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if i >= 30 else f
        cv2.imwrite(str(folder / "cut.{:04d}.png".format(1001 + i)), cv2.cvtColor(g, cv2.COLOR_RGB2BGR))
    return str(folder)


def test_a_folder_is_not_signed_without_its_rate(tmp_path, capsys):
    from reenact.cli import main
    from reenact.provenance.manifest import png_has_manifest

    folder = _marked_folder(tmp_path / "cut")
    assert main(["sign", folder]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("reenact: error: {}: ".format(folder)), err
    assert "--fps" in err and "no rate" in err, err
    assert not [f for f in os.listdir(folder) if png_has_manifest(os.path.join(folder, f))]
    # given, the seconds are the folder's
    assert main(["sign", folder, "--fps", "30"]) == 0
    assert "1.00-2.00 s" in capsys.readouterr().out
