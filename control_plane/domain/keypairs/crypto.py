"""SSH and x509 keypairs: generation, import validation, fingerprints (as Nova computes them)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from control_plane.domain.errors import Invalid


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key blob, colon-separated, after checking the key really parses."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.strip().split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error, TypeError, UnsupportedAlgorithm):
        raise Invalid("Keypair data is invalid: failed to generate fingerprint") from None
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate: str) -> str:
    """SHA-1 of the certificate, colon-separated."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, TypeError) as exc:
        raise Invalid("Keypair data is invalid: failed to generate X509 fingerprint. "
                         f"Error message: {exc}") from None
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


def generate_x509(user_id: str) -> tuple[str, str, str]:
    """Nova's WinRM client certificate: RSA 2048, CN=<user_id>, 10 years, clientAuth.

    Returns (base64 PKCS#12 bundle with an empty password, PEM certificate, fingerprint).
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    start = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    bundle = pkcs12.serialize_key_and_certificates(
        None, key, cert, None, serialization.NoEncryption())
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return base64.b64encode(bundle).decode(), pem, x509_fingerprint(pem)
