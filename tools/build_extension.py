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


def missing_wheels():
    import tomllib

    with open(os.path.join(ROOT, "blender_manifest.toml"), "rb") as fh:
        manifest = tomllib.load(fh)
    return [w for w in manifest.get("wheels", []) if not os.path.isfile(os.path.join(ROOT, w))]


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
    cmd = [sys.executable, blender_ext_script(), "build", "--source-dir", ROOT, "--output-filepath", tmp]
    res = subprocess.run(cmd, cwd=ROOT)
    if res.returncode != 0 or not os.path.isfile(tmp):
        if os.path.exists(tmp):
            os.remove(tmp)
        raise SystemExit("build_extension: blender_ext.py build failed (exit {})".format(res.returncode))
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
