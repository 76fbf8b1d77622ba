# SPDX-License-Identifier: GPL-3.0-or-later
"""A warp field's destination-only work is kept per thread for the fields onto the same row, and
let go when asked (render/destination.py)."""

import threading

import numpy as np

from reenact.render import destination as D


def _args(shift=0):
    H, W = 60, 80
    cov = np.zeros((H, W), bool)
    cov[20:40, 25 + shift:50 + shift] = True
    pts = np.array([[25, 20], [50, 20], [50, 40], [25, 40], [37, 15]], np.float64) + (shift, 0)
    return cov, pts, H, W, False, 0.3, 0.0, 0.5, None, 0.2, 0.0, 20.0


def test_the_same_destination_is_made_once_per_thread_and_let_go():
    D.forget()
    a = D.shared_destination(*_args())
    assert D.shared_destination(*_args()) is a  # the row's next source: the same arrays
    assert all(not x.flags.writeable for x in a if isinstance(x, np.ndarray))
    b = D.shared_destination(*_args(shift=3))  # another row: made afresh
    assert b is not a and not np.array_equal(b[2], a[2])  # (its mesh pixels' flat indices)
    D.forget()
    c = D.shared_destination(*_args(shift=3))
    assert c is not b  # forgotten: made again, and the same
    for x, y in zip(b, c):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y)
    other = []
    t = threading.Thread(target=lambda: other.append(D.shared_destination(*_args(shift=3))))
    t.start()
    t.join()
    assert other[0] is not c  # each thread keeps its own
    D.forget()
