"""Settings, read once from the environment (CONTROL_PLANE_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_QUOTAS: dict[str, int] = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "metadata_items": 128,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "security_groups": 10,
    "security_group_rules": 20,
    "floating_ips": 10,
    "fixed_ips": -1,
    "server_groups": 10,
    "server_group_members": 10,
}


def _quotas_from_env() -> dict[str, int]:
    quotas = dict(DEFAULT_QUOTAS)
    for key in quotas:
        value = os.environ.get(f"CONTROL_PLANE_QUOTA_{key.upper()}")
        if value is not None:
            quotas[key] = int(value)
    return quotas


@dataclass
class Settings:
    quotas: dict[str, int] = field(default_factory=_quotas_from_env)
    max_body_bytes: int = int(os.environ.get("CONTROL_PLANE_MAX_BODY_BYTES", "114688"))
    max_limit: int = int(os.environ.get("CONTROL_PLANE_MAX_LIMIT", "1000"))
    default_availability_zone: str = "nova"
    region: str = "RegionOne"

