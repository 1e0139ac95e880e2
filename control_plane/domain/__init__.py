"""Pure aggregates. Importing this package registers every event type by its stable name."""

from control_plane.domain import (  # noqa: F401 - they register their event types
    floating_ip,
    network,
    quota_usage,
    server_actions,
    server_network,
    server_power_sync,
    server_rebuild,
    server_resize,
    server_shelve,
    server_snapshot,
)
from control_plane.domain.flavor import Flavor
from control_plane.domain.host import ComputeHost
from control_plane.domain.identity import Project, RevokedToken, Role, User
from control_plane.domain.image import Image
from control_plane.domain.keypair import Keypair
from control_plane.domain.reservation import Reservation
from control_plane.domain.server import Server

__all__ = ["ComputeHost", "Flavor", "Image", "Keypair", "Project", "Reservation",
           "RevokedToken", "Role", "Server", "User"]
