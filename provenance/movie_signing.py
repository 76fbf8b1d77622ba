# SPDX-License-Identifier: GPL-3.0-or-later
"""A movie's C2PA signature prepared before the movie is written, its sample data hashed while
the encoder writes it, so that signing the finished file costs the same few milliseconds
whatever its length.

Signing a finished movie (:func:`.manifest.sign_file`) hashes every byte of it: ~1.2 ms per MB
here, so ~50 ms for a 45 MB movie and over a second for a 1 GB one. The BMFF hash of C2PA can
cover the movie's ``mdat`` (its sample data: nearly all its bytes) as a Merkle tree of
fixed-size leaves instead (c2pa-rs: ``c2pa_builder_set_fixed_size_merkle``,
``c2pa_builder_hash_mdat_bytes``; :mod:`.c2pa_io`), fed in the order the bytes are written.

:class:`MovieSigning` sets up the manifest (certificates, actions, the footage as parent
ingredient, the placeholder) before the first frame, then :meth:`MovieSigning.follow` starts a
thread that follows the :class:`~reenact.video.VideoWriter`'s temporary file and hashes the
``mdat`` payload as it grows (the MP4/MOV muxer appends it in order and never rewrites it; the
trailer, which patches the ``mdat`` header and adds ``moov``, is written only after the writer
has stopped the follower: ``VideoWriter.before_trailer``). After ``close()``, :meth:`finish`
hashes what the follower had not reached (the last fraction of a second), checks the file
against what was hashed (one ``mdat``, at least as long as what was fed, sampled blocks equal:
the faststart pass moves the ``mdat`` behind ``moov`` and must move it unchanged), hashes the
small remaining boxes, signs and appends the manifest box (:func:`.c2pa_io.sign_append`).

Anything unexpected (no Merkle API, a file that does not look like one ``mdat`` after
``ftyp``, a mismatch, an error in the follower) falls back to :func:`.manifest.sign_file` on the
finished file: the same manifest, hashed whole, never a wrong one (``result["prehashed"]``
says which, ``result["fallback"]`` why).

Leaf size: the manifest carries 32 bytes per leaf, and finishing hashes the last, partial leaf,
so the leaf is chosen from the movie's expected size (``expected_frames``, measured on the
first frames' bytes) for ~64 leaves, a power of two from 1 to 64 MB: ~2 KB more manifest and
<= 20 ms of finishing up to ~1 GB (measured: docs/provenance.md).
"""

import os
import threading
import time
import zlib

from .. import fsutil
from . import c2pa_io
from .manifest import (ManifestError, MIME_TYPES, _subject, add_parent, context_for, credentials, definition_for,
                       sign_file)

__all__ = ["MovieSigning", "leaf_kb_for"]

_POLL_S = 0.2
_BLOCK = 4 << 20          # bytes read and fed per call
_SAMPLE = 4096            # bytes of each block kept as a CRC, checked again in the finished file
_MIN_LEAF_KB, _MAX_LEAF_KB, _LEAVES = 1024, 65536, 64


def leaf_kb_for(expected_bytes):
    """The Merkle leaf (KB, a power of two in 1-64 MB) for ~64 leaves over ``expected_bytes``."""
    kb = _MIN_LEAF_KB
    while kb < _MAX_LEAF_KB and kb * 1024 * _LEAVES < expected_bytes:
        kb *= 2
    return kb


def _mdat_payload(fd):
    """The payload offset of the first ``mdat`` after ``ftyp`` of the file being written, or None
    while its header is not written yet or when the file is not laid out so (the ``mdat``'s size
    is the muxer's placeholder until the trailer)."""
    end = os.fstat(fd).st_size
    off, first = 0, True
    while off + 8 <= end:
        head = fsutil.pread(fd, 16, off)
        size, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if first and kind != b"ftyp":
            return None
        first = False
        if kind == b"mdat":
            return off + (16 if size == 1 else 8)
        if size < 8:
            return None
        off += size
    return None


