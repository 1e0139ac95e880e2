"""/identity: the Keystone v3 subset that OpenStack clients and tempest use, as one
route table.

Version documents, token issue (password and token methods, project scope,
``nocatalog``), validation, revocation, and enough of users, projects, roles,
role assignments and domains for admin workflows; one module per resource beside this
one. Errors in Keystone's shape: ``{"error": {"code", "title", "message"}}``, and any
other path answers Keystone's 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from control_plane.api.faults import NotFound
from control_plane.api.identity import domains, projects, roles, tokens, users, versions
from control_plane.api.identity.keystone import keystone


@keystone
async def not_found(request: Request) -> Response:
    raise NotFound("The resource could not be found.")


def routes() -> list[BaseRoute]:
    R = Route
    return [
        R("/", versions.versions, methods=["GET"]),
        R("/v3", versions.version, methods=["GET"]),
        R("/v3/", versions.version, methods=["GET"]),
        R("/v3/auth/tokens", tokens.issue_token, methods=["POST"]),
        R("/v3/auth/tokens", tokens.check_token, methods=["GET", "HEAD"]),
        R("/v3/auth/tokens", tokens.revoke_token, methods=["DELETE"]),
        R("/v3/auth/projects", projects.of_user, methods=["GET"]),
        R("/v3/users", users.index, methods=["GET"]),
        R("/v3/users", users.create, methods=["POST"]),
        R("/v3/users/{user_id}", users.show, methods=["GET"]),
        R("/v3/users/{user_id}", users.update, methods=["PATCH"]),
        R("/v3/users/{user_id}", users.delete, methods=["DELETE"]),
        R("/v3/users/{user_id}/projects", projects.of_user, methods=["GET"]),
        R("/v3/projects", projects.index, methods=["GET"]),
        R("/v3/projects", projects.create, methods=["POST"]),
        R("/v3/projects/{project_id}", projects.show, methods=["GET"]),
        R("/v3/projects/{project_id}", projects.update, methods=["PATCH"]),
        R("/v3/projects/{project_id}", projects.delete, methods=["DELETE"]),
        R("/v3/projects/{project_id}/users/{user_id}/roles", roles.grant_list,
          methods=["GET"]),
        R("/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", roles.grant,
          methods=["GET", "HEAD", "PUT", "DELETE"]),
        R("/v3/roles", roles.index, methods=["GET"]),
        R("/v3/roles", roles.create, methods=["POST"]),
        R("/v3/roles/{role_id}", roles.show, methods=["GET"]),
        R("/v3/roles/{role_id}", roles.delete, methods=["DELETE"]),
        R("/v3/role_assignments", roles.assignments, methods=["GET"]),
        R("/v3/domains", domains.index, methods=["GET"]),
        R("/v3/domains/{domain_id}", domains.show, methods=["GET"]),
        R("/{path:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
