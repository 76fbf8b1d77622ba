# SPDX-License-Identifier: GPL-3.0-or-later
"""Outputs and temporary files (docs/errors.md): the destination is checked before the work,
a disk that fills or is read-only is one line, nothing is left behind on any failure path, and
SIGTERM cleans up like Ctrl-C.

Full disks are made two ways: a real tmpfs when the tests run as root (ENOSPC), and, anywhere,
``RLIMIT_FSIZE`` on a subprocess (every write past the limit fails with EFBIG through the same
code path as ENOSPC) or a patched writer raising OSError(ENOSPC). Read-only folders are a
read-only tmpfs as root, ``chmod 555`` otherwise."""

import errno
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from reenact import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE_MODEL = os.path.join(ROOT, "models", "renderer_base.onnx")


# ----------------------------------------------------------------------------- helpers
def _mount_tmpfs(path, options):
    os.makedirs(path, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return res.returncode == 0


def _umount(path):
    subprocess.run(["umount", str(path)], capture_output=True)


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder nobody can write in: a read-only tmpfs as root (root ignores permissions),
    mode 555 otherwise."""
    d = tmp_path / "ro"
    if os.geteuid() == 0:
        if not _mount_tmpfs(d, "ro,size=1m"):
            pytest.skip("running as root and cannot mount a read-only tmpfs")
        yield d
        _umount(d)
    else:
        d.mkdir()
        d.chmod(0o555)
        yield d
        d.chmod(0o755)


@pytest.fixture
def full_disk(tmp_path):
    """A real tmpfs of 2 MiB with only ~64 KiB left (root only): new empty files can be made
    (the pre-check passes), any real output fails with ENOSPC."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the RLIMIT_FSIZE tests cover this path")
    d = tmp_path / "full"
    if not _mount_tmpfs(d, "size=2m"):
        pytest.skip("cannot mount a tmpfs")
    try:
        with open(d / "filler", "wb") as fh:
            fh.write(b"\0" * (2048 - 64) * 1024)
    except OSError:
        pass
    yield d
    _umount(d)


def _limit_file_size(nbytes):
    def pre():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return pre


def _reenact(*args, limit=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "reenact", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limit_file_size(limit) if limit else None)


def _one_error_line(rc, err):
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("reenact: error:")]
    assert rc == 2, err[-3000:]
    assert len(lines) == 1 and "Traceback" not in err, err[-3000:]
    return lines[0]


def _main(capsys, *args):
    rc = cli.main([str(a) for a in args])
    return rc, capsys.readouterr().err


def _leftovers(*folders):
    """Hidden or temporary files anywhere under ``folders``."""
    out = []
    for f in folders:
        for dirpath, dirnames, names in os.walk(f):
            out += [os.path.join(dirpath, n) for n in names + dirnames if ".tmp" in n or n.startswith(".reenact")]
    return out


def _never(name):
    def fail(*a, **k):
        raise AssertionError("{} ran: the destination was not checked before the work".format(name))
    return fail


@pytest.fixture(scope="module")
def track_file(tmp_path_factory, carphone):
    from reenact.tracking.tracker import track_video

    path = tmp_path_factory.mktemp("outputs") / "carphone.npz"
    track_video(carphone)[0].save(str(path))
    return path


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory, carphone):
    """carphone four times over (480 frames) and an edit of its Track: long enough to signal mid-work."""
    from reenact.tracking.tracker import track_video
    from reenact.video import VideoWriter, open_video

    d = tmp_path_factory.mktemp("long")
    clip = str(d / "long.mp4")
    with open_video(carphone) as src:
        frames = [f for _, f in src.iter_frames()]
        fps, size = src.fps, (src.width, src.height)
    with VideoWriter(clip, fps, size) as w:
        for _ in range(4):
            for f in frames:
                w.write(f)
    track = str(d / "long.npz")
    from conftest import edited

    edited(track_video(clip)[0]).save(track)  # an edit (brows raised): a render draws every frame
    return clip, track


