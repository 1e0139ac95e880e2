"""/servers/{id}/metadata and /servers/{id}/ips."""

from __future__ import annotations

from control_plane.bootstrap import System
from tests.conftest import Api, assert_error


async def test_server_metadata(system: System, api: Api, other: Api) -> None:
    sid = (await api.create_server("meta", metadata={"a": "1"}))["id"]
    await api.wait_status(sid, "ACTIVE")
    base = f"/servers/{sid}/metadata"
    assert (await api.get(base)).json() == {"metadata": {"a": "1"}}
    r = await api.post(base, {"metadata": {"b": "2"}})
    assert r.json() == {"metadata": {"a": "1", "b": "2"}}
    r = await api.put(base, {"metadata": {"c": "3"}})
    assert r.json() == {"metadata": {"c": "3"}}
    assert (await api.get(f"{base}/c")).json() == {"meta": {"c": "3"}}
    assert (await api.put(f"{base}/d", {"meta": {"d": "4"}})).json() == {"meta": {"d": "4"}}
    assert_error(await api.put(f"{base}/d", {"meta": {"e": "5"}}), 400, "badRequest",
                 "Request body and URI mismatch")
    assert (await api.delete(f"{base}/c")).status_code == 204
    assert_error(await api.get(f"{base}/c"), 404, "itemNotFound",
                 "Metadata item was not found")
    assert_error(await api.delete(f"{base}/c"), 404, "itemNotFound",
                 "Metadata item was not found")
    shown = (await api.get(f"/servers/{sid}")).json()["server"]
    assert shown["metadata"] == {"d": "4"}
    r = await api.post(base, {"metadata": {f"k{i}": "v" for i in range(128)}})
    assert_error(r, 403, "forbidden", "Maximum number of metadata items exceeds 128")
    assert (await api.post(base, {"metadata": {"bad key!": "v"}})).status_code == 400
    assert_error(await other.get(base), 404, "itemNotFound")
    types = [e.event_type for e in await system.store.read_stream(sid)]
    assert types.count("ServerMetadataSet") == 3 and "ServerMetadataItemDeleted" in types


async def test_server_ips(api: Api) -> None:
    sid = (await api.create_server("addressed"))["id"]
    await api.wait_status(sid, "ACTIVE")
    body = (await api.get(f"/servers/{sid}/ips")).json()
    (addr,) = body["addresses"]["private"]
    assert set(addr) == {"version", "addr"} and addr["version"] == 4
    assert (await api.get(f"/servers/{sid}/ips/private")).json() == {"private": [addr]}
    assert_error(await api.get(f"/servers/{sid}/ips/public"), 404, "itemNotFound",
                 "Instance is not a member of specified network")
