"""/flavors over HTTP: list/detail/show, filters and paging, flavor manage, access, extra specs."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, assert_error

DETAIL_KEYS = {"id", "name", "ram", "disk", "vcpus", "links", "swap", "rxtx_factor",
               "OS-FLV-EXT-DATA:ephemeral", "OS-FLV-DISABLED:disabled",
               "os-flavor-access:is_public"}
DEFAULTS = {  # id: (name, ram, vcpus, disk)
    "1": ("m1.tiny", 512, 1, 1), "2": ("m1.small", 2048, 1, 20),
    "3": ("m1.medium", 4096, 2, 40), "4": ("m1.large", 8192, 4, 80),
    "5": ("m1.xlarge", 16384, 8, 160), "42": ("m1.nano", 64, 1, 0),
    "84": ("m1.micro", 128, 1, 0),
}
# flavorid is a string column: "42" sorts before "5"
DEFAULT_ORDER = ["1", "2", "3", "4", "42", "5", "84"]
POLICY = "Policy doesn't allow {} to be performed."


def ids(body: dict[str, Any]) -> list[str]:
    return [f["id"] for f in body["flavors"]]


async def create_flavor(admin: Api, name: str, flavor_id: str | None = None, **extra: Any
                        ) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "ram": 256, "vcpus": 1, "disk": 1, **extra}
    if flavor_id is not None:
        body["id"] = flavor_id
    r = await admin.post("/flavors", {"flavor": body})
    assert r.status_code == 200, r.text
    flavor: dict[str, Any] = r.json()["flavor"]
    return flavor




# -- list, detail, show -------------------------------------------------------------------------


async def test_brief_list_is_the_default_set(api: Api) -> None:
    r = await api.get("/flavors")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["flavors"]
    assert ids(body) == DEFAULT_ORDER
    for f in body["flavors"]:
        assert set(f) == {"id", "name", "links"}
        assert f["name"] == DEFAULTS[f["id"]][0]
        assert f["links"] == [
            {"rel": "self", "href": f"http://testserver/v2.1/flavors/{f['id']}"},
            {"rel": "bookmark", "href": f"http://testserver/flavors/{f['id']}"},
        ]


async def test_detail_fields_and_types(api: Api) -> None:
    r = await api.get("/flavors/detail")
    assert r.status_code == 200
    flavors = r.json()["flavors"]
    assert ids(r.json()) == DEFAULT_ORDER
    for f in flavors:
        assert set(f) == DETAIL_KEYS
        name, ram, vcpus, disk = DEFAULTS[f["id"]]
        assert (f["name"], f["ram"], f["vcpus"], f["disk"]) == (name, ram, vcpus, disk)
        assert isinstance(f["id"], str)
        assert f["swap"] == ""  # swap 0 is shown as an empty string
        assert f["rxtx_factor"] == 1.0 and isinstance(f["rxtx_factor"], float)
        assert f["OS-FLV-EXT-DATA:ephemeral"] == 0
        assert f["OS-FLV-DISABLED:disabled"] is False
        assert f["os-flavor-access:is_public"] is True


async def test_show_matches_reference_example(api: Api) -> None:
    r = await api.get("/flavors/1")
    assert r.status_code == 200
    flavor = r.json()["flavor"]
    # the reference example's keys, plus rxtx_factor that Nova adds (os-flavor-rxtx)
    assert flavor == {
        "OS-FLV-DISABLED:disabled": False, "disk": 1, "OS-FLV-EXT-DATA:ephemeral": 0,
        "os-flavor-access:is_public": True, "id": "1", "name": "m1.tiny", "ram": 512,
        "swap": "", "vcpus": 1, "rxtx_factor": 1.0,
        "links": [{"href": "http://testserver/v2.1/flavors/1", "rel": "self"},
                  {"href": "http://testserver/flavors/1", "rel": "bookmark"}],
    }


async def test_show_unknown_flavor_404(api: Api) -> None:
    r = await api.get("/flavors/nope")
    assert_error(r, 404, "itemNotFound", "Flavor nope could not be found.")


async def test_links_carry_project_id_when_in_url(api: Api) -> None:
    r = await api.http.get("/v2.1/project-a/flavors/1", headers=api.headers())
    assert r.status_code == 200
    assert r.json()["flavor"]["links"] == [
        {"rel": "self", "href": "http://testserver/v2.1/project-a/flavors/1"},
        {"rel": "bookmark", "href": "http://testserver/project-a/flavors/1"},
    ]


async def test_swap_ephemeral_rxtx_shown_when_set(admin: Api) -> None:
    created = await create_flavor(admin, "big-swap", "sw", swap=512,
                                  **{"OS-FLV-EXT-DATA:ephemeral": 10, "rxtx_factor": 2.5})
    assert created["swap"] == 512
    assert created["OS-FLV-EXT-DATA:ephemeral"] == 10
    assert created["rxtx_factor"] == 2.5
    shown = (await admin.get("/flavors/sw")).json()["flavor"]
    assert shown == created


# -- filters, sorting, paging ---------------------------------------------------------------------


async def test_min_ram_and_min_disk_filters(api: Api) -> None:
    r = await api.get("/flavors", params={"minRam": "4096"})
    assert ids(r.json()) == ["3", "4", "5"]
    r = await api.get("/flavors/detail", params={"minDisk": "20"})
    assert ids(r.json()) == ["2", "3", "4", "5"]
    r = await api.get("/flavors", params={"minRam": "100", "minDisk": "0"})
    assert ids(r.json()) == ["1", "2", "3", "4", "5", "84"]
    r = await api.get("/flavors", params={"minRam": "999999"})
    assert r.json() == {"flavors": []}


async def test_bad_min_filters_400(api: Api) -> None:
    r = await api.get("/flavors", params={"minRam": "lots"})
    assert_error(r, 400, "badRequest", "Invalid min_ram filter [lots]")
    r = await api.get("/flavors/detail", params={"minDisk": "1.5"})
    assert_error(r, 400, "badRequest", "Invalid minDisk filter [1.5]")


async def test_sort_key_and_dir(api: Api) -> None:
    r = await api.get("/flavors/detail", params={"sort_key": "memory_mb", "sort_dir": "desc"})
    assert ids(r.json()) == ["5", "4", "3", "2", "1", "84", "42"]
    r = await api.get("/flavors", params={"sort_key": "name"})
    names = [f["name"] for f in r.json()["flavors"]]
    assert names == sorted(names)
    r = await api.get("/flavors", params={"sort_dir": "desc"})
    assert ids(r.json()) == list(reversed(DEFAULT_ORDER))
    # Nova's integer id is the creation order
    r = await api.get("/flavors", params={"sort_key": "id"})
    assert ids(r.json()) == ["1", "2", "3", "4", "5", "42", "84"]


async def test_limit_and_marker_with_next_links(api: Api) -> None:
    r = await api.get("/flavors", params={"limit": "2"})
    body = r.json()
    assert ids(body) == ["1", "2"]
    assert body["flavors_links"] == [
        {"rel": "next", "href": "http://testserver/v2.1/flavors?limit=2&marker=2"}]
    r = await api.get("/flavors", params={"limit": "2", "marker": "2"})
    assert ids(r.json()) == ["3", "4"]
    r = await api.get("/flavors/detail", params={"limit": "3", "marker": "4"})
    body = r.json()
    assert ids(body) == ["42", "5", "84"]
    assert body["flavors_links"][0]["href"] == \
        "http://testserver/v2.1/flavors/detail?limit=3&marker=84"
    assert set(body["flavors"][0]) == DETAIL_KEYS
    # a short last page has no next link
    r = await api.get("/flavors", params={"limit": "5", "marker": "4"})
    assert ids(r.json()) == ["42", "5", "84"]
    assert "flavors_links" not in r.json()
    # marker without limit: the rest, no link
    r = await api.get("/flavors", params={"marker": "5"})
    assert ids(r.json()) == ["84"] and "flavors_links" not in r.json()


async def test_bad_marker_and_limit_400(api: Api) -> None:
    r = await api.get("/flavors", params={"marker": "nope"})
    assert_error(r, 400, "badRequest", "marker [nope] not found")
    r = await api.get("/flavors/detail", params={"limit": "x"})
    assert_error(r, 400, "badRequest")
    r = await api.get("/flavors", params={"limit": "-1"})
    assert_error(r, 400, "badRequest")


async def test_is_public_filter_for_admin(admin: Api) -> None:
    await create_flavor(admin, "private-one", "p1", **{"os-flavor-access:is_public": False})
    # default for admins: public flavors (plus private ones the admin project can use)
    r = await admin.get("/flavors")
    assert ids(r.json()) == DEFAULT_ORDER
    r = await admin.get("/flavors", params={"is_public": "false"})
    assert ids(r.json()) == ["p1"]
    r = await admin.get("/flavors/detail", params={"is_public": "0"})
    assert [f["os-flavor-access:is_public"] for f in r.json()["flavors"]] == [False]
    r = await admin.get("/flavors", params={"is_public": "true"})
    assert ids(r.json()) == DEFAULT_ORDER
    # the literal None (any case) means every flavor
    for literal in ("None", "none", "NONE"):
        r = await admin.get("/flavors", params={"is_public": literal})
        assert sorted(ids(r.json())) == sorted([*DEFAULT_ORDER, "p1"])
    r = await admin.get("/flavors", params={"is_public": "maybe"})
    assert_error(r, 400, "badRequest", "Invalid is_public filter [maybe]")


async def test_is_public_ignored_for_non_admin(api: Api, admin: Api) -> None:
    await create_flavor(admin, "private-two", "p2", **{"os-flavor-access:is_public": False})
    for value in ("false", "None", "maybe"):
        r = await api.get("/flavors", params={"is_public": value})
        assert r.status_code == 200
        assert ids(r.json()) == DEFAULT_ORDER


# -- flavor manage ------------------------------------------------------------------------------


async def test_create_flavor_200_with_body(admin: Api, api: Api) -> None:
    r = await admin.post("/flavors", {"flavor": {"name": "test_flavor", "ram": 1024,
                                                 "vcpus": 2, "disk": 10, "id": "10"}})
    assert r.status_code == 200
    flavor = r.json()["flavor"]
    assert set(flavor) == DETAIL_KEYS
    assert flavor["id"] == "10" and flavor["name"] == "test_flavor"
    assert (flavor["ram"], flavor["vcpus"], flavor["disk"]) == (1024, 2, 10)
    assert flavor["swap"] == "" and flavor["rxtx_factor"] == 1.0
    assert flavor["os-flavor-access:is_public"] is True
    assert flavor["OS-FLV-DISABLED:disabled"] is False
    assert flavor["links"][0]["href"] == "http://testserver/v2.1/flavors/10"
    # everyone sees a new public flavor
    assert "10" in ids((await api.get("/flavors")).json())
    assert (await api.get("/flavors/10")).json()["flavor"] == flavor


async def test_create_accepts_numeric_strings_and_generates_uuid_id(admin: Api) -> None:
    r = await admin.post("/flavors", {"flavor": {"name": "strs", "ram": "128", "vcpus": "1",
                                                 "disk": "0"}})
    assert r.status_code == 200, r.text
    flavor = r.json()["flavor"]
    assert (flavor["ram"], flavor["vcpus"], flavor["disk"]) == (128, 1, 0)
    assert len(flavor["id"]) == 36 and flavor["id"].count("-") == 4
    r = await admin.post("/flavors", {"flavor": {"name": "null-id", "ram": 1, "vcpus": 1,
                                                 "disk": 0, "id": None}})
    assert r.status_code == 200 and len(r.json()["flavor"]["id"]) == 36


async def test_create_duplicates_409(admin: Api) -> None:
    await create_flavor(admin, "dup", "d1")
    r = await admin.post("/flavors", {"flavor": {"name": "other", "ram": 1, "vcpus": 1,
                                                 "disk": 0, "id": "d1"}})
    assert_error(r, 409, "conflictingRequest", "Flavor with ID d1 already exists.")
    r = await admin.post("/flavors", {"flavor": {"name": "dup", "ram": 1, "vcpus": 1,
                                                 "disk": 0, "id": "d2"}})
    assert_error(r, 409, "conflictingRequest", "Flavor with name dup already exists.")
    r = await admin.post("/flavors", {"flavor": {"name": "m1.tiny", "ram": 1, "vcpus": 1,
                                                 "disk": 0}})
    assert_error(r, 409, "conflictingRequest", "Flavor with name m1.tiny already exists.")
    # the failed attempt did not keep id d2
    await create_flavor(admin, "fresh", "d2")


async def test_create_non_admin_403(api: Api) -> None:
    r = await api.post("/flavors", {"flavor": {"name": "mine", "ram": 1, "vcpus": 1,
                                               "disk": 0}})
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-flavor-manage:create"))
    r = await api.delete("/flavors/1")
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-flavor-manage:delete"))


async def test_create_bad_bodies_400(admin: Api) -> None:
    good = {"name": "ok", "ram": 1, "vcpus": 1, "disk": 0}
    bad_bodies: list[Any] = [
        {"flavor": {"name": "x", "vcpus": 1, "disk": 0}},             # missing ram
        {"flavor": {**good, "vcpus": -1}},                            # negative vcpus
        {"flavor": {**good, "vcpus": 0}},
        {"flavor": {**good, "ram": 0}},
        {"flavor": {**good, "disk": -1}},
        {"flavor": {**good, "ram": "lots"}},
        {"flavor": {**good, "id": "bad/id"}},                         # id pattern
        {"flavor": {**good, "id": " lead"}},
        {"flavor": {**good, "id": ""}},
        {"flavor": {**good, "name": ""}},
        {"flavor": {**good, "name": " padded "}},
        {"flavor": {**good, "swap": -1}},
        {"flavor": {**good, "OS-FLV-EXT-DATA:ephemeral": -1}},
        {"flavor": {**good, "rxtx_factor": 0}},
        {"flavor": {**good, "color": "red"}},                         # extra key
        {"flavor": good, "extra": 1},
        {"flavors": good},
        {},
    ]
    for body in bad_bodies:
        r = await admin.post("/flavors", body)
        assert_error(r, 400, "badRequest")
    r = await admin.post("/flavors", {"flavor": {"name": "x", "vcpus": 1, "disk": 0}})
    message = r.json()["badRequest"]["message"]
    assert message.startswith("Invalid input for field/attribute flavor. Value: ")
    assert message.endswith("'ram' is a required property")
    r = await admin.post("/flavors", {"flavor": {**good, "vcpus": -1}})
    assert r.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute vcpus. Value: -1.")
    r = await admin.post("/flavors", {"flavor": {**good, "color": "red"}})
    assert r.json()["badRequest"]["message"].endswith(
        "Additional properties are not allowed ('color' was unexpected)")
    r = await admin.post("/flavors", {})
    assert r.json()["badRequest"]["message"] == "'flavor' is a required property"
    # nothing was created by any of these
    assert "ok" not in [f["name"] for f in
                        (await admin.get("/flavors", params={"is_public": "None"})).json()[
                            "flavors"]]


async def test_delete_202_then_404(admin: Api, api: Api) -> None:
    await create_flavor(admin, "doomed", "doomed")
    r = await admin.delete("/flavors/doomed")
    assert r.status_code == 202 and r.content == b""
    assert "doomed" not in ids((await api.get("/flavors")).json())
    r = await admin.delete("/flavors/doomed")
    assert_error(r, 404, "itemNotFound", "Flavor doomed could not be found.")
    r = await admin.delete("/flavors/never")
    assert_error(r, 404, "itemNotFound", "Flavor never could not be found.")
    # the id and the name are free again
    await create_flavor(admin, "doomed", "doomed")


async def test_reference_manage_uris_are_aliases(admin: Api) -> None:
    r = await admin.post("/flavors/os-flavor-manage",
                         {"flavor": {"name": "aliased", "ram": 1, "vcpus": 1, "disk": 0,
                                     "id": "al"}})
    assert r.status_code == 200 and r.json()["flavor"]["id"] == "al"
    r = await admin.delete("/flavors/os-flavor-manage/al")
    assert r.status_code == 202


# -- private flavors and flavor access ----------------------------------------------------------


async def test_private_flavor_visibility(admin: Api, api: Api, other: Api) -> None:
    created = await create_flavor(admin, "secret", "sec", **{"os-flavor-access:is_public": False})
    assert created["os-flavor-access:is_public"] is False
    # the creating (admin) project is not put on the access list
    r = await admin.get("/flavors/sec/os-flavor-access")
    assert r.status_code == 200 and r.json() == {"flavor_access": []}
    # nobody but admins can see it yet
    assert_error(await api.get("/flavors/sec"), 404, "itemNotFound",
                 "Flavor sec could not be found.")
    r = await admin.post("/flavors/sec/action", {"addTenantAccess": {"tenant": "project-a"}})
    assert r.status_code == 200
    assert r.json() == {"flavor_access": [{"flavor_id": "sec", "tenant_id": "project-a"}]}
    # project-a sees it in show, list and detail; project-b does not
    shown = (await api.get("/flavors/sec")).json()["flavor"]
    assert shown["os-flavor-access:is_public"] is False
    assert "sec" in ids((await api.get("/flavors")).json())
    assert "sec" in ids((await api.get("/flavors/detail")).json())
    assert_error(await other.get("/flavors/sec"), 404, "itemNotFound",
                 "Flavor sec could not be found.")
    assert "sec" not in ids((await other.get("/flavors")).json())
    # the access list is for admins under Nova's current default policy
    assert_error(await other.get("/flavors/sec/os-flavor-access"), 403, "forbidden")
    assert_error(await api.get("/flavors/sec/os-flavor-access"), 403, "forbidden")


async def test_flavor_access_add_remove(admin: Api, api: Api) -> None:
    await create_flavor(admin, "shared", "sh", **{"os-flavor-access:is_public": False})
    r = await admin.post("/flavors/sh/action", {"addTenantAccess": {"tenant": "project-a"}})
    assert r.status_code == 200
    r = await admin.post("/flavors/sh/action", {"addTenantAccess": {"tenant": "project-b"}})
    assert r.status_code == 200
    assert sorted(a["tenant_id"] for a in r.json()["flavor_access"]) == \
        ["project-a", "project-b"]
    r = await admin.post("/flavors/sh/action", {"addTenantAccess": {"tenant": "project-a"}})
    assert_error(r, 409, "conflictingRequest",
                 "Flavor access already exists for flavor sh and project project-a "
                 "combination.")
    r = await admin.post("/flavors/sh/action", {"removeTenantAccess": {"tenant": "project-a"}})
    assert r.status_code == 200
    assert r.json() == {"flavor_access": [{"flavor_id": "sh", "tenant_id": "project-b"}]}
    assert_error(await api.get("/flavors/sh"), 404, "itemNotFound")
    r = await admin.post("/flavors/sh/action", {"removeTenantAccess": {"tenant": "project-a"}})
    assert_error(r, 404, "itemNotFound",
                 "Flavor access not found for sh / project-a combination.")
    r = await admin.get("/flavors/sh/os-flavor-access")
    assert r.json() == {"flavor_access": [{"flavor_id": "sh", "tenant_id": "project-b"}]}


async def test_flavor_access_errors(admin: Api, api: Api) -> None:
    r = await admin.get("/flavors/1/os-flavor-access")
    assert_error(r, 404, "itemNotFound", "Access list not available for public flavors.")
    r = await admin.get("/flavors/nope/os-flavor-access")
    assert_error(r, 404, "itemNotFound", "Flavor nope could not be found.")
    r = await admin.post("/flavors/nope/action", {"addTenantAccess": {"tenant": "x"}})
    assert_error(r, 404, "itemNotFound", "Flavor nope could not be found.")
    # non-admins are refused by policy before anything else
    await create_flavor(admin, "hidden", "hid", **{"os-flavor-access:is_public": False})
    for flavor in ("1", "hid", "nope"):
        r = await api.post(f"/flavors/{flavor}/action",
                           {"addTenantAccess": {"tenant": "project-a"}})
        assert_error(r, 403, "forbidden",
                     POLICY.format("os_compute_api:os-flavor-access:add_tenant_access"))
        r = await api.post(f"/flavors/{flavor}/action",
                           {"removeTenantAccess": {"tenant": "project-a"}})
        assert_error(r, 403, "forbidden",
                     POLICY.format("os_compute_api:os-flavor-access:remove_tenant_access"))
    bodies: list[Any] = [
        {"addTenantAccess": {}}, {"addTenantAccess": {"tenant": ""}},
        {"addTenantAccess": {"tenant": "a", "x": 1}}, {"grant": {"tenant": "a"}},
        {"addTenantAccess": {"tenant": "a"}, "removeTenantAccess": {"tenant": "a"}},
    ]
    for body in bodies:
        assert_error(await admin.post("/flavors/hid/action", body), 400, "badRequest")


async def test_add_access_to_public_flavor_by_version(admin: Api) -> None:
    r = await admin.at("2.6").post("/flavors/2/action",
                                   {"addTenantAccess": {"tenant": "project-z"}})
    assert r.status_code == 200
    assert r.json() == {"flavor_access": [{"flavor_id": "2", "tenant_id": "project-z"}]}
    r = await admin.post("/flavors/1/action", {"addTenantAccess": {"tenant": "project-a"}})
    assert r.status_code == 200
    assert r.json() == {"flavor_access": [{"flavor_id": "1", "tenant_id": "project-a"}]}
    r = await admin.at("2.7").post("/flavors/3/action",
                                   {"addTenantAccess": {"tenant": "project-a"}})
    assert_error(r, 409, "conflictingRequest", "Can not add access to a public flavor.")
    r = await admin.at("2.14").post("/flavors/3/action",
                                    {"addTenantAccess": {"tenant": "project-a"}})
    assert_error(r, 409, "conflictingRequest", "Can not add access to a public flavor.")


# -- extra specs --------------------------------------------------------------------------------


async def test_extra_specs_lifecycle(admin: Api, api: Api) -> None:
    r = await api.get("/flavors/1/os-extra_specs")
    assert r.status_code == 200 and r.json() == {"extra_specs": {}}
    r = await admin.post("/flavors/1/os-extra_specs",
                         {"extra_specs": {"key1": "value1", "key2": "value2"}})
    assert r.status_code == 200
    assert r.json() == {"extra_specs": {"key1": "value1", "key2": "value2"}}
    # create merges into what is there
    r = await admin.post("/flavors/1/os-extra_specs", {"extra_specs": {"hw:cpu_policy": "dedicated",
                                                                       "key1": "v1b"}})
    assert r.status_code == 200
    r = await api.get("/flavors/1/os-extra_specs")
    assert r.json() == {"extra_specs": {"key1": "v1b", "key2": "value2",
                                        "hw:cpu_policy": "dedicated"}}
    r = await api.get("/flavors/1/os-extra_specs/key2")
    assert r.status_code == 200 and r.json() == {"key2": "value2"}
    r = await admin.put("/flavors/1/os-extra_specs/key1", {"key1": "new_value1"})
    assert r.status_code == 200 and r.json() == {"key1": "new_value1"}
    assert (await api.get("/flavors/1/os-extra_specs/key1")).json() == {"key1": "new_value1"}
    r = await admin.delete("/flavors/1/os-extra_specs/key1")
    assert r.status_code == 200 and r.content == b""
    r = await api.get("/flavors/1/os-extra_specs")
    assert r.json() == {"extra_specs": {"key2": "value2", "hw:cpu_policy": "dedicated"}}
    # other flavors are untouched
    assert (await api.get("/flavors/2/os-extra_specs")).json() == {"extra_specs": {}}


async def test_extra_specs_numbers_are_accepted(admin: Api, api: Api) -> None:
    r = await admin.post("/flavors/2/os-extra_specs", {"extra_specs": {"quota:cpu": 100}})
    assert r.status_code == 200
    assert r.json() == {"extra_specs": {"quota:cpu": 100}}  # the request body is echoed
    assert (await api.get("/flavors/2/os-extra_specs/quota:cpu")).json() == \
        {"quota:cpu": "100"}
    r = await admin.put("/flavors/2/os-extra_specs/ratio", {"ratio": 1.5})
    assert r.status_code == 200
    assert (await api.get("/flavors/2/os-extra_specs")).json()["extra_specs"]["ratio"] == "1.5"


async def test_extra_specs_errors(admin: Api, api: Api) -> None:
    r = await api.get("/flavors/1/os-extra_specs/missing")
    assert_error(r, 404, "itemNotFound", "Flavor 1 has no extra specs with key missing.")
    r = await admin.delete("/flavors/1/os-extra_specs/missing")
    assert_error(r, 404, "itemNotFound", "Flavor 1 has no extra specs with key missing.")
    r = await api.get("/flavors/nope/os-extra_specs")
    assert_error(r, 404, "itemNotFound", "Flavor nope could not be found.")
    r = await admin.post("/flavors/nope/os-extra_specs", {"extra_specs": {"a": "b"}})
    assert_error(r, 404, "itemNotFound", "Flavor nope could not be found.")
    # PUT: the body must be exactly the key in the URL
    r = await admin.put("/flavors/1/os-extra_specs/key1", {"key2": "v"})
    assert_error(r, 400, "badRequest", "Request body and URI mismatch")
    r = await admin.put("/flavors/1/os-extra_specs/key1", {"key1": "v", "key2": "v"})
    assert_error(r, 400, "badRequest")
    r = await admin.put("/flavors/1/os-extra_specs/key1", {})
    assert_error(r, 400, "badRequest")
    bodies: list[Any] = [
        {"extra_specs": {"bad/key": "v"}}, {"extra_specs": {"k": "v" * 256}},
        {"extra_specs": {"k": True}}, {"extra_specs": {"k": None}},
        {"extra_specs": "x"}, {"specs": {}},
    ]
    for body in bodies:
        assert_error(await admin.post("/flavors/1/os-extra_specs", body), 400, "badRequest")
    assert (await api.get("/flavors/1/os-extra_specs")).json() == {"extra_specs": {}}


async def test_extra_specs_writes_admin_only(admin: Api, api: Api) -> None:
    await admin.post("/flavors/1/os-extra_specs", {"extra_specs": {"k": "v"}})
    r = await api.post("/flavors/1/os-extra_specs", {"extra_specs": {"k": "x"}})
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-flavor-extra-specs:create"))
    r = await api.put("/flavors/1/os-extra_specs/k", {"k": "x"})
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-flavor-extra-specs:update"))
    r = await api.delete("/flavors/1/os-extra_specs/k")
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-flavor-extra-specs:delete"))
    assert (await api.get("/flavors/1/os-extra_specs")).json() == {"extra_specs": {"k": "v"}}