# ----------------------------------------------------------------------------- 4: checked before the work
def test_track_refuses_bad_destinations_before_tracking(tmp_path, carphone, readonly_dir, capsys, monkeypatch):
    import reenact.tracking.tracker as tracker

    monkeypatch.setattr(tracker, "track_video", _never("tracking"))
    line = _one_error_line(*_main(capsys, "track", carphone, "--out", readonly_dir / "t.npz"))
    assert str(readonly_dir) in line and ("Read-only" in line or "Permission denied" in line)
    folder = tmp_path / "a.npz"
    folder.mkdir()
    line = _one_error_line(*_main(capsys, "track", carphone, "--out", folder))
    assert str(folder) in line and "is a folder" in line


def test_train_refuses_bad_destinations_before_training(tmp_path, carphone, track_file, readonly_dir, capsys,
                                                         monkeypatch):
    pytest.importorskip("torch")
    import reenact.training.train as training

    monkeypatch.setattr(training, "train", _never("training"))
    line = _one_error_line(*_main(capsys, "train", track_file, "--video", carphone, "--out", readonly_dir / "m.onnx"))
    assert str(readonly_dir) in line
    line = _one_error_line(*_main(capsys, "train", track_file, "--video", carphone, "--out", tmp_path / "m.onnx",
                                  "--report", tmp_path / "no such folder" / "r.json"))
    assert "no such folder" in line and "does not exist" in line
    (tmp_path / "m.ckpt.pt").mkdir()
    line = _one_error_line(*_main(capsys, "train", track_file, "--video", carphone, "--out", tmp_path / "m.onnx"))
    assert "m.ckpt.pt" in line and "folder" in line


def test_render_refuses_bad_destinations_before_rendering(tmp_path, carphone, track_file, readonly_dir, capsys,
                                                           monkeypatch):
    import reenact.render.pipeline as pipeline

    monkeypatch.setattr(pipeline, "render_clip", _never("rendering"))
    base = ("render", track_file, "--video", carphone, "--model", BASE_MODEL, "--out")
    line = _one_error_line(*_main(capsys, *base, readonly_dir / "r.mp4"))
    assert str(readonly_dir) in line
    movie_folder = tmp_path / "r.mp4"
    movie_folder.mkdir()
    line = _one_error_line(*_main(capsys, *base, movie_folder))
    assert "is a folder" in line
    theirs = tmp_path / "frames"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    line = _one_error_line(*_main(capsys, *base, theirs))
    assert "notes.txt" in line and (theirs / "notes.txt").read_text() == "mine"
    a_file = tmp_path / "frames_file"
    a_file.write_text("x")
    line = _one_error_line(*_main(capsys, *base, a_file))
    assert "not a folder" in line


def test_render_says_what_is_wrong_with_its_frames(tmp_path, carphone, track_file, capsys, monkeypatch):
    """A malformed or empty --frames says so (before 2026-12-05 every such range was reported as
    "outside the clip's N frames")."""
    import reenact.render.pipeline as pipeline

    monkeypatch.setattr(pipeline, "render_clip", _never("rendering"))
    base = ("render", track_file, "--video", carphone, "--model", BASE_MODEL, "--out", tmp_path / "r.mp4")
    for frames, said in (("10", "--frames 10: expected A:B"), ("30:10", "--frames 30:10: empty range"),
                         ("0:100000", "--frames 0:100000: outside the clip's")):
        line = _one_error_line(*_main(capsys, *base, "--frames", frames))
        assert said in line, line


