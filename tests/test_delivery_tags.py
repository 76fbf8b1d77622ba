# SPDX-License-Identifier: GPL-3.0-or-later
"""What a delivered movie keeps of the shot besides its pictures: the start timecode an editor
conforms the shot back by, a pixel aspect other than square (anamorphic DV, HDV, DVD), every
audio track in its place against the pictures, and ProRes for editing systems; verify naming
synthesised frames by timecode; and the tracker's one-line warnings for footage of non-square
pixels and interlaced footage (docs/video-io.md, *Timecode and pixel aspect*, *Interlaced
footage*)."""

import os
from fractions import Fraction

import numpy as np
import pytest

from reenact.video import VideoError, open_video, open_writer
from reenact.video.encode import VideoWriter, source_tags


def tagged_movie(path, frames, rate=25, timecode=None, sar=None, tracks=(), late=0, options=None):
    """``frames`` as a camera or an editor's export stores them: H.264 (encoder ``options``,
    default CRF 12) with a start timecode (a QuickTime/MP4 timecode track), a pixel aspect and
    mono PCM audio tracks named ``tracks``, a block of samples a frame long per frame, block k of
    track j holding the value 10 k + j (which block plays when is readable); ``late``: the
    pictures start this many frames after the sound. Written by PyAV itself (not by the writer
    under test)."""
    import av

    c = av.open(str(path), "w")
    v = c.add_stream("libx264", rate=rate)
    v.width, v.height, v.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
    v.options = dict(options or {"crf": "12"})
    if timecode:
        v.metadata["timecode"] = timecode
    if sar:
        v.codec_context.sample_aspect_ratio = sar
    auds = []
    for name in tracks:
        a = c.add_stream("pcm_s16le", rate=48000, layout="mono")
        a.metadata["title"], a.metadata["language"] = name, "eng"
        auds.append(a)
    per = int(round(48000 / float(rate)))
    for k in range(len(frames) + late):
        if k >= late:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frames[k - late]), format="rgb24")
            vf.pts = k
            for p in v.encode(vf):
                c.mux(p)
        for j, a in enumerate(auds):
            af = av.AudioFrame.from_ndarray(np.full((1, per), 10 * k + j, np.int16), format="s16", layout="mono")
            af.sample_rate, af.pts = 48000, k * per
            for p in a.encode(af):
                c.mux(p)
    for s in [v] + auds:
        for p in s.encode():
            c.mux(p)
    c.close()
    return str(path)


def audio_tracks(path):
    """Each audio stream of ``path``: (its name, its samples)."""
    import av

    with av.open(str(path)) as c:
        names = [s.metadata.get("title") or s.metadata.get("name") for s in c.streams.audio]
    out = []
    for k, name in enumerate(names):
        with av.open(str(path)) as c:
            out.append((name, np.concatenate([f.to_ndarray() for f in c.decode(audio=k)], 1)))
    return out


