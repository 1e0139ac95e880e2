"""A first end-to-end check: boot a server over HTTP and watch it become ACTIVE."""

from tests.conftest import Api


async def test_boot_and_delete(api: Api) -> None:
    server = await api.create_server("first")
    body = await api.wait_status(server["id"], "ACTIVE")
    assert body["OS-EXT-STS:vm_state"] == "active"
    assert body["addresses"]["private"][0]["version"] == 4
    r = await api.delete(f"/servers/{server['id']}")
    assert r.status_code == 204
    await api.wait_status(server["id"], "DELETED")
