"""Identity commands: users, projects, roles, role grants, token revocation."""

from __future__ import annotations

import uuid
from typing import TypeVar

from eventsourcing.domain import Aggregate

from control_plane.access.passwords import hash_password
from control_plane.api.faults import Conflict, NotFound
from control_plane.context import RequestContext, now
from control_plane.domain.base import stable_id
from control_plane.domain.identity import commands as c
from control_plane.domain.identity.aggregate import Project, RevokedToken, Role, User
from control_plane.domain.reservations.aggregate import Reservation, reservation_id
from control_plane.service.deps import Deps
from control_plane.service.uow import UnitOfWork
from control_plane.store.eventstore import ConcurrencyError

A = TypeVar("A", bound=Aggregate)


def _stream(hex_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(hex_id)
    except ValueError:
        raise NotFound(f"Could not find: {hex_id}.") from None


async def _load(uow: UnitOfWork, cls: type[A], hex_id: str, kind: str) -> A:
    agg = await uow.get(cls, _stream(hex_id))
    if agg is None or getattr(agg, "deleted", False):
        raise NotFound(f"Could not find {kind}: {hex_id}.")
    return agg


async def _claim(uow: UnitOfWork, kind: str, key: list[str], holder: str, what: str) -> None:
    res = await uow.get(Reservation, reservation_id(kind, *key))
    if res is None:
        res = Reservation.open(kind, key, now())
        uow.add(res)
    if not res.claim(holder, now()):
        raise Conflict(f"Conflict occurred attempting to store {what} - Duplicate entry found "
                       f"with name {key[-1]}.")


async def _release(uow: UnitOfWork, kind: str, key: list[str], holder: str) -> None:
    res = await uow.get(Reservation, reservation_id(kind, *key))
    if res is not None:
        res.release(holder, now())


async def _rename(uow: UnitOfWork, kind: str, domain: str, old: str, new: str | None,
                  holder: str, what: str) -> None:
    """Move a name reservation when a user or project is renamed."""
    if new is not None and new != old:
        await _claim(uow, kind, [domain, new], holder, what)
        await _release(uow, kind, [domain, old], holder)


async def create_user(deps: Deps, cmd: c.CreateUser, ctx: RequestContext) -> str:
    user_id = uuid.UUID(cmd.user_id) if cmd.user_id else uuid.uuid4()

    async def work(uow: UnitOfWork) -> str:
        await _claim(uow, "user-name", [cmd.domain_id, cmd.name], user_id.hex, "user")
        uow.add(User.create(
            user_id, now(), name=cmd.name, domain_id=cmd.domain_id,
            password_hash=hash_password(cmd.password) if cmd.password is not None else None,
            enabled=cmd.enabled, email=cmd.email, description=cmd.description,
            default_project_id=cmd.default_project_id))
        await uow.commit(ctx.metadata())
        return user_id.hex

    return await deps.retrying(work)


async def update_user(deps: Deps, cmd: c.UpdateUser, ctx: RequestContext) -> None:
    password_hash = hash_password(cmd.password) if cmd.password is not None else None

    async def work(uow: UnitOfWork) -> None:
        user = await _load(uow, User, cmd.user_id, "user")
        await _rename(uow, "user-name", user.domain_id, user.name, cmd.changes.get("name"),
                      cmd.user_id, "user")
        user.update(dict(cmd.changes), now())
        if password_hash is not None:
            user.change_password(password_hash, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.user_id)


async def delete_user(deps: Deps, cmd: c.DeleteUser, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        user = await _load(uow, User, cmd.user_id, "user")
        user.delete(now())
        await _release(uow, "user-name", [user.domain_id, user.name], cmd.user_id)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.user_id)


async def create_project(deps: Deps, cmd: c.CreateProject, ctx: RequestContext) -> str:
    project_id = uuid.UUID(cmd.project_id) if cmd.project_id else uuid.uuid4()

    async def work(uow: UnitOfWork) -> str:
        await _claim(uow, "project-name", [cmd.domain_id, cmd.name], project_id.hex, "project")
        uow.add(Project.create(project_id, now(), name=cmd.name, domain_id=cmd.domain_id,
                               description=cmd.description, enabled=cmd.enabled))
        await uow.commit(ctx.metadata())
        return project_id.hex

    return await deps.retrying(work)


async def update_project(deps: Deps, cmd: c.UpdateProject, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        project = await _load(uow, Project, cmd.project_id, "project")
        await _rename(uow, "project-name", project.domain_id, project.name,
                      cmd.changes.get("name"), cmd.project_id, "project")
        project.update(dict(cmd.changes), now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.project_id)


async def delete_project(deps: Deps, cmd: c.DeleteProject, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        project = await _load(uow, Project, cmd.project_id, "project")
        project.delete(now())
        await _release(uow, "project-name", [project.domain_id, project.name], cmd.project_id)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.project_id)


async def create_role(deps: Deps, cmd: c.CreateRole, ctx: RequestContext) -> str:
    role_id = uuid.uuid4()

    async def work(uow: UnitOfWork) -> str:
        await _claim(uow, "role-name", [cmd.name], role_id.hex, "role")
        uow.add(Role.create(role_id, now(), name=cmd.name, description=cmd.description))
        await uow.commit(ctx.metadata())
        return role_id.hex

    return await deps.retrying(work)


async def delete_role(deps: Deps, cmd: c.DeleteRole, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        role = await _load(uow, Role, cmd.role_id, "role")
        role.delete(now())
        await _release(uow, "role-name", [role.name], cmd.role_id)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.role_id)


async def grant_role(deps: Deps, cmd: c.GrantRole, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        project = await _load(uow, Project, cmd.project_id, "project")
        await _load(uow, User, cmd.user_id, "user")
        await _load(uow, Role, cmd.role_id, "role")
        project.grant(cmd.user_id, cmd.role_id, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.project_id)


async def revoke_role(deps: Deps, cmd: c.RevokeRole, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        project = await _load(uow, Project, cmd.project_id, "project")
        project.revoke(cmd.user_id, cmd.role_id, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.project_id)


async def revoke_token(deps: Deps, cmd: c.RevokeToken, ctx: RequestContext) -> None:
    uow = deps.unit_of_work()
    uow.add(RevokedToken.revoke(stable_id("revoked-token", cmd.audit_id), now(),
                                audit_id=cmd.audit_id, user_id=cmd.user_id,
                                expires_at=cmd.expires_at))
    try:
        await uow.commit(ctx.metadata())
    except ConcurrencyError:
        pass  # revoked already
