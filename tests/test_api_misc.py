"""Versions, extensions, limits, microversion negotiation and request plumbing over HTTP."""

from __future__ import annotations

import httpx
import orjson
import pytest

from control_plane.bootstrap import System
from tests.conftest import Api, assert_error

ABSOLUTE_KEYS = {
    "maxImageMeta", "maxPersonality", "maxPersonalitySize", "maxSecurityGroupRules",
    "maxSecurityGroups", "maxServerMeta", "maxTotalCores", "maxTotalFloatingIps",
    "maxTotalInstances", "maxTotalKeypairs", "maxTotalRAMSize", "maxServerGroups",
    "maxServerGroupMembers", "totalCoresUsed", "totalInstancesUsed", "totalRAMUsed",
    "totalSecurityGroupsUsed", "totalFloatingIpsUsed", "totalServerGroupsUsed",
}
V21_ENTRY = {"id": "v2.1", "status": "CURRENT", "version": "2.14", "min_version": "2.1",
             "updated": "2013-07-23T11:33:21Z"}
V20_ENTRY = {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
             "updated": "2011-01-21T11:33:21Z"}
MEDIA_TYPES = [{"base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1"}]




# -- version documents --------------------------------------------------------------------------


async def test_root_lists_versions(http: httpx.AsyncClient) -> None:
    r = await http.get("/")  # no credentials needed
    assert r.status_code == 200
    assert r.json() == {"versions": [
        {**V20_ENTRY, "links": [{"rel": "self", "href": "http://testserver/v2/"}]},
        {**V21_ENTRY, "links": [{"rel": "self", "href": "http://testserver/v2.1/"}]},
    ]}
    for entry in r.json()["versions"]:
        assert set(entry) == {"id", "status", "version", "min_version", "updated", "links"}


@pytest.mark.parametrize("path", ["/v2.1", "/v2.1/"])
async def test_v21_version_document(api: Api, path: str) -> None:
    r = await api.http.get(path, headers=api.headers())
    assert r.status_code == 200
    assert r.json() == {"version": {
        **V21_ENTRY,
        "links": [{"rel": "self", "href": "http://testserver/v2.1/"},
                  {"rel": "describedby", "type": "text/html",
                   "href": "http://docs.openstack.org/"}],
        "media-types": MEDIA_TYPES,
    }}


async def test_compute_prefix(api: Api, http: httpx.AsyncClient) -> None:
    r = await http.get("/compute/")
    assert r.status_code == 200
    assert [v["links"][0]["href"] for v in r.json()["versions"]] == [
        "http://testserver/compute/v2/", "http://testserver/compute/v2.1/"]
    r = await http.get("/compute/v2.1/")
    assert r.status_code == 200
    assert r.json()["version"]["links"][0]["href"] == "http://testserver/compute/v2.1/"
    r = await http.get("/compute/v2.1/flavors/1", headers=api.headers())
    assert r.status_code == 200
    assert r.json()["flavor"]["links"] == [
        {"rel": "self", "href": "http://testserver/compute/v2.1/flavors/1"},
        {"rel": "bookmark", "href": "http://testserver/compute/flavors/1"},
    ]
    r = await http.get("/compute/v2.1/flavors")
    assert r.status_code == 401


# -- extensions ---------------------------------------------------------------------------------


async def test_extensions_list(api: Api) -> None:
    r = await api.get("/extensions")
    assert r.status_code == 200
    extensions = r.json()["extensions"]
    assert list(r.json()) == ["extensions"]
    assert len(extensions) == 99
    for ext in extensions:
        assert set(ext) == {"name", "alias", "description", "namespace", "updated", "links"}
        assert ext["namespace"] == "http://docs.openstack.org/compute/ext/fake_xml"
        assert ext["updated"] == "2014-12-03T00:00:00Z"
        assert ext["links"] == []
    aliases = [e["alias"] for e in extensions]
    assert aliases == sorted(aliases)  # plain sort: upper case first
    assert aliases[0] == "NMN"
    by_alias = {e["alias"]: e for e in extensions}
    assert by_alias["os-keypairs"] == {
        "name": "Keypairs", "alias": "os-keypairs", "description": "Keypair Support.",
        "namespace": "http://docs.openstack.org/compute/ext/fake_xml",
        "updated": "2014-12-03T00:00:00Z", "links": []}
    for present in ("OS-EXT-IMG-SIZE", "OS-DCF", "os-flavor-manage", "os-used-limits",
                    "os-user-quotas", "os-create-server-ext"):
        assert present in by_alias
    # v2 compatibility stubs have no description
    assert by_alias["os-flavor-swap"]["description"] == ""
    # hidden core resources
    for hidden in ("servers", "images", "flavors", "limits", "extensions", "versions"):
        assert hidden not in by_alias


