# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing keys and trusted roots as a studio keeps them, made fit for c2pa (no bpy, no c2pa).

:func:`pkcs8_key`: c2pa reads only unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"); a
key in the usual SEC1 form (``openssl ecparam -genkey``: "-----BEGIN EC PRIVATE KEY-----") or
PKCS#1 (RSA) is converted in memory, the file left as it is. Before 2026-12-06 such a key was
refused with the library's own words ("… PKCS#8 ASN.1 error: PEM error: unexpected PEM type label:
expecting "PRIVATE KEY""), though it was the studio's right key. An encrypted key, and one that
cannot make the signature Reenact signs with (ES256: an EC P-256 key), are one line saying so.

:func:`trust_roots`: the PEM text of a file of trusted root certificates (``reenact verify
--trust``), or one line saying why it cannot serve."""

__all__ = ["pkcs8_key", "trust_roots"]

#: PEM labels of private keys c2pa does not read as they are
_OTHER_FORMS = (b"-----BEGIN EC PRIVATE KEY-----", b"-----BEGIN RSA PRIVATE KEY-----")
_PKCS8 = b"-----BEGIN PRIVATE KEY-----"
_ENCRYPTED = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


def _kind(k):
    """What a private key is, in words ("an RSA key", "an EC key on secp384r1")."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(k, rsa.RSAPrivateKey):
        return "an RSA key ({} bits)".format(k.key_size)
    if isinstance(k, ec.EllipticCurvePrivateKey):
        return "an EC key on {}".format(k.curve.name)
    return "a {} key".format(type(k).__name__.replace("PrivateKey", "") or "?")


def pkcs8_key(key_pem, name, error=ValueError, alg="es256"):
    """``key_pem`` (the bytes of the key file ``name``) as unencrypted PKCS#8 PEM, which c2pa
    reads: SEC1 ("EC PRIVATE KEY") and PKCS#1 ("RSA PRIVATE KEY") converted, PKCS#8 kept as it
    is. ``error`` (one line naming ``name``) for an encrypted key (it has a passphrase, which
    nothing here can ask for) and, for ``alg`` "es256", a key that is not EC P-256. Anything
    else (not a PEM private key) is returned unchanged: c2pa's own check says what it is."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    data = bytes(key_pem)
    if any(tag in data for tag in _ENCRYPTED):
        raise error("{}: the key is encrypted (it has a passphrase), which Reenact cannot ask for: give an "
                    "unencrypted copy (openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out KEY-plain.pem), readable by "
                    "you alone".format(name))
    if not any(tag in data for tag in _OTHER_FORMS + (_PKCS8,)):
        return key_pem
    try:
        k = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return key_pem  # (damaged or unknown: c2pa's check names the pair)
    if alg == "es256" and not (isinstance(k, ec.EllipticCurvePrivateKey) and k.curve.name == "secp256r1"):
        raise error("{}: {}: Reenact signs with ES256, which needs an EC P-256 key (openssl ecparam -genkey "
                    "-name prime256v1) and a certificate for it".format(name, _kind(k)))
    if _PKCS8 in data:
        return key_pem
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def trust_roots(path):
    """The PEM text of the certificates in ``path`` (``reenact verify --trust ROOTS.pem``: the
    roots whose chains count as trusted). ValueError (one line naming the file) for a file that
    cannot be read or holds no PEM certificate."""
    import os

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ValueError("{}: cannot read: {}".format(path, exc.strerror or exc)) from None
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise ValueError("{}: holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the root certificate(s) "
                         "to trust".format(path))
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)
