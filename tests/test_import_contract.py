"""The tree's ownership rules (issue 12), checked on every run, without a database.

Rules:
1. ``domain``: the domain imports nothing from the event store, asyncpg, Starlette or
   the HTTP faults (domain errors are plain; the API maps them to Nova's faults).
2. ``drivers``: hypervisor adapters import nothing from ``control_plane`` (the compute
   worker, the scheduler and periodic tasks belong to the application, not to drivers).
3. ``views``: only a projection's own module names its view tables (``v_servers``, ...);
   everything else reads through that projection's query functions.
4. ``size``: no module over 400 lines (tests and scripts aside).
5. ``registration``: no import-time registration; only ``control_plane.domain.registry``
   hands event types to the eventsourcing library (``register_topic``) or fills the
   table of event types (``EVENT_TYPES[...] =``).

The tree does not obey them all yet: ``KNOWN`` lists every place that breaks a rule
today. The test fails on any *new* breach (naming the file and the import or table),
and on a listed breach that is gone (so the list only shrinks: delete its line). The
re-cut of issue 12 empties the list.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("control_plane", "projections", "drivers", "workers")


@dataclass(frozen=True)
class Rule:
    name: str
    applies_to: str  # a module prefix (dotted)
    forbidden: tuple[str, ...]  # imported module prefixes


IMPORT_RULES = (
    Rule("domain", "control_plane.domain",
         ("control_plane.store", "asyncpg", "starlette", "control_plane.api")),
    Rule("drivers", "drivers", ("control_plane", "workers")),
)

VIEW = re.compile(r"\bv_[a-z_]+\b")
# registration of event types, allowed only in the one registry
REGISTRATION = re.compile(r"\bregister_topic\b|\bEVENT_TYPES\[")
REGISTRY = "control_plane.domain.registry"

def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def sources(root: Path, packages: Iterable[str]) -> list[Path]:
    return sorted(p for pkg in packages for p in (root / pkg).rglob("*.py")
                  if "__pycache__" not in p.parts)


def view_owners(root: Path) -> dict[str, str]:
    """View table -> the projection package that creates it (``projections.servers``)."""
    owners: dict[str, str] = {}
    for path in sources(root, ["projections"]):
        for table in re.findall(r"CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?(v_[a-z_]+)",
                                path.read_text()):
            owners[table] = module_name(path.parent, root)
    return owners


def breaches(root: Path, packages: Iterable[str] = PACKAGES) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    owners = view_owners(root)
    for path in sources(root, packages):
        module = module_name(path, root)
        imported = imports_of(path, module)
        for rule in IMPORT_RULES:
            if not _under(module, rule.applies_to):
                continue
            for name in imported:
                bad = next((f for f in rule.forbidden if _under(name, f)), None)
                if bad is not None:
                    found.add((rule.name, module, bad))
        text = path.read_text()
        if _under(module, "control_plane") and module != REGISTRY:
            for what in set(REGISTRATION.findall(text)):
                found.add(("registration", module, what.rstrip("[")))
        for table in set(VIEW.findall(text)):
            owner = owners.get(table)
            if owner is not None and not _under(module, owner):
                found.add(("views", module, table))
    return found


# Breaches of the rules as the tree stands: rule, module, import or table. Shrink only.
def _known(lines: str) -> frozenset[tuple[str, str, str]]:
    return frozenset(tuple(line.split()) for line in lines.strip().splitlines()
                     if line.strip())  # type: ignore[misc]


KNOWN = _known("""
""")


def test_no_new_breach_and_none_listed_that_is_gone() -> None:
    found = breaches(ROOT)
    new = sorted(found - KNOWN)
    gone = sorted(KNOWN - found)
    assert not new, "breaks the tree's rules (see this module's docstring):\n" + "\n".join(
        f"  {rule}: {module} -> {what}" for rule, module, what in new)
    assert not gone, "fixed: delete these lines from KNOWN:\n" + "\n".join(
        f"{rule} {module} {what}" for rule, module, what in gone)


# modules over the size limit today, at their size then: they may shrink, never grow
LONG: dict[str, int] = {}
MAX_LINES = 400


def test_no_module_grows_past_the_size_limit() -> None:
    over = {}
    for path in sources(ROOT, PACKAGES):
        name = str(path.relative_to(ROOT))
        lines = len(path.read_text().splitlines())
        if lines > LONG.get(name, MAX_LINES):
            over[name] = lines
    assert not over, f"over {MAX_LINES} lines (or grown past its listed size): {over}"


# -- the test of the test: a fixture tree that breaks each rule --------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    _write(tmp_path, {
        "control_plane/__init__.py": "",
        "control_plane/api/faults.py": "class Fault(Exception): ...\n",
        "control_plane/domain/__init__.py": "",
        "control_plane/domain/clean.py": "import uuid\nfrom . import clean\n",
        "control_plane/api/__init__.py": "",
        "control_plane/api/compute/resources/flavors.py":
            "from control_plane.projections_api import flavors\n",  # no table named
        "projections/__init__.py": "",
        "projections/flavors/projection.py":
            'SCHEMA = "CREATE TABLE IF NOT EXISTS v_flavors (id int)"\n',
        "projections/flavors/queries.py": 'Q = "SELECT * FROM v_flavors"\n',
        "drivers/__init__.py": "",
        "drivers/fake.py": "import asyncio\n",
    })
    return tmp_path


def test_a_clean_tree_has_no_breach(tree: Path) -> None:
    assert breaches(tree) == set()


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("control_plane/domain/bad.py", "import asyncpg\n",
     ("domain", "control_plane.domain.bad", "asyncpg")),
    ("control_plane/domain/bad.py", "from ..api.faults import Fault\n",
     ("domain", "control_plane.domain.bad", "control_plane.api")),
    ("control_plane/domain/bad.py", "from starlette.requests import Request\n",
     ("domain", "control_plane.domain.bad", "starlette")),
    ("drivers/bad.py", "from control_plane.service.bus import MessageBus\n",
     ("drivers", "drivers.bad", "control_plane")),
    ("drivers/bad.py", "from workers.compute.worker import ComputeWorker\n",
     ("drivers", "drivers.bad", "workers")),
    ("control_plane/api/bad.py", 'Q = "SELECT name FROM v_flavors"\n',
     ("views", "control_plane.api.bad", "v_flavors")),
    ("control_plane/domain/bad.py", "from eventsourcing.utils import register_topic\n",
     ("registration", "control_plane.domain.bad", "register_topic")),
    ("control_plane/domain/bad.py", "EVENT_TYPES['X'] = object\n",
     ("registration", "control_plane.domain.bad", "EVENT_TYPES")),
])
def test_each_rule_catches_its_breach(tree: Path, name: str, text: str,
                                      expected: tuple[str, str, str]) -> None:
    _write(tree, {name: text})
    assert breaches(tree) == {expected}
