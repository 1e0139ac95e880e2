"""Consoles: authorizations to connect to a server's console, and XVP console records.

ConsoleAuthorization  -> ConsoleTokenIssued   a token (only its SHA-256 hash is kept) that
                                              lets a console proxy reach one server's
                                              console until it expires
XvpConsole            -> ConsoleCreated       os-consoles: the one console record a server
                         ConsoleDeleted       has; after a delete it can be opened again
                         ConsoleReopened      (its API id is the opening event's position)

Also the pure rules of the console APIs: which console types each protocol offers, when
a server's console can be reached, and how a console URL carries its token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.errors import Conflict, Invalid
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server

# protocol (2.6 remote-consoles) -> the console types it serves
PROTOCOLS = {"vnc": ("novnc", "xvpvnc"), "spice": ("spice-html5",), "rdp": ("rdp-html5",),
             "serial": ("serial",), "mks": ("webmks",)}
# the compute API call of each protocol, as Nova names it in its messages
METHODS = {"vnc": "get_vnc_console", "spice": "get_spice_console",
           "rdp": "get_rdp_console", "serial": "get_serial_console",
           "mks": "get_mks_console"}
XVP_CONSOLE_TYPE = "vnc+xvp"
POWER_STATE_NAMES = {0: "pending", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed",
                     7: "suspended"}
_MIGRATING = "migrating"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_console_type(protocol: str, console_type: str) -> None:
    if console_type not in PROTOCOLS[protocol]:
        raise Invalid(f"Invalid console type {console_type}")


def check_reachable(server: Server, method: str) -> str:
    """The host to ask for a server's console or diagnostics (Nova: 409 without one)."""
    if not server.host:
        raise Conflict(f"Instance {server.id} is not ready")
    return server.host


def check_can_connect(server: Server, method: str) -> str:
    """Remote consoles: not while the server is being deleted or live-migrated."""
    host = check_reachable(server, method)
    if server.task_state in (states.DELETING, _MIGRATING):
        raise Conflict(f"Cannot '{method}' instance {server.id} while it is in task_state "
                       f"{server.task_state}")
    return host


def not_running(server_id: str, method: str, power_state: int) -> Conflict:
    state = POWER_STATE_NAMES.get(power_state, str(power_state))
    return Conflict(f"Cannot '{method}' instance {server_id} while it is in power state "
                    f"{state}")


def access_url(console_type: str, base: str, token: str) -> str:
    """The URL a user opens: noVNC takes the token inside its ``path`` parameter."""
    if console_type != "novnc":
        return f"{base}?token={token}"
    parsed = urllib.parse.urlparse(base)
    query = urllib.parse.parse_qs(parsed.query)
    query["path"] = [f"{query.get('path', [''])[0]}?token={token}"]
    return parsed._replace(query=urllib.parse.urlencode(query, doseq=True)).geturl()


class ConsoleAuthorization(Aggregate):
    TOPIC = "ConsoleAuthorization"

    class Created(Aggregate.Created):
        TOPIC = "ConsoleTokenIssued"
        token_hash: str
        instance_uuid: str
        console_type: str
        host: str
        port: int
        internal_access_path: str | None
        expires_at: str

        def apply(self, a: ConsoleAuthorization) -> None:
            a.instance_uuid = self.instance_uuid
            a.console_type = self.console_type
            a.expires_at = dt.datetime.fromisoformat(self.expires_at)

    instance_uuid: str
    console_type: str
    expires_at: dt.datetime

    def __init__(self) -> None:
        pass

    @classmethod
    def issue(cls, authorization_id: uuid.UUID, now: dt.datetime, ttl: int, token: str,
              server_id: str, console_type: str, connection: dict[str, Any]
              ) -> ConsoleAuthorization:
        return cls._create(
            cls.Created, id=authorization_id, timestamp=now, token_hash=token_hash(token),
            instance_uuid=server_id, console_type=console_type,
            host=str(connection["host"]), port=int(connection["port"]),
            internal_access_path=connection.get("internal_access_path"),
            expires_at=(now + dt.timedelta(seconds=ttl)).isoformat())


class XvpConsole(Aggregate):
    TOPIC = "XvpConsole"

    class Created(Aggregate.Created):
        TOPIC = "ConsoleCreated"
        instance_uuid: str
        project_id: str
        console_type: str
        host: str  # the proxy's public host name
        port: int
        password: str  # sealed (control_plane.access.tokens.seal)

        def apply(self, x: XvpConsole) -> None:
            x.instance_uuid = self.instance_uuid
            x.open = True

    class Reopened(Aggregate.Event):
        TOPIC = "ConsoleReopened"
        instance_uuid: str
        project_id: str
        console_type: str
        host: str
        port: int
        password: str

        def apply(self, x: XvpConsole) -> None:
            x.open = True

    class Deleted(Aggregate.Event):
        TOPIC = "ConsoleDeleted"
        instance_uuid: str

        def apply(self, x: XvpConsole) -> None:
            x.open = False

    instance_uuid: str
    open: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, stream_id: uuid.UUID, now: dt.datetime, **fields: Any) -> XvpConsole:
        return cls._create(cls.Created, id=stream_id, timestamp=now, **fields)

    def reopen(self, now: dt.datetime, **fields: Any) -> bool:
        """Open the console again; False if it is open (Nova keeps the one it has)."""
        if self.open:
            return False
        self.trigger_event(self.Reopened, timestamp=now, **fields)
        return True

    def delete(self, now: dt.datetime) -> None:
        if self.open:
            self.trigger_event(self.Deleted, instance_uuid=self.instance_uuid, timestamp=now)
