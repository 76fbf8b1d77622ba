# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact sign`` on what goes wrong around the signing (tests/test_sign_cut.py: the signing
itself): a folder with a frame missing, credentials that cannot sign, a read-only file, a folder
that cannot be signed whole or fails half way, and a folder signed already. Each refusal is one
line, found before any decoding where it can be."""

import os
import shutil

import pytest

from reenact.provenance import watermark as wm
from test_provenance import JOB, synthetic_clip


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REENACT_C2PA_DIR", str(tmp_path_factory.getbasetemp() / "c2pa-chain"))


@pytest.fixture(scope="module")
def marked_folder(tmp_path_factory):
    """90 PNG frames numbered from 1001, frames 1031-1060 (the second second at 30 fps) marked."""
    import cv2

    pl = wm.make_payload(JOB)
    folder = tmp_path_factory.mktemp("marked") / "cut"
    folder.mkdir()
    for i, f in enumerate(synthetic_clip(90)):
        g = wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 30 <= i < 60 else f
        cv2.imwrite(str(folder / "cut.{:04d}.png".format(1001 + i)), cv2.cvtColor(g, cv2.COLOR_RGB2BGR))
    return folder


def _copy(folder, tmp_path):
    return str(shutil.copytree(str(folder), str(tmp_path / "cut")))


def _signed(folder):
    from reenact.provenance.manifest import png_has_manifest

    return [f for f in sorted(os.listdir(folder)) if png_has_manifest(os.path.join(folder, f))]


def _no_decoding(monkeypatch):
    from reenact.provenance import verify

    def refuse(*args, **kwargs):
        raise AssertionError("decoded before the refusal")

    monkeypatch.setattr(verify, "verify_path", refuse)


def test_signing_credentials_are_checked_once_before_any_decoding(tmp_path, capsys, monkeypatch):
    """A certificate without its key, a missing file, or a pair C2PA cannot sign with: one line,
    before any file is read (before 2026-12-06 after each file's whole decode, once per file)."""
    from reenact.cli import main
    from reenact.provenance.manifest import local_chain

    chain, key, _root = local_chain()
    _no_decoding(monkeypatch)
    files = [str(tmp_path / "a.mp4"), str(tmp_path / "b.png")]
    for args, said in ((["--sign-cert", chain], "--sign-cert given without --sign-key: give both"),
                       (["--sign-key", key], "--sign-key given without --sign-cert"),
                       (["--sign-cert", str(tmp_path / "no.pem"), "--sign-key", key], "no.pem: cannot read"),
                       (["--sign-cert", key, "--sign-key", chain], "C2PA cannot sign with this certificate and key")):
        assert main(["sign"] + files + args) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith("reenact: error: ") and said in err[0], err
