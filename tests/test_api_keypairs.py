"""/os-keypairs over HTTP: generate and import (ssh, x509), fingerprints, versions, isolation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from control_plane.bootstrap import System
from tests.conftest import Api, assert_error

SHOW_KEYS = {"name", "public_key", "fingerprint", "user_id", "created_at", "updated_at",
             "deleted_at", "deleted", "id"}
POLICY = "Policy doesn't allow {} to be performed."


def md5_fingerprint(public_key: str) -> str:
    """Nova's ssh fingerprint, computed independently: MD5 of the base64 key blob."""
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def ed25519_public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def rsa_public_key(comment: str = "me@laptop") -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    text = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
    return f"{text} {comment}"


def self_signed_certificate(cn: str = "alice") -> tuple[str, str]:
    """A PEM certificate and its SHA-1 fingerprint (colon hex), computed independently."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha1(der).hexdigest()
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            ":".join(digest[i:i + 2] for i in range(0, 40, 2)))


async def create(api: Api, name: str, public_key: str | None = None, status: int = 200,
                 **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, **extra}
    if public_key is not None:
        body["public_key"] = public_key
    r = await api.post("/os-keypairs", {"keypair": body})
    assert r.status_code == status, r.text
    keypair: dict[str, Any] = r.json()["keypair"]
    return keypair




# -- generate -----------------------------------------------------------------------------------


async def test_generate_keypair(api: Api) -> None:
    kp = await create(api, "gen")
    assert set(kp) == {"name", "public_key", "fingerprint", "user_id", "private_key"}
    assert kp["name"] == "gen" and kp["user_id"] == "alice"
    assert kp["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert kp["private_key"].rstrip().endswith("-----END RSA PRIVATE KEY-----")
    kind, blob, comment = kp["public_key"].split(" ")
    assert (kind, comment) == ("ssh-rsa", "Generated-by-Nova")
    assert re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", kp["fingerprint"])
    assert kp["fingerprint"] == md5_fingerprint(kp["public_key"])
    # the private key belongs to the public key and is RSA 2048
    private = serialization.load_pem_private_key(kp["private_key"].encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    derived = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                serialization.PublicFormat.OpenSSH).decode()
    assert derived == f"{kind} {blob}"
    # the private key is never shown again
    shown = (await api.get("/os-keypairs/gen")).json()["keypair"]
    assert "private_key" not in shown
    assert shown["public_key"] == kp["public_key"] and shown["fingerprint"] == kp["fingerprint"]


# -- import -------------------------------------------------------------------------------------


async def test_import_ed25519_and_rsa(api: Api) -> None:
    for name, public in (("ed", ed25519_public_key()), ("rsa", rsa_public_key())):
        kp = await create(api, name, public)
        assert set(kp) == {"name", "public_key", "fingerprint", "user_id"}
        assert kp["public_key"] == public
        assert kp["fingerprint"] == md5_fingerprint(public)
        assert kp["user_id"] == "alice"
        shown = (await api.get(f"/os-keypairs/{name}")).json()["keypair"]
        assert shown["fingerprint"] == md5_fingerprint(public)
        assert shown["public_key"] == public


async def test_import_invalid_key_400(api: Api) -> None:
    message = "Keypair data is invalid: failed to generate fingerprint"
    for bad in ("not a key", "ssh-rsa AAAA-not-base64 x", "ssh-rsa", "",
                "ssh-rsa " + base64.b64encode(b"garbage").decode()):
        r = await api.post("/os-keypairs", {"keypair": {"name": "bad", "public_key": bad}})
        assert_error(r, 400, "badRequest", message)
    assert (await api.get("/os-keypairs")).json() == {"keypairs": []}


async def test_duplicate_name_409(api: Api) -> None:
    await create(api, "dup", ed25519_public_key())
    r = await api.post("/os-keypairs", {"keypair": {"name": "dup"}})
    assert_error(r, 409, "conflictingRequest", "Key pair 'dup' already exists.")
    r = await api.post("/os-keypairs", {"keypair": {"name": "dup",
                                                    "public_key": ed25519_public_key()}})
    assert_error(r, 409, "conflictingRequest", "Key pair 'dup' already exists.")


async def test_name_validation(api: Api) -> None:
    for unsafe in ("bad/name", "dots.not.allowed", "émoji", "semi;colon", "a@b"):
        r = await api.post("/os-keypairs", {"keypair": {"name": unsafe}})
        assert_error(r, 400, "badRequest",
                     "Keypair data is invalid: Keypair name contains unsafe characters")
    # schema errors come first (name type: 1-255, no leading/trailing whitespace)
    for bad in ("", " padded", "padded ", "x" * 256):
        r = await api.post("/os-keypairs", {"keypair": {"name": bad}})
        assert_error(r, 400, "badRequest")
        assert r.json()["badRequest"]["message"].startswith(
            "Invalid input for field/attribute name.")
    # allowed: letters, digits, '-', '_' and inner spaces
    kp = await create(api, "My key_1-a")
    assert kp["name"] == "My key_1-a"
    assert (await api.get("/os-keypairs/My key_1-a")).status_code == 200


async def test_bad_bodies_400(api: Api) -> None:
    bodies: list[Any] = [
        {}, {"keypair": {}}, {"keypair": {"name": "k", "extra": 1}},
        {"keypair": {"name": "k"}, "more": 1}, {"keypair": {"name": 5}},
        {"keypair": {"name": "k", "public_key": 5}},
        # type and user_id are not known at 2.1
        {"keypair": {"name": "k", "type": "ssh"}},
        {"keypair": {"name": "k", "user_id": "alice"}},
    ]
    for body in bodies:
        assert_error(await api.post("/os-keypairs", body), 400, "badRequest")
    r = await api.at("2.2").post("/os-keypairs", {"keypair": {"name": "k", "type": "rsa"}})
    assert_error(r, 400, "badRequest")
    r = await api.at("2.9").post("/os-keypairs", {"keypair": {"name": "k", "user_id": "x"}})
    assert_error(r, 400, "badRequest")


# -- microversions ------------------------------------------------------------------------------


async def test_status_codes_by_version(api: Api) -> None:
    r = await api.post("/os-keypairs", {"keypair": {"name": "v21"}})
    assert r.status_code == 200
    r = await api.at("2.2").post("/os-keypairs", {"keypair": {"name": "v22"}})
    assert r.status_code == 201
    r = await api.at("2.10").post("/os-keypairs", {"keypair": {"name": "v210"}})
    assert r.status_code == 201
    r = await api.delete("/os-keypairs/v21")
    assert r.status_code == 202 and r.content == b""
    r = await api.at("2.2").delete("/os-keypairs/v22")
    assert r.status_code == 204 and r.content == b""
    r = await api.at("2.14").delete("/os-keypairs/v210")
    assert r.status_code == 204
    assert (await api.get("/os-keypairs")).json() == {"keypairs": []}


async def test_type_field_only_from_2_2(api: Api) -> None:
    created = await create(api, "typed", ed25519_public_key())
    assert "type" not in created
    shown = (await api.get("/os-keypairs/typed")).json()["keypair"]
    assert "type" not in shown
    listed = (await api.get("/os-keypairs")).json()["keypairs"][0]["keypair"]
    assert "type" not in listed
    v22 = api.at("2.2")
    created = await create(v22, "typed2", status=201)
    assert created["type"] == "ssh"
    assert set(created) == {"name", "public_key", "fingerprint", "user_id", "private_key",
                            "type"}
    shown = (await v22.get("/os-keypairs/typed")).json()["keypair"]
    assert shown["type"] == "ssh" and set(shown) == SHOW_KEYS | {"type"}
    listed = (await v22.get("/os-keypairs")).json()["keypairs"]
    assert all(set(k["keypair"]) == {"name", "public_key", "fingerprint", "type"}
               for k in listed)


async def test_import_x509_at_2_2(api: Api) -> None:
    pem, fingerprint = self_signed_certificate()
    v22 = api.at("2.2")
    kp = await create(v22, "cert", pem, status=201, type="x509")
    assert kp == {"name": "cert", "public_key": pem, "fingerprint": fingerprint,
                  "user_id": "alice", "type": "x509"}
    assert re.fullmatch(r"([0-9a-f]{2}:){19}[0-9a-f]{2}", kp["fingerprint"])
    shown = (await v22.get("/os-keypairs/cert")).json()["keypair"]
    assert shown["type"] == "x509" and shown["fingerprint"] == fingerprint
    r = await v22.post("/os-keypairs", {"keypair": {"name": "c2", "type": "x509",
                                                    "public_key": "not a certificate"}})
    assert_error(r, 400, "badRequest")
    assert r.json()["badRequest"]["message"].startswith(
        "Keypair data is invalid: failed to generate X509 fingerprint. Error message: ")
    # an ssh key is not a certificate, and a certificate is not an ssh key
    r = await v22.post("/os-keypairs", {"keypair": {"name": "c3", "type": "x509",
                                                    "public_key": ed25519_public_key()}})
    assert_error(r, 400, "badRequest")
    r = await v22.post("/os-keypairs", {"keypair": {"name": "c4", "type": "ssh",
                                                    "public_key": pem}})
    assert_error(r, 400, "badRequest", "Keypair data is invalid: failed to generate fingerprint")


async def test_generate_x509_at_2_2(api: Api) -> None:
    kp = await create(api.at("2.2"), "win", status=201, type="x509")
    assert kp["type"] == "x509"
    cert = x509.load_pem_x509_certificate(kp["public_key"].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert kp["fingerprint"] == ":".join(f"{b:02x}" for b in cert.fingerprint(hashes.SHA1()))
    key, bundled, _ = pkcs12.load_key_and_certificates(base64.b64decode(kp["private_key"]),
                                                       None)
    assert bundled == cert and key is not None


# -- show and list ------------------------------------------------------------------------------


async def test_show_fields(api: Api) -> None:
    public = ed25519_public_key()
    await create(api, "shown", public)
    r = await api.get("/os-keypairs/shown")
    assert r.status_code == 200
    kp = r.json()["keypair"]
    assert set(kp) == SHOW_KEYS
    assert kp["name"] == "shown" and kp["public_key"] == public
    assert kp["user_id"] == "alice"
    assert isinstance(kp["id"], int) and not isinstance(kp["id"], bool)
    assert kp["deleted"] is False
    assert kp["updated_at"] is None and kp["deleted_at"] is None
    # a serialized datetime without Z, e.g. 2014-05-07T12:06:13.681238
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", kp["created_at"])
    created = dt.datetime.fromisoformat(kp["created_at"]).replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 60


async def test_list_shape(api: Api) -> None:
    assert (await api.get("/os-keypairs")).json() == {"keypairs": []}
    one, two = ed25519_public_key(), rsa_public_key()
    await create(api, "b-key", one)
    await create(api, "a-key", two)
    r = await api.get("/os-keypairs")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["keypairs"]
    assert sorted(body["keypairs"], key=lambda k: k["keypair"]["name"]) == [
        {"keypair": {"name": "a-key", "public_key": two, "fingerprint": md5_fingerprint(two)}},
        {"keypair": {"name": "b-key", "public_key": one, "fingerprint": md5_fingerprint(one)}},
    ]


async def test_not_found_404(api: Api) -> None:
    r = await api.get("/os-keypairs/ghost")
    assert_error(r, 404, "itemNotFound", "Keypair ghost not found for user alice")
    r = await api.delete("/os-keypairs/ghost")
    assert_error(r, 404, "itemNotFound", "Keypair ghost not found for user alice")
    r = await api.at("2.2").delete("/os-keypairs/ghost")
    assert_error(r, 404, "itemNotFound", "Keypair ghost not found for user alice")


async def test_delete_then_gone_and_name_reusable(api: Api) -> None:
    await create(api, "cycle")
    assert (await api.delete("/os-keypairs/cycle")).status_code == 202
    assert_error(await api.get("/os-keypairs/cycle"), 404, "itemNotFound")
    assert_error(await api.delete("/os-keypairs/cycle"), 404, "itemNotFound")
    await create(api, "cycle")


# -- users --------------------------------------------------------------------------------------


async def test_users_are_isolated(api: Api, other: Api) -> None:
    await create(api, "mine", ed25519_public_key())
    assert (await other.get("/os-keypairs")).json() == {"keypairs": []}
    r = await other.get("/os-keypairs/mine")
    assert_error(r, 404, "itemNotFound", "Keypair mine not found for user bob")
    assert_error(await other.delete("/os-keypairs/mine"), 404, "itemNotFound")
    # the same name is free for another user
    theirs = await create(other, "mine")
    assert theirs["user_id"] == "bob"
    assert (await api.get("/os-keypairs/mine")).json()["keypair"]["user_id"] == "alice"
    # user_id before 2.10 is ignored: alice still sees her own keys
    r = await api.at("2.9").get("/os-keypairs", params={"user_id": "bob"})
    assert [k["keypair"]["name"] for k in r.json()["keypairs"]] == ["mine"]
    r = await api.get("/os-keypairs/mine", params={"user_id": "bob"})
    assert r.json()["keypair"]["user_id"] == "alice"


async def test_admin_user_id_at_2_10(api: Api, other: Api, admin: Api) -> None:
    bob_key = ed25519_public_key()
    await create(other, "bobs", bob_key)
    v210 = admin.at("2.10")
    r = await v210.get("/os-keypairs", params={"user_id": "bob"})
    assert r.status_code == 200
    assert r.json() == {"keypairs": [{"keypair": {
        "name": "bobs", "public_key": bob_key, "fingerprint": md5_fingerprint(bob_key),
        "type": "ssh"}}]}
    r = await v210.get("/os-keypairs/bobs", params={"user_id": "bob"})
    assert r.status_code == 200 and r.json()["keypair"]["user_id"] == "bob"
    # admin creates a key for alice
    r = await v210.post("/os-keypairs", {"keypair": {"name": "given", "user_id": "alice"}})
    assert r.status_code == 201
    assert r.json()["keypair"]["user_id"] == "alice"
    assert (await api.get("/os-keypairs/given")).status_code == 200
    assert (await admin.get("/os-keypairs")).json() == {"keypairs": []}
    r = await v210.delete("/os-keypairs/bobs", params={"user_id": "bob"})
    assert r.status_code == 204
    assert (await other.get("/os-keypairs")).json() == {"keypairs": []}


async def test_non_admin_other_user_id_403(api: Api, other: Api) -> None:
    await create(other, "bobs")
    v210 = api.at("2.10")
    r = await v210.get("/os-keypairs", params={"user_id": "bob"})
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-keypairs:index"))
    r = await v210.get("/os-keypairs/bobs", params={"user_id": "bob"})
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-keypairs:show"))
    r = await v210.delete("/os-keypairs/bobs", params={"user_id": "bob"})
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-keypairs:delete"))
    r = await v210.post("/os-keypairs", {"keypair": {"name": "sneaky", "user_id": "bob"}})
    assert_error(r, 403, "forbidden", POLICY.format("os_compute_api:os-keypairs:create"))
    # naming oneself is fine
    r = await v210.post("/os-keypairs", {"keypair": {"name": "self", "user_id": "alice"}})
    assert r.status_code == 201
    r = await v210.get("/os-keypairs", params={"user_id": "alice"})
    assert [k["keypair"]["name"] for k in r.json()["keypairs"]] == ["self"]
    assert [k["keypair"]["name"] for k in (await other.get("/os-keypairs")).json()[
        "keypairs"]] == ["bobs"]


# -- quota --------------------------------------------------------------------------------------


async def test_keypair_quota(api: Api, other: Api, system: System) -> None:
    system.settings.quotas["key_pairs"] = 2
    await create(api, "one")
    await create(api, "two", ed25519_public_key())
    for body in ({"name": "three"}, {"name": "three", "public_key": ed25519_public_key()}):
        r = await api.post("/os-keypairs", {"keypair": body})
        assert_error(r, 403, "forbidden", "Quota exceeded, too many key pairs.")
    # the quota is per user
    await create(other, "bobs")
    # deleting frees room
    await api.delete("/os-keypairs/one")
    await create(api, "three")
    limits = (await api.get("/limits")).json()["limits"]["absolute"]
    assert limits["maxTotalKeypairs"] == 2
