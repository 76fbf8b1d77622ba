# SPDX-License-Identifier: GPL-3.0-or-later
"""An OpenEXR plate's header (video/exrhead.py): a render of the plate writes each frame with
its plate frame's attributes (timecode, chromaticities, owner, a compositor's own keys) beside
the encoder's layout, and the files still read in OpenCV and in Blender. Before 2026-12-05 the
rendered frames carried OpenCV's bare header: an ACES plate's chromaticities and every frame's
timecode were lost."""

import os
import shutil
import struct

import numpy as np
import pytest

from conftest import edited, run_py

N = 12


def _attrs(path):
    from reenact.video.exrhead import read_header

    with open(path, "rb") as fh:
        return {n.decode(): (t.decode(), v) for n, t, v in read_header(fh.read())[1]}


def _timecode(i):
    """A SMPTE timecode attribute (time and flags words, user data) for 01:00:00:i."""
    bcd = ((i // 10) << 4) | (i % 10)
    return struct.pack("<II", (0x01 << 24) | bcd, 0)


AP0 = struct.pack("<8f", 0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767)  # ACES2065-1


@pytest.fixture(scope="module")
def aces_plate(carphone, tmp_path_factory):
    """carphone's first N frames as an OpenEXR plate (OpenCV's half floats, PIZ) whose frames
    carry a timecode each, ACES chromaticities, an owner and a compositor's own key."""
    from test_bitdepth import _exr

    from reenact.video import bitdepth as plates, open_video
    from reenact.video.exrhead import with_attributes

    folder = tmp_path_factory.mktemp("aces") / "plate"
    folder.mkdir()
    with open_video(carphone) as src:
        for i in range(N):
            path = folder / "plate.{:04d}.exr".format(1001 + i)
            _exr(path, plates.srgb_decode(src.read(i) / 255.0))
            data = with_attributes(path.read_bytes(), [
                (b"timeCode", b"timecode", _timecode(i)), (b"chromaticities", b"chromaticities", AP0),
                (b"owner", b"string", b"Studio"), (b"nuke/node_hash", b"string", b"9f1c")])
            path.write_bytes(data)
    return str(folder)


@pytest.fixture(scope="module")
def aces_render(aces_plate, tmp_path_factory):
    """Frames 3-8 of the plate rendered (the face changed) into a frame folder: (folder, summary)."""
    from reenact.render.pipeline import render_clip
    from reenact.tracking.tracker import track_video

    track = track_video(aces_plate)[0]
    out = tmp_path_factory.mktemp("aces_render") / "frames"
    shown = {}
    s = render_clip(edited(track), aces_plate, out=str(out), frames=(3, 9), region="face", prefer_gpu=False,
                    on_frame=lambda i, f: shown.__setitem__(i, f.copy()))
    s["shown"] = shown
    return str(out), s


def test_a_render_of_an_exr_plate_keeps_each_frames_header(aces_plate, aces_render):
    from reenact.video import open_video

    out, s = aces_render
    assert s["rendered"] + s["warped"] + s["cached"] > 0
    changed = 0
    with open_video(aces_plate) as p, open_video(out) as o:  # OpenCV reads every frame back
        for i in range(N):
            got = _attrs(os.path.join(out, "frame_{:06d}.exr".format(1001 + i)))
            want = _attrs(os.path.join(aces_plate, "plate.{:04d}.exr".format(1001 + i)))
            assert got == want, i  # this frame's timecode, the chromaticities, owner and keys; PIZ, half
            assert got["timeCode"] == ("timecode", _timecode(i))
            a, b = p.read_native(i), o.read_native(i)
            changed += int(not np.array_equal(a, b))
            same = (o.read(i) == p.read(i)).all(axis=2)
            assert np.array_equal(b[same], a[same]), i  # untouched: the plate's own AP0 values
            # the render's picture, within one level (its AP0 values stored as half floats, then
            # shown through the primaries' matrix, whose gains reach 2.5: 1.3 % of the values of
            # a changed frame read one level off)
            assert np.abs(o.read(i).astype(int) - s["shown"][i].astype(int)).max() <= 1, i
    assert changed >= 3  # (the frames were written anew, not copied)


def test_an_aces_plate_is_read_in_the_colours_blender_shows(aces_plate, tmp_path):
    """Blender reads a plate whose chromaticities are AP0 as ACES2065-1 and shows it in Rec.709;
    Reenact reads its picture the same way (the tracker, the renderer and Preview Frame see what
    the sequencer shows; before 2026-12-05 the AP0 values were taken as Rec.709)."""
    from reenact.video import bitdepth, open_video

    path = os.path.join(aces_plate, "plate.1005.exr")
    (blender,) = _blender_pixels([path], tmp_path)
    with open_video(aces_plate) as p:
        mine, native = p.read(4).astype(int), p.read_native(4)[..., :3]
    shown = bitdepth.display8(blender).astype(int)  # Blender's Standard view of it
    assert np.abs(mine - shown).max() <= 1
    assert np.abs(bitdepth.display8(native).astype(int) - shown).mean() > 5  # (as Rec.709: other colours)


def _blender_pixels(paths, tmp_path):
    """The RGB float pixels Blender 5.0 reads from each OpenEXR file of ``paths`` (its own
    OpenEXR library; it converts a file's chromaticities to its scene-linear space)."""
    code = ("import bpy, numpy as np, sys\n"
            "for k, p in enumerate(sys.argv[1:]):\n"
            "    im = bpy.data.images.load(p)\n"
            "    a = np.empty(im.size[0] * im.size[1] * 4, np.float32)\n"
            "    im.pixels.foreach_get(a)\n"
            "    np.save({!r}.format(k), a.reshape(im.size[1], im.size[0], 4)[::-1, :, :3])\n").format(
        str(tmp_path / "px{}.npy"))
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return [np.load(str(tmp_path / "px{}.npy".format(k))) for k in range(len(paths))]


def test_blender_shows_a_rendered_aces_plate_frame_as_the_plate(aces_plate, aces_render, tmp_path):
    """Blender reads a file's chromaticities (an ACES plate's AP0 primaries become its
    scene-linear Rec.709): a rendered frame with the plate's header reads as the plate where the
    render changed nothing; with OpenCV's bare header (before 2026-12-05) it read in other
    colours. The spliced attributes and moved chunk offsets read in Blender's OpenEXR library."""
    from reenact.video.exrhead import read_header
    from reenact.video.sequence import _imread_native

    plate = os.path.join(aces_plate, "plate.1001.exr")  # frame 0: outside the render's range
    rendered = os.path.join(aces_render[0], "frame_001001.exr")
    data = open(rendered, "rb").read()
    _f, attrs, end = read_header(data)
    bare = tmp_path / "bare.exr"  # the same file without the plate's attributes
    keep = [(n, t, v) for n, t, v in attrs if n in (b"channels", b"compression", b"dataWindow", b"displayWindow",
                                                       b"lineOrder", b"pixelAspectRatio", b"screenWindowCenter",
                                                       b"screenWindowWidth")]
    head = b"".join(n + b"\0" + t + b"\0" + struct.pack("<i", len(v)) + v for n, t, v in keep)
    n_chunks = -(-144 // 32)  # PIZ: 32 lines a chunk
    table = struct.unpack("<{}Q".format(n_chunks), data[end:end + 8 * n_chunks])
    shift = len(head) + 9 - end
    bare.write_bytes(data[:8] + head + b"\0" + struct.pack("<{}Q".format(n_chunks), *(o + shift for o in table))
                     + data[end + 8 * n_chunks:])
    assert _attrs(str(bare)).keys() == {n.decode() for n, _t, _v in keep}
    px_plate, px_rendered, px_bare = _blender_pixels([plate, rendered, str(bare)], tmp_path)
    assert np.abs(px_rendered - px_plate).max() < 1e-4
    assert np.abs(px_bare - px_plate).max() > 0.05  # (the check can fail: AP0 read as Rec.709)
    assert np.abs(_imread_native(str(bare))[..., :3] - _imread_native(rendered)[..., :3]).max() == 0


def test_the_header_is_read_as_blender_writes_it(tmp_path):
    """Blender's OpenEXR writer (its render stamp metadata) parsed by exrhead, and its
    attributes carried onto a file OpenCV encodes."""
    import cv2

    from reenact.video import bitdepth
    from reenact.video.exrhead import copy_header, read_header

    path = str(tmp_path / "stamped.exr")
    code = ("import bpy\n"
            "bpy.ops.wm.read_factory_settings(use_empty=True)\n"
            "sc = bpy.context.scene\n"
            "sc.render.resolution_x, sc.render.resolution_y, sc.render.resolution_percentage = 64, 48, 100\n"
            "sc.render.image_settings.file_format = 'OPEN_EXR'\n"
            "sc.render.image_settings.exr_codec = 'PIZ'\n"
            "sc.render.use_stamp_note, sc.render.stamp_note_text = True, 'plate note'\n"
            "sc.render.filepath = {!r}\n"
            "ed = sc.sequence_editor_create()\n"  # (a colour strip: the sequencer renders without a camera)
            "try:\n"
            "    c = ed.strips.new_effect(name='c', type='COLOR', channel=1, frame_start=1, length=9)\n"
            "except TypeError:\n"
            "    c = ed.strips.new_effect(name='c', type='COLOR', channel=1, frame_start=1, frame_end=10)\n"
            "c.color = (0.2, 0.5, 0.8)\n"
            "sc.frame_set(7)\n"
            "bpy.ops.render.render(write_still=True)\n").format(path)
    res = run_py(code)
    assert res.returncode == 0, res.stderr[-2000:]
    got = _attrs(path)
    assert got["Note"] == ("string", b"plate note") and got["Frame"] == ("string", b"007"), got
    assert got["compression"] == ("compression", b"\x04")  # PIZ
    bitdepth.enable_exr()
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    ok, buf = cv2.imencode(".exr", img[..., :3], [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_HALF])
    data = copy_header(path, buf.tobytes())
    out = tmp_path / "carried.exr"
    out.write_bytes(data)
    carried = _attrs(str(out))
    assert carried["Note"] == got["Note"] and carried["Software"] == got["Software"]
    assert carried["compression"] != got["compression"]  # the layout is the new file's own
    back = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(back, cv2.imdecode(buf, cv2.IMREAD_UNCHANGED))
    with pytest.raises(ValueError):
        read_header(data[:40])  # cut short: one line, nothing carried
    assert copy_header(str(tmp_path / "gone.exr"), buf.tobytes()) == buf.tobytes()
    shutil.rmtree(str(tmp_path), ignore_errors=True)


@pytest.mark.parametrize("edge", range(0, 24, 3))
def test_a_header_longer_than_the_first_read_is_read_whole(tmp_path, edge):
    """A plate whose header runs past the first 64 KB read (a long comments attribute), the edge
    falling anywhere in the next attribute (its name, type, size or value): read whole from the
    second read (before 2026-12-05 an edge in the size failed with struct.error, a traceback in
    every command opening the plate, and one in the name or value lost the chromaticities)."""
    from reenact.video.exrhead import MAGIC, attribute, read_file_header

    def attr(name, kind, value):
        return name + b"\0" + kind + b"\0" + struct.pack("<i", len(value)) + value

    head = MAGIC + struct.pack("<I", 2)
    chroma = struct.pack("<8f", *range(8))
    filler = 65536 - len(head) - 4 - len(b"comments\0string\0") - edge
    data = head + attr(b"comments", b"string", b"x" * filler) + attr(b"chromaticities", b"chromaticities", chroma)
    data += b"\0" + b"\0" * 64
    path = tmp_path / "long.exr"
    path.write_bytes(data)
    _flags, attrs, _end = read_file_header(str(path), scanline=False)
    assert attribute(attrs, b"chromaticities") == chroma


def test_a_plate_flagged_aces_without_chromaticities_is_read_as_blender_shows_it(carphone, tmp_path):
    """An OpenEXR plate marked ACES by its ``acesImageContainerFlag`` alone (no chromaticities):
    Blender reads it as ACES2065-1, and so does Reenact (before 2026-12-06 as Rec.709, 7 levels
    off on average: a review of plates)."""
    import struct

    from test_bitdepth import _exr

    from reenact.video import bitdepth, open_video
    from reenact.video.exrhead import with_attributes

    folder = tmp_path / "flagged"
    folder.mkdir()
    with open_video(carphone) as src:
        for i in range(2):
            path = folder / "plate.{:04d}.exr".format(1001 + i)
            _exr(path, bitdepth.srgb_decode(src.read(i) / 255.0))
            path.write_bytes(with_attributes(path.read_bytes(), [
                (b"acesImageContainerFlag", b"int", struct.pack("<i", 1))]))
    path = str(folder / "plate.1001.exr")
    (blender,) = _blender_pixels([path], tmp_path)
    with open_video(str(folder)) as p:
        mine = p.read(0).astype(int)
    assert np.abs(mine - bitdepth.display8(blender).astype(int)).max() <= 1
