# SPDX-License-Identifier: GPL-3.0-or-later
"""A movie's C2PA manifest prepared before the movie is written and its sample data hashed while
the writer writes it (reenact.provenance.movie_signing): valid, tamper-evident, the same
assertions as a movie signed afterwards; a finished file that differs from what was hashed is
signed whole instead (never a wrong manifest); an aborted movie leaves nothing running."""

import os

import numpy as np
import pytest

from reenact.provenance import c2pa_io
from reenact.provenance import watermark as wm

JOB = 0x3C0FFEE123

pytest.importorskip("c2pa")


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    """Never touch the user's ~/.local/share: one local chain for the whole test session."""
    monkeypatch.setenv("REENACT_C2PA_DIR", str(tmp_path_factory.getbasetemp() / "c2pa-chain"))


def _frames(n, size=(1280, 720), seed=0):
    """A picture panning 5 px a frame under fresh grain: ~0.18 MB a frame at CRF 23 (several Merkle
    leaves in a few seconds of movie)."""
    import cv2

    w, h = size
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 200, (h // 8, w // 8, 3), dtype=np.uint8), (w + 256, h))
    for i in range(n):
        off = (i * 5) % 256
        yield np.ascontiguousarray(base[:, off:off + w] + rng.integers(0, 48, (h, w, 3), dtype=np.uint8))


def _write_signed(path, n, source=None, **kw):
    from reenact.provenance.movie_signing import MovieSigning
    from reenact.video import VideoWriter

    signing = MovieSigning(path, "c2pa.edited", JOB, parameters={"frames": [0, n]}, source=source,
                           expected_frames=n, **kw)
    at_trailer = {}
    with VideoWriter(path, 30, (1280, 720), crf=23, preset="ultrafast") as wr:
        signing.follow(wr)
        # after the follower has stopped (it registered first): what it hashed while writing
        wr.before_trailer.append(lambda: at_trailer.update(fed=signing.fed, leaf_kb=signing.leaf_kb))
        for f in _frames(n):
            wr.write(f)
    return signing, at_trailer


def _mdat(data):
    i = data.find(b"mdat") - 4
    return i, int.from_bytes(data[i:i + 4], "big")


@pytest.mark.skipif(not c2pa_io.merkle_available(), reason="the pinned C2PA library has no mdat Merkle hashing")
@pytest.mark.parametrize("ext", [".mp4", ".mov", ".mp4 without pread"])
def test_movie_signed_while_written_is_valid_and_tamper_evident(tmp_path, ext, monkeypatch):
    if ext.endswith("without pread"):  # (Windows has no os.pread/os.pwrite: a seek and a read instead)
        from reenact import fsutil

        monkeypatch.setattr(fsutil, "POSITIONAL", False)
        ext = ext.split()[0]
    from reenact._version import __version__
    from reenact.provenance.manifest import read_manifest

    footage = str(tmp_path / "footage.mp4")
    _write_signed(footage, 5)[0].cancel()  # any movie as the parent ingredient
    out = str(tmp_path / ("render" + ext))  # (QuickTime's muxer writes a "wide" box before mdat)
    signing, at_trailer = _write_signed(out, 75, source=footage)
    unsigned_size = os.path.getsize(out)
    data0 = open(out, "rb").read()
    res = signing.finish()
    assert res["prehashed"] and res["fallback"] is None and res["embedding"] == "appended", res
    m0, mlen = _mdat(data0)
    # the sample data was hashed by the follower while the movie was written, in 1 MB leaves
    # (75 frames of ~0.18 MB: <= 64 MB expected with the x2 margin -> the smallest leaf, 1 MB)
    assert at_trailer["leaf_kb"] == 1024 and mlen > 8 << 20
    assert 0 < at_trailer["fed"] <= mlen - 8 and res["fed_bytes"] == mlen - 8
    signed = open(out, "rb").read()
    assert signed[:unsigned_size] == data0 and 0 < res["bytes_added"] <= 10_000
    assert len(signed) == unsigned_size + res["bytes_added"]
    assert signed[unsigned_size + 8:unsigned_size + 24] == c2pa_io.C2PA_UUID
    m = read_manifest(out)
    assert m["present"] and m["valid"], m
    assert [a["action"] for a in m["actions"]] == ["c2pa.opened", "c2pa.edited"]
    assert m["actions"][1]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert m["claim_generator"] == "Reenact " + __version__
    assert m["soft_binding"] == {"alg": wm.ALGORITHM, "value": "52{}{:010x}".format(wm.FORMAT_VERSION, JOB)}
    # one byte changed anywhere in the sample data (first leaf, a middle one, the last
    # partial one) or in moov: the manifest no longer validates
    moov = data0.find(b"moov") + 100
    for k, at in enumerate((m0 + 100, m0 + mlen // 2, m0 + mlen - 50, moov)):
        bad = bytearray(signed)
        bad[at] ^= 0x01
        p = str(tmp_path / "tampered{}.mp4".format(k))
        open(p, "wb").write(bytes(bad))
        t = read_manifest(p)
        assert t["present"] and not t["valid"], at


@pytest.mark.skipif(not c2pa_io.merkle_available(), reason="the pinned C2PA library has no mdat Merkle hashing")
def test_a_finished_movie_unlike_what_was_hashed_is_signed_whole(tmp_path):
    """Another movie put in place before finish(): the sampled blocks differ, so the manifest is
    made from the finished file as a whole (valid for it), and says so."""
    from reenact.provenance.manifest import read_manifest
    from reenact.video import VideoWriter

    out = str(tmp_path / "render.mp4")
    signing, _ = _write_signed(out, 40)
    with VideoWriter(out, 30, (1280, 720), crf=23, preset="ultrafast") as wr:  # the same length, other pixels
        for f in _frames(40, seed=1):
            wr.write(f)
    res = signing.finish()
    assert not res["prehashed"] and "differs" in res["fallback"], res
    assert res["embedding"] == "appended"
    assert read_manifest(out)["valid"]


def test_an_aborted_movie_leaves_no_follower_and_no_file(tmp_path):
    from reenact.provenance.movie_signing import MovieSigning
    from reenact.video import VideoWriter

    out = str(tmp_path / "render.mp4")
    signing = MovieSigning(out, "c2pa.edited", JOB, expected_frames=30)
    wr = VideoWriter(out, 30, (1280, 720), crf=23, preset="ultrafast")
    signing.follow(wr)
    for f in _frames(10):
        wr.write(f)
    wr.abort()
    signing.cancel()
    assert signing._thread is None or not signing._thread.is_alive()
    assert os.listdir(str(tmp_path)) == []


def test_leaf_size_keeps_the_manifest_small():
    from reenact.provenance.movie_signing import leaf_kb_for

    assert leaf_kb_for(0) == 1024 and leaf_kb_for(64 << 20) == 1024
    assert leaf_kb_for((64 << 20) + 1) == 2048
    assert leaf_kb_for(1 << 30) == 16384  # 1 GB: 64 leaves of 16 MB
    assert leaf_kb_for(1 << 40) == 65536  # the largest leaf
    for size in (10 << 20, 300 << 20, 3 << 30):
        assert size / (leaf_kb_for(size) * 1024) <= 64


def test_not_a_movie_is_refused_before_writing(tmp_path):
    from reenact.provenance.manifest import ManifestError
    from reenact.provenance.movie_signing import MovieSigning

    with pytest.raises(ManifestError, match="not a movie"):
        MovieSigning(str(tmp_path / "frame.png"))