def _frames(n=6, w=64, h=48):
    rng = np.random.default_rng(3)
    return [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def test_timecode_and_pixel_aspect_are_read_and_kept_by_the_writer(tmp_path):
    shot = tagged_movie(tmp_path / "cam.mov", _frames(), timecode="10:00:00:00", sar=Fraction(4, 3))
    plain = tagged_movie(tmp_path / "plain.mp4", _frames())
    with open_video(shot) as s, open_video(plain) as p:
        assert (s.timecode, s.sample_aspect) == ("10:00:00:00", Fraction(4, 3))
        assert (p.timecode, p.sample_aspect) == (None, None)
        tags = source_tags(s)
        assert source_tags(p)["timecode"] is None and source_tags(p)["sample_aspect"] is None
    for ext, lossless in ((".mp4", False), (".mov", False), (".mkv", False), (".mp4", True), (".mov", True)):
        out = tmp_path / ("out" + ("_ll" if lossless else "") + ext)
        with VideoWriter(out, 25, (64, 48), lossless=lossless, **tags) as w:
            for f in _frames():
                w.write(f)
        with open_video(out) as back:
            assert (back.timecode, back.sample_aspect, len(back)) == ("10:00:00:00", Fraction(4, 3), 6), out
    # a drop-frame timecode (";") at 29.97 stays as written
    with VideoWriter(tmp_path / "df.mov", Fraction(30000, 1001), (64, 48), timecode="00:59:59;28") as w:
        w.write(_frames(1)[0])
    with open_video(tmp_path / "df.mov") as back:
        assert back.timecode == "00:59:59;28" and back.sample_aspect is None
    # a frame folder has no such tags: the writer for a folder takes and drops them
    with open_writer(tmp_path / "pngs", 25, (64, 48), **tags) as w:
        w.write(_frames(1)[0])
    with open_video(str(tmp_path / "pngs")) as seq:
        assert (seq.timecode, seq.sample_aspect) == (None, None)
    # a timecode that is not one: one line naming the file, nothing left in the folder
    before = set(os.listdir(tmp_path))
    with pytest.raises(VideoError) as exc:
        VideoWriter(tmp_path / "bad.mp4", 25, (64, 48), timecode="1:00")
    assert str(exc.value).startswith(str(tmp_path / "bad.mp4")) and "HH:MM:SS:FF" in str(exc.value)
    assert set(os.listdir(tmp_path)) == before


def test_render_and_its_assembled_chunks_keep_the_shots_timecode_and_pixel_aspect(tmp_path, carphone, carphone_edit):
    """``reenact render`` into a movie, and a farm's frame folder made into one by ``assemble``,
    start at the shot's timecode, so the editor's conform finds the dubbed shot's frames, and
    keep its pixel aspect, so players show it as they show the shot."""
    from reenact.render.assemble import assemble_movie
    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames()]
        rate = v.rate
    with open_video(carphone) as v:  # the sample clip's own pixel aspect (QCIF)
        assert v.sample_aspect == Fraction(128, 117) and v.timecode is None
    src = tagged_movie(tmp_path / "shot.mov", frames, rate=rate, timecode="01:00:10:05", sar=Fraction(128, 117))
    kw = dict(frames=(60, 63), region="mouth", prefer_gpu=False, cache_dir=str(tmp_path / "cache"),
              accept_footage=True, sign=False)
    render_clip(carphone_edit, src, BASE_MODEL, out=str(tmp_path / "dub.mov"), **kw)
    render_clip(carphone_edit, src, BASE_MODEL, out=str(tmp_path / "frames"), **kw)
    assemble_movie(str(tmp_path / "frames"), src, str(tmp_path / "assembled.mp4"), sign=False)
    for out in ("dub.mov", "assembled.mp4"):
        with open_video(str(tmp_path / out)) as v:
            assert (v.timecode, v.sample_aspect, len(v), v.rate) == ("01:00:10:05", Fraction(128, 117), len(frames),
                                                                      rate), out


def test_a_signed_movie_of_a_shot_with_a_timecode_has_a_valid_manifest(tmp_path, carphone, carphone_edit):
    """A render into a movie keeps the shot's start timecode (a timecode track) and signs it: the
    manifest is valid (before 2026-12-06 the movie's hash was taken as it was written, before the
    muxer added the timecode track's sample, and every such movie's manifest read INVALID, though
    the summary said signed; a review of plates)."""
    from reenact.provenance.verify import verify_path
    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames()]
        rate = v.rate
    src = tagged_movie(tmp_path / "shot.mov", frames, rate=rate, timecode="01:00:10:05")
    out = tmp_path / "dub.mov"
    s = render_clip(carphone_edit, src, BASE_MODEL, out=str(out), frames=(20, 23), region="mouth", prefer_gpu=False,
                    cache_dir=str(tmp_path / "cache"), accept_footage=True)
    assert s["manifest"]["prehashed"] is False and "timecode" in s["manifest"]["fallback"], s["manifest"]
    m = verify_path(str(out))["manifest"]
    assert m["present"] and m["valid"], m
    with open_video(str(out)) as v:
        assert v.timecode == "01:00:10:05"


