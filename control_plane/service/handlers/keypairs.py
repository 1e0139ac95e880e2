"""Keypair commands: create (generate or import) and delete."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from control_plane.api.faults import Conflict, NotFound, QuotaExceeded
from control_plane.context import RequestContext, now
from control_plane.domain.keypairs import commands as c
from control_plane.domain.keypairs import crypto as keypair_crypto
from control_plane.domain.keypairs.aggregate import Keypair
from control_plane.domain.reservations.aggregate import Reservation, reservation_id
from control_plane.service.deps import Deps
from control_plane.service.uow import UnitOfWork
from projections.keypairs import queries as keypair_queries


@dataclass(frozen=True)
class CreatedKeypair:
    public_key: str
    fingerprint: str
    private_key: str | None


async def create_keypair(deps: Deps, cmd: c.CreateKeypair, ctx: RequestContext
                         ) -> CreatedKeypair:
    # as Nova: the quota is checked before the key is generated or parsed
    limit = deps.settings.quotas["key_pairs"]
    if limit >= 0:
        async with deps.pool.acquire() as conn:
            used = await keypair_queries.count_of_user(conn, cmd.user_id)
        if used >= limit:
            raise QuotaExceeded("Quota exceeded, too many key pairs.")
    private_key = None
    if cmd.public_key is not None:
        public_key = cmd.public_key
        fingerprint = keypair_crypto.fingerprint(public_key, cmd.type)
    elif cmd.type == "x509":
        private_key, public_key, fingerprint = keypair_crypto.generate_x509(cmd.user_id)
    else:
        private_key, public_key, fingerprint = keypair_crypto.generate()

    async def work(uow: UnitOfWork) -> None:
        stream = uuid.uuid4()
        res = await uow.get(Reservation, reservation_id("keypair", cmd.user_id, cmd.name))
        if res is None:
            res = Reservation.open("keypair", [cmd.user_id, cmd.name], now())
            uow.add(res)
        if not res.claim(str(stream), now()):
            raise Conflict(f"Key pair '{cmd.name}' already exists.")
        uow.add(Keypair.create(
            stream, now(), name=cmd.name, user_id=cmd.user_id, project_id=ctx.project_id,
            public_key=public_key, fingerprint=fingerprint, type=cmd.type,
            generated=private_key is not None,
        ))
        await uow.commit(ctx.metadata())

    await deps.retrying(work)
    return CreatedKeypair(public_key, fingerprint, private_key)


async def delete_keypair(deps: Deps, cmd: c.DeleteKeypair, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        res = await uow.get(Reservation, reservation_id("keypair", cmd.user_id, cmd.name))
        if res is None or res.holder is None:
            raise NotFound(f"Keypair {cmd.name} not found for user {cmd.user_id}")
        keypair = await uow.get(Keypair, uuid.UUID(res.holder))
        assert keypair is not None
        keypair.delete(now())
        res.release(res.holder, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work)
