# SPDX-License-Identifier: GPL-3.0-or-later
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))


@pytest.fixture(scope="session")
def carphone():
    from reenact.sample import sample_clip

    return sample_clip()


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
