# SPDX-License-Identifier: GPL-3.0-or-later
"""Pack onnxruntime-gpu small enough to travel to a lent GPU machine (``tools/cuda_path.sh``).

``python tools/ort_pack.py WHEEL OUT.tar.xz [--arch 90]``

The machine takes at most 64 MiB a call and its image has a CPU-only onnxruntime; the
onnxruntime-gpu wheel is 256 MB, 218 MB of it the CUDA kernels of six GPU generations in the
``.nv_fatbin`` section of ``libonnxruntime_providers_cuda.so``. This keeps the kernels of one
generation (``--arch``: 90, the H100 and H200) and overwrites the others with zeros in place (no
offset moves: the loader sees the same file, the other generations' entries empty), leaves out
what Python does not load (the C API library, TensorRT, the tools), and compresses: 61 MB. The
kernels it keeps are the wheel's own, byte for byte. Only for measuring on that machine: never
ship the result.
"""

import argparse
import io
import struct
import subprocess
import sys
import tarfile
import zipfile

MAGIC = 0xBA55ED50  # a fat binary container
ELF = 2  # an entry's kind: 1 PTX, 2 ELF (cubin)
LEAVE_OUT = ("capi/libonnxruntime.so", "providers_tensorrt", "onnxruntime/tools/", "onnxruntime/transformers/",
             "onnxruntime/quantization/")


def _section(path, name=".nv_fatbin"):
    for line in subprocess.check_output(["readelf", "-S", "-W", path], text=True).splitlines():
        if " " + name + " " in line:
            f = line.split("]", 1)[1].split()
            return int(f[3], 16), int(f[4], 16)
    raise SystemExit("{}: no {} section".format(path, name))


def prune(data, off, size, arch):
    """Zero the payload of every entry that is not an ``arch`` cubin, in containers that hold
    one (a container without it is kept whole). Returns (bytes zeroed, containers kept whole)."""
    pos, end, zeroed, whole = off, off + size, 0, 0
    while pos < end:
        magic, _ver, hsz, fsz = struct.unpack_from("<IHHQ", data, pos)
        if magic != MAGIC:
            pos += 8  # padding between containers
            continue
        entries, e, cend = [], pos + hsz, pos + hsz + fsz
        while e < cend:
            kind, _v, ehsz, psz = struct.unpack_from("<HHII", data, e)
            entries.append((e + ehsz, psz, kind == ELF and struct.unpack_from("<I", data, e + 28)[0] == arch))
            e += ehsz + psz
        if any(keep for _s, _n, keep in entries):
            for start, n, keep in entries:
                if not keep:
                    data[start:start + n] = bytes(n)
                    zeroed += n
        else:
            whole += 1
        pos = cend
    return zeroed, whole


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel")
    ap.add_argument("out")
    ap.add_argument("--arch", type=int, default=90)
    a = ap.parse_args(argv)
    import tempfile

    with zipfile.ZipFile(a.wheel) as z, tarfile.open(a.out, "w:xz", preset=9) as tar:
        for info in z.infolist():
            if info.is_dir() or any(s in info.filename for s in LEAVE_OUT):
                continue
            blob = z.read(info)
            if info.filename.endswith("libonnxruntime_providers_cuda.so"):
                with tempfile.NamedTemporaryFile(suffix=".so") as tmp:
                    tmp.write(blob)
                    tmp.flush()
                    off, size = _section(tmp.name)
                data = bytearray(blob)
                zeroed, whole = prune(data, off, size, a.arch)
                print("{}: {} MB of other generations' kernels zeroed, {} containers without sm_{} kept whole"
                      .format(info.filename, zeroed // 10 ** 6, whole, a.arch))
                blob = bytes(data)
            t = tarfile.TarInfo(info.filename)
            t.size, t.mode = len(blob), 0o755 if info.filename.endswith(".so") else 0o644
            tar.addfile(t, io.BytesIO(blob))
    return 0


if __name__ == "__main__":
    sys.exit(main())
