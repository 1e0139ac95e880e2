"""Read models built from the event log; every read endpoint is served from these."""

from projections.base import Projection
from projections.consoles import ConsolesProjection
from projections.flavors import FlavorsProjection
from projections.hosts import HostsProjection
from projections.identity import IdentityProjection
from projections.images import ImagesProjection
from projections.instance_actions import InstanceActionsProjection
from projections.keypairs import KeypairsProjection
from projections.migrations import MigrationsProjection
from projections.networks import NetworksProjection
from projections.servers import ServersProjection
from projections.volumes import VolumesProjection


def all_projections() -> list[Projection]:
    return [
        ServersProjection(),
        FlavorsProjection(),
        KeypairsProjection(),
        ImagesProjection(),
        HostsProjection(),
        InstanceActionsProjection(),
        IdentityProjection(),
        MigrationsProjection(),
        VolumesProjection(),
        ConsolesProjection(),
        NetworksProjection(),
    ]


__all__ = ["Projection", "all_projections"]
