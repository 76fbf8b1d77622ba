# SPDX-License-Identifier: GPL-3.0-or-later
"""Movie temporaries left by a writer killed outright (kill -9, an out-of-memory kill) are
removed by the next writer of the same output (a review of disk failures, 2026-12-06)."""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np

_LIVE = textwrap.dedent("""
    import sys
    import numpy as np
    from reenact.video.encode import VideoWriter

    w = VideoWriter(sys.argv[1], 25, (32, 32))
    w.write(np.zeros((32, 32, 3), np.uint8))
    print(w.temp_path, flush=True)
    sys.stdin.readline()  # (alive, its movie unfinished, until told)
    w.abort()
""")


def _age(path, seconds=120):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_a_killed_writers_temporary_is_removed_by_the_next_and_a_live_ones_kept(tmp_path, capfd):
    """Before 2026-12-06 `.big.mp4.reenact-f08a3072.tmp` (left by kill -9) stayed for good: running
    the command again left it. Now the next writer of big.mp4 removes it with one line; a younger
    one, and one a live writer holds however long unwritten, are left."""
    from reenact.video.encode import VideoWriter

    out = tmp_path / "big.mp4"
    stale = tmp_path / ".big.mp4.reenact-f08a3072.tmp"
    signing = tmp_path / ".big.mp4.reenact-0badcafe.mp4"  # (a signature's, killed)
    young = tmp_path / ".big.mp4.reenact-12345678.tmp"
    other = tmp_path / ".other.mp4.reenact-f08a3072.tmp"  # (another output's)
    live = subprocess.Popen([sys.executable, "-c", _LIVE, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        held = live.stdout.readline().strip()
        assert held and os.path.exists(held)
        for p in (stale, signing, young, other):
            p.write_bytes(b"\0" * 1000)
        for p in (stale, signing, other):
            _age(p)
        _age(held)  # (a live writer's, unwritten for two minutes: a render paused, a slow frame)
        capfd.readouterr()
        with VideoWriter(str(out), 25, (32, 32)) as w:
            w.write(np.zeros((32, 32, 3), np.uint8))
        err = capfd.readouterr().err
        assert os.path.exists(held)
    finally:
        live.communicate("\n", timeout=60)
    assert not stale.exists() and not signing.exists() and young.exists() and other.exists()
    assert err.count("reenact: removed") == 2, err
    assert ("reenact: removed .big.mp4.reenact-f08a3072.tmp: a temporary file left by a run killed while writing "
            "big.mp4") in err
    assert out.exists()
