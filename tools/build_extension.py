#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the installable extension zip with Blender's own packager (``blender_ext.py build``,
shipped inside the bpy module), so the manifest is validated exactly as Blender validates it.

    python tools/build_extension.py --output dist/reenact-0.1.0-linux_x64.zip
"""

import argparse
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def blender_ext_script():
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("build_extension: the bpy module is not installed (run `make env`)")
    base = list(spec.submodule_search_locations)[0]
    found = glob.glob(os.path.join(base, "*", "scripts", "addons_core", "bl_pkg", "cli", "blender_ext.py"))
    if not found:
        raise SystemExit("build_extension: blender_ext.py not found inside {}".format(base))
    return found[0]


def manifest_wheels():
    import tomllib

    with open(os.path.join(ROOT, "blender_manifest.toml"), "rb") as fh:
        manifest = tomllib.load(fh)
    return [os.path.normpath(w) for w in manifest.get("wheels", [])]


def missing_wheels():
    return [w for w in manifest_wheels() if not os.path.isfile(os.path.join(ROOT, w))]


def tracked_files():
    """The paths git tracks in the checkout (their working-tree contents go into the zip), or
    None outside a git checkout (a source archive: then the folder as it is)."""
    try:
        res = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return [p for p in res.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def stage(paths, folder):
    """``paths`` (relative to the checkout) linked, or copied, into ``folder``: what the zip is
    built from. Only tracked files and the manifest's wheels: before 2026-12-06 the packager took
    the whole checkout folder, so anything left there untracked (a 60 MB pack of another
    onnxruntime in an ignored dot-folder, a review found) went into the zip."""
    import shutil

    for rel in paths:
        src, dst = os.path.join(ROOT, rel), os.path.join(folder, rel)
        if not os.path.isfile(src):  # (deleted in the working tree, not yet committed)
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", required=True, help="zip file to write")
    args = ap.parse_args(argv)
    missing = missing_wheels()
    if missing:
        raise SystemExit("build_extension: wheels missing (run `make wheels`): " + ", ".join(missing))
    out = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".part.zip"
    if os.path.exists(tmp):
        os.remove(tmp)
    import tempfile

    files = tracked_files()
    with tempfile.TemporaryDirectory(prefix=".reenact-extension-", dir=ROOT) as staged:  # (links: one disk)
        source = ROOT
        if files is not None:
            stage(files + manifest_wheels(), staged)
            source = staged
        cmd = [sys.executable, blender_ext_script(), "build", "--source-dir", source, "--output-filepath", tmp]
        res = subprocess.run(cmd, cwd=source)
    if res.returncode != 0 or not os.path.isfile(tmp):
        if os.path.exists(tmp):
            os.remove(tmp)
        raise SystemExit("build_extension: blender_ext.py build failed (exit {})".format(res.returncode))
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
