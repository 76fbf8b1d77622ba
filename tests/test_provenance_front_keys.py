# SPDX-License-Identifier: GPL-3.0-or-later
"""A studio's signing key as openssl writes it signs: SEC1 ("-----BEGIN EC PRIVATE KEY-----",
``openssl ecparam -genkey``) is converted to PKCS#8 in memory (c2pa reads only that). Before
2026-12-06 it was refused with "C2PA cannot sign with this certificate and key: … PKCS#8 ASN.1
error: PEM error: unexpected PEM type label: expecting "PRIVATE KEY"". An encrypted key and an
RSA key are one line each saying what they are."""

import os

import pytest


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REENACT_C2PA_DIR", str(tmp_path_factory.getbasetemp() / "c2pa-chain"))


def _write_key(path, key, form, password=None):
    from cryptography.hazmat.primitives import serialization

    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, form, enc))
    return str(path)


@pytest.fixture()
def studio(tmp_path):
    """A studio's chain (root -> intermediate -> leaf) and its leaf key, loaded."""
    from cryptography.hazmat.primitives import serialization

    from reenact.provenance.manifest import local_chain

    chain, key, root = local_chain(str(tmp_path / "studio"))
    with open(key, "rb") as f:
        return chain, serialization.load_pem_private_key(f.read(), None)


def test_a_sec1_ec_key_signs(tmp_path, studio):
    from cryptography.hazmat.primitives import serialization

    from reenact.provenance.cli import check_signing_options
    from reenact.provenance.manifest import _tiny_png, read_manifest, sign_file

    chain, leaf = studio
    sec1 = _write_key(tmp_path / "leaf.ec.pem", leaf, serialization.PrivateFormat.TraditionalOpenSSL)
    assert open(sec1).read().startswith("-----BEGIN EC PRIVATE KEY-----")
    assert check_signing_options(chain, sec1) is None
    png = tmp_path / "one.png"
    png.write_bytes(_tiny_png())
    info = sign_file(str(png), action="c2pa.created", cert=chain, key=sec1)
    assert info["bytes_added"] > 0
    m = read_manifest(str(png))
    assert m["present"] and m["valid"], m
    with open(sec1) as f:
        assert f.read().startswith("-----BEGIN EC PRIVATE KEY-----")  # (the file left as it is)


def test_an_encrypted_or_rsa_key_is_one_line_saying_so(tmp_path, studio):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from reenact.provenance.cli import check_signing_options

    chain, leaf = studio
    for form in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8):
        enc = _write_key(tmp_path / "enc.pem", leaf, form, password=b"studio")
        said = check_signing_options(chain, enc)
        assert said and said.startswith(enc + ": the key is encrypted") and "\n" not in said, said
    r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs1 = _write_key(tmp_path / "rsa.pem", r, serialization.PrivateFormat.TraditionalOpenSSL)
    said = check_signing_options(chain, pkcs1)
    assert said and said.startswith(pkcs1 + ": an RSA key (2048 bits): Reenact signs with ES256"), said
    assert os.path.getsize(pkcs1) > 0
