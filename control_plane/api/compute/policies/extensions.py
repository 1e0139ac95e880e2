"""Policy defaults of /extensions (Nova's extensions.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ANY, Section

SECTIONS: list[Section] = [
    ("os_compute_api:", "", [
        ("extensions", ANY, "GET /extensions; GET /extensions/{alias}"),
    ]),
]
