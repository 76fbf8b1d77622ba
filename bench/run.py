# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: every benchmark, each printing a table and writing JSON to bench/results/.

The tracking benchmark runs on carphone (always) and on a longer talking-head clip from
../shared/data when it is present.
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_CLIP = os.path.join(HERE, "..", "..", "shared", "data", "clips", "driving_d14.mp4")


def main():
    from bench import track

    track.main([])
    if os.path.isfile(SHARED_CLIP):
        track.main(["--clip", SHARED_CLIP])
    else:
        print("skipping the shared-clip tracking benchmark: {} not present".format(SHARED_CLIP))
    if importlib.util.find_spec("bench.render") is not None:
        from bench import render

        render.main([])
    from bench import render_path

    render_path.main([])
    from bench import reenact  # cross-actor reenactment (issue 11); skips without ../shared/data

    reenact.main([])


if __name__ == "__main__":
    sys.exit(main())
