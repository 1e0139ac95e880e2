"""Read models built from the event log; every read endpoint is served from these."""

from projections.base import Projection
from projections.consoles.projection import ConsolesProjection
from projections.flavors.projection import FlavorsProjection
from projections.hosts.projection import HostsProjection
from projections.identity.projection import IdentityProjection
from projections.images.projection import ImagesProjection
from projections.instance_actions.projection import InstanceActionsProjection
from projections.keypairs.projection import KeypairsProjection
from projections.migrations.projection import MigrationsProjection
from projections.networks.projection import NetworksProjection
from projections.servers.projection import ServersProjection
from projections.volumes.projection import VolumesProjection


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
