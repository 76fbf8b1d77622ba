# SPDX-License-Identifier: GPL-3.0-or-later
"""C2PA manifests on exported movies (MP4/MOV) and images (PNG, JPEG): sign and read back.

:func:`sign_file` embeds a signed manifest (c2pa-python) with

* ``c2pa.actions.v2``: ``c2pa.created`` (a new render) or ``c2pa.edited`` (synthesised frames
  composited into existing footage), ``digitalSourceType`` = IPTC ``trainedAlgorithmicMedia``,
  ``softwareAgent`` = Reenact and its version, and the render's parameters;
* ``c2pa.soft-binding``: the watermark (:data:`~.watermark.ALGORITHM`) and its payload (tool,
  format version, job id) as the value, so a copy whose manifest was stripped by a re-encode can
  still be tied to this render by ``reenact verify``;
* ``claim_generator_info``: Reenact and its version.

**Certificates.** ``cert``/``key`` (PEM files: the leaf first, then its intermediates; the
private key) come from ``--sign-cert``/``--sign-key`` or the add-on preferences. Without them a
local chain (root CA -> intermediate CA -> leaf, ECDSA P-256, ES256) is created on first use in
:func:`local_chain_dir` (``$REENACT_C2PA_DIR``, else ``$XDG_DATA_HOME/reenact/c2pa``, else
``~/.local/share/reenact/c2pa``). Nobody else trusts that root: a C2PA validator reports such
files as well-formed and untampered but signed by an unknown signer. :func:`read_manifest`
reports ``valid`` (the signature, the hashes of the file and the certificate chain check out)
and ``trusted`` (the chain ends in a root of the trust list, which here is only the local root).

**Movies signed in place** (the render path's case) get the manifest box **appended** after the
file's last box (:func:`.c2pa_io.sign_append`): the file is hashed as it is, signed, and one
write adds the box; nothing else moves, and a failed write is truncated away. The render path
prepares the manifest before writing and hashes the movie's samples as they are written
(:class:`.movie_signing.MovieSigning`), so only a few ms are left when the writer closes. Elsewhere (images,
``out`` given, a movie that already has a manifest or is not a clean box sequence, a library
without the embeddable API, ``REENACT_C2PA_IO=rewrite``), the **rewrite**: c2pa-rs writes the
signed file, the box after ``ftyp`` and every chunk shifted, into a uniquely named temporary file
in the destination's folder, put in place (:func:`.c2pa_io.replace`: an atomic rename, or an
atomic exchange of the two names on Linux) only when signing succeeded and removed on any
failure, so the destination is either the old file or the complete signed one.
:func:`.c2pa_io.sign` lets the native library read and write the files itself (no Python per
8 KB chunk) where it can.
"""

import contextlib
import datetime
import errno
import json
import os
import secrets
import shutil
import sys
import time

try:
    import fcntl
    msvcrt = None
except ImportError:  # Windows
    fcntl = None
    import msvcrt

from .._version import __version__
from ..fsutil import hidden_name, write_bytes
from . import c2pa_io

__all__ = ["sign_file", "read_manifest", "local_chain", "local_chain_dir", "ManifestError", "check_credentials",
           "write_refusal", "folder_refusal",
           "TRAINED_ALGORITHMIC_MEDIA", "COMPOSITE_WITH_TRAINED", "MIME_TYPES"]

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
#: an edit that composites synthesised media with captured footage (Blender's render of a
#: sequence holding Reenact's results: blender/signing.py)
COMPOSITE_WITH_TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
              ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
ACTIONS = ("c2pa.created", "c2pa.edited")
_CHAIN_FILES = ("root.pem", "intermediate.pem", "leaf.pem", "leaf.key", "chain.pem")


class ManifestError(ValueError):
    """Signing or reading a manifest failed; ``str()`` is one line naming the file."""


def frames_text(frames):
    """[a, b) frames as a manifest's parameters record them: "a-(b-1)", the first and last frame.
    (An array of numbers came back from the C2PA reader as base64 bytes, wrapped at 256: [300, 400]
    read "LJA=", 44 and 144.)"""
    return "{}-{}".format(int(frames[0]), int(frames[1]) - 1)


