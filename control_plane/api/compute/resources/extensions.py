"""/extensions: the v2.1 extension list clients still read (a fixed list, as Nova has it)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.faults import NotFound

_NAMESPACE = "http://docs.openstack.org/compute/ext/fake_xml"
_UPDATED = "2014-12-03T00:00:00Z"

# (alias, name, description), exactly as Nova lists them (doc/api_samples/all_extensions);
# v2 compatibility stubs have an empty description.
_EXTENSIONS: list[tuple[str, str, str]] = [
    ("NMN", "Multinic", "Multiple network support."),
    ("OS-DCF", "DiskConfig", "Disk Management Extension."),
    ("OS-EXT-AZ", "ExtendedAvailabilityZone", "Extended Availability Zone support."),
    ("OS-EXT-IMG-SIZE", "ImageSize", "Adds image size to image listings."),
    ("OS-EXT-IPS", "ExtendedIps", ""),
    ("OS-EXT-IPS-MAC", "ExtendedIpsMac", ""),
    ("OS-EXT-SRV-ATTR", "ExtendedServerAttributes", "Extended Server Attributes support."),
    ("OS-EXT-STS", "ExtendedStatus", ""),
    ("OS-FLV-DISABLED", "FlavorDisabled", ""),
    ("OS-FLV-EXT-DATA", "FlavorExtraData", ""),
    ("OS-SCH-HNT", "SchedulerHints", "Pass arbitrary key/value pairs to the scheduler."),
    ("OS-SRV-USG", "ServerUsage", "Adds launched_at and terminated_at on Servers."),
    ("os-access-ips", "AccessIPs", "Access IPs support."),
    ("os-admin-actions", "AdminActions",
     "Enable admin-only server actions\n\n    Actions include: resetNetwork, "
     "injectNetworkInfo, os-resetState\n    "),
    ("os-admin-password", "AdminPassword", "Admin password management support."),
    ("os-agents", "Agents", "Agents support."),
    ("os-aggregates", "Aggregates", "Admin-only aggregate administration."),
    ("os-assisted-volume-snapshots", "AssistedVolumeSnapshots", "Assisted volume snapshots."),
    ("os-attach-interfaces", "AttachInterfaces", "Attach interface support."),
    ("os-availability-zone", "AvailabilityZone",
     "1. Add availability_zone to the Create Server API.\n       2. Add availability "
     "zones describing.\n    "),
    ("os-baremetal-ext-status", "BareMetalExtStatus", ""),
    ("os-baremetal-nodes", "BareMetalNodes", "Admin-only bare-metal node administration."),
    ("os-block-device-mapping", "BlockDeviceMapping", "Block device mapping boot support."),
    ("os-block-device-mapping-v2-boot", "BlockDeviceMappingV2Boot", ""),
    ("os-cell-capacities", "CellCapacities", ""),
    ("os-cells", "Cells",
     "Enables cells-related functionality such as adding neighbor cells,\n    listing "
     "neighbor cells, and getting the capabilities of the local cell.\n    "),
    ("os-certificates", "Certificates", "Certificates support."),
    ("os-cloudpipe", "Cloudpipe",
     "Adds actions to create cloudpipe instances.\n\n    When running with the Vlan "
     "network mode, you need a mechanism to route\n    from the public Internet to "
     "your vlans.  This mechanism is known as a\n    cloudpipe.\n\n    At the time of "
     "creating this class, only OpenVPN is supported.  Support for\n    a SSH Bastion "
     "host is forthcoming.\n    "),
    ("os-cloudpipe-update", "CloudpipeUpdate", ""),
    ("os-config-drive", "ConfigDrive", "Config Drive Extension."),
    ("os-console-auth-tokens", "ConsoleAuthTokens", "Console token authentication support."),
    ("os-console-output", "ConsoleOutput", "Console log output support, with tailing ability."),
    ("os-consoles", "Consoles", "Interactive Console support."),
    ("os-create-backup", "CreateBackup", "Create a backup of a server."),
    ("os-create-server-ext", "Createserverext", ""),
    ("os-deferred-delete", "DeferredDelete", "Instance deferred delete."),
    ("os-evacuate", "Evacuate", "Enables server evacuation."),
    ("os-extended-evacuate-find-host", "ExtendedEvacuateFindHost", ""),
    ("os-extended-floating-ips", "ExtendedFloatingIps", ""),
    ("os-extended-hypervisors", "ExtendedHypervisors", ""),
    ("os-extended-networks", "ExtendedNetworks", ""),
    ("os-extended-quotas", "ExtendedQuotas", ""),
    ("os-extended-rescue-with-image", "ExtendedRescueWithImage", ""),
    ("os-extended-services", "ExtendedServices", ""),
    ("os-extended-services-delete", "ExtendedServicesDelete", ""),
    ("os-extended-status", "ExtendedStatus", "Extended Status support."),
    ("os-extended-volumes", "ExtendedVolumes", "Extended Volumes support."),
    ("os-fixed-ips", "FixedIPs", "Fixed IPs support."),
    ("os-flavor-access", "FlavorAccess", "Flavor access support."),
    ("os-flavor-extra-specs", "FlavorExtraSpecs", "Flavors extra specs support."),
    ("os-flavor-manage", "FlavorManage", "Flavor create/delete API support."),
    ("os-flavor-rxtx", "FlavorRxtx", "Support to show the rxtx status of a flavor."),
    ("os-flavor-swap", "FlavorSwap", ""),
    ("os-floating-ip-dns", "FloatingIpDns", "Floating IP DNS support."),
    ("os-floating-ip-pools", "FloatingIpPools", "Floating IPs support."),
    ("os-floating-ips", "FloatingIps", "Floating IPs support."),
    ("os-floating-ips-bulk", "FloatingIpsBulk", "Bulk handling of Floating IPs."),
    ("os-fping", "Fping", "Fping Management Extension."),
    ("os-hide-server-addresses", "HideServerAddresses",
     "Support hiding server addresses in certain states."),
    ("os-hosts", "Hosts", "Admin-only host administration."),
    ("os-hypervisor-status", "HypervisorStatus", ""),
    ("os-hypervisors", "Hypervisors", "Admin-only hypervisor administration."),
    ("os-instance-actions", "InstanceActions",
     "View a log of actions and events taken on an instance."),
    ("os-instance_usage_audit_log", "OSInstanceUsageAuditLog", "Admin-only Task Log Monitoring."),
    ("os-keypairs", "Keypairs", "Keypair Support."),
    ("os-lock-server", "LockServer", "Enable lock/unlock server actions."),
    ("os-migrate-server", "MigrateServer", "Enable migrate and live-migrate server actions."),
    ("os-migrations", "Migrations", "Provide data on migrations."),
    ("os-multiple-create", "MultipleCreate",
     "Allow multiple create in the Create Server v2.1 API."),
    ("os-networks", "Networks", "Admin-only Network Management Extension."),
    ("os-networks-associate", "NetworkAssociationSupport", "Network association support."),
    ("os-pause-server", "PauseServer", "Enable pause/unpause server actions."),
    ("os-personality", "Personality", "Personality support."),
    ("os-preserve-ephemeral-rebuild", "PreserveEphemeralOnRebuild",
     "Allow preservation of the ephemeral partition on rebuild."),
    ("os-quota-class-sets", "QuotaClasses", "Quota classes management support."),
    ("os-quota-sets", "Quotas", "Quotas management support."),
    ("os-rescue", "Rescue", "Instance rescue mode."),
    ("os-security-group-default-rules", "SecurityGroupDefaultRules",
     "Default rules for security group support."),
    ("os-security-groups", "SecurityGroups", "Security group support."),
    ("os-server-diagnostics", "ServerDiagnostics",
     "Allow Admins to view server diagnostics through server action."),
    ("os-server-external-events", "ServerExternalEvents", "Server External Event Triggers."),
    ("os-server-group-quotas", "ServerGroupQuotas", ""),
    ("os-server-groups", "ServerGroups", "Server group support."),
    ("os-server-list-multi-status", "ServerListMultiStatus", ""),
    ("os-server-password", "ServerPassword", "Server password support."),
    ("os-server-sort-keys", "ServerSortKeys", ""),
    ("os-server-start-stop", "ServerStartStop", ""),
    ("os-services", "Services", "Services support."),
    ("os-shelve", "Shelve", "Instance shelve mode."),
    ("os-simple-tenant-usage", "SimpleTenantUsage", "Simple tenant usage extension."),
    ("os-suspend-server", "SuspendServer", "Enable suspend/resume server actions."),
    ("os-tenant-networks", "OSTenantNetworks", "Tenant-based Network Management Extension."),
    ("os-used-limits", "UsedLimits", "Provide data on limited resources that are being used."),
    ("os-used-limits-for-admin", "UsedLimitsForAdmin", ""),
    ("os-user-data", "UserData", "Add user_data to the Create Server API."),
    ("os-user-quotas", "UserQuotas", ""),
    ("os-virtual-interfaces", "VirtualInterfaces", "Virtual interface support."),
    ("os-volume-attachment-update", "VolumeAttachmentUpdate", ""),
    ("os-volumes", "Volumes", "Volumes support."),
]


def _render(alias: str, name: str, description: str) -> dict[str, Any]:
    return {"alias": alias, "name": name, "description": description, "links": [],
            "namespace": _NAMESPACE, "updated": _UPDATED}


async def index(request: Request) -> Response:
    common.context(request)
    return common.JSON({"extensions": [_render(*e) for e in _EXTENSIONS]})


async def show(request: Request) -> Response:
    common.context(request)
    alias = request.path_params["alias"]
    for entry in _EXTENSIONS:
        if entry[0] == alias:
            return common.JSON({"extension": _render(*entry)})
    raise NotFound()


ROUTES: list[BaseRoute] = [
    P("/extensions", index, "GET", "os_compute_api:extensions"),
    P("/extensions/{alias}", show, "GET", "os_compute_api:extensions"),
]
