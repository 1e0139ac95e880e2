"""The Image aggregate: an entry of the built-in image catalog and its metadata."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.errors import NotFound


class Image(Aggregate):
    TOPIC = "Image"

    class Created(Aggregate.Created):
        TOPIC = "ImageRegistered"
        name: str
        status: str
        disk_format: str
        container_format: str
        size: int
        min_ram: int
        min_disk: int
        visibility: str
        owner: str | None
        metadata: dict[str, str]
        server_id: str | None

        def apply(self, i: Image) -> None:
            i.name = self.name
            i.disk_format = self.disk_format
            i.metadata = dict(self.metadata)
            i.deleted = False
            i.status = self.status

    class MetadataSet(Aggregate.Event):
        TOPIC = "ImageMetadataSet"
        metadata: dict[str, str]
        replace: bool

        def apply(self, i: Image) -> None:
            if self.replace:
                i.metadata = dict(self.metadata)
            else:
                i.metadata.update(self.metadata)

    class MetadataItemDeleted(Aggregate.Event):
        TOPIC = "ImageMetadataItemDeleted"
        key: str

        def apply(self, i: Image) -> None:
            i.metadata.pop(self.key, None)

    class Activated(Aggregate.Event):
        """The image's data was uploaded (a server snapshot finished)."""

        TOPIC = "ImageActivated"
        size: int

        def apply(self, i: Image) -> None:
            i.status = "active"

    class Deleted(Aggregate.Event):
        TOPIC = "ImageDeleted"

        def apply(self, i: Image) -> None:
            i.deleted = True

    name: str
    metadata: dict[str, str]
    deleted: bool
    status: str
    disk_format: str

    def __init__(self) -> None:
        pass

    @classmethod
    def register_image(cls, image_id: uuid.UUID, now: dt.datetime, **fields: Any) -> Image:
        return cls._create(cls.Created, id=image_id, timestamp=now, **fields)

    def set_metadata(self, metadata: dict[str, str], replace: bool, now: dt.datetime) -> None:
        self.trigger_event(self.MetadataSet, metadata=metadata, replace=replace, timestamp=now)

    def delete_metadata_item(self, key: str, now: dt.datetime) -> None:
        if key not in self.metadata:
            raise NotFound("Invalid metadata key")
        self.trigger_event(self.MetadataItemDeleted, key=key, timestamp=now)

    def activate(self, size: int, now: dt.datetime) -> None:
        if self.status != "active" and not self.deleted:
            self.trigger_event(self.Activated, size=size, timestamp=now)

    def delete(self, now: dt.datetime) -> None:
        self.trigger_event(self.Deleted, timestamp=now)