# ------------------------------------------------------------------------------ local chain
def local_chain_dir():
    """Where the local signing chain lives (created on first use)."""
    d = os.environ.get("REENACT_C2PA_DIR")
    if d:
        return os.path.abspath(d)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "reenact", "c2pa")


def _write_atomic(path, data, mode=0o644):
    write_bytes(path, data, mode)  # the one writer (fsutil): created 0600, ``mode`` once complete


def _make_chain(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Reenact local signing (untrusted)"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject, key, issuer, issuer_key, ca, years, pathlen=None):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365 * years))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False))
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=True, crl_sign=True,
                                              encipher_only=False, decipher_only=False), critical=True)
        else:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=False, crl_sign=False,
                                              encipher_only=False, decipher_only=False), critical=True)
            b = b.add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # documentSigning
                                                       ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    k_root, k_int, k_leaf = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    n_root = name("Reenact local root CA ({})".format(user))
    n_int = name("Reenact local intermediate CA ({})".format(user))
    n_leaf = name("Reenact renderer ({})".format(user))
    c_root = cert(n_root, k_root, n_root, k_root, True, 20, 1)
    c_int = cert(n_int, k_int, n_root, k_root, True, 10, 0)
    c_leaf = cert(n_leaf, k_leaf, n_int, k_int, False, 5)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    os.makedirs(folder, exist_ok=True)
    _write_atomic(os.path.join(folder, "root.pem"), pem(c_root))
    _write_atomic(os.path.join(folder, "intermediate.pem"), pem(c_int))
    _write_atomic(os.path.join(folder, "leaf.pem"), pem(c_leaf))
    _write_atomic(os.path.join(folder, "leaf.key"), k_leaf.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)
    _write_atomic(os.path.join(folder, "README.txt"), (
        "Reenact's local C2PA signing chain, made on first use. The root CA is not trusted by anyone\n"
        "else: validators report files signed with it as intact but from an unknown signer. Give a\n"
        "certificate from a C2PA-recognised CA with --sign-cert/--sign-key to be trusted.\n").encode())
    # written last: its presence means the chain is complete
    _write_atomic(os.path.join(folder, "chain.pem"), pem(c_leaf) + pem(c_int))


