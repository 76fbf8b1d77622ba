# SPDX-License-Identifier: GPL-3.0-or-later
"""The sound of delivered movies (an audit of 2026-12-06): the shot's default audio track stays
the default one (a dub marked default came out with the first track default in .mp4/.mov and
none in .mkv), ``reenact probe`` says where each track starts against the pictures (only its
``--json`` did), and ``restyle apply`` into a frame folder says that the sound was left out and
how to put it back (it said nothing, and its summary had no "audio"). Fast: generated shots of
a few frames (docs/video-io.md, docs/restyle.md)."""

import json
import os
import re
import shlex

import numpy as np
import pytest

from conftest import ROOT, restyle_cli


def dubbed_shot(path, n=12, rate=25, late=0.0, codec="aac"):
    """``n`` frames of 64x48 H.264 and two mono audio tracks, English (not default) then a
    French dub marked default, each starting ``late`` seconds after the pictures. Written by
    PyAV itself (not by the writer under test)."""
    import av

    c = av.open(str(path), "w")
    v = c.add_stream("libx264", rate=rate)
    v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
    auds = []
    for lang, disp in (("eng", av.stream.Disposition(0)), ("fra", av.stream.Disposition.default)):
        a = c.add_stream(codec, rate=48000, layout="mono")
        a.metadata["language"] = lang
        a.disposition = disp
        auds.append(a)
    fmt = "s16" if codec.startswith("pcm") else "fltp"
    for k in range(n):
        f = np.zeros((48, 64, 3), np.uint8)
        f[:] = (40 + 10 * k, 120, 200)
        f[10:30, 5 + k:25 + k] = (230, 60, 40)
        vf = av.VideoFrame.from_ndarray(f, format="rgb24")
        vf.pts = k
        for p in v.encode(vf):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    per, start = 1024, int(round(late * 48000))
    for j, a in enumerate(auds):
        for k in range(0, int(48000 * n / rate), per):
            x = np.full((1, per), 0.1 * (j + 1), np.float32)
            af = av.AudioFrame.from_ndarray((x * 32767).astype(np.int16) if fmt == "s16" else x, format=fmt,
                                            layout="mono")
            af.sample_rate, af.pts = 48000, start + k
            for p in a.encode(af):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    c.close()
    return str(path)


def audio_tracks(path):
    """(language, default) of each audio stream of the movie ``path``."""
    import av

    with av.open(str(path)) as c:
        return [(s.metadata.get("language"), bool(s.disposition & av.stream.Disposition.default))
                for s in c.streams.audio]


def test_the_shots_default_audio_track_stays_the_default(tmp_path):
    """The writer every movie goes through (render, restyle apply, assemble, conform) copies each
    track's disposition: the French dub the shot plays by default is the output's default in
    .mp4, .mov and .mkv, the English track not (before: English default in .mp4/.mov, none in
    .mkv)."""
    from reenact.video import open_video
    from reenact.video.encode import VideoWriter

    shot = dubbed_shot(tmp_path / "shot.mp4")
    assert audio_tracks(shot) == [("eng", False), ("fra", True)]
    for ext in (".mp4", ".mov", ".mkv"):
        out = tmp_path / ("out" + ext)
        with open_video(shot) as v, VideoWriter(str(out), v.rate, v.size, audio_from=v) as w:
            for _, f in v.iter_frames():
                w.write(f)
        assert w.audio_streams == 2
        assert audio_tracks(out) == [("eng", False), ("fra", True)], ext


def test_probe_says_where_each_track_starts_and_which_is_default(tmp_path, capsys):
    """``reenact probe``'s text names each track's start against the first frame (as its
    ``--json`` gives it) and, of several, the default one."""
    from reenact.cli import main

    shot = dubbed_shot(tmp_path / "late.mov", late=0.4, codec="pcm_s16le")
    assert main(["probe", shot, "--json"]) == 0
    a = json.loads(capsys.readouterr().out)["results"][0]["audio"]
    assert [(t["language"], t["start"], t["offset"], t["default"]) for t in a] == [
        ("eng", 0.4, 0.4, False), ("fra", 0.4, 0.4, True)], a
    assert main(["probe", shot]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("audio:")]
    assert line == ["  audio: pcm_s16le 1 ch 48000 Hz (eng), starts 0.400 s after the picture; "
                    "pcm_s16le 1 ch 48000 Hz (fra), starts 0.400 s after the picture, default"], line


