"""Policy defaults of /os-console-auth-tokens (Nova's console_auth_tokens.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, Section

SECTIONS: list[Section] = [
    ("os_compute_api:", "", [
        ("os-console-auth-tokens", ADMIN, "GET /os-console-auth-tokens/{console_token}"),
    ]),
]