def _chain_problem(folder):
    """None when ``folder`` holds a whole local chain whose key is its leaf certificate's, "" when
    nothing is there (no folder, or an empty one: first use), else what is wrong (one line)."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    def unreadable(exc):  # (another user's chain, or one kept 0600: said, never moved aside and made anew: each
        # user of a shared REENACT_C2PA_DIR would rename the other's away; before the review of the evening of
        # 2026-12-06 it was)
        return ManifestError("{}: the local signing chain cannot be read by this user ({}): give it read access, or "
                             "set REENACT_C2PA_DIR to a folder of this user's own".format(folder, exc.strerror or exc))

    if not os.path.isdir(folder):
        return "is not a folder" if os.path.lexists(folder) else ""
    try:
        if not os.listdir(folder):
            return ""
    except PermissionError as exc:
        raise unreadable(exc) from None
    except OSError as exc:
        return "cannot be read ({})".format(exc.strerror or exc)
    missing = [f for f in _CHAIN_FILES if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        return "is incomplete (no {})".format(", ".join(missing) if len(missing) < len(_CHAIN_FILES) else
                                              "certificates: an earlier first use stopped midway?")

    def read(name):
        with open(os.path.join(folder, name), "rb") as f:
            return f.read()

    try:
        chain = x509.load_pem_x509_certificates(read("chain.pem"))
        key = serialization.load_pem_private_key(read("leaf.key"), None)
        leaf, inter, root = (x509.load_pem_x509_certificate(read(f))
                             for f in ("leaf.pem", "intermediate.pem", "root.pem"))
    except PermissionError as exc:
        raise unreadable(exc) from None
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return "cannot be read ({})".format(" ".join(str(exc).split())[:120] or type(exc).__name__)
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != chain[0].public_key().public_bytes(*spki):
        return "has a key (leaf.key) that is not its certificate's (chain.pem)"
    if chain[0] != leaf or chain[1:2] != [inter]:
        return "has a chain.pem that does not hold its leaf.pem and intermediate.pem"
    try:
        inter.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return "has an intermediate.pem that its root.pem did not issue"
    return None


@contextlib.contextmanager
def _chain_lock(folder):
    """Held while the chain is checked again and made: the parent folder itself is locked
    (``flock``: nothing is left behind; released when the process ends, however it ends), on
    Windows a ``.NAME.lock`` file beside it. Where the file system has no locks (some network
    shares) the work goes on without one: :func:`_make_chain_once` still never mixes two chains."""
    parent = os.path.dirname(folder)
    fd = None
    try:
        os.makedirs(parent, exist_ok=True)  # (a first use on a new machine: locked too)
        if fcntl is not None:
            fd = os.open(parent, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
        elif msvcrt is not None:
            fd = os.open(os.path.join(parent, hidden_name(os.path.basename(folder), ".lock")),
                         os.O_RDWR | os.O_CREAT, 0o600)
            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # (gives up after 10 s: tried again)
                    break
                except OSError as exc:
                    if exc.errno != errno.EDEADLOCK:
                        raise
    except BaseException as exc:
        if fd is not None:
            os.close(fd)
        if not isinstance(exc, OSError):
            raise
        fd = None
    try:
        yield
    finally:
        if fd is not None:
            if fcntl is None and msvcrt is not None:  # (unlocked before the close: Windows may release it late)
                try:
                    os.lseek(fd, 0, os.SEEK_SET)
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
                except OSError:
                    pass
            os.close(fd)  # (releases the lock)


def _move_aside(folder):
    """Rename ``folder`` to ``NAME.damaged-<time>`` beside it (nothing is deleted); its new name,
    or None when it was gone already (another process moved it)."""
    stamp = "{}.damaged-{}".format(folder, time.strftime("%Y%m%d-%H%M%S"))
    for aside in (stamp, "{}-{}".format(stamp, secrets.token_hex(3))):
        if os.path.lexists(aside):
            continue
        try:
            os.rename(folder, aside)
            return aside
        except FileNotFoundError:
            return None
    raise FileExistsError(errno.EEXIST, "no free name to move it aside", stamp)


def _make_chain_once(folder):
    """Make the chain whole in a uniquely named folder beside ``folder``, then rename it into
    place: a reader finds either no chain or a whole one. An empty ``folder`` is replaced; one
    holding an incomplete or mismatched chain is moved aside (:func:`_move_aside`) with one line
    on stderr; when another process put a whole chain there first, that one is used and this one
    removed. (Before 2026-12-06 evening an existing incomplete ``folder`` was filled one file at
    a time, and two processes signing for the first time at once could leave one's key beside
    the other's certificate, after which every signing failed until the folder was deleted.)"""
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, hidden_name(os.path.basename(folder), ".{}.tmp".format(secrets.token_hex(4))))
    moved = []  # (what was wrong, where it went)
    try:
        _make_chain(tmp)
        for _ in range(8):
            try:
                os.rmdir(folder)  # an empty one (os.rename replaces it on POSIX only, not on Windows)
            except OSError:
                pass
            try:
                os.rename(tmp, folder)
                break
            except OSError as exc:  # (a folder with files is there: never replaced by a rename)
                err = exc
            problem = _chain_problem(folder)
            if problem is None:
                break  # another process's whole chain arrived first: used
            if problem:
                aside = _move_aside(folder)
                if aside:
                    moved.append((problem, aside))
        else:
            raise err  # (still refused after several tries: the last reason)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for problem, aside in moved:
        print("reenact: warning: {}: the local signing chain {}; moved aside to {} and a new one made".format(
            folder, problem, os.path.basename(aside)), file=sys.stderr)


