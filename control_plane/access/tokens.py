"""Keystone-style tokens: Fernet-encrypted payloads, never stored.

A token carries who (user), for what (project, or unscoped), how (methods), when
it was issued and when it expires, and an audit id. It is encrypted and signed
with Fernet (``cryptography``), so it is unguessable and needs no table; roles
are looked up when the token is used, so a revoked grant takes effect at once.
Revocation records the audit id (an event), and validation refuses it.

Keys: ``CONTROL_PLANE_TOKEN_KEYS`` (comma-separated Fernet keys, the first one
signs), else a key file in the data directory, created on first use. All API
processes of one cloud must share the keys.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import secrets
from dataclasses import dataclass

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from control_plane.store.db import DEFAULT_EMBEDDED_DIR

DEFAULT_TTL = dt.timedelta(hours=int(os.environ.get("CONTROL_PLANE_TOKEN_HOURS", "12")))


@dataclass(frozen=True)
class TokenPayload:
    user_id: str
    project_id: str | None
    methods: tuple[str, ...]
    issued_at: dt.datetime
    expires_at: dt.datetime
    audit_id: str

    @property
    def expired(self) -> bool:
        return dt.datetime.now(dt.UTC) >= self.expires_at


def _load_keys() -> list[bytes]:
    env = os.environ.get("CONTROL_PLANE_TOKEN_KEYS")
    if env:
        return [k.strip().encode() for k in env.split(",") if k.strip()]
    path = pathlib.Path(os.environ.get("CONTROL_PLANE_TOKEN_KEY_FILE",
                                       str(DEFAULT_EMBEDDED_DIR / "token.key")))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    return [path.read_bytes().strip()]


class TokenProvider:
    def __init__(self, keys: list[bytes] | None = None, ttl: dt.timedelta = DEFAULT_TTL) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in (keys or _load_keys())])
        self.ttl = ttl

    def issue(self, user_id: str, project_id: str | None, methods: tuple[str, ...],
              expires_at: dt.datetime | None = None, audit_id: str | None = None
              ) -> tuple[str, TokenPayload]:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        payload = TokenPayload(
            user_id=user_id, project_id=project_id, methods=methods, issued_at=now,
            expires_at=expires_at or now + self.ttl,
            audit_id=audit_id or secrets.token_urlsafe(16),
        )
        raw = orjson.dumps([payload.user_id, payload.project_id, list(payload.methods),
                            int(payload.issued_at.timestamp()),
                            int(payload.expires_at.timestamp()), payload.audit_id])
        return self._fernet.encrypt(raw).decode(), payload

    def decode(self, token: str) -> TokenPayload | None:
        """The payload of a genuine token (expired or not), or None."""
        try:
            user, project, methods, issued, expires, audit = orjson.loads(
                self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError, TypeError):
            return None
        return TokenPayload(
            user_id=user, project_id=project, methods=tuple(methods),
            issued_at=dt.datetime.fromtimestamp(issued, dt.UTC),
            expires_at=dt.datetime.fromtimestamp(expires, dt.UTC), audit_id=audit,
        )


_sealer: MultiFernet | None = None


def _box() -> MultiFernet:
    global _sealer
    if _sealer is None:
        _sealer = MultiFernet([Fernet(k) for k in _load_keys()])
    return _sealer


def seal(secret: str) -> str:
    """Encrypt a secret (an admin password on its way to a driver) for the event log:
    only holders of the deployment's keys can read it; rotating the keys away
    makes old ones unreadable (crypto-shredding)."""
    return _box().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    try:
        return _box().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