@pytest.fixture(scope="module")
def look(tmp_path_factory):
    """A restyle model trained for one step on generated clips (as tests/test_restyle.py's)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from reenact.restyle.config import RestyleConfig
    from reenact.restyle.train import train

    rng = np.random.default_rng(1)
    base = rng.random((32, 42, 3)).astype(np.float32)
    x = np.stack([np.round(base[:, t:t + 32] * 255).astype(np.uint8) for t in range(10)])
    out = str(tmp_path_factory.mktemp("look") / "look.onnx")
    train([x], [x[:, :, :, ::-1].copy()], out, RestyleConfig(size=32, base=8, batch=2, warmup=1), steps=1,
          resume=False, log=lambda *a: None)
    return out


def test_restyle_into_frames_says_the_sound_was_left_out(tmp_path, look):
    """``restyle apply`` into a frame folder: ``"audio": false`` and one line on stderr naming
    the ``reenact assemble`` command that makes the movie with the shot's sound (which does, the
    dub still default); into a movie: ``"audio": true``, the dub default; a farm chunk's folder
    (assembled with the sound afterwards) says nothing of it."""
    import subprocess
    import sys

    from reenact.restyle.apply import apply_clip

    shot = dubbed_shot(tmp_path / "shot.mp4")
    frames = tmp_path / "frames"
    r = restyle_cli("apply", look, "--video", shot, "--out", frames, "--frames", "2:6")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["audio"] is False
    said = [ln for ln in r.stderr.splitlines() if "sound" in ln]
    assert len(said) == 1 and said[0].startswith("reenact: warning: {}: frames hold no sound".format(frames)), r.stderr
    cmd = shlex.split(re.search(r"`(reenact assemble [^`]*)`", said[0]).group(1).replace("MOVIE.mp4", str(
        tmp_path / "back.mp4")))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(ROOT)] + [os.environ.get("PYTHONPATH", "")]))
    a = subprocess.run([sys.executable, "-m"] + cmd, capture_output=True, text=True, timeout=120, env=env)
    assert a.returncode == 0 and json.loads(a.stdout)["audio"] is True, a.stderr
    assert audio_tracks(tmp_path / "back.mp4") == [("eng", False), ("fra", True)]

    r = restyle_cli("apply", look, "--video", shot, "--out", tmp_path / "look.mp4", "--frames", "2:6")
    assert r.returncode == 0 and json.loads(r.stdout)["audio"] is True and "sound" not in r.stderr, r.stderr
    assert audio_tracks(tmp_path / "look.mp4") == [("eng", False), ("fra", True)]

    s = apply_clip(look, shot, str(tmp_path / "farm"), frames=(2, 6), chunk=(2, 4))
    assert s["audio"] is False and not [w for w in s["output_warnings"] if "sound" in w], s["output_warnings"]


def test_a_render_says_what_its_output_does_not_carry_of_the_sound(tmp_path):
    """`reenact render` into a frame folder from a shot with sound says the sound was left out and
    how to put it back; a dub rendered to a movie says it keeps the shot's sound, not the dubbing
    actor's footage's (before the evening of 2026-12-06 neither was said: a compositor delivered
    the dubbed picture with the original language under it). Nothing is said of a silent shot."""
    import argparse

    from reenact.cli import _sound_notes

    shot, silent = dubbed_shot(tmp_path / "shot.mp4"), str(tmp_path / "silent.mp4")
    import av

    with av.open(silent, "w") as c:  # (pictures only)
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        for k in range(4):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 + k, np.uint8), format="rgb24")
            f.pts = k
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
    folder = str(tmp_path / "frames")
    args = argparse.Namespace(video=shot, out=folder)
    (note,) = _sound_notes(args, "", None, None)
    assert note.startswith(folder + ": frames hold no sound") and "reenact assemble {} --video {}".format(
        shlex.quote(folder), shlex.quote(shot)) in note, note
    assert _sound_notes(args, "", (10, 20), None) == []  # (a farm chunk: the assembly carries the sound)
    assert _sound_notes(argparse.Namespace(video=silent, out=folder), "", None, None) == []
    movie = str(tmp_path / "dub.mp4")
    (note,) = _sound_notes(argparse.Namespace(video=silent, out=movie), ".mp4", None, ("drv.npz", shot))
    assert note == "{}: keeps the sound of the shot (silent.mp4), not that of the dubbing actor's footage " \
                   "(shot.mp4), whose mouth it follows: lay the dub's sound under it in the edit".format(movie), note
    assert _sound_notes(argparse.Namespace(video=shot, out=movie), ".mp4", None, ("drv.npz", silent)) == []