def local_chain(folder=None):
    """(chain PEM path, key PEM path, root PEM path) of the local chain, made on first use, and
    made again (the old one moved aside, one line on stderr) when it is incomplete or its key is
    not its certificate's (:func:`_chain_problem`)."""
    folder = os.path.abspath(folder or local_chain_dir())
    if _chain_problem(folder) is not None:
        try:
            with _chain_lock(folder):
                if _chain_problem(folder) is not None:  # (not made by another process meanwhile)
                    _make_chain_once(folder)
        except OSError as exc:
            raise ManifestError("{}: cannot create the local signing certificates: {}".format(
                folder, exc.strerror or exc)) from None
    return os.path.join(folder, "chain.pem"), os.path.join(folder, "leaf.key"), os.path.join(folder, "root.pem")


# ------------------------------------------------------------------------------ signing
def _settings(trust_pem=None):
    s = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
         "builder": {"thumbnail": {"enabled": False}}}
    if trust_pem:
        s["trust"] = {"trust_anchors": trust_pem}
    return s


def manifest_definition(path, action="c2pa.edited", payload=None, parameters=None, title=None,
                        parent_title=None, source_type=None):
    """The manifest JSON (dict) that :func:`sign_file` signs (``source_type``: the action's IPTC
    digitalSourceType, :data:`TRAINED_ALGORITHMIC_MEDIA` by default)."""
    from .watermark import ALGORITHM, make_payload

    if action not in ACTIONS:
        raise ValueError("action must be one of {}".format(", ".join(ACTIONS)))
    agent = {"name": "Reenact", "version": __version__}
    act = {"action": action, "digitalSourceType": source_type or TRAINED_ALGORITHMIC_MEDIA, "softwareAgent": agent,
           "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if parameters:
        act["parameters"] = dict(parameters)
    actions = [act]
    ingredients = []
    if action == "c2pa.edited":
        # an edit starts from the footage: a parent ingredient, "opened" first (C2PA 2.x rule)
        ingredients.append({"title": parent_title or "footage", "relationship": "parentOf",
                            "label": "footage"})
        actions.insert(0, {"action": "c2pa.opened", "parameters": {"ingredientIds": ["footage"]}})
    assertions = [{"label": "c2pa.actions.v2", "data": {"actions": actions}}]
    if payload is not None:
        p = make_payload(payload)
        value = "{:02x}{:x}{:010x}".format(p.tool, p.version, p.job_id)
        assertions.append({"label": "c2pa.soft-binding", "data": {
            "alg": ALGORITHM, "blocks": [{"scope": {}, "value": value}]}})
    return {
        "claim_generator_info": [agent],
        "title": title or os.path.basename(path),
        "format": MIME_TYPES[os.path.splitext(path)[1].lower()],
        "assertions": assertions,
        "ingredients": ingredients,
    }


def credentials(cert=None, key=None):
    """(certificate chain PEM bytes, key PEM bytes, whether it is the local chain) from the PEM
    paths ``cert``/``key``, or the local chain when both are None."""
    local = cert is None
    if (cert is None) != (key is None):
        raise ManifestError("give both a signing certificate and its key, or neither")
    if local:
        cert, key, _root = local_chain()
    try:
        with open(cert, "rb") as f:
            cert_pem = f.read()
        with open(key, "rb") as f:
            key_pem = f.read()
    except OSError as exc:
        raise ManifestError("{}: cannot read: {}".format(exc.filename, exc.strerror)) from None
    from .keys import pkcs8_key  # (an "EC PRIVATE KEY" as openssl writes it: before 2026-12-06 refused)
    return cert_pem, pkcs8_key(key_pem, os.fspath(key), ManifestError), local


def _tiny_png():
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b""))