class MovieSigning:
    """The C2PA signature of the movie ``out`` (.mp4/.mov), prepared before it is written:
    ``follow(writer)`` after creating the writer, ``finish()`` after ``writer.close()`` (or
    ``cancel()``). The arguments are :func:`.manifest.sign_file`'s; ``expected_frames``: how
    many frames the writer will get (for the leaf size)."""

    def __init__(self, out, action="c2pa.edited", payload=None, cert=None, key=None, parameters=None,
                 source=None, expected_frames=None, alg="es256"):
        self.out = os.path.abspath(os.fspath(out))
        ext = os.path.splitext(self.out)[1].lower()
        if not MIME_TYPES.get(ext, "").startswith("video/"):
            raise ManifestError("{}: not a movie to sign while it is written (.mp4 or .mov)".format(self.out))
        self._args = dict(action=action, payload=payload, cert=cert, key=key, parameters=parameters,
                          source=source, alg=alg)
        self.expected_frames = expected_frames
        self.fallback = None
        self.fed = 0               # mdat payload bytes hashed
        self.leaf_kb = None
        self.follow_seconds = 0.0  # time the follower spent reading and hashing (its own thread)
        self._samples = []         # (payload offset, length, crc32)
        self._builder = self._thread = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        if not (c2pa_io.append_available() and c2pa_io.merkle_available()):
            self.fallback = "the C2PA library cannot hash a movie's mdat as it is written"
            return
        import c2pa

        cert_pem, key_pem, self._local = credentials(cert, key)
        self._signer_name = _subject(cert_pem)  # (imports cryptography: ~40 ms, not at the end)
        self._definition, parent = definition_for(self.out, action, payload, parameters, source)
        try:
            ctx, _signer = context_for(cert_pem, key_pem, alg, with_signer=True)
            self._builder = c2pa.Builder(self._definition, context=ctx)
            if parent is not None:
                add_parent(self._builder, parent, source)
            c2pa_io.placeholder(self._builder, self._definition["format"])
        except (c2pa.C2paError, OSError) as exc:
            self._drop("setting up the manifest failed: {}".format(" ".join(str(exc).split())))

    # -- while the movie is written ----------------------------------------------------------
    def follow(self, writer):
        """Start hashing ``writer``'s temporary file as it grows; the writer stops it before
        its trailer."""
        if self._builder is None or self.fallback is not None or self._thread is not None:
            return  # (the finished file is signed whole)
        stream = getattr(writer, "_stream", None)
        if stream is not None and "timecode" in dict(getattr(stream, "metadata", {}) or {}):
            # (the muxer's timecode track puts its sample in the mdat after the frames followed: the
            # manifest's hash did not match, before 2026-12-06 an INVALID manifest; a review of plates)
            self._drop("a movie with a start timecode is signed whole")
            return
        writer.before_trailer.append(self.pause)
        self._thread = threading.Thread(target=self._run, args=(writer,), name="reenact-c2pa-follow", daemon=True)
        self._thread.start()

    def pause(self):
        """Stop following (the muxer is about to write its trailer); waits for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, writer):
        fd = None
        try:
            fd = os.open(writer.temp_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | fsutil.O_BINARY)
            start = None
            while True:
                stopping = self._stop.is_set()
                if start is None:
                    start = _mdat_payload(fd)
                if start is not None and (self.leaf_kb is not None or self._choose_leaf(writer, fd, start, stopping)):
                    # everything the muxer has written so far is final sample data
                    self._feed_from(fd, start, os.fstat(fd).st_size - start)
                if stopping:
                    return
                if not os.path.exists(writer.temp_path):  # aborted without cancel(): stop
                    self._drop("the movie was not finished")
                    return
                self._stop.wait(_POLL_S)
        except Exception as exc:  # noqa: BLE001 - any failure: sign the finished file instead
            self._drop("following the movie failed: {}".format(" ".join(str(exc).split())))
        finally:
            if fd is not None:
                os.close(fd)

    def _choose_leaf(self, writer, fd, start, now=False):
        """Set the leaf size once ~5 % of the expected frames (at least 60) are written;
        False while waiting (the bytes stay in the file meanwhile)."""
        n = self.expected_frames
        written = os.fstat(fd).st_size - start
        frames = getattr(writer, "frames_written", 0)
        if n and not now and frames < min(n, max(60, n // 20)):
            return False
        if n and frames > 0:
            expected = 2.0 * written * n / frames  # x2: the encoder's delay, a denser second half
        else:
            expected = 4 * _MIN_LEAF_KB * 1024 * _LEAVES  # unknown length: 4 MB leaves
        self.leaf_kb = leaf_kb_for(expected)
        c2pa_io.set_merkle_leaf(self._builder, self.leaf_kb)
        return True

    def _feed_from(self, fd, start, upto):
        t = time.perf_counter()
        while self.fed < upto:
            n = min(_BLOCK, upto - self.fed)
            data = fsutil.pread(fd, n, start + self.fed)
            if not data:
                break
            c2pa_io.hash_mdat(self._builder, data)
            k = min(_SAMPLE, len(data))
            self._samples.append((self.fed, k, zlib.crc32(data[:k])))
            self.fed += len(data)
        self.follow_seconds += time.perf_counter() - t

    # -- the finished movie ------------------------------------------------------------------
    def finish(self):
        """Sign the finished movie (after ``writer.close()``); returns :func:`.manifest.sign_file`'s
        dict plus ``prehashed``, ``fed_bytes``, ``leaf_kb`` and ``fallback``."""
        import c2pa

        self.pause()
        res = None
        if self._builder is not None and self.fallback is None:
            try:
                res = self._finish_prehashed()
            except (c2pa.C2paError, OSError) as exc:
                self._drop("signing the followed movie failed: {}".format(" ".join(str(exc).split())))
                res = None
        if res is None:
            self.close()
            res = sign_file(self.out, **self._args)
        res.update(prehashed=self.fallback is None, fed_bytes=self.fed, leaf_kb=self.leaf_kb, fallback=self.fallback)
        self.close()
        return res

    def _finish_prehashed(self):
        refusal = c2pa_io.append_refusal(self.out)
        if refusal is not None:
            self._drop(refusal)
            return None
        fd = os.open(self.out, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | fsutil.O_BINARY)
        try:
            # (append_refusal found ftyp first and boxes tiling the file)
            mdats = [b for b in c2pa_io.top_level_boxes(fd) or () if b[0] == b"mdat"]
            if len(mdats) != 1 or fsutil.pread(fd, 4, mdats[0][1]) == b"\0\0\0\1":
                self._drop("the finished movie is not one mdat with a 32-bit size")
                return None
            start, length = mdats[0][1] + 8, mdats[0][2] - 8
            if self.fed > length:
                self._drop("more bytes were hashed than the finished mdat holds")
                return None
            for off, k, crc in self._samples:
                if zlib.crc32(fsutil.pread(fd, k, start + off)) != crc:
                    self._drop("the finished mdat differs from the bytes hashed while writing")
                    return None
            if self.leaf_kb is None:  # too short to have started: the leaf from the final size
                self.leaf_kb = leaf_kb_for(length)
                c2pa_io.set_merkle_leaf(self._builder, self.leaf_kb)
            self._feed_from(fd, start, length)
        finally:
            os.close(fd)
        size0 = os.path.getsize(self.out)
        c2pa_io.sign_append(self._builder, self._definition["format"], self.out, placeholder_made=True)
        return {"out": self.out, "bytes_added": os.path.getsize(self.out) - size0,
                "signer": self._signer_name, "local_chain": self._local, "embedding": "appended"}

    def _drop(self, why):
        with self._lock:
            if self.fallback is None:
                self.fallback = why

    def cancel(self):
        """Stop following and release the manifest (the movie is not signed)."""
        self.pause()
        self.close()

    def close(self):
        if self._builder is not None:
            try:
                self._builder.close()
            finally:
                self._builder = None
