# SPDX-License-Identifier: GPL-3.0-or-later
"""Plates of more than 8 bits (video/bitdepth.py): an OpenEXR or 16-bit PNG image sequence is
read as the 8-bit picture Blender's Standard view shows, and a render of it is written back at
the plate's own depth with only the change applied: pixels the render did not touch are the
plate's bit for bit (highlights above 1.0, grain below one level), changed pixels show the
render's picture exactly. Before 2026-12-05 OpenEXR plates were refused and a 16-bit plate's
render came back as 8-bit PNGs."""

import os

import numpy as np
import pytest

from conftest import edited

N = 24


def _exr(path, rgb_linear, compression="PIZ"):
    import cv2

    from reenact.video import bitdepth as plates

    plates.enable_exr()
    flags = [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_HALF, cv2.IMWRITE_EXR_COMPRESSION,
             getattr(cv2, "IMWRITE_EXR_COMPRESSION_" + compression)]
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb_linear.astype(np.float32), cv2.COLOR_RGB2BGR), flags)


@pytest.fixture(scope="module")
def plates_of(carphone, tmp_path_factory):
    """carphone's first N frames as an OpenEXR plate (scene-linear half floats, a highlight at
    3.0 in a corner, numbered from 1001 like a VFX plate) and as a 16-bit PNG plate (with grain
    below one 8-bit level)."""
    import cv2

    from reenact.video import bitdepth as plates, open_video

    base = tmp_path_factory.mktemp("plates")
    exr, png = base / "exr", base / "png16"
    exr.mkdir()
    png.mkdir()
    rng = np.random.default_rng(5)
    with open_video(carphone) as src:
        for i in range(N):
            f = src.read(i)
            lin = plates.srgb_decode(f / 255.0)
            lin[:8, :12] = 3.0  # a blown highlight, above what the picture shows
            _exr(exr / "plate.{:04d}.exr".format(1001 + i), lin)
            deep = np.clip(f.astype(np.int32) * 257 + rng.integers(-100, 101, f.shape), 0, 65535).astype(np.uint16)
            assert cv2.imwrite(str(png / "plate.{:04d}.png".format(1001 + i)), cv2.cvtColor(deep, cv2.COLOR_RGB2BGR))
    return {"exr": str(exr), "png16": str(png), "clip": carphone}


def test_an_exr_plate_reads_as_blenders_standard_view_shows_it(plates_of):
    from reenact.video import open_video

    with open_video(plates_of["exr"]) as p, open_video(plates_of["clip"]) as c:
        assert p.depth == "float" and len(p) == N and p.size == c.size and p.first_number == 1001
        for i in (0, 13):
            got, want = p.read(i).astype(int), c.read(i).astype(int)
            assert np.abs(got - want)[8:].max() <= 1  # half floats hold an 8-bit sRGB level
            assert (got[:8, :12] == 255).all()  # the highlight clipped for the picture
            assert p.read_native(i)[:8, :12].min() == pytest.approx(3.0)
    with open_video(plates_of["png16"]) as p:
        assert p.depth == "16" and p.read_native(0).dtype == np.uint16
    from reenact.video.probe import format_probe, probe

    r = probe(plates_of["exr"])
    assert r["depth"] == "float" and r["first_number"] == 1001 and "OpenEXR, scene-linear" in format_probe(r)