def check_credentials(cert=None, key=None, alg="es256"):
    """Sign a 1-pixel PNG in memory (about 1 ms) with the certificate chain and key (PEM paths;
    the local chain when both are None), once, before any work: ManifestError (one line naming the
    files) for a certificate without its key, a file that cannot be read, a key C2PA cannot use,
    or a chain it refuses (self-signed, not the key's). (Before 2026-12-06 ``reenact sign`` found
    these only when the first file was signed, after its whole decode, 4.3 s into a 900-frame
    cut, and again for each file.)"""
    import io

    import c2pa

    cert_pem, key_pem, local = credentials(cert, key)
    try:
        ctx, signer = context_for(cert_pem, key_pem, alg, with_signer=False)
        with c2pa.Builder(manifest_definition("probe.png", "c2pa.created"), context=ctx) as builder:
            builder.sign(signer, "image/png", io.BytesIO(_tiny_png()), io.BytesIO())
    except c2pa.C2paError as exc:
        raise ManifestError("{}: C2PA cannot sign with {}: {}".format(
            local_chain_dir() if local else "{} and {}".format(os.fspath(cert), os.fspath(key)),
            "the local chain" if local else "this certificate and key", " ".join(str(exc).split()))) from None


def write_refusal(path):
    """None when the file ``path`` (a link: the file it names) may be signed in place, else why
    not (one line, without the path). A file whose mode lets no one write it (0444) is refused
    even where the system would let this user replace it (root): a read-only image was replaced
    by its signed copy before 2026-12-06 (the copy renamed over it), while a read-only movie,
    written into, was refused."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError as exc:
        return "cannot read: {}".format(exc.strerror or exc)
    if not st.st_mode & 0o222 or not os.access(real, os.W_OK):
        return "read-only (mode {:04o}{}): not signed, as signing writes into the file".format(
            st.st_mode & 0o7777, "" if real == os.path.abspath(path) else ", " + real)
    return None


def folder_refusal(folder):
    """None when a new file can be written in ``folder`` (where the signed copy of an image is
    written, then renamed over it), else why not (one line). Tried, by creating and removing a
    file: the only check right for root, read-only mounts and network file systems alike."""
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(prefix=".reenact-probe-", suffix=".tmp", dir=folder)
    except OSError as exc:
        return "cannot write the signed copy in {}: {}".format(folder, exc.strerror or exc)
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return None


def definition_for(path, action, payload, parameters, source, source_type=None):
    """(manifest definition, the parent ingredient to add from ``source`` or None). ``source``: the
    footage, a movie or image file added as the parent ingredient; an image sequence (a folder, a
    pattern, a list of images: no one file) is named as the parent, without its data (before
    2026-12-05 a list failed the movie's signing and a pattern was opened as a file)."""
    if isinstance(source, (list, tuple)):
        title = os.path.basename(os.path.dirname(os.fspath(source[0]))) if source else None
        src_fmt = None
    else:
        title = os.path.basename(os.fspath(source)) if source else None
        src_fmt = MIME_TYPES.get(os.path.splitext(os.fspath(source))[1].lower()) if (
            source and os.path.isfile(os.fspath(source))) else None
    definition = manifest_definition(path, action, payload, parameters, parent_title=title, source_type=source_type)
    parent = None
    if src_fmt and definition["ingredients"]:  # an edit of the footage ``source``
        parent = definition.pop("ingredients")[0]
        parent["format"] = src_fmt
    return definition, parent


def context_for(cert_pem, key_pem, alg="es256", with_signer=True):
    """(c2pa Context, Signer): the signer goes into the Context for the embeddable API."""
    import c2pa

    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg, cert_pem, key_pem, None))
    settings = c2pa.Settings.from_dict(_settings())
    return (c2pa.Context(settings, signer=signer) if with_signer else c2pa.Context(settings)), signer


def add_parent(builder, parent, source):
    with open(source, "rb") as f:
        builder.add_ingredient(parent, parent["format"], f)


