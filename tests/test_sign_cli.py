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


def test_a_folder_with_a_missing_frame_has_the_others_signed(tmp_path, marked_folder, capsys):
    """A frame deleted from the folder: the frames there are signed and the line says how many
    are missing (before 2026-12-06 refused after the whole decode, "render, restyle and train need
    every frame", though ``reenact verify`` read the folder)."""
    from reenact.cli import main

    folder = _copy(marked_folder, tmp_path)
    os.remove(os.path.join(folder, "cut.1010.png"))
    assert main(["sign", folder, "--fps", "30"]) == 0
    out = capsys.readouterr().out
    assert "signed (C2PA in 30 frame(s), 1 frame(s) missing from the folder" in out and "1.00-2.00 s" in out, out
    assert len(_signed(folder)) == 30


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


def test_a_read_only_file_is_refused_before_decoding(tmp_path, capsys, monkeypatch):
    """A PNG nobody may write (0444) is refused like a movie, in one line, before any decoding
    (before 2026-12-06 its signed copy was renamed over it, while a movie that could not be opened
    for writing was refused after the decode); so is such a movie, even for root."""
    import cv2
    import numpy as np

    from reenact.cli import main
    from reenact.provenance.manifest import ManifestError, read_manifest, sign_file
    from test_provenance import write_h264

    png = str(tmp_path / "one.png")
    cv2.imwrite(png, np.full((48, 64, 3), 90, np.uint8))
    mp4 = write_h264(str(tmp_path / "cut.mp4"), [np.full((48, 64, 3), 90, np.uint8)] * 3)
    for f in (png, mp4):
        os.chmod(f, 0o444)
    before = [open(f, "rb").read() for f in (png, mp4)]
    _no_decoding(monkeypatch)
    assert main(["sign", png, mp4]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["reenact: error: {}: read-only (mode 0444): not signed, as signing writes into the file".format(f)
                   for f in (png, mp4)], err
    with pytest.raises(ManifestError, match="read-only"):  # (and signing it directly, as a render would)
        sign_file(png)
    assert [open(f, "rb").read() for f in (png, mp4)] == before and not read_manifest(png)["present"]


def test_a_folder_is_checked_whole_before_any_frame_is_signed(tmp_path, marked_folder, capsys, monkeypatch):
    """A read-only frame among those to sign: nothing signed, the frame named (before 2026-12-06
    the frames before it were signed, and root replaced it anyway). A failure no check foresees (a
    disk that fills) names the frame and how many were signed before it, not the signed copy's
    hidden temporary name in the folder of the file."""
    from reenact.cli import main
    from reenact.provenance import c2pa_io

    folder = _copy(marked_folder, tmp_path)
    os.chmod(os.path.join(folder, "cut.1045.png"), 0o444)
    assert main(["sign", folder, "--fps", "30"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["reenact: error: {}: cut.1045.png: read-only (mode 0444): not signed, as signing writes into "
                   "the file; no frame signed".format(folder)], err
    assert _signed(folder) == []
    os.chmod(os.path.join(folder, "cut.1045.png"), 0o644)
    sign = c2pa_io.sign

    def full_disk(builder, signer, fmt, src, dst):
        if src.endswith("cut.1041.png"):
            open(dst, "wb").close()
            raise OSError(28, "No space left on device", dst)
        return sign(builder, signer, fmt, src, dst)

    monkeypatch.setattr(c2pa_io, "sign", full_disk)
    assert main(["sign", folder, "--fps", "30"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["reenact: error: {}: cut.1041.png: cannot write the signed file in its folder ({}): No space "
                   "left on device; 10 frame(s) before it signed, 20 not".format(folder, folder)], err
    assert len(_signed(folder)) == 10 and not any(".reenact-" in f for f in os.listdir(folder))


def test_a_folder_signed_already_is_refused_like_a_movie(tmp_path, marked_folder, capsys):
    """Every frame to sign carries a manifest already: refused in one line, exit 2, as a movie
    signed already is (before 2026-12-06 "signed (C2PA in 0 frame(s), 30 signed already, 0 bytes;
    ...; signer None)", exit 0)."""
    from reenact.cli import main

    folder = _copy(marked_folder, tmp_path)
    assert main(["sign", folder, "--fps", "30"]) == 0
    capsys.readouterr()
    assert main(["sign", folder, "--fps", "30"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, (out, err)
    assert err.startswith("reenact: error: {}: its 30 frame(s) of Reenact's seconds already carry a C2PA manifest "
                          "(signed by Reenact renderer".format(folder)) and err.rstrip().endswith("nothing added"), err
    assert "None" not in err
