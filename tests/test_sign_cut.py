# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact sign``: a cut finished in another editing system (Reenact's frames re-encoded among
the footage's, the render's manifest gone) signed with a C2PA manifest naming the seconds the
watermark shows; refused for a file without the watermark, one already signed, and a format
C2PA is not written into."""

import os

import pytest

from reenact.provenance import watermark as wm
from test_provenance import JOB, synthetic_clip, write_h264


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REENACT_C2PA_DIR", str(tmp_path_factory.getbasetemp() / "c2pa-chain"))


@pytest.fixture(scope="module")
def footage():
    return synthetic_clip(90)


def test_a_cut_holding_reenacts_frames_is_signed_with_their_seconds(tmp_path, footage, capsys):
    from reenact.cli import main
    from reenact.provenance.manifest import read_manifest
    from reenact.provenance.verify import verify_path

    pl = wm.make_payload(JOB)
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 30 <= i < 60 else f for i, f in enumerate(footage)]
    cut = write_h264(str(tmp_path / "cut.mp4"), frames, crf=23)  # the editing system's export
    assert not read_manifest(cut)["present"]
    assert main(["sign", cut]) == 0
    out = capsys.readouterr().out
    assert out.startswith(cut + ": signed (C2PA") and "job {:010x}".format(JOB) in out and "1.00-2.00 s" in out, out
    m = read_manifest(cut)
    assert m["valid"], m
    edited = m["actions"][-1]
    assert edited["action"] == "c2pa.edited" and edited["digitalSourceType"].endswith("/compositeWithTrainedAlgorithmicMedia")
    assert edited["parameters"]["synthesised_seconds"] == ["1.00-2.00"], edited
    assert edited["parameters"]["job_id"] == "{:010x}".format(JOB)
    assert m["soft_binding"]["value"].endswith("{:010x}".format(JOB))
    r = verify_path(cut)  # the signed file still reads: the same seconds, the manifest valid
    assert [list(x) for x in r["watermark"]["ranges"]] == [[1.0, 2.0]] and r["manifest"]["valid"]
    from reenact.provenance.verify import format_report

    assert "  declared synthesised: 1.00-2.00 s" in format_report(r).splitlines()
    # signed once: a second signing would replace the manifest, and is refused
    assert main(["sign", cut]) == 2
    assert "already carries a C2PA manifest" in capsys.readouterr().err


def test_a_file_without_the_watermark_or_of_another_format_is_not_signed(tmp_path, footage, capsys):
    from reenact.cli import main
    from reenact.provenance.manifest import read_manifest

    plain = write_h264(str(tmp_path / "plain.mp4"), footage[:45], crf=23)
    size = os.path.getsize(plain)
    assert main(["sign", plain]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reenact: error: {}: no Reenact watermark found".format(plain)) and err.count("\n") == 1, err
    assert os.path.getsize(plain) == size and not read_manifest(plain)["present"]
    mkv = tmp_path / "cut.mkv"
    mkv.write_bytes(b"\x1a\x45\xdf\xa3")
    assert main(["sign", str(mkv)]) == 2
    assert "C2PA is written into MP4 and MOV movies and PNG and JPEG images" in capsys.readouterr().err


def test_a_folder_of_frames_has_the_frames_of_its_marked_seconds_signed(tmp_path, footage, capsys):
    """A PNG sequence exported from another editing system: each frame of the seconds the
    watermark shows is signed, the others are left as they are."""
    import cv2

    from reenact.cli import main
    from reenact.provenance.verify import verify_path

    pl = wm.make_payload(JOB)
    folder = tmp_path / "cut"
    folder.mkdir()
    for i, f in enumerate(footage):
        g = wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 30 <= i < 60 else f
        cv2.imwrite(str(folder / "cut.{:04d}.png".format(1001 + i)), cv2.cvtColor(g, cv2.COLOR_RGB2BGR))
    assert main(["sign", str(folder), "--fps", "30"]) == 0
    out = capsys.readouterr().out
    assert "signed (C2PA in 30 frame(s)" in out and "1.00-2.00 s" in out, out
    r = verify_path(str(folder), fps=30)
    assert r["manifests"]["signed"] == 30 and r["manifests"]["valid"] == 30, r["manifests"]
    assert r["manifest"]["of"] == "cut.1031.png" and r["file_ranges"] == [[1031, 1060]], r


def test_odd_manifests_are_reported_not_crashed_on(tmp_path, capsys):
    """A signed file is anyone's to write: action parameters of another shape are skipped (before
    2026-12-05 ``"synthesised": 5`` made ``reenact verify`` and Blender's Verify panel fail), and a
    movie the C2PA library cannot parse at all (a QuickTime MOV without an ftyp box) has no
    manifest, rather than an invalid one (``reenact sign`` then refused it as signed already)."""
    import av
    import cv2
    import numpy as np

    from reenact.cli import main
    from reenact.provenance.manifest import read_manifest, sign_file
    from reenact.provenance.verify import declared_synthesised

    png = str(tmp_path / "odd.png")
    cv2.imwrite(png, np.full((48, 64, 3), 90, np.uint8))
    sign_file(png, parameters={"synthesised": 5, "synthesised_seconds": {"a": 1}})
    assert main(["verify", png]) == 0
    out = capsys.readouterr().out
    assert "manifest: present, valid" in out and "declared synthesised" not in out, out
    assert declared_synthesised({"parameters": {"synthesised": [{"strip": "s", "frames": "1-2"}, 7]}}) == [
        "'s' frames 1-2"]
    mov = str(tmp_path / "old.mov")
    c = av.open(mov, "w")
    v = c.add_stream("libx264", rate=25)
    v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
    for i in range(5):
        for p in v.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), format="rgb24")):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    c.close()
    data = open(mov, "rb").read()
    assert data[4:8] == b"ftyp"
    open(mov, "wb").write(data[int.from_bytes(data[:4], "big"):])  # (the ftyp box left out)
    m = read_manifest(mov)
    assert not m["present"] and m["errors"][0].startswith("no C2PA manifest could be read"), m


def test_what_a_file_says_is_printed_escaped(tmp_path, capsys):
    """A signed file whose declared strip name holds terminal escapes and a newline with a forged
    verdict after it: `reenact verify` prints them escaped, on the report's own lines (before
    2026-12-05 the escapes reached the terminal and the forged line read as a verdict)."""
    import cv2
    import numpy as np

    from reenact.cli import main
    from reenact.provenance.manifest import sign_file

    png = str(tmp_path / "odd.png")
    cv2.imwrite(png, np.full((48, 64, 3), 90, np.uint8))
    evil = "\x1b]0;pwned\x07\x1b[31mEVIL\n  manifest: present, valid, trusted FORGED"
    sign_file(png, parameters={"synthesised": [{"strip": evil, "frames": "1-2"}]})
    assert main(["verify", png]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b]0;pwned" in out, out
    assert not any(line.startswith("  manifest: present, valid, trusted FORGED") for line in out.splitlines()), out


def test_signing_keeps_the_file_s_permissions_and_its_links(tmp_path):
    """An image signed in place keeps its permissions (before 2026-12-05 a 0600 file came back
    0644, readable by everyone), and signing through a link signs the file it names, the link
    left a link (it was replaced by a signed copy, the file itself left unsigned)."""
    import stat

    import cv2
    import numpy as np

    from reenact.provenance.manifest import read_manifest, sign_file

    png = str(tmp_path / "private.png")
    cv2.imwrite(png, np.full((48, 64, 3), 90, np.uint8))
    os.chmod(png, 0o600)
    sign_file(png)
    assert stat.S_IMODE(os.stat(png).st_mode) == 0o600 and read_manifest(png)["present"]
    target = str(tmp_path / "frame.png")
    cv2.imwrite(target, np.full((48, 64, 3), 60, np.uint8))
    link = str(tmp_path / "link.png")
    os.symlink(target, link)
    sign_file(link)
    assert os.path.islink(link) and read_manifest(target)["present"]


def test_a_frame_rate_for_folders_leaves_a_movie_s_own(tmp_path):
    """``verify --fps`` (and Blender's Verify Strip, which gives the scene's rate) is for folders of
    frames; a movie keeps its own rate, so its seconds are right (before 2026-12-05 a 30 fps movie
    checked with --fps 25 read 1.2 s for each second)."""
    import numpy as np

    from conftest import write_movie_with_audio
    from reenact.provenance.verify import verify_path

    clip = write_movie_with_audio(str(tmp_path / "c.mp4"), [np.full((48, 64, 3), 9 * i, np.uint8) for i in range(30)],
                                  30, 1.0)
    r = verify_path(clip, fps=25, manifest=False)
    assert r["fps"] == 30.0 and r["duration"] == 1.0, r


def test_verify_window_out_of_range_is_one_line(tmp_path, capsys):
    """``verify --window`` takes 0.2 to 10 seconds (before 2026-12-05 1e-320 gave an
    OverflowError traceback, and 60 held every frame of a minute in memory)."""
    from reenact.cli import main

    for bad in ("0", "1e-320", "60", "nan"):
        capsys.readouterr()
        assert main(["verify", str(tmp_path / "x.mp4"), "--window", bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "give 0.2 to 10 seconds" in err[0], err


def test_a_cut_of_two_renders_names_the_other_job(tmp_path, footage, capsys):
    """A cut holding two renders' frames (two job ids): the report names the seconds marked by
    another job than the file's, and a signed manifest lists them apart (before 2026-12-05 they
    were declared the file's job, and the text report never showed the difference)."""
    from reenact.cli import main
    from reenact.provenance.manifest import read_manifest

    a, b = wm.make_payload(JOB), wm.make_payload(0x1111111111)
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, a if i < 60 else b) if i < 30 or i >= 60 else f
              for i, f in enumerate(list(footage) + list(footage[:30]))]
    cut = write_h264(str(tmp_path / "two.mp4"), frames, crf=23)
    assert main(["verify", cut]) == 0
    out = capsys.readouterr().out
    code = main(["sign", cut])
    err = capsys.readouterr().err
    if "another job's mark" in out:  # the file reads as one job's: the other's seconds are named
        assert code == 0
        assert read_manifest(cut)["actions"][-1]["parameters"].get("other_job_seconds"), out
    else:  # neither job's id can be read: refused, saying so
        assert code == 2 and "no render's job id can be read" in err, (out, err)
