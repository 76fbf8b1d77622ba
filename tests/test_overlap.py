# SPDX-License-Identifier: GPL-3.0-or-later
"""The render path's background lanes and draws (render/overlap.py): order, bound, errors, abort."""

import threading
import time

import pytest

from reenact.render.overlap import Draws, Lane


def test_jobs_run_in_order_in_one_other_thread():
    lane = Lane(depth=3)
    seen, threads = [], set()

    def job(k):
        time.sleep(0.002 * (k % 3))  # uneven durations must not reorder anything
        seen.append(k)
        threads.add(threading.get_ident())
        return k * k

    futs = [lane.submit(job, k) for k in range(20)]
    lane.finish()
    assert seen == list(range(20)) and [f.result() for f in futs] == [k * k for k in range(20)]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_bounded_submit_waits_for_the_oldest():
    lane = Lane(depth=2)
    gate = threading.Event()
    started = []

    def job(k):
        started.append(k)
        gate.wait(5)

    for k in range(2):  # one running, one waiting: depth 2 reached, nothing blocks yet
        lane.submit(job, k)
    t = threading.Thread(target=lane.submit, args=(job, 2))
    t.start()
    time.sleep(0.1)
    assert t.is_alive()  # the third waits until the first is done
    gate.set()
    t.join(5)
    assert not t.is_alive()
    lane.finish()
    assert started == [0, 1, 2]


def test_first_error_is_raised_and_later_jobs_do_not_run():
    lane = Lane(depth=8)
    ran = []

    def job(k):
        if k == 2:
            raise OSError("disk full")
        ran.append(k)

    for k in range(6):
        lane.submit(job, k)
    with pytest.raises(OSError, match="disk full"):
        lane.finish()
    assert ran == [0, 1]
    # a lane whose job failed raises at the next submit too
    lane2 = Lane(depth=1)
    lane2.submit(job, 2)
    time.sleep(0.1)
    with pytest.raises(OSError):
        lane2.submit(job, 3)
    lane2.abort()


def test_abort_drops_what_has_not_started_and_waits_for_the_running_job():
    lane = Lane(depth=8)
    gate = threading.Event()
    done = []

    def job(k):
        if k == 0:
            gate.wait(5)
            time.sleep(0.05)
        done.append(k)

    for k in range(5):
        lane.submit(job, k)
    threading.Timer(0.05, gate.set).start()
    lane.abort()
    assert done == [0]  # the running job finished before abort returned; the rest never ran
    time.sleep(0.05)
    assert done == [0]


def test_draws_run_two_at_once_and_land_in_order():
    """Draws: jobs of uneven length run on two threads at once; :meth:`land` gives them back in
    the order submitted, only the done head without ``force``, all with it; no more than
    ``ahead`` are left waiting."""
    d = Draws(workers=2, ahead=3)
    both = threading.Barrier(2, timeout=5)  # two jobs must be running at the same time
    got = []

    def job(k):
        if k < 2:
            both.wait()
        time.sleep(0.003 * ((k * 7) % 4))
        return k * k

    for k in range(10):
        d.submit(["slot", k], job, k)
        for slot, res in d.land():
            got.append((slot[1], res))
        assert len(d._jobs) <= 3
    got += [(slot[1], res) for slot, res in d.land(force=True)]
    d.close()
    assert got == [(k, k * k) for k in range(10)]


def test_draws_error_reaches_the_caller_and_close_drops_the_rest():
    d = Draws(workers=1, ahead=8)
    gate, ran = threading.Event(), []

    def job(k):
        if k == 0:
            gate.wait(5)
            raise ValueError("frame 0 could not be decoded")
        ran.append(k)
        return k

    for k in range(5):
        d.submit([k], job, k)
    gate.set()
    with pytest.raises(ValueError, match="could not be decoded"):
        list(d.land(force=True))
    d.close()
    assert ran == []  # the jobs after the failed one did not run


def test_blas_threads_set_and_restored():
    """blas_threads(1) runs numpy's OpenBLAS on one thread and gives back the count it had (the
    render path sets it for its loop: tiny matrices, two cores)."""
    from reenact.render.overlap import _openblas, blas_threads

    fns = _openblas()
    if fns is None:
        pytest.skip("numpy does not use OpenBLAS here")
    before = fns[1]()
    restore = blas_threads(1)
    assert fns[1]() == 1
    inner = blas_threads(1)  # another render at once: the count comes back when both are done
    restore()
    assert fns[1]() == 1
    inner()
    inner()  # twice: no effect
    assert fns[1]() == before