def test_tracker_names_non_square_pixels_and_the_square_copy_to_track(tmp_path, carphone, capsys):
    """Anamorphic footage is tracked as stored (as Blender's sequencer shows it, and where the render
    draws), so its face is fitted squeezed (docs/video-io.md measures how much): ``reenact track``
    says so in one warning line naming the file, its pixel aspect and the command that makes a
    square-pixel copy, and still writes the Track. The sample clip is such footage (QCIF, its
    pixels tagged 128:117); footage of square pixels gets no such line."""
    import cv2

    from reenact.cli import main
    from reenact.video.probe import non_square_warning

    assert "pixel aspect 128:117, shown 193x144 from 176x144 stored" in non_square_warning(carphone)
    with open_video(carphone) as v:
        frames = [cv2.resize(a, (132, 144), interpolation=cv2.INTER_AREA) for _, a in v.iter_frames(0, 12)]
    shot = tagged_movie(tmp_path / "hdv.mp4", frames, sar=Fraction(4, 3))
    square = tagged_movie(tmp_path / "square.mp4", frames)
    assert non_square_warning(square) is None and non_square_warning(str(tmp_path)) is None
    out = str(tmp_path / "hdv.npz")
    assert main(["track", shot, "--out", out]) == 0 and os.path.exists(out)
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("reenact: warning:")]
    assert err == ["reenact: warning: " + shot + ": non-square pixels (pixel aspect 4:3, shown 176x144 from 132x144 "
                   "stored): tracked as stored, so the face is fitted 25% squeezed and its head turns and mouth "
                   "shapes read somewhat off; for a transfer between actors track a square-pixel copy, e.g. ffmpeg "
                   "-i " + shot + " -vf scale=176:144,setsar=1 -c:v libx264 -crf 16 -c:a copy hdv_square.mp4"], err
    assert main(["track", square, "--out", str(tmp_path / "square.npz")]) == 0
    assert "non-square" not in capsys.readouterr().err


def test_every_audio_track_is_copied_with_its_name(tmp_path, carphone, carphone_edit):
    """A camera's boom and lav on two tracks: a signed render (and the writer into each
    container) copies both, sample for sample, with their names; before, only the first was."""
    from reenact.provenance.verify import verify_path
    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames()]
        rate = v.rate
    src = tagged_movie(tmp_path / "cam.mov", frames, rate=rate, tracks=("boom", "lav"))
    want = audio_tracks(src)
    assert [n for n, _ in want] == ["boom", "lav"] and not np.array_equal(want[0][1], want[1][1])
    for ext in (".mov", ".mp4", ".mkv"):
        size = (frames[0].shape[1], frames[0].shape[0])
        with VideoWriter(tmp_path / ("copy" + ext), rate, size, audio_from=src) as w:
            for f in frames[:30]:
                w.write(f)
        assert w.audio_streams == 2
        got = audio_tracks(tmp_path / ("copy" + ext))
        assert [n for n, _ in got] == ["boom", "lav"], ext
        assert all(np.array_equal(g[1], x[1]) for g, x in zip(got, want)), ext
    out = tmp_path / "dub.mov"
    s = render_clip(carphone_edit, src, BASE_MODEL, out=str(out), frames=(60, 63), region="mouth",
                    prefer_gpu=False, cache_dir=str(tmp_path / "cache"), accept_footage=True)
    assert s["audio"]
    got = audio_tracks(out)
    assert [n for n, _ in got] == ["boom", "lav"] and all(np.array_equal(g[1], x[1]) for g, x in zip(got, want))
    v = verify_path(str(out))  # the manifest, hashed as the movie was written, holds with both tracks
    assert v["manifest"]["present"] and v["manifest"]["valid"], v["manifest"]


def test_timecode_arithmetic_drop_frame_and_not():
    """Hand-checked SMPTE values: drop-frame skips ;00 and ;01 at every minute but each tenth."""
    from reenact.video.timecode import frames_timecode, timecode_after, timecode_frames

    df = Fraction(30000, 1001)
    assert timecode_frames("01:00:00;00", df) == 107892 and timecode_frames("01:00:00:00", 24) == 86400
    assert timecode_after("00:00:59;29", 1, df) == "00:01:00;02"  # a minute that drops
    assert timecode_after("00:09:59;29", 1, df) == "00:10:00;00"  # each tenth does not
    assert timecode_after("00:00:00;00", 1800, df) == "00:01:00;02"
    assert timecode_after("00:00:59:29", 1, df) == "00:01:00:00"  # non-drop at 29.97 counts on
    assert timecode_after("23:59:59:24", 1, 25) == "00:00:00:00"  # wraps at 24 hours
    assert timecode_after("00:00:00;00", 4, Fraction(60000, 1001)) == "00:00:00;04"
    assert timecode_after("00:00:59;59", 1, Fraction(60000, 1001)) == "00:01:00;04"
    assert all(timecode_frames(frames_timecode(n, df, drop=True), df) == n for n in range(0, 2 * 107892, 13))
    with pytest.raises(ValueError):
        timecode_frames("1:00", 25)


