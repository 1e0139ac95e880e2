"""The Flavor aggregate: a hardware template, its extra specs and its access list."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.errors import Conflict, NotFound


class Flavor(Aggregate):
    TOPIC = "Flavor"

    class Created(Aggregate.Created):
        TOPIC = "FlavorCreated"
        flavorid: str
        name: str
        ram: int
        vcpus: int
        disk: int
        ephemeral: int
        swap: int
        rxtx_factor: float
        is_public: bool
        disabled: bool
        description: str | None

        def apply(self, f: Flavor) -> None:
            f.flavorid = self.flavorid
            f.name = self.name
            f.is_public = self.is_public
            f.extra_specs = {}
            f.projects = set()
            f.deleted = False

    class ExtraSpecsSet(Aggregate.Event):
        TOPIC = "FlavorExtraSpecsSet"
        specs: dict[str, str]

        def apply(self, f: Flavor) -> None:
            f.extra_specs.update(self.specs)

    class ExtraSpecDeleted(Aggregate.Event):
        TOPIC = "FlavorExtraSpecDeleted"
        key: str

        def apply(self, f: Flavor) -> None:
            f.extra_specs.pop(self.key, None)

    class AccessAdded(Aggregate.Event):
        TOPIC = "FlavorAccessAdded"
        project_id: str

        def apply(self, f: Flavor) -> None:
            f.projects.add(self.project_id)

    class AccessRemoved(Aggregate.Event):
        TOPIC = "FlavorAccessRemoved"
        project_id: str

        def apply(self, f: Flavor) -> None:
            f.projects.discard(self.project_id)

    class Deleted(Aggregate.Event):
        TOPIC = "FlavorDeleted"

        def apply(self, f: Flavor) -> None:
            f.deleted = True

    flavorid: str
    name: str
    is_public: bool
    extra_specs: dict[str, str]
    projects: set[str]
    deleted: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, stream_id: uuid.UUID, now: dt.datetime, **fields: Any) -> Flavor:
        return cls._create(cls.Created, id=stream_id, timestamp=now, **fields)

    def set_extra_specs(self, specs: dict[str, str], now: dt.datetime) -> None:
        self.trigger_event(self.ExtraSpecsSet, specs=specs, timestamp=now)

    def delete_extra_spec(self, key: str, now: dt.datetime) -> None:
        if key not in self.extra_specs:
            raise NotFound(f"Flavor {self.flavorid} has no extra specs with key {key}.")
        self.trigger_event(self.ExtraSpecDeleted, key=key, timestamp=now)

    def add_access(self, project_id: str, now: dt.datetime, public_allowed: bool = False
                   ) -> None:
        if self.is_public and not public_allowed:
            raise Conflict("Can not add access to a public flavor.")
        if project_id in self.projects:
            raise Conflict(
                f"Flavor access already exists for flavor {self.flavorid} and project "
                f"{project_id} combination."
            )
        self.trigger_event(self.AccessAdded, project_id=project_id, timestamp=now)

    def remove_access(self, project_id: str, now: dt.datetime) -> None:
        if project_id not in self.projects:
            raise NotFound(
                f"Flavor access not found for {self.flavorid} / {project_id} combination."
            )
        self.trigger_event(self.AccessRemoved, project_id=project_id, timestamp=now)

    def delete(self, now: dt.datetime) -> None:
        self.trigger_event(self.Deleted, timestamp=now)