async def test_extension_show_and_unknown(api: Api) -> None:
    r = await api.get("/extensions/os-server-external-events")
    assert r.status_code == 200
    assert r.json() == {"extension": {
        "updated": "2014-12-03T00:00:00Z", "name": "ServerExternalEvents", "links": [],
        "namespace": "http://docs.openstack.org/compute/ext/fake_xml",
        "alias": "os-server-external-events", "description": "Server External Event Triggers."}}
    listed = {e["alias"]: e for e in (await api.get("/extensions")).json()["extensions"]}
    r = await api.get("/extensions/OS-EXT-IMG-SIZE")
    assert r.json()["extension"] == listed["OS-EXT-IMG-SIZE"]
    r = await api.get("/extensions/os-nonexistent")
    assert_error(r, 404, "itemNotFound", "The resource could not be found.")
    r = await api.get("/extensions/servers")
    assert_error(r, 404, "itemNotFound")


# -- limits -------------------------------------------------------------------------------------


async def test_limits_document(api: Api) -> None:
    r = await api.get("/limits")
    assert r.status_code == 200
    limits = r.json()["limits"]
    assert set(limits) == {"rate", "absolute"}
    assert limits["rate"] == []
    absolute = limits["absolute"]
    assert set(absolute) == ABSOLUTE_KEYS
    assert all(isinstance(v, int) for v in absolute.values())
    assert absolute == {
        "maxImageMeta": 128, "maxPersonality": 5, "maxPersonalitySize": 10240,
        "maxSecurityGroupRules": 20, "maxSecurityGroups": 10, "maxServerMeta": 128,
        "maxTotalCores": 20, "maxTotalFloatingIps": 10, "maxTotalInstances": 10,
        "maxTotalKeypairs": 100, "maxTotalRAMSize": 51200, "maxServerGroups": 10,
        "maxServerGroupMembers": 10, "totalCoresUsed": 0, "totalInstancesUsed": 0,
        "totalRAMUsed": 0, "totalSecurityGroupsUsed": 0, "totalFloatingIpsUsed": 0,
        "totalServerGroupsUsed": 0,
    }


async def test_limits_follow_quota_settings(api: Api, system: System) -> None:
    system.settings.quotas["metadata_items"] = 7
    system.settings.quotas["cores"] = -1
    absolute = (await api.get("/limits")).json()["limits"]["absolute"]
    assert absolute["maxServerMeta"] == 7 and absolute["maxImageMeta"] == 7
    assert absolute["maxTotalCores"] == -1


async def test_limits_used_counts(api: Api, other: Api, admin: Api) -> None:
    first = await api.create_server("one", flavor="1")
    await api.create_server("two", flavor="3")
    await api.wait_status(first["id"], "ACTIVE")
    absolute = (await api.get("/limits")).json()["limits"]["absolute"]
    assert absolute["totalInstancesUsed"] == 2
    assert absolute["totalCoresUsed"] == 1 + 2
    assert absolute["totalRAMUsed"] == 512 + 4096
    # another project's usage is its own
    theirs = (await other.get("/limits")).json()["limits"]["absolute"]
    assert (theirs["totalInstancesUsed"], theirs["totalCoresUsed"]) == (0, 0)
    # admins may ask about another project
    r = await admin.get("/limits", params={"tenant_id": "project-a"})
    assert r.status_code == 200
    assert r.json()["limits"]["absolute"]["totalInstancesUsed"] == 2
    assert (await admin.get("/limits")).json()["limits"]["absolute"]["totalInstancesUsed"] == 0
    # deleting gives the room back
    assert (await api.delete(f"/servers/{first['id']}")).status_code == 204
    await api.wait_status(first["id"], "DELETED")
    absolute = (await api.get("/limits")).json()["limits"]["absolute"]
    assert (absolute["totalInstancesUsed"], absolute["totalCoresUsed"],
            absolute["totalRAMUsed"]) == (1, 2, 4096)


