"""Every event type of the domain, listed once, by aggregate package.

An event's stable type name (``TOPIC``) and schema version (``class_version``) sit on
its class; this module is the one list of those classes. The event store's codec
(``control_plane.store.event_codec``) turns a stored type name back into its class
here, so an event type that is not listed cannot be read: adding an event means
adding it to its package's tuple below. Nothing registers itself on import; the
list is checked when this module is loaded (a duplicate type name fails at once).

``install()`` hands the event classes to the eventsourcing library's topic cache,
which its aggregates check when they trigger an event; it is called from one place
(``event_codec.install``, which bootstrap and the codec's callers use).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import register_topic

from control_plane.domain.consoles.aggregate import ConsoleAuthorization, XvpConsole
from control_plane.domain.flavors.aggregate import Flavor
from control_plane.domain.hosts.aggregate import ComputeHost
from control_plane.domain.identity.aggregate import Project, RevokedToken, Role, User
from control_plane.domain.images.aggregate import Image
from control_plane.domain.keypairs.aggregate import Keypair
from control_plane.domain.networks.aggregate import Network
from control_plane.domain.networks.floating_ips import FloatingIpPool
from control_plane.domain.quotas.usage import ProjectUsage
from control_plane.domain.reservations.aggregate import Reservation
from control_plane.domain.servers import deletion as sd
from control_plane.domain.servers import moves as sm
from control_plane.domain.servers import network_events as sn
from control_plane.domain.servers import power_sync as sp
from control_plane.domain.servers import rebuild as sb
from control_plane.domain.servers import rescue as sr
from control_plane.domain.servers import resize as sz
from control_plane.domain.servers import shelve as sh
from control_plane.domain.servers import simple_actions as sa
from control_plane.domain.servers import snapshot as ss
from control_plane.domain.servers import volume_attachments as sv
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.volumes.aggregate import Volume, VolumeSnapshot

# aggregates, by their stream's stable type name
AGGREGATES: tuple[type[Any], ...] = (
    ComputeHost, ConsoleAuthorization, Flavor, FloatingIpPool, Image, Keypair, Network,
    Project, ProjectUsage, Reservation, RevokedToken, Role, Server, User, Volume,
    VolumeSnapshot, XvpConsole)

CONSOLES = (ConsoleAuthorization.Created, XvpConsole.Created, XvpConsole.Reopened,
            XvpConsole.Deleted)
FLAVORS = (Flavor.Created, Flavor.ExtraSpecsSet, Flavor.ExtraSpecDeleted, Flavor.AccessAdded,
           Flavor.AccessRemoved, Flavor.Deleted)
HOSTS = (ComputeHost.Created, ComputeHost.Reconfigured, ComputeHost.ResourcesClaimed,
         ComputeHost.ResourcesReleased)
IDENTITY = (User.Created, User.Updated, User.PasswordChanged, User.Deleted,
            Project.Created, Project.Updated, Project.RoleGranted, Project.RoleRevoked,
            Project.Deleted, Role.Created, Role.Deleted, RevokedToken.Created)
IMAGES = (Image.Created, Image.MetadataSet, Image.MetadataItemDeleted, Image.Activated,
          Image.Deleted)
KEYPAIRS = (Keypair.Created, Keypair.Deleted)
NETWORKS = (Network.Created, Network.PortsAllocated, Network.FixedIpAdded,
            Network.FixedIpReleased, Network.PortsReleased,
            FloatingIpPool.Created, FloatingIpPool.Associated, FloatingIpPool.Disassociated)
QUOTAS = (ProjectUsage.Created, ProjectUsage.Claimed, ProjectUsage.Released)
RESERVATIONS = (Reservation.Created, Reservation.Claimed, Reservation.Released)
SERVERS = (
    Server.Created, Server.Scheduled, Server.SchedulingFailed, Server.Spawned,
    Server.BuildFailed, Server.Updated, Server.StopRequested, Server.Stopped,
    Server.StartRequested, Server.Started, Server.RebootRequested, Server.Rebooted,
    Server.ActionFailed, Server.Locked, Server.Unlocked, Server.StateReset,
    Server.MetadataSet, Server.MetadataItemDeleted, Server.SecurityGroupAdded,
    Server.SecurityGroupRemoved, Server.DeleteRequested, Server.Deleted,
    *sa.EVENTS, *sb.EVENTS, *sz.EVENTS, *sh.EVENTS, *ss.EVENTS,
    sm.MigrateRequested, sm.LiveMigrationStarted, sm.LiveMigrated, sm.LiveMigrationFailed,
    sm.EvacuationStarted, sm.Evacuated, sm.EvacuationFailed,
    sd.SoftDeleteRequested, sd.SoftDeleted, sd.RestoreRequested, sd.Restored,
    sr.RescueRequested, sr.Rescued, sr.UnrescueRequested, sr.Unrescued,
    sr.PasswordChangeRequested, sr.PasswordChanged, sr.PasswordSet, sr.PasswordCleared,
    sn.NetworkAllocated, sn.InterfaceAttachRequested, sn.InterfaceAttached,
    sn.InterfaceAttachFailed, sn.InterfaceDetachRequested, sn.InterfaceDetached,
    sn.InterfaceDetachFailed, sn.FixedIpAdded, sn.FixedIpRemoved, sn.FloatingIpAssociated,
    sn.FloatingIpDisassociated, sn.NetworkInfoInjectRequested, sn.NetworkResetRequested,
    sn.NetworkReleased,
    sv.AttachRequested, sv.Attached, sv.AttachFailed, sv.DetachRequested, sv.Detached,
    sv.DetachFailed, sv.SwapRequested, sv.Swapped, sv.SwapFailed, sv.Released,
    sp.PowerStateSynced)
VOLUMES = (Volume.Created, Volume.Provisioned, Volume.Attaching, Volume.Attached,
           Volume.AttachAborted, Volume.Detaching, Volume.Detached, Volume.DetachAborted,
           Volume.DeleteRequested, Volume.Deleted,
           VolumeSnapshot.Created, VolumeSnapshot.Provisioned, VolumeSnapshot.DeleteRequested,
           VolumeSnapshot.Deleted)

EVENTS: tuple[type[Any], ...] = (*CONSOLES, *FLAVORS, *HOSTS, *IDENTITY, *IMAGES, *KEYPAIRS,
                                 *NETWORKS, *QUOTAS, *RESERVATIONS, *SERVERS, *VOLUMES)


def _by_topic(classes: tuple[type[Any], ...]) -> dict[str, type[Any]]:
    out: dict[str, type[Any]] = {}
    for cls in classes:
        topic = getattr(cls, "TOPIC", None)
        if not topic:
            raise TypeError(f"{cls.__qualname__} declares no TOPIC")
        if topic in out:
            raise TypeError(f"event type {topic!r} is declared twice: by "
                            f"{out[topic].__qualname__} and {cls.__qualname__}")
        out[topic] = cls
    return out


EVENT_TYPES: dict[str, type[Any]] = _by_topic(EVENTS)
_AGGREGATE_TYPES = _by_topic(AGGREGATES)


def event_class(topic: str) -> type[Any]:
    """The event class stored under ``topic`` (KeyError names an unknown type)."""
    try:
        return EVENT_TYPES[topic]
    except KeyError:
        raise KeyError(f"unknown event type {topic!r} (not in control_plane.domain.registry)"
                       ) from None


def known(topic: str) -> type[Any] | None:
    return EVENT_TYPES.get(topic)


def events_of(aggregate: type[Any]) -> tuple[str, ...]:
    """The stored type names of the events on an aggregate's streams."""
    return tuple(t for t, cls in EVENT_TYPES.items() if issubclass(cls, aggregate.Event))


_installed = False


def install() -> None:
    """Hand every aggregate and event class to the eventsourcing library's topic cache
    (idempotent). Its aggregates refuse to trigger an event whose topic is not there."""
    global _installed
    if _installed:
        return
    for topic, cls in (*_AGGREGATE_TYPES.items(), *EVENT_TYPES.items()):
        register_topic(topic, cls)
    _installed = True
