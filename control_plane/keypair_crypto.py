"""SSH and x509 keypairs: generation, import validation, fingerprints (as Nova computes them)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from control_plane.faults import BadRequest


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key blob, colon-separated, after checking the key really parses."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.strip().split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error, TypeError):
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate: str) -> str:
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    return _colon_hex(cert.fingerprint(hashes.SHA1()))


def fingerprint(public_key: str, key_type: str) -> str:
    return x509_fingerprint(public_key) if key_type == "x509" else ssh_fingerprint(public_key)


def generate(comment: str = "Generated-by-Nova") -> tuple[str, str, str]:
    """A new RSA 2048 keypair: (private key PEM, OpenSSH public key, fingerprint)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    public = f"{public} {comment}"
    return private, public, ssh_fingerprint(public)
