"""Pure aggregates. Importing this package registers every event type by its stable name."""

from control_plane.domain.flavors.aggregate import Flavor
from control_plane.domain.hosts.aggregate import ComputeHost
from control_plane.domain.identity.aggregate import Project, RevokedToken, Role, User
from control_plane.domain.images.aggregate import Image
from control_plane.domain.keypairs.aggregate import Keypair
from control_plane.domain.networks import aggregate as network  # noqa: F401
from control_plane.domain.networks import floating_ips as floating_ip  # noqa: F401
from control_plane.domain.quotas import usage as quota_usage  # noqa: F401
from control_plane.domain.reservations.aggregate import Reservation
from control_plane.domain.servers import network as server_network  # noqa: F401
from control_plane.domain.servers import power_sync as server_power_sync  # noqa: F401
from control_plane.domain.servers import rebuild as server_rebuild  # noqa: F401
from control_plane.domain.servers import resize as server_resize  # noqa: F401
from control_plane.domain.servers import shelve as server_shelve  # noqa: F401
from control_plane.domain.servers import simple_actions as server_actions  # noqa: F401
from control_plane.domain.servers import snapshot as server_snapshot  # noqa: F401
from control_plane.domain.servers.aggregate import Server

__all__ = ["ComputeHost", "Flavor", "Image", "Keypair", "Project", "Reservation",
           "RevokedToken", "Role", "Server", "User"]
