"""Reads of the identity views: the only queries of users, projects, roles, role
assignments and revoked tokens outside the projection that writes them.

Token validation, the Keystone API and the bootstrap seeding all read through these
functions, so the tables' names and columns are known here and nowhere else. Each takes
the pool or a connection it is given; rows come back as plain dicts (or ``None``).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg

DB: TypeAlias = asyncpg.Pool | asyncpg.Connection

# One round trip answers everything validation needs: whether the identity projection
# is at the head of the log with no open dead letter (fail closed: a paused, lagging or
# dead-lettering projection would mean trusting stale grants, users and revocations;
# an operator's replay or skip of the dead letter opens it again), whether the token was
# revoked, its user, its project, the user's roles there, and the ids of the implied roles.
_TOKEN_FACTS = """
SELECT
  (SELECT t.position >= h.position AND NOT t.paused FROM tracking t, event_head h
    WHERE t.name = 'projection:identity')
  AND NOT EXISTS (SELECT 1 FROM dead_letters WHERE consumer = 'projection:identity'
                  AND status = 'failed') AS fresh,
  EXISTS (SELECT 1 FROM v_revoked_tokens WHERE audit_id = $1) AS revoked,
  (SELECT row_to_json(u) FROM v_users u WHERE id = $2) AS usr,
  (SELECT row_to_json(p) FROM v_projects p WHERE id = $3) AS prj,
  (SELECT coalesce(json_agg(json_build_array(r.id, r.name) ORDER BY r.name), '[]')
     FROM v_assignments a JOIN v_roles r ON r.id = a.role_id
    WHERE a.user_id = $2 AND a.project_id = $3) AS assigned,
  (SELECT coalesce(json_object_agg(name, id), '{}') FROM v_roles
    WHERE name = any($4::text[])) AS implied
"""


async def token_facts(db: DB, audit_id: str, user_id: str, project_id: str | None,
                      implied_roles: list[str]) -> asyncpg.Record:
    """What a token's validation needs, in one row: ``fresh`` (the views are at the head
    of the log), ``revoked``, ``usr`` and ``prj`` (JSON rows or null), ``assigned``
    ([[role id, name], ...] of the user on the project) and ``implied`` (name -> id of
    the ``implied_roles`` that exist)."""
    row: asyncpg.Record = await db.fetchrow(_TOKEN_FACTS, audit_id, user_id, project_id,
                                            implied_roles)
    return row


def _dict(row: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(row) if row is not None else None


def _dicts(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]


def _where(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """``col = $n AND ...`` over the given column filters (``true`` when none)."""
    where = [f"{column} = ${n}" for n, column in enumerate(filters, start=1)]
    return " AND ".join(where) or "true", list(filters.values())


# -- users ------------------------------------------------------------------------------

async def user(db: DB, user_id: str) -> dict[str, Any] | None:
    return _dict(await db.fetchrow("SELECT * FROM v_users WHERE id = $1", user_id))


async def user_named(db: DB, name: str | None, domain_id: str) -> dict[str, Any] | None:
    return _dict(await db.fetchrow(
        "SELECT * FROM v_users WHERE name = $1 AND domain_id = $2", name, domain_id))


async def users(db: DB, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Users matching every column filter (name, domain_id, enabled), by name."""
    where, args = _where(filters)
    return _dicts(await db.fetch(f"SELECT * FROM v_users WHERE {where} ORDER BY name", *args))


# -- projects ---------------------------------------------------------------------------

async def project(db: DB, project_id: str) -> dict[str, Any] | None:
    return _dict(await db.fetchrow("SELECT * FROM v_projects WHERE id = $1", project_id))


async def project_named(db: DB, name: str | None, domain_id: str) -> dict[str, Any] | None:
    return _dict(await db.fetchrow(
        "SELECT * FROM v_projects WHERE name = $1 AND domain_id = $2", name, domain_id))


async def projects(db: DB, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Projects matching every column filter (name, domain_id, enabled), by name."""
    where, args = _where(filters)
    return _dicts(await db.fetch(f"SELECT * FROM v_projects WHERE {where} ORDER BY name",
                                 *args))


async def projects_of_user(db: DB, user_id: str) -> list[dict[str, Any]]:
    """The projects where the user holds any role, by name."""
    return _dicts(await db.fetch(
        "SELECT DISTINCT p.* FROM v_projects p JOIN v_assignments a"
        " ON a.project_id = p.id WHERE a.user_id = $1 ORDER BY p.name", user_id))


# -- roles and assignments --------------------------------------------------------------

async def role(db: DB, role_id: str) -> dict[str, Any] | None:
    return _dict(await db.fetchrow("SELECT * FROM v_roles WHERE id = $1", role_id))


async def roles(db: DB, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Roles matching every column filter (name), by name."""
    where, args = _where(filters)
    return _dicts(await db.fetch(f"SELECT * FROM v_roles WHERE {where} ORDER BY name", *args))


async def role_ids(db: DB, names: list[str] | None = None) -> dict[str, str]:
    """Role name -> id, of the roles ``names`` (of every role when None)."""
    if names is None:
        rows = await db.fetch("SELECT id, name FROM v_roles")
    else:
        rows = await db.fetch("SELECT id, name FROM v_roles WHERE name = any($1)", names)
    return {r["name"]: r["id"] for r in rows}


async def roles_on_project(db: DB, user_id: str, project_id: str) -> list[dict[str, Any]]:
    """The roles granted to the user on the project, by name (whole rows)."""
    return _dicts(await db.fetch(
        "SELECT r.* FROM v_assignments a JOIN v_roles r ON r.id = a.role_id"
        " WHERE a.project_id = $1 AND a.user_id = $2 ORDER BY r.name", project_id, user_id))


async def is_granted(db: DB, project_id: str, user_id: str, role_id: str) -> bool:
    row = await db.fetchrow("SELECT 1 FROM v_assignments WHERE project_id = $1 AND"
                            " user_id = $2 AND role_id = $3", project_id, user_id, role_id)
    return row is not None


async def assignments(db: DB, user_id: str | None = None, project_id: str | None = None,
                      role_id: str | None = None) -> list[dict[str, Any]]:
    """Role assignments (with ``role_name``), narrowed by whichever ids are given, by
    project, user and role name."""
    given = {"a.user_id": user_id, "a.project_id": project_id, "a.role_id": role_id}
    where, args = _where({k: v for k, v in given.items() if v is not None})
    return _dicts(await db.fetch(
        "SELECT a.*, r.name AS role_name FROM v_assignments a JOIN v_roles r"
        f" ON r.id = a.role_id WHERE {where}"
        " ORDER BY a.project_id, a.user_id, r.name", *args))