def sign_file(path, action="c2pa.edited", payload=None, cert=None, key=None, parameters=None,
              out=None, alg="es256", source=None, source_type=None):
    """Embed a signed C2PA manifest into ``path`` (MP4/MOV/PNG/JPEG), in place or to ``out``.

    ``action``: ``c2pa.created`` or ``c2pa.edited``; ``payload``: the watermark payload (or job
    id) declared as soft binding; ``cert``/``key``: PEM paths (default: the local chain);
    ``parameters``: a JSON-able dict recorded with the action; ``source_type``: its IPTC
    digitalSourceType (default :data:`TRAINED_ALGORITHMIC_MEDIA`). Returns a dict (``out``,
    ``bytes_added``, ``signer``, ``local_chain``)."""
    import c2pa

    path = os.path.abspath(os.fspath(path))
    out = os.path.abspath(os.fspath(out)) if out else None
    if out is None or os.path.realpath(out) == os.path.realpath(path):  # in place: the file a link
        path = out = os.path.realpath(path)                            # names, signed there (the link stays)
    ext = os.path.splitext(path)[1].lower()
    if ext not in MIME_TYPES:
        raise ManifestError("{}: cannot sign '{}' files (MP4, MOV, PNG or JPEG)".format(path, ext or "(none)"))
    if not os.path.isfile(path):
        raise ManifestError("{}: no such file".format(path))
    cert_pem, key_pem, local = credentials(cert, key)
    why = write_refusal(path) if out == path else None  # (before 2026-12-06 a read-only image was replaced)
    if why:
        raise ManifestError("{}: {}".format(path, why))
    definition, parent = definition_for(path, action, payload, parameters, source, source_type)
    size0 = os.path.getsize(path)
    tmp = os.path.join(os.path.dirname(out), hidden_name(os.path.basename(out), ".reenact-{}{}".format(
        secrets.token_hex(4), ext)))
    # a movie signed in place gets its manifest appended (nothing else rewritten) where it can
    append = out == path and definition["format"].startswith("video/") and c2pa_io.append_refusal(path) is None
    try:
        ctx, signer = context_for(cert_pem, key_pem, alg, with_signer=append)
        with c2pa.Builder(definition, context=ctx) as builder:
            if parent is not None:
                add_parent(builder, parent, source)
            if append:
                c2pa_io.sign_append(builder, definition["format"], path)
            else:
                c2pa_io.sign(builder, signer, definition["format"], path, tmp)
        if not append:
            if out == path:  # (the signed copy keeps the file's permissions: 0600 stays 0600)
                shutil.copymode(path, tmp)
            c2pa_io.replace(tmp, out)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, c2pa.C2paError):
            raise ManifestError("{}: C2PA signing failed: {}".format(path, " ".join(str(exc).split()))) from None
        if isinstance(exc, OSError):  # (the signed copy's own hidden name was shown before 2026-12-06)
            where = "" if exc.filename != tmp else " in its folder ({})".format(os.path.dirname(out))
            raise ManifestError("{}: cannot write the signed file{}: {}".format(
                out if exc.filename in (None, tmp, out) else exc.filename, where, exc.strerror or exc)) from None
        raise
    return {"out": out, "bytes_added": os.path.getsize(out) - size0, "signer": _subject(cert_pem),
            "local_chain": local, "embedding": "appended" if append else "rewritten"}


def _subject(pem):
    try:
        from cryptography import x509

        c = x509.load_pem_x509_certificates(pem)[0]
        return c.subject.rfc4514_string()
    except Exception:
        return None


# ------------------------------------------------------------------------------ reading
def png_has_manifest(path):
    """True when the PNG ``path`` carries a C2PA manifest (a ``caBX`` chunk before its image data),
    without reading or validating it (the render path signs the frames it synthesises and leaves
    copies unsigned)."""
    import struct

    try:
        with open(path, "rb") as fh:
            if fh.read(8) != b"\x89PNG\r\n\x1a\n":
                return False
            while True:
                head = fh.read(8)
                if len(head) < 8 or head[4:] in (b"IDAT", b"IEND"):
                    return False
                if head[4:] == b"caBX":
                    return True
                fh.seek(struct.unpack(">I", head[:4])[0] + 4, 1)
    except OSError:
        return False


def _holds_manifest_bytes(path, chunk=4 << 20):
    """Whether ``path`` holds a C2PA manifest store's label anywhere (read in chunks): what tells
    a damaged manifest from a file the library could not parse at all (before 2026-12-05 such a
    file, an older QuickTime MOV without an ftyp box, read as carrying an invalid manifest, and
    ``reenact sign`` refused it as signed already)."""
    tail = b""
    try:
        with open(path, "rb") as fh:
            while True:
                block = fh.read(chunk)
                if not block:
                    return False
                if b"c2pa" in tail + block:
                    return True
                tail = block[-8:]
    except OSError:
        return True  # (unreadable here: keep the library's word)


