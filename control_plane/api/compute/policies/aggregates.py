"""Policy defaults of os-aggregates: host aggregates (not served yet; Nova's aggregates.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, Section

SECTIONS: list[Section] = [
    # rules Nova names outside the os_compute_api: namespace
    ("", "", [
        ("compute:aggregates:images", ADMIN, "POST /os-aggregates/{aggregate_id}/images"),
    ]),
    ("os_compute_api:os-aggregates:", "/os-aggregates", [
        ("index", ADMIN, "GET"),
        ("create", ADMIN, "POST"),
        ("show", ADMIN, "GET /{aggregate_id}"),
        ("update", ADMIN, "PUT /{aggregate_id}"),
        ("delete", ADMIN, "DELETE /{aggregate_id}"),
        ("add_host", ADMIN, "POST /{aggregate_id}/action (add_host)"),
        ("remove_host", ADMIN, "POST /{aggregate_id}/action (remove_host)"),
        ("set_metadata", ADMIN, "POST /{aggregate_id}/action (set_metadata)"),
    ]),
]
