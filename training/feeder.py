# SPDX-License-Identifier: GPL-3.0-or-later
"""Training batches in order, assembled in the loop or by worker processes beside it.

A batch is a pure function of its step (:meth:`reenact.training.data.Dataset.train_batch` seeds
its draws with the step), so batches made by ``workers`` processes are the very batches the loop
would have made itself: a run gives the same weights with any number of workers. Workers help
when the network is fast (a GPU, or 256 px crops whose references and augmentation cost more
than the step) and the loop would otherwise wait for numpy; they are forked (Linux), so they
share the decoded clips without copying them, and batches come back through shared memory
(torch's DataLoader).

:func:`prepare_clips` decodes and rasterises several clips in parallel the same way.
"""

import os
import sys

import numpy as np


#: worker processes are forked (their work is closures over the loaded clips): Linux only. Windows
#: has no fork, and on macOS a fork after torch's and OpenCV's threads ran can hang; there the
#: loop makes its batches itself (the same batches: see above), ``workers`` is ignored
FORK = sys.platform.startswith("linux")


class StepBatches:
    """``batches(start)`` yields (step, [input, target, face, mouth, hole]) for steps ``start``,
    ``start + 1``, ... below ``stop``, as float32 numpy arrays (``workers`` = 0) or CPU tensors."""

    def __init__(self, ds, n_main, seed, stop, rds=None, n_rehearse=0, workers=0):
        self.ds, self.rds = ds, rds
        self.n_main, self.n_rehearse = int(n_main), int(n_rehearse)
        self.seed, self.stop, self.workers = int(seed), int(stop), max(0, int(workers or 0)) if FORK else 0

    def batch(self, step):
        parts = self.ds.train_batch(step, self.n_main, self.seed)
        if self.n_rehearse:
            parts = [np.concatenate(z) for z in zip(parts, self.rds.train_batch(step, self.n_rehearse, self.seed + 7919))]
        return parts

    def batches(self, start, pin=False):
        if self.workers <= 0 or start >= self.stop:
            for step in range(int(start), self.stop):
                yield step, self.batch(step)
            return
        import multiprocessing

        import torch

        feeder = self

        class _Steps(torch.utils.data.Dataset):
            def __len__(self):
                return feeder.stop - int(start)

            def __getitem__(self, k):
                return feeder.batch(int(start) + int(k))

        loader = torch.utils.data.DataLoader(_Steps(), batch_size=None, shuffle=False, num_workers=self.workers,
                                             prefetch_factor=2, pin_memory=bool(pin),
                                             multiprocessing_context=multiprocessing.get_context("fork"))
        # (no cv2.setNumThreads in the workers: in a process forked after OpenCV's threads ran it hangs)
        for k, parts in enumerate(loader):
            yield int(start) + k, list(parts)


def _prepare(job):
    from .data import prepare_clip

    tr, video, label, size, accept = job
    return prepare_clip(tr, video, size, accept_footage=accept, track_label=label)


def prepare_clips(pairs, size, accept_footage=False, workers=0, cache_dir=None):
    """:func:`reenact.training.data.prepare_clip` of every (Track, video, label) in ``pairs``;
    with ``workers`` > 1 (and no ``cache_dir``) several clips at once in forked processes."""
    from .data import prepare_clip

    n = min(int(workers or 0), len(pairs), os.cpu_count() or 1) if FORK else 0
    if n <= 1 or cache_dir is not None:
        return [prepare_clip(tr, video, size, cache_dir=cache_dir, accept_footage=accept_footage, track_label=label)
                for tr, video, label in pairs]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(n) as pool:
        return pool.map(_prepare, [(tr, video, label, size, accept_footage) for tr, video, label in pairs], chunksize=1)
