# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/watermark_payload.py reads a marked clip's payload with each decoder it compares and
leaves the watermark module's decoder as it was (no footage needed)."""

import numpy as np


def test_read_back_counts_windows_and_restores_the_decoder():
    from bench import watermark_payload as wp
    from reenact.provenance import watermark as wm

    rng = np.random.default_rng(1)
    base = np.clip(120 + rng.normal(0, 18, (270, 480, 1)), 0, 255).astype(np.uint8).repeat(3, 2)
    job = wp.job_ids(1)[0]
    frames = [wm.mark_frame(np.roll(base, i, 1), i, wm.DEFAULT_KEY, job) for i in range(20)]
    before = wm.LIST_PATHS, wm.LIST_PATHS_FALLBACK
    for paths in (1, 16, "16+64"):
        good, n, right, low = wp.read_back(frames, 10.0, job, paths)
        assert (good, n, right) == (2, 2, True) and low > 4.89
        assert (wm.LIST_PATHS, wm.LIST_PATHS_FALLBACK) == before
    good, n, right, _low = wp.read_back(frames, 10.0, job ^ 1, 16)   # another job id: not its payload
    assert (good, right) == (0, False)
    assert wp.job_ids(3) == wp.job_ids(3) and len(set(wp.job_ids(12))) == 12
