# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact verify`` shows what a valid manifest's ingredients' own manifests say (a restyle of a
dub: the dub, its job and frames). Before 2026-12-06 only the restyle's job and actions were shown
("c2pa.opened, c2pa.edited"), though the file's manifest holds the dub's as a parent ingredient."""

import cv2
import numpy as np
import pytest

from reenact.provenance import watermark as wm


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REENACT_C2PA_DIR", str(tmp_path_factory.getbasetemp() / "c2pa-chain"))


def test_a_restyle_of_a_dub_shows_the_dub_s_manifest(tmp_path):
    from reenact.provenance.manifest import sign_file
    from reenact.provenance.verify import format_report, verify_path

    rng = np.random.default_rng(3)
    picture = cv2.GaussianBlur(rng.integers(0, 255, (360, 640, 3), np.uint8), (0, 0), 2.0)
    footage, dub, look = (str(tmp_path / n) for n in ("footage.png", "dub.png", "look.png"))
    cv2.imwrite(footage, picture)
    cv2.imwrite(dub, wm.mark_frame(picture[..., ::-1], 0, wm.DEFAULT_KEY, 0x1111111111)[..., ::-1])
    sign_file(dub, action="c2pa.edited", payload=0x1111111111, source=footage,
              parameters={"frames": "45-74", "job_id": "1111111111", "model": "renderer.onnx"})
    cv2.imwrite(look, wm.mark_frame(picture[..., ::-1], 0, wm.DEFAULT_KEY, 0x3333333333)[..., ::-1])
    sign_file(look, action="c2pa.edited", payload=0x3333333333, source=dub,
              parameters={"tool": "Reenact", "operation": "restyle", "job_id": "3333333333", "frames": "0-0"})
    r = verify_path(look)
    m = r["manifest"]
    assert m["valid"] and m["ingredients"][0]["title"] == "dub.png", m
    dub_m = m["ingredients"][0]["manifest"]
    assert dub_m["valid"] and dub_m["actions"][-1]["parameters"]["job_id"] == "1111111111", dub_m
    text = format_report(r)
    assert "  made from dub.png: Reenact render, job 1111111111, frames 45-74 (signer " in text, text
    assert "; actions c2pa.opened, c2pa.edited)" in text, text
    # the dub's own ingredient (the footage) has no manifest: not shown
    assert "footage.png" not in text and not dub_m["ingredients"][0]["manifest"], (text, dub_m)