@pytest.mark.parametrize("kind", ["exr", "png16"])
def test_a_render_of_a_plate_keeps_the_plate_where_nothing_changed(plates_of, kind, tmp_path):
    from reenact.render.pipeline import render_clip
    from reenact.tracking.tracker import track_video
    from reenact.video import bitdepth as plates, open_video
    from reenact.video.pngs import exr_options

    plate = plates_of[kind]
    track = track_video(plate)[0]
    shown = {}
    out = tmp_path / "frames"
    s = render_clip(edited(track), plate, out=str(out), frames=(4, 12), region="face", prefer_gpu=False,
                    on_frame=lambda i, f: shown.__setitem__(i, f.copy()))
    ext = ".exr" if kind == "exr" else ".png"
    assert sorted(os.listdir(out)) == ["frame_{:06d}{}".format(i, ext) for i in range(N)]
    assert s["rendered"] + s["warped"] + s["cached"] > 0
    changed_rows = 0
    with open_video(plate) as p, open_video(str(out)) as o:
        assert o.depth == p.depth
        for i in range(N):
            a, b = p.read_native(i), o.read_native(i)
            assert b.dtype == a.dtype and b.shape == a.shape
            same = (plates.display8(b) == plates.display8(a)).all(axis=2)
            assert np.array_equal(b[same], a[same]), i  # untouched: the plate's own values
            assert np.array_equal(o.read(i), shown[i]), i  # the render's picture, mark and all
            if not (4 <= i < 12):
                assert same.all(), i  # frames outside the range are the plate's
            changed_rows += int(not same.all())
    assert changed_rows >= 6
    if kind == "exr":
        assert exr_options(os.path.join(out, "frame_000005.exr")) == exr_options(
            os.path.join(plate, "plate.1006.exr"))  # half, PIZ, as the plate
        assert b[:8, :12].min() == pytest.approx(3.0)  # the highlight kept
        assert any("no C2PA manifest" in w for w in s["warnings"]), s["warnings"]
    else:
        assert s["manifest"] and s["manifest"]["files"] == changed_rows  # 16-bit PNGs are signed


def test_a_plates_folder_of_other_frames_is_refused_in_one_line(plates_of, tmp_path):
    from reenact.video import VideoError, open_video
    from reenact.video.pngs import FrameFolder

    out = tmp_path / "frames"
    out.mkdir()
    (out / "frame_000000.png").write_bytes(b"")
    with open_video(plates_of["exr"]) as p:
        with pytest.raises(VideoError) as err:
            FrameFolder(str(out), N, plate=p)
    assert str(err.value).count("\n") == 0 and "PNG frames of another render" in str(err.value)
    assert str(out) in str(err.value)


def test_a_farm_folder_of_exr_frames_assembles_into_a_movie(plates_of, tmp_path):
    import shutil

    from reenact.render.assemble import assemble_movie
    from reenact.video import open_video

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, name in enumerate(sorted(os.listdir(plates_of["exr"]))):  # an untouched render: the plate
        shutil.copyfile(os.path.join(plates_of["exr"], name), folder / "frame_{:06d}.exr".format(i))
    s = assemble_movie(str(folder), plates_of["exr"], str(tmp_path / "out.mkv"), lossless=True)
    assert s["frames"] == N
    with open_video(str(tmp_path / "out.mkv")) as m, open_video(plates_of["exr"]) as p:
        assert np.abs(m.read(7).astype(int) - p.read(7).astype(int)).max() <= 1


@pytest.mark.blender
@pytest.mark.parametrize("version", ["5.0", "4.5"])
def test_blender_shows_an_exr_plates_render_and_preview_as_the_plate(plates_of, tmp_path, version, request):
    import json
    import shutil
    import subprocess
    import sys

    import cv2

    from conftest import ROOT
    from reenact.video import open_video

    py, env = (sys.executable, dict(os.environ)) if version == "5.0" else request.getfixturevalue("blender45")
    result = tmp_path / "render"
    result.mkdir()
    for i, name in enumerate(sorted(os.listdir(plates_of["exr"]))):
        shutil.copyfile(os.path.join(plates_of["exr"], name), result / "frame_{:06d}.exr".format(i))
    png = str(tmp_path / "preview.png")
    with open_video(plates_of["exr"]) as p:  # scene frame 11 is clip frame 10
        cv2.imwrite(png, cv2.cvtColor(p.read(10), cv2.COLOR_RGB2BGR))
    res = subprocess.run([py, os.path.join(ROOT, "tests", "blender_plate_check.py"), plates_of["exr"], str(result),
                          png, str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=str(tmp_path), env=env)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")]
    assert res.returncode == 0 and lines, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(lines[-1][7:])
    assert "{}.{}".format(*r["version"][:2]) == version
    assert r["strip_depth"] == "float" and r["strip_frames"] == N, r
    assert r["result_files"] == "frame_000000.exr" and r["result_space"] == r["plate_space"], r
    assert r["plate_mean"] > 20
    assert r["result_vs_plate"] < 0.5, r
    assert r["preview_vs_plate"] < 1.5 and r["preview_space"] != r["plate_space"], r
    assert r["preview_in_plate_space_vs_plate"] > 10, r  # the check can fail