def read_manifest(path, trust=None):
    """The C2PA manifest of ``path``: dict with ``present``, ``valid``, ``trusted``,
    ``validation_state``, ``signer`` (issuer common name / organisation), ``actions`` (list of
    {action, digitalSourceType, softwareAgent}), ``soft_binding`` ({alg, value} or None),
    ``claim_generator``, ``errors`` (validation failure codes), ``trust_list`` ("local root" when
    the only trusted root was this machine's own). ``trust``: trusted root PEM path (default: the
    local root, when it exists)."""
    import c2pa

    path = os.fspath(path)
    res = {"present": False, "valid": False, "trusted": False, "trust_list": None,
           "validation_state": None, "signer": None,
           "actions": [], "soft_binding": None, "claim_generator": None, "errors": []}
    ext = os.path.splitext(path)[1].lower()
    if ext not in MIME_TYPES:
        res["errors"] = ["format not supported for C2PA here"]
        return res
    res["trust_list"] = "given" if trust else None
    if trust is None:
        root = os.path.join(local_chain_dir(), "root.pem")
        trust = root if os.path.isfile(root) else None
        res["trust_list"] = "local root" if trust else None
    trust_pem = None
    if trust:
        with open(trust, "r", encoding="ascii") as f:
            trust_pem = f.read()
    try:
        ctx = c2pa.Context(c2pa.Settings.from_dict(_settings(trust_pem)))
        with open(path, "rb") as f:
            with c2pa.Reader(MIME_TYPES[ext], f, context=ctx) as reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        msg = " ".join(str(exc).split())
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in msg or "not found" in msg.lower():
            return res
        if not _holds_manifest_bytes(path):  # (the library could not parse the file itself, e.g. a MOV
            res["errors"] = ["no C2PA manifest could be read ({})".format(msg)]  # without an ftyp box)
            return res
        res["present"] = True
        res["errors"] = [msg]
        return res
    active = store.get("active_manifest")
    m = (store.get("manifests") or {}).get(active) if active else None
    if m is None:
        return res
    res["present"] = True
    state = store.get("validation_state")
    res["validation_state"] = state
    failures = [s.get("code") for s in (store.get("validation_status") or [])]
    vr = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures += [s.get("code") for s in vr.get("failure", [])]
    failures = sorted(set(c for c in failures if c))
    res["errors"] = failures
    # "untrusted signer" is not a broken file: the signature and hashes are checked regardless
    res["valid"] = state in ("Valid", "Trusted") or (
        state is not None and all(c == "signingCredential.untrusted" for c in failures))
    res["trusted"] = state == "Trusted"
    si = m.get("signature_info") or {}
    res["signer"] = si.get("common_name") or si.get("issuer")
    res["signer_issuer"] = si.get("issuer")
    gi = m.get("claim_generator_info") or []
    if gi:
        res["claim_generator"] = "{} {}".format(gi[0].get("name", ""), gi[0].get("version", "")).strip()
    for a in m.get("assertions") or []:
        label = a.get("label", "")
        if label.startswith("c2pa.actions"):
            for act in (a.get("data") or {}).get("actions") or []:
                agent = act.get("softwareAgent")
                if isinstance(agent, dict):
                    agent = "{} {}".format(agent.get("name", ""), agent.get("version", "")).strip()
                res["actions"].append({"action": act.get("action"),
                                       "digitalSourceType": act.get("digitalSourceType"),
                                       "softwareAgent": agent, "parameters": act.get("parameters")})
        elif label.startswith("c2pa.soft-binding"):
            d = a.get("data") or {}
            blocks = d.get("blocks") or []
            res["soft_binding"] = {"alg": d.get("alg"), "value": blocks[0].get("value") if blocks else None}
    return res
