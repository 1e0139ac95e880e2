"""Microversions: the one source of truth for the supported range, and negotiation.

History (what each version changed, for the resources served so far):
  2.1  the base v2.1 API
  2.2  keypairs: ``type`` (ssh/x509); keypair delete returns 204
  2.3  servers: extended OS-EXT-SRV-ATTR fields for admins; volumes delete_on_termination
  2.4  fixed IPs reserved flag
  2.5  server list: ``ip6`` filter for non-admins
  2.6  remote consoles API
  2.7  security group checks on private flavors
  2.8  MKS consoles
  2.9  servers: ``locked``
  2.10 keypairs: ``user_id`` for admins
  2.11 services: forced_down
  2.12 VIF net_id
  2.13 server groups: project_id and user_id
  2.14 evacuate: onSharedStorage removed
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from control_plane.api.faults import BadRequest, NotAcceptable

_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


@dataclass(frozen=True, order=True)
class APIVersion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> APIVersion:
        m = _FORMAT.match(text.strip())
        if not m:
            raise BadRequest(
                f"API Version String {text} is of invalid format. Must be of format "
                "MajorNum.MinorNum."
            )
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


MIN_VERSION = APIVersion(2, 1)
MAX_VERSION = APIVersion(2, 14)


def _from_standard_header(value: str) -> str | None:
    """The compute entry of ``OpenStack-API-Version: compute 2.5, volume 3.0``; None if
    the header names no compute version. An entry that is not ``<service> <version>``
    is malformed (400), as is a second compute entry."""
    found: str | None = None
    for item in value.split(","):
        if not item.strip():
            continue
        parts = item.split()
        if len(parts) != 2:
            raise BadRequest(f"Invalid OpenStack-API-Version header entry {item.strip()!r}: "
                             "expected '<service type> <version>', e.g. 'compute 2.1'.")
        if parts[0].lower() == "compute":
            if found is not None:
                raise BadRequest("OpenStack-API-Version names the compute version twice.")
            found = parts[1]
    return found


def negotiate(headers: dict[str, str]) -> APIVersion:
    """Pick the request's version from OpenStack-API-Version, then the legacy header.

    No version asked for means the minimum; ``latest`` the maximum; anything that is
    not ``Major.Minor`` is 400, a version outside the supported range 406 (as Nova)."""
    requested: str | None = None
    new = headers.get("openstack-api-version")
    if new is not None and new.strip():
        requested = _from_standard_header(new)
    if requested is None:
        legacy = headers.get("x-openstack-nova-api-version")
        requested = legacy if legacy is not None and legacy.strip() else None
    if requested is None:
        return MIN_VERSION
    if requested.strip().lower() == "latest":
        return MAX_VERSION
    version = APIVersion.parse(requested)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(
            f"Version {version} is not supported by the API. Minimum is {MIN_VERSION} and "
            f"maximum is {MAX_VERSION}."
        )
    return version
