# SPDX-License-Identifier: GPL-3.0-or-later
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))

# the local signing chain a test run makes, in a folder of the run's own (subprocesses and
# Blender checks inherit it): never the user's ~/.local/share/reenact/c2pa, where a chain made by
# older code (or by another run at the same time) would be reused
if "REENACT_C2PA_DIR" not in os.environ:
    import tempfile

    os.environ["REENACT_C2PA_DIR"] = os.path.join(tempfile.mkdtemp(prefix="reenact-tests-"), "c2pa")


@pytest.fixture(scope="session")
def carphone():
    from reenact.sample import sample_clip

    return sample_clip()


@pytest.fixture(scope="session")
def carphone_track(carphone):
    """carphone tracked once per test session (tests copy it with ``subset`` before editing)."""
    from reenact.tracking.tracker import track_video

    return track_video(carphone)[0]


def read_frames(path):
    """Every frame of the movie or sequence ``path`` (RGB uint8), in order."""
    from reenact.video import open_video

    src = open_video(path)
    try:
        return [src.read(i) for i in range(len(src))]
    finally:
        src.close()


def edited(track):
    """An animator's edit of ``track`` (the benchmarks' :func:`reenact.bench.reenact_measures.brows_raised`:
    brows raised on every row, ``track``'s rows kept as the footage's). A render draws every row
    of it; the performance exactly as tracked is copied through (nothing to draw)."""
    from reenact.bench.reenact_measures import brows_raised

    return brows_raised(track)


def turned(track, yaw):
    """``track``'s performance with the head turned by ``yaw`` radians on every row, ``track``'s
    rows kept as the footage's (a full reenactment's request, for region ``head``)."""
    import numpy as np
    from reenact.face import transfer as X

    req = X._copy(track)
    req.pose = np.array(req.pose)
    req.pose[:, 1] += yaw
    return req.with_footage_rows(track)


@pytest.fixture(scope="session")
def carphone_edit(carphone_track):
    """:func:`edited` carphone: brows raised on every frame."""
    return edited(carphone_track)


def restyle_cli(*args):
    """``reenact restyle ARGS`` in a subprocess on one thread (the restyle tests' command line)."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", REENACT_ORT_THREADS="1")
    return subprocess.run([sys.executable, "-m", "reenact", "restyle", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


def write_movie_with_audio(path, frames, rate, seconds, sr=48000, crf=None, audio="aac"):
    """Write RGB ``frames`` as H.264 at ``rate`` plus ``seconds`` of a 440 Hz mono tone (AAC, or
    the ``audio`` codec: "libopus")."""
    import av
    import numpy as np

    c = av.open(os.fspath(path), "w")
    v = c.add_stream("libx264", rate=rate)
    v.width, v.height, v.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
    if crf is not None:
        v.options = {"crf": str(crf)}
    a = c.add_stream(audio, rate=sr)
    a.layout = "mono"
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(f, format="rgb24")
        vf.pts = i
        for p in v.encode(vf):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(sr * seconds)) / sr)).astype(np.float32)
    for k in range(0, len(x), 1024):
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[k:k + 1024][None, :]), format="flt", layout="mono")
        af.sample_rate, af.pts = sr, k
        for p in a.encode(af):
            c.mux(p)
    for p in a.encode():
        c.mux(p)
    c.close()
    return path


def shared_clip(name):
    """A clip from ../shared/data/clips, or skip with the reason."""
    path = os.path.join(SHARED_DATA, "clips", name)
    if not os.path.isfile(path):
        pytest.skip("shared data clip {} not present (../shared/data is optional)".format(name))
    return path


def run_py(code, python=None, env=None, timeout=600):
    """Run Python code in a fresh interpreter; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [python or sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=timeout
    )


def printed(code, prefix, python=None):
    """The line starting with ``prefix`` that ``code`` prints in a fresh Python (it must run)."""
    res = run_py(code, python)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith(prefix)]
    assert lines, res.stdout[-2000:]
    return lines[0]


@pytest.fixture(scope="session")
def blender45(tmp_path_factory):
    """``(python, env)`` that run a check script in Blender 4.5 LTS (the bpy 4.5 module's venv,
    ``REENACT_PY45`` or .venv-bpy45): the checkout importable as ``reenact`` through a symlink,
    and the runtime wheels the extension ships (blender_manifest.toml) unpacked beside it, as
    the extension installs them (the 4.5 venv has only numpy). Skips when the venv or the wheels
    are missing."""
    import tomllib
    import zipfile

    py = os.environ.get("REENACT_PY45") or os.path.join(ROOT, ".venv-bpy45", "bin", "python")
    if not os.path.isfile(py):
        pytest.skip("Blender 4.5 environment not built (make env45, or set REENACT_PY45)")
    with open(os.path.join(ROOT, "blender_manifest.toml"), "rb") as fh:
        picked = [os.path.join(ROOT, w) for w in tomllib.load(fh).get("wheels", [])]
    if not picked or not all(os.path.isfile(w) for w in picked):
        pytest.skip("runtime wheels missing from wheels/ (make wheels)")
    base = tmp_path_factory.mktemp("bpy45")
    site = base / "site"
    for w in picked:
        with zipfile.ZipFile(w) as z:
            z.extractall(str(site))
    link = base / "path"
    link.mkdir()
    os.symlink(ROOT, str(link / "reenact"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(link), str(site)]))
    return py, env


def around_eyes(P, shape):
    """(H, W) bool: the pixels within an eye's width of the eye corners and lids of the (468, 2)
    mesh points ``P``: where drawing the eyes may change a frame."""
    import cv2
    import numpy as np

    near = np.zeros(shape[:2], np.uint8)
    for e in (33, 133, 263, 362, 159, 145, 386, 374):
        cv2.circle(near, tuple(int(v) for v in np.round(P[e])), int(np.hypot(*(P[33] - P[133]))), 1, -1)
    return near > 0