def test_verify_names_the_synthesised_frames_by_the_movies_timecode(tmp_path, carphone):
    """``reenact verify`` of a marked movie with a start timecode (drop-frame, 29.97): the
    synthesised frames also as timecodes, in the JSON and in the report's line."""
    from reenact.provenance.verify import format_report, verify_path
    from reenact.provenance.watermark import make_payload, mark_frame
    from reenact.video.timecode import timecode_after

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames()]
        rate = v.rate
    assert rate == Fraction(30000, 1001)
    out = tmp_path / "marked.mov"
    payload = make_payload(0x1234567)
    with VideoWriter(out, rate, (frames[0].shape[1], frames[0].shape[0]), timecode="00:00:59;00") as w:
        for i, f in enumerate(frames):  # seconds 1-3 synthesised, the rest copied
            w.write(mark_frame(f, i, payload=payload) if 30 <= i < 90 else f)
    r = verify_path(str(out), manifest=False)
    fr = r["watermark"]["frame_ranges"]
    assert r["timecode"] == "00:00:59;00" and len(fr) == 1 and abs(fr[0][0] - 30) <= 1 and abs(fr[0][1] - 90) <= 1
    assert r["timecode_ranges"] == [[timecode_after("00:00:59;00", fr[0][0], rate),
                                     timecode_after("00:00:59;00", fr[0][1] - 1, rate)]]
    if fr == [[31, 90]]:  # as this code finds them: through the minute that drops ;00 and ;01
        assert r["timecode_ranges"] == [["00:01:00;03", "00:01:02;01"]]
    assert "; TC {}-{})".format(*r["timecode_ranges"][0]) in format_report(r)


