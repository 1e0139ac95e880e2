"""Settings, read once from the environment (CONTROL_PLANE_*)."""

from __future__ import annotations

import ipaddress
import os
import socket
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


# console type -> the URL users open (Nova's novncproxy_base_url, xvpvncproxy_base_url,
# [spice] html5proxy_base_url, [rdp] html5_proxy_base_url, [serial_console] base_url,
# [mks] mksproxy_base_url); CONTROL_PLANE_CONSOLE_URL_<TYPE> overrides each
DEFAULT_CONSOLE_URLS: dict[str, str] = {
    "novnc": "http://127.0.0.1:6080/vnc_auto.html",
    "xvpvnc": "http://127.0.0.1:6081/console",
    "spice-html5": "http://127.0.0.1:6082/spice_auto.html",
    "rdp-html5": "http://127.0.0.1:6083/",
    "serial": "ws://127.0.0.1:6083/",
    "webmks": "http://127.0.0.1:6090/",
}


def _console_urls_from_env() -> dict[str, str]:
    return {kind: os.environ.get(
        "CONTROL_PLANE_CONSOLE_URL_" + kind.upper().replace("-", "_"), url)
        for kind, url in DEFAULT_CONSOLE_URLS.items()}


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or networks (10.0.0.0/16, fd00::/64, 192.0.2.7)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in text.split(",") if part.strip())


@dataclass
class Settings:
    quotas: dict[str, int] = field(default_factory=_quotas_from_env)
    max_body_bytes: int = int(os.environ.get("CONTROL_PLANE_MAX_BODY_BYTES", "114688"))
    max_limit: int = int(os.environ.get("CONTROL_PLANE_MAX_LIMIT", "1000"))
    default_availability_zone: str = "nova"
    region: str = "RegionOne"
    # keystone (built-in identity), keystone-external, or noauth (development only)
    auth_strategy: str = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_AUTH_STRATEGY", "keystone"))
    keystone_url: str | None = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_KEYSTONE_URL"))
    keystone_service_token: str | None = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_KEYSTONE_SERVICE_TOKEN"))
    admin_user: str = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_ADMIN_USER", "admin"))
    admin_password: str = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_ADMIN_PASSWORD", "secret"))
    admin_project: str = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_ADMIN_PROJECT", "admin"))
    policy_file: str | None = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_POLICY_FILE"))
    bootstrap_file: str | None = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_BOOTSTRAP_FILE"))
    # Nova's compute options: seconds a soft-deleted server is kept (0: delete at once),
    # seconds before a resize is confirmed for the user (0: never), seconds before a
    # shelved server is offloaded (0: at once, -1: never); how often workers check.
    reclaim_instance_interval: int = field(
        default_factory=lambda: int(os.environ.get("CONTROL_PLANE_RECLAIM_INSTANCE_INTERVAL",
                                                   "0")))
    resize_confirm_window: int = field(
        default_factory=lambda: int(os.environ.get("CONTROL_PLANE_RESIZE_CONFIRM_WINDOW", "0")))
    shelved_offload_time: int = field(
        default_factory=lambda: int(os.environ.get("CONTROL_PLANE_SHELVED_OFFLOAD_TIME", "0")))
    # the metadata service trusts X-Instance-ID headers signed with this secret (Nova's
    # metadata_proxy_shared_secret), and knows a guest by the address it calls from only
    # when that address is in one of these networks (comma-separated; none by default)
    metadata_secret: str | None = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_METADATA_SECRET"))
    metadata_trusted_sources: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = \
        field(default_factory=lambda: parse_networks(
            os.environ.get("CONTROL_PLANE_METADATA_TRUSTED_SOURCES", "")))
    periodic_interval: float = field(
        default_factory=lambda: float(os.environ.get("CONTROL_PLANE_PERIODIC_INTERVAL", "5")))
    # how often a compute worker compares every guest's power state with its server's
    # (Nova's sync_power_state_interval; <= 0: never; guests that stop or die on their
    # own are noticed at once anyway where the driver sees it, as QEMU's monitor does)
    sync_power_state_interval: float = field(
        default_factory=lambda: float(os.environ.get(
            "CONTROL_PLANE_SYNC_POWER_STATE_INTERVAL", "60")))
    # consoles: seconds to wait for a compute worker's answer (console output, console
    # details, diagnostics); a console token's lifetime (Nova's [consoleauth] token_ttl);
    # the proxies' base URLs by console type; the XVP consoles' (os-consoles) address
    compute_rpc_timeout: float = field(
        default_factory=lambda: float(os.environ.get("CONTROL_PLANE_COMPUTE_RPC_TIMEOUT", "5")))
    console_token_ttl: int = field(
        default_factory=lambda: int(os.environ.get("CONTROL_PLANE_CONSOLE_TOKEN_TTL", "600")))
    console_base_urls: dict[str, str] = field(default_factory=_console_urls_from_env)
    console_public_hostname: str = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_CONSOLE_PUBLIC_HOSTNAME",
                                               socket.gethostname()))
    console_xvp_port: int = field(
        default_factory=lambda: int(os.environ.get("CONTROL_PLANE_CONSOLE_XVP_PORT", "5900")))
    # observability: who may read /metrics (public, admin: an admin's token, off); when
    # /readyz answers 503: a projection more than this many events behind (< 0: never),
    # or the database not answering within this many seconds
    metrics_access: str = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_METRICS_ACCESS", "public"))
    ready_max_lag: int = field(
        default_factory=lambda: int(os.environ.get("CONTROL_PLANE_READY_MAX_LAG", "1000")))
    ready_timeout: float = field(
        default_factory=lambda: float(os.environ.get("CONTROL_PLANE_READY_TIMEOUT", "2")))
    # a follower (scheduler, compute worker) whose liveness row is older than this many
    # seconds is down, and so are a compute worker's hosts (Nova's service_down_time)
    service_down_time: float = field(
        default_factory=lambda: float(os.environ.get("CONTROL_PLANE_SERVICE_DOWN_TIME", "60")))
    # links and version documents name these endpoints, not whatever Host a client sent
    # (Nova's compute_link_prefix, Glance's public_endpoint); unset: the request's own
    compute_link_prefix: str | None = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_COMPUTE_LINK_PREFIX") or None)
    image_public_endpoint: str | None = field(
        default_factory=lambda: os.environ.get("CONTROL_PLANE_IMAGE_PUBLIC_ENDPOINT") or None)

    def __post_init__(self) -> None:
        if self.auth_strategy not in ("keystone", "keystone-external", "noauth"):
            raise ValueError(f"unknown CONTROL_PLANE_AUTH_STRATEGY {self.auth_strategy!r}")
        if self.auth_strategy == "keystone-external" and not self.keystone_url:
            raise ValueError("keystone-external needs CONTROL_PLANE_KEYSTONE_URL")
        if self.metrics_access not in ("public", "admin", "off"):
            raise ValueError(f"unknown CONTROL_PLANE_METRICS_ACCESS {self.metrics_access!r}")

