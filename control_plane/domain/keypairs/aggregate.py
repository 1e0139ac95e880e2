"""The Keypair aggregate: a user's named SSH (or x509) public key."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate


class Keypair(Aggregate):
    TOPIC = "Keypair"

    class Created(Aggregate.Created):
        TOPIC = "KeypairCreated"
        name: str
        user_id: str
        project_id: str
        public_key: str
        fingerprint: str
        type: str
        generated: bool

        def apply(self, k: Keypair) -> None:
            k.name = self.name
            k.user_id = self.user_id
            k.deleted = False

    class Deleted(Aggregate.Event):
        TOPIC = "KeypairDeleted"

        def apply(self, k: Keypair) -> None:
            k.deleted = True

    name: str
    user_id: str
    deleted: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, stream_id: uuid.UUID, now: dt.datetime, **fields: Any) -> Keypair:
        return cls._create(cls.Created, id=stream_id, timestamp=now, **fields)

    def delete(self, now: dt.datetime) -> None:
        if not self.deleted:
            self.trigger_event(self.Deleted, timestamp=now)