def test_prores_delivery_for_editing_systems(tmp_path, carphone, carphone_track, carphone_edit, capsys):
    """``render --codec prores``: a .mov in ProRes 422 HQ (10-bit 4:2:2, every frame a key
    frame), the render's seconds marked and the file signed; asked into an .mp4 or with
    --lossless it is refused in one line before any work, nothing written."""
    import av

    from reenact.cli import main
    from reenact.provenance.verify import verify_path
    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    track = str(tmp_path / "shot.npz")
    carphone_track.save(track)
    for extra, out, words in (([], "dub.mp4", "ProRes goes into a .mov file, not .mp4"),
                              ([], "frames", "ProRes goes into a .mov file, not a folder"),
                              (["--lossless"], "dub.mov", "choose lossless or ProRes, not both")):
        assert main(["render", track, "--video", carphone, "--model", "base", "--codec", "prores",
                     "--out", str(tmp_path / out)] + extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == "reenact: error: {}: {}".format(tmp_path / out, words + (
            " (ProRes 422 HQ is visually lossless)" if extra else "")), err
    assert sorted(os.listdir(tmp_path)) == ["shot.npz"]
    out = tmp_path / "dub.mov"
    s = render_clip(carphone_edit, carphone, BASE_MODEL, out=str(out), frames=(30, 60), region="face",
                    prefer_gpu=False, cache_dir=str(tmp_path / "cache"), codec="prores")
    with av.open(str(out)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.name, cc.profile, cc.pix_fmt) == ("prores", "HQ", "yuv422p10le")
        assert all(p.is_keyframe for p in c.demux(video=0) if p.size)
    with open_video(str(out)) as v, open_video(carphone) as shot:
        assert len(v) == len(shot) and v.rate == shot.rate
        # a frame copied through: the footage's within ProRes's 10-bit 4:2:2 (mean levels)
        assert np.abs(v.read(90).astype(int) - shot.read(90).astype(int)).mean() < 2.5
    r = verify_path(str(out))
    assert r["watermark"]["detected"] and r["watermark"]["payload"]["job_id"] == s["job_id"]
    assert r["manifest"]["present"] and r["manifest"]["valid"], r["manifest"]


def test_the_sound_keeps_its_place_against_the_pictures(tmp_path, carphone, carphone_edit):
    """A source whose pictures start 0.5 s after its sound (an export with an offset; a transport
    stream's start): the movie written from it (a render here) shows frame i with the sound the
    source plays with frame i. Before, the sound kept its own times and came out 15 frames early."""
    import av

    from reenact.render.pipeline import render_clip
    from reenact.render.renderer import BASE_MODEL

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames()]
    rate, per, late = 30, 1600, 15  # 30 fps, a 1600-sample audio block per frame, pictures 15 frames late
    src = tagged_movie(tmp_path / "late.mov", frames, rate=rate, tracks=("sound",), late=late)
    out = tmp_path / "dub.mov"
    render_clip(carphone_edit, src, BASE_MODEL, out=str(out), frames=(60, 63), region="mouth", prefer_gpu=False,
                cache_dir=str(tmp_path / "cache"), accept_footage=True, sign=False)
    with av.open(str(out)) as c:
        starts = {s.type: float(s.start_time * s.time_base) for s in c.streams if s.start_time is not None}
    with av.open(str(out)) as c:
        sound = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], 1)[0]
    assert abs(starts["video"]) < 1e-6 and abs(starts["audio"]) < 1e-6, starts
    # with frame i (from 0 s) plays block i + 15, as in the source
    got = [int(sound[i * per + per // 2]) for i in (0, 1, 60, 100)]
    assert got == [10 * (i + late) for i in (0, 1, 60, 100)], got


def test_tracker_names_interlaced_footage_and_the_copy_to_work_from(tmp_path, carphone, capsys):
    """A shot coded interlaced (its fields woven into each frame, as 1080i/576i broadcast and DV
    are): ``open_video`` says so and ``reenact track`` warns in one line naming a deinterlaced
    copy; progressive footage gets no such line."""
    from reenact.cli import main
    from reenact.video.probe import interlace_warning

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames(0, 24)]
    woven = []
    for k in range(12):  # the top field from frame 2k, the bottom one from 2k + 1
        f = frames[2 * k].copy()
        f[1::2] = frames[2 * k + 1][1::2]
        woven.append(f)
    path = tagged_movie(tmp_path / "576i.mp4", woven, rate=15,
                        options={"x264-params": "interlaced=1:tff=1", "crf": "12"})
    with open_video(path) as v, open_video(carphone) as p:
        assert v.interlaced and not p.interlaced
    assert interlace_warning(carphone) is None
    assert main(["track", path, "--out", str(tmp_path / "t.npz")]) == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if "interlaced" in ln]
    assert len(err) == 1 and err[0].startswith("reenact: warning: " + path + ": interlaced (two fields woven"), err
    assert "bwdif" in err[0] and "576i_progressive.mp4" in err[0], err


def test_probe_says_what_reenact_reads_before_any_work(tmp_path, carphone, capsys):
    """``reenact probe``: a camera-like shot's size, pixel aspect, timecode and every audio
    track, the sample clip's pixel-aspect warning, and a missing file named in one line while
    the others are still reported (exit 2)."""
    import json

    from reenact.cli import main

    with open_video(carphone) as v:
        frames = [a for _, a in v.iter_frames(0, 30)]
    cam = tagged_movie(tmp_path / "cam.mov", frames, rate=25, timecode="10:00:00:00", tracks=("boom", "lav"))
    missing = str(tmp_path / "gone.mp4")
    assert main(["probe", cam, carphone, missing, "--json"]) == 2
    out = capsys.readouterr()
    r = json.loads(out.out)
    assert r["errors"] == [missing + ": file does not exist"] and out.err.strip().splitlines() == [
        "reenact: error: " + missing + ": file does not exist"]
    a, b = r["results"]
    assert (a["kind"], a["size"], a["frames"], a["rate"], a["timecode"], a["pixel_aspect"]) == (
        "movie", [176, 144], 30, "25", "10:00:00:00", "1:1")
    assert [(t["name"], t["channels"], t["language"]) for t in a["audio"]] == [("boom", 1, "eng"), ("lav", 1, "eng")]
    assert a["warnings"] == [] and not a["bars"] and not a["interlaced"]
    assert b["pixel_aspect"] == "128:117" and len(b["warnings"]) == 1 and "non-square pixels" in b["warnings"][0]
    assert main(["probe", cam]) == 0
    text = capsys.readouterr().out
    assert "timecode 10:00:00:00" in text and "'boom' (eng)" in text and "'lav' (eng)" in text
