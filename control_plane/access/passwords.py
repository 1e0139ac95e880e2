"""Password hashing with scrypt (from `cryptography`); only hashes are ever stored."""

from __future__ import annotations

import base64
import hmac
import os
import secrets

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

_N, _R, _P, _LEN = 2**14, 8, 1, 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    key = Scrypt(salt=salt, length=_LEN, n=_N, r=_R, p=_P).derive(password.encode())
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(key)
        derived = Scrypt(salt=_unb64(salt), length=len(expected), n=int(n), r=int(r),
                         p=int(p)).derive(password.encode())
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, expected)


def generate_password(length: int = 12) -> str:
    """A fresh admin password for a guest, as Nova makes one when none is given."""
    return secrets.token_urlsafe(length)[:length]