async def test_limits_tenant_id_needs_admin(api: Api) -> None:
    rule = "Policy doesn't allow os_compute_api:limits:other_project to be performed."
    r = await api.get("/limits", params={"tenant_id": "project-b"})
    assert_error(r, 403, "forbidden", rule)
    # Nova checks the policy whenever tenant_id is given
    r = await api.get("/limits", params={"tenant_id": "project-a"})
    assert_error(r, 403, "forbidden", rule)


# -- microversions ------------------------------------------------------------------------------


def version_headers(r: httpx.Response, version: str) -> None:
    assert r.headers["x-openstack-nova-api-version"] == version
    assert r.headers["openstack-api-version"] == f"compute {version}"
    vary = {v.strip().lower() for v in r.headers["vary"].split(",")}
    assert {"x-openstack-nova-api-version", "openstack-api-version"} <= vary


async def test_no_header_is_2_1(api: Api) -> None:
    r = await api.get("/flavors")
    assert r.status_code == 200
    version_headers(r, "2.1")
    r = await api.get("/os-keypairs/nope")  # faults carry the headers too
    assert r.status_code == 404
    version_headers(r, "2.1")


async def test_legacy_and_new_headers(api: Api) -> None:
    r = await api.at("2.5").get("/flavors")
    version_headers(r, "2.5")
    r = await api.at("latest").get("/flavors")
    version_headers(r, "2.14")
    r = await api.get("/flavors", headers={"OpenStack-API-Version": "compute 2.10"})
    version_headers(r, "2.10")
    r = await api.get("/flavors", headers={"OpenStack-API-Version": "compute latest"})
    version_headers(r, "2.14")
    # the new header wins over the legacy one
    r = await api.at("2.3").get("/flavors", headers={"OpenStack-API-Version": "compute 2.7"})
    version_headers(r, "2.7")
    # a new header naming another service is ignored
    r = await api.at("2.3").get("/flavors", headers={"OpenStack-API-Version": "volume 3.0"})
    version_headers(r, "2.3")
    # the negotiated version changes behaviour: keypair create is 201 from 2.2
    r = await api.post("/os-keypairs", {"keypair": {"name": "k"}},
                       headers={"OpenStack-API-Version": "compute 2.2"})
    assert r.status_code == 201


@pytest.mark.parametrize("requested", ["2.15", "3.0", "2.0", "1.1"])
async def test_unsupported_version_406(api: Api, requested: str) -> None:
    message = (f"Version {requested} is not supported by the API. Minimum is 2.1 and "
               "maximum is 2.14.")
    r = await api.at(requested).get("/flavors")
    assert_error(r, 406, "computeFault", message)
    r = await api.get("/flavors", headers={"OpenStack-API-Version": f"compute {requested}"})
    assert_error(r, 406, "computeFault", message)


@pytest.mark.parametrize("requested", ["2.a", "2", "v2.1", "2.01", "two"])
async def test_malformed_version_400(api: Api, requested: str) -> None:
    r = await api.at(requested).get("/flavors")
    assert_error(r, 400, "badRequest",
                 f"API Version String {requested} is of invalid format. Must be of format "
                 "MajorNum.MinorNum.")


# -- request plumbing ---------------------------------------------------------------------------


async def test_request_id_headers(api: Api, http: httpx.AsyncClient) -> None:
    seen = set()
    for r in (await api.get("/flavors"), await api.get("/flavors/nope"), await http.get("/"),
              await http.get("/v2.1/flavors")):
        rid = r.headers["x-openstack-request-id"]
        assert rid == r.headers["x-compute-request-id"]
        assert rid.startswith("req-") and len(rid) == 40
        seen.add(rid)
    assert len(seen) == 4


async def test_401_without_credentials(http: httpx.AsyncClient) -> None:
    for path in ("/v2.1/flavors", "/v2.1/os-keypairs", "/v2.1/limits", "/v2.1/images"):
        r = await http.get(path)
        assert r.status_code == 401
        assert r.json() == {"error": {
            "code": 401, "title": "Unauthorized",
            "message": "The request you have made requires authentication."}}
        assert r.headers["www-authenticate"].startswith("Keystone uri=")
    r = await http.get("/v2.1/flavors", headers={"X-Auth-Token": "garbage"})
    assert r.status_code == 401