def test_an_output_never_replaces_its_own_footage(tmp_path, carphone, track_file, capsys):
    """``--out`` naming the footage itself, another name of it (a hard link), or for frames the
    plate's own folder is refused before any work and the footage is untouched. Before
    2026-12-05 a render written over its movie replaced the shot (its Track then said "the pixels
    differ"), and a plate numbered as the render's frames (frame_001001.png ...) rendered into its
    own folder was written over."""
    import hashlib

    def digest(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    shots = tmp_path / "shots"
    shots.mkdir()
    shot = shots / "shot.mp4"
    shutil.copyfile(carphone, shot)
    os.link(shot, shots / "alias.mp4")
    before = digest(shots)
    for out in (shot, shots / "alias.mp4"):
        line = _one_error_line(*_main(capsys, "render", track_file, "--video", shot, "--model", BASE_MODEL,
                                      "--out", out, "--frames", "0:3"))
        assert line == "reenact: error: {}: is the footage it is made from; --out wants another file".format(out)
    line = _one_error_line(*_main(capsys, "assemble", tmp_path, "--video", shot, "--out", shot))
    assert line.endswith("{}: is the footage it is made from; --out wants another file".format(shot)), line
    assert digest(shots) == before and sorted(os.listdir(tmp_path)) == ["shots"]
    import cv2

    from reenact.video import open_video

    plate = tmp_path / "plate"
    plate.mkdir()
    with open_video(carphone) as src:
        for i in range(6):
            cv2.imwrite(str(plate / "frame_{:06d}.png".format(1001 + i)), cv2.cvtColor(src.read(i), cv2.COLOR_RGB2BGR))
    before = digest(plate)
    line = _one_error_line(*_main(capsys, "render", track_file, "--video", plate, "--model", BASE_MODEL,
                                  "--out", plate))
    assert line == "reenact: error: {}: holds the footage it is made from; --out wants another folder".format(plate)
    line = _one_error_line(*_main(capsys, "render", track_file, "--video", plate, "--model", BASE_MODEL,
                                  "--out", tmp_path / "out", "--cache", plate))
    assert line == "reenact: error: {}: holds the footage it is made from; --cache wants another folder".format(plate)
    assert digest(plate) == before


def test_transfer_and_demo_refuse_before_work(tmp_path, track_file, readonly_dir, capsys, monkeypatch):
    import reenact.face.transfer as transfer

    monkeypatch.setattr(transfer, "transfer", _never("transfer"))
    line = _one_error_line(*_main(capsys, "transfer", "--source", track_file, "--target", track_file,
                                  "--mode", "mouth", "--out", readonly_dir / "t.npz"))
    assert str(readonly_dir) in line
    a_file = tmp_path / "out"  # the demo's output folder is a file: refused before Blender starts
    a_file.write_text("x")
    line = _one_error_line(*_main(capsys, "demo", "--out", a_file))
    assert "not a folder" in line and a_file.read_text() == "x"


def test_restyle_refuses_before_work(tmp_path, carphone, readonly_dir, capsys, monkeypatch):
    pytest.importorskip("torch")
    import reenact.restyle.train as rtrain

    monkeypatch.setattr(rtrain, "train", _never("restyle training"))
    ref = tmp_path / "reference.mp4"  # another file (the shot itself as its own reference is refused too)
    shutil.copyfile(carphone, ref)
    line = _one_error_line(*_main(capsys, "restyle", "train", "--x", carphone, "--y", ref,
                                  "--out", readonly_dir / "s.onnx"))
    assert str(readonly_dir) in line
    line = _one_error_line(*_main(capsys, "restyle", "train", "--x", carphone, "--y", ref,
                                  "--out", tmp_path / "s.onnx", "--preview", tmp_path / "gone" / "p.png"))
    assert "does not exist" in line


# ----------------------------------------------------------------------------- 4/5: full disks
def test_full_disk_on_track_save_is_one_line(tmp_path, carphone, full_disk, capsys):
    """A real ENOSPC (tmpfs, root): one line naming the Track, nothing half-written."""
    before = set(os.listdir(full_disk))
    line = _one_error_line(*_main(capsys, "track", carphone, "--out", full_disk / "t.npz"))
    assert "No space left on device" in line and str(full_disk / "t.npz") in line
    assert set(os.listdir(full_disk)) == before


def test_failing_write_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    """Every writer's failure path (fsutil): the temporary file is removed and the error names
    the destination."""
    from reenact.fsutil import write_atomic
    from reenact.render.cache import CropCache
    from reenact.render.reference import ReferencePool

    def enospc(fh):
        fh.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as e:
        write_atomic(tmp_path / "x.bin", enospc)
    assert e.value.filename == str(tmp_path / "x.bin") and os.listdir(tmp_path) == []

    def half_then_full(file, *a, **k):  # np.save / np.savez on a disk that fills mid-file
        if isinstance(file, (str, os.PathLike)):
            file = open(file if str(file).endswith(".npz") or str(file).endswith(".npy") else str(file) + ".npy", "wb")
        file.write(b"half")
        file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", half_then_full)
    monkeypatch.setattr(np, "savez", half_then_full)
    cache = tmp_path / "cache"
    with pytest.raises(OSError):
        CropCache(str(cache)).put("ab" * 32, np.zeros((8, 8, 3), np.uint8))
    pool = ReferencePool([0], np.zeros((1, 4)), np.zeros((1, 8, 8, 3), np.uint8), np.zeros((1, 5, 8, 8), np.uint8),
                         np.zeros((1, 468, 2)))
    with pytest.raises(OSError):
        pool.save(str(cache / "pool_x.npz"))
    assert _leftovers(cache) == [] and glob.glob(str(cache / "*" / "*")) == []


def test_full_disk_in_training_leaves_no_checkpoint_temporaries(tmp_path, carphone, track_file):
    """Training onto a disk that fills at the checkpoint (the 58 MB file; RLIMIT_FSIZE): one line
    naming it, no ``.ckpt.pt.tmp`` / ``.pt.tmp`` / ``.onnx.tmp`` left."""
    pytest.importorskip("torch")
    out = tmp_path / "m.onnx"
    res = _reenact("train", track_file, "--video", carphone, "--out", out, "--steps", "2", "--size", "32",
                   "--batch", "2", "--no-fp16", limit=5 << 20)
    line = _one_error_line(res.returncode, res.stderr)
    assert "m.ckpt.pt" in line and "File too large" in line
    assert _leftovers(tmp_path) == [] and not out.exists()


def test_full_disk_in_render_leaves_no_pool_or_movie_temporaries(tmp_path, carphone, track_file):
    out = tmp_path / "r.mp4"
    res = _reenact("render", track_file, "--video", carphone, "--model", BASE_MODEL, "--out", out, "--frames", "0:8",
                   limit=1 << 20)
    line = _one_error_line(res.returncode, res.stderr)
    assert "File too large" in line
    assert _leftovers(tmp_path) == [] and not out.exists()


# ----------------------------------------------------------------------------- 5: leftovers and SIGTERM
def test_frame_folder_ignores_and_clears_a_killed_writes_leftover(tmp_path):
    from reenact.fsutil import check_output_folder
    from reenact.video.encode import STALE_TMP_SECONDS, FrameFolder

    d = tmp_path / "frames"
    d.mkdir()
    (d / "frame_000000.png").write_bytes(b"png")
    stale = d / ".frame_000001.png.k2j4x9ab.tmp"  # what a SIGKILL mid-write leaves
    stale.write_bytes(b"half")
    old = time.time() - 2 * STALE_TMP_SECONDS
    os.utime(stale, (old, old))
    fresh = d / ".frame_000002.png.a8c0d1e2.tmp"  # a parallel render's frame in flight
    fresh.write_bytes(b"half")
    check_output_folder(d, FrameFolder.owns)
    ff = FrameFolder(str(d), 3)
    ff.write(np.zeros((4, 4, 3), np.uint8), 1)
    assert not stale.exists() and fresh.exists()
    assert sorted(os.listdir(d)) == sorted([".frame_000002.png.a8c0d1e2.tmp", "frame_000000.png", "frame_000001.png"])


def _signal_when(proc, ready, timeout=120):
    t0 = time.time()
    while not ready():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() - t0 < timeout, "the job never got going"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # (a hang after the signal: the child must not outlive the test)
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("still running 120 s after SIGTERM: " + err[-3000:]) from None
    return proc.returncode, err


def test_sigterm_cancels_track_cleanly(tmp_path, long_clip):
    clip, _ = long_clip
    out = tmp_path / "t.npz"
    proc = subprocess.Popen([sys.executable, "-m", "reenact", "track", clip, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = []

    def started():  # the first progress line: tracking is under way
        first.append(proc.stderr.readline())
        return first[-1].startswith("track [")

    rc, err = _signal_when(proc, started)
    assert rc == 143, "".join(first) + err
    assert "reenact: cancelled" in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_sigterm_of_a_movie_render_leaves_nothing(tmp_path, long_clip):
    clip, track = long_clip
    out = tmp_path / "movie.mp4"
    cache = tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-m", "reenact", "render", track, "--video", clip, "--model", BASE_MODEL,
                             "--out", str(out),
                             "--cache", str(cache)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rc, err = _signal_when(proc, lambda: glob.glob(str(tmp_path / ".movie.mp4.reenact-*.tmp"))
                           and glob.glob(str(cache / "??" / "*.npy")))
    assert rc == 143, err[-3000:]
    assert "reenact: cancelled" in err and "Traceback" not in err
    assert not out.exists() and _leftovers(tmp_path) == []
    assert glob.glob(str(cache / "??" / "*.npy"))  # the crops rendered so far stay: a rerun resumes


# ----------------------------------------------------------------------------- 6: permissions
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_files_follow_the_umask(tmp_path, carphone_track, umask, mode):
    from reenact.render.cache import CropCache
    from reenact.render.reference import ReferencePool
    from reenact.video.encode import FrameFolder, write_png

    old = os.umask(umask)
    try:
        carphone_track.subset(0, 4).save(str(tmp_path / "t.npz"))
        write_png(str(tmp_path / "p.png"), np.zeros((4, 4, 3), np.uint8))
        CropCache(str(tmp_path / "c")).put("cd" * 32, np.zeros((4, 4, 3), np.uint8))
        ReferencePool([0], np.zeros((1, 4)), np.zeros((1, 8, 8, 3), np.uint8), np.zeros((1, 5, 8, 8), np.uint8),
                      np.zeros((1, 468, 2))).save(str(tmp_path / "pool.npz"))
        FrameFolder(str(tmp_path / "f"), 1).write(np.zeros((4, 4, 3), np.uint8), 0)
    finally:
        os.umask(old)
    files = [tmp_path / "t.npz", tmp_path / "p.png", tmp_path / "pool.npz", tmp_path / "f" / "frame_000000.png"]
    files += [p for p in (tmp_path / "c").rglob("*.npy")]
    assert len(files) == 5
    assert {oct(os.stat(p).st_mode & 0o777) for p in files} == {oct(mode)}


def test_torch_files_follow_the_umask(tmp_path):
    pytest.importorskip("torch")
    from reenact.training.files import save_torch

    old = os.umask(0o022)
    try:
        save_torch({"a": 1}, str(tmp_path / "w.pt"))
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "w.pt").st_mode & 0o777 == 0o644


def test_cli_summary_is_json(tmp_path, carphone):
    """The successful path is unchanged: exit 0 and the JSON summary."""
    res = _reenact("track", carphone, "--out", tmp_path / "t.npz")
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1])["frames"] == 120
    assert _leftovers(tmp_path) == []


