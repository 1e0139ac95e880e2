"""What every policy module shares: the check-string aliases of the base rules, the base
rules themselves, and the shape of a section of API rules.

A section is (name prefix, path root, rows); a row is (name suffix, check string,
operations). Operations are "METHOD rest" joined by "; ", where the path is root + rest
("POST /action (pause)" under root "/servers/{server_id}" is "POST
/servers/{server_id}/action (pause)"). An empty suffix names the prefix itself, without
its trailing ':'.
"""

from __future__ import annotations

# the check strings used below: aliases for the base rules registered in BASE_RULES
ADMIN = "rule:context_is_admin"
MANAGER = "rule:project_manager_or_admin"
MEMBER = "rule:project_member_or_admin"
READER = "rule:project_reader_or_admin"
SERVICE = "rule:service_or_admin"
ADMIN_API = "rule:admin_api"  # the legacy alias, for removed admin-only APIs
ANY = "@"
NOBODY = "!"

# (name, check string, description)
BASE_RULES: list[tuple[str, str, str]] = [
    ("context_is_admin", "role:admin",
     "Decides what is required for the 'is_admin:True' check to succeed."),
    # Nova says "is_admin:True"; the credentials' is_admin is "admin" in roles, so it is the same.
    ("admin_api", "role:admin", "Default rule for most Admin APIs (legacy)."),
    ("admin_or_owner", "is_admin:True or project_id:%(project_id)s",
     "Default rule for most non-Admin APIs (legacy)."),
    ("project_manager_api", "role:manager and project_id:%(project_id)s",
     "Default rule for Project level management APIs."),
    ("project_member_api", "role:member and project_id:%(project_id)s",
     "Default rule for Project level non admin APIs."),
    ("project_reader_api", "role:reader and project_id:%(project_id)s",
     "Default rule for Project level read only APIs."),
    ("service_api", "role:service", "Default rule for service-to-service APIs."),
    ("project_manager_or_admin", "rule:project_manager_api or rule:context_is_admin",
     "Default rule for Project Manager or admin APIs."),
    ("project_member_or_admin", "rule:project_member_api or rule:context_is_admin",
     "Default rule for Project Member or admin APIs."),
    ("project_reader_or_admin", "rule:project_reader_api or rule:context_is_admin",
     "Default rule for Project reader or admin APIs."),
    ("service_or_admin", "rule:service_api or rule:context_is_admin",
     "Default rule for service or admin APIs."),
]

Row = tuple[str, str, str]
Section = tuple[str, str, list[Row]]

SRV = "/servers/{server_id}"