async def test_project_id_in_url(api: Api) -> None:
    r = await api.http.get("/v2.1/project-a/flavors", headers=api.headers())
    assert r.status_code == 200
    assert r.json()["flavors"][0]["links"][0]["href"] == \
        "http://testserver/v2.1/project-a/flavors/1"
    r = await api.http.get("/v2.1/project-a/limits", headers=api.headers())
    assert r.status_code == 200


async def test_other_project_id_in_url_400(api: Api) -> None:
    r = await api.http.get("/v2.1/other-project/flavors", headers=api.headers())
    assert_error(r, 400, "badRequest",
                 "Malformed request URL: URL's project_id 'other-project' doesn't match "
                 "Context's project_id 'project-a'")


async def test_router_miss_404_json(api: Api) -> None:
    for path in ("/no-such-resource/deeper", "/flavors/1/no-such-thing",
                 "/os-keypairs/a/b/c"):
        r = await api.get(path)
        assert_error(r, 404, "itemNotFound", "The resource could not be found.")
        assert r.headers["content-type"].startswith("application/json")


async def test_oversized_body_413(admin: Api) -> None:
    padding = "x" * 114688
    r = await admin.post("/flavors", {"flavor": {"name": "big", "ram": 1, "vcpus": 1,
                                                 "disk": 0, "pad": padding}})
    assert_error(r, 413, "overLimit", "Request is too large.")
    # exactly at the limit is still read (and then fails validation, not size)
    base = orjson.dumps({"flavor": {"name": "big", "ram": 1, "vcpus": 1, "disk": 0,
                                    "pad": ""}})
    body = orjson.dumps({"flavor": {"name": "big", "ram": 1, "vcpus": 1, "disk": 0,
                                    "pad": "x" * (114688 - len(base))}})
    assert len(body) == 114688
    r = await admin.post("/flavors", content=body,
                         headers={"Content-Type": "application/json"})
    assert_error(r, 400, "badRequest")


async def test_malformed_json_400(api: Api, admin: Api) -> None:
    for content in (b"{not json", b"[1, 2", b"{\"keypair\": }"):
        r = await api.post("/os-keypairs", content=content,
                           headers={"Content-Type": "application/json"})
        assert_error(r, 400, "badRequest", "Malformed request body")
    r = await admin.post("/flavors", content=b"{'single': 'quotes'}",
                         headers={"Content-Type": "application/json"})
    assert_error(r, 400, "badRequest", "Malformed request body")


async def test_availability_zones(api: Api, admin: Api) -> None:
    r = await api.get("/os-availability-zone")
    assert r.json() == {"availabilityZoneInfo": [
        {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]}
    assert_error(await api.get("/os-availability-zone/detail"), 403, "forbidden")
    (zone,) = (await admin.get("/os-availability-zone/detail")).json()["availabilityZoneInfo"]
    assert set(zone["hosts"]) == {"host1", "host2"}
    assert zone["hosts"]["host1"]["nova-compute"]["available"] is True


async def test_quota_sets_show_detail_defaults(api: Api, other: Api, admin: Api) -> None:
    expected = {"id": "project-a", "cores": 20, "fixed_ips": -1, "floating_ips": 10,
                "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
                "injected_files": 5, "instances": 10, "key_pairs": 100,
                "metadata_items": 128, "ram": 51200, "security_group_rules": 20,
                "security_groups": 10, "server_group_members": 10, "server_groups": 10}
    assert (await api.get("/os-quota-sets/project-a")).json() == {"quota_set": expected}
    assert (await api.get("/os-quota-sets/project-a/defaults")).json() == {
        "quota_set": expected}
    await api.create_server("counted")
    detail = (await api.get("/os-quota-sets/project-a/detail")).json()["quota_set"]
    assert detail["instances"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert detail["cores"]["in_use"] == 1 and detail["ram"]["in_use"] == 512
    # another project's quotas are for admins
    assert_error(await other.get("/os-quota-sets/project-a"), 403, "forbidden")
    assert (await admin.get("/os-quota-sets/project-a")).status_code == 200
