"""A server's timeline as one self-contained HTML page (inline CSS, no scripts, no assets).

Every value from the log is HTML-escaped; the state columns are coloured by the
server's status after each event, and the cells an event changed are emphasised.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from control_plane.ops import history

_STATE = ("status", "vm_state", "task_state", "power_state", "flavor", "host")
_COLOURS = {
    "ACTIVE": "#c8efd4", "BUILD": "#cfe2ff", "SHUTOFF": "#e2e4e8", "ERROR": "#f9c9c9",
    "DELETED": "#5b6270", "SOFT_DELETED": "#a8adb7", "VERIFY_RESIZE": "#fde3a0",
    "RESIZE": "#fde3a0", "REVERT_RESIZE": "#fde3a0", "REBOOT": "#fff1bf",
    "HARD_REBOOT": "#fff1bf", "REBUILD": "#ffe0c2", "PAUSED": "#dde3ff",
    "SUSPENDED": "#dde3ff", "SHELVED": "#e9e0fb", "SHELVED_OFFLOADED": "#e9e0fb",
    "RESCUE": "#f8d2e6", "MIGRATING": "#d9f0f7", "PASSWORD": "#eef0d0",
}
_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2430; }
h1 { font-size: 1.3em; margin: 0 0 .2em; }
p.meta { color: #5b6270; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d5d9e0; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f1f3f6; position: sticky; top: 0; }
td.time, td.pos, td.req { font-family: ui-monospace, monospace; font-size: 12px; }
tr.related td { color: #5b6270; font-style: italic; }
td.changed { font-weight: bold; }
.st-DELETED { color: #fff; }
span[class^="st-"] { padding: 0 .4em; border-radius: 3px; }
""" + "".join(f".st-{name} {{ background: {colour}; }}\n"
              for name, colour in _COLOURS.items())


def _class(status: object) -> str:
    return "st-" + re.sub(r"[^A-Z_]", "", str(status or "UNKNOWN"))


def _row(entry: history.Entry) -> str:
    r = entry.record
    status_class = _class(entry.state.get("status"))
    cells = [
        f'<td class="time">{escape(r.recorded_at.isoformat())}</td>',
        f'<td class="pos">{r.position}</td>',
        f"<td>{escape(r.event_type)}</td>",
        f"<td>{escape(entry.actor)}</td>",
        f'<td class="req">{escape(str(r.metadata.get("request_id", "")))}</td>',
        f"<td>{escape(entry.cause)}</td>",
    ]
    for key in _STATE:
        changed = " changed" if key in entry.changes else ""
        cells.append(f'<td class="{status_class}{changed}">'
                     f"{escape(history.show(key, entry.state.get(key)))}</td>")
    cells.append(f"<td>{escape(entry.summary)}</td>")
    kind = "own" if entry.own else "related"
    return f'<tr class="{kind}">' + "".join(cells) + "</tr>"


def page(fold: history.ServerFold, entries: list[history.Entry],
         as_of: dt.datetime | None) -> str:
    """The whole page for one server's history (up to ``as_of`` if given)."""
    server = fold.server
    assert server is not None
    title = f"Server {server.name} ({fold.server_id})"
    when = f"as of {as_of.isoformat()}" if as_of else "up to now"
    heads = ["Recorded at", "#", "Event", "Actor", "Request", "Cause",
             *(k.replace("_", " ") for k in _STATE), "Change"]
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{len(entries)} events, {escape(when)}; status '
        f'<span class="{_class(server.status)}">{escape(server.status)}</span>, '
        f"project {escape(server.project_id)}. Italic rows are events of other streams "
        "(hosts, volumes, networks, consoles) that concern this server.</p>",
        "<table><thead><tr>", *(f"<th>{escape(h)}</th>" for h in heads),
        "</tr></thead><tbody>", *(_row(e) for e in entries),
        "</tbody></table></body></html>\n",
    ])
