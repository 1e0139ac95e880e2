"""Reservations make natural keys unique (a flavor's id and name, a user's keypair name).

A reservation stream is keyed by the natural key; claiming it appends to that
stream with an expected version, so two racing creators cannot both win.
"""

from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.domain import Aggregate

from control_plane.domain.base import stable_id


def reservation_id(kind: str, *key: str) -> uuid.UUID:
    return stable_id("reservation", kind, *key)


class Reservation(Aggregate):
    TOPIC = "Reservation"

    class Created(Aggregate.Created):
        TOPIC = "ReservationOpened"
        kind: str
        key: list[str]

        def apply(self, r: Reservation) -> None:
            r.kind = self.kind
            r.key = list(self.key)
            r.holder = None

    class Claimed(Aggregate.Event):
        TOPIC = "ReservationClaimed"
        holder: str

        def apply(self, r: Reservation) -> None:
            r.holder = self.holder

    class Released(Aggregate.Event):
        TOPIC = "ReservationReleased"
        holder: str

        def apply(self, r: Reservation) -> None:
            r.holder = None

    kind: str
    key: list[str]
    holder: str | None

    def __init__(self) -> None:
        pass

    @classmethod
    def open(cls, kind: str, key: list[str], now: dt.datetime) -> Reservation:
        return cls._create(cls.Created, id=reservation_id(kind, *key), kind=kind, key=key,
                           timestamp=now)

    def claim(self, holder: str, now: dt.datetime) -> bool:
        """Claim for ``holder``; False if someone else holds it."""
        if self.holder is not None:
            return self.holder == holder
        self.trigger_event(self.Claimed, holder=holder, timestamp=now)
        return True

    def release(self, holder: str, now: dt.datetime) -> None:
        if self.holder == holder:
            self.trigger_event(self.Released, holder=holder, timestamp=now)