def test_cancellation_while_the_temporary_file_is_created_leaves_nothing(tmp_path, monkeypatch):
    """A Ctrl-C or SIGTERM (raised in Python as the system call returns) that lands while
    ``atomic_path`` creates its temporary file: the file is removed and the destination left as
    it was (``tempfile.mkstemp`` gave the name only after creating it: seen once as a crop-cache
    ``.npy.XXXX.tmp`` left by a SIGTERM'd render)."""
    from reenact import fsutil

    dest = tmp_path / "crop.npy"
    dest.write_bytes(b"old")
    real_close = os.close
    calls = []

    def interrupted_close(fd):
        real_close(fd)
        if not calls:
            calls.append(fd)
            raise KeyboardInterrupt

    monkeypatch.setattr(fsutil.os, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt):
        fsutil.write_bytes(dest, b"new")
    monkeypatch.setattr(fsutil.os, "close", real_close)
    assert calls and dest.read_bytes() == b"old" and _leftovers(tmp_path) == []
    fsutil.write_bytes(dest, b"new")  # and the next write goes through
    assert dest.read_bytes() == b"new" and _leftovers(tmp_path) == []


def test_cancellation_while_a_movie_writer_starts_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C / SIGTERM as the movie writer starts encoding (PyAV creates the temporary file
    then): the caller never gets a writer to abort, so the constructor removes it."""
    import av

    from reenact.video import VideoWriter

    real_open = av.open

    def interrupted_open(*a, **k):
        c = real_open(*a, **k)

        class Container:  # the real one, interrupted once it has started (and made the file)
            def __getattr__(self, name):
                return getattr(c, name)

            def start_encoding(self):
                c.start_encoding()
                assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
                raise KeyboardInterrupt

        return Container()

    monkeypatch.setattr(av, "open", interrupted_open)
    with pytest.raises(KeyboardInterrupt):
        VideoWriter(tmp_path / "out.mp4", 25, (64, 48))
    monkeypatch.setattr(av, "open", real_open)
    assert os.listdir(tmp_path) == []
