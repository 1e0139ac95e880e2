#!/usr/bin/env python
"""Run OpenStack Tempest's compute API tests against a freshly started control plane.

What it does, in order:

1. Makes sure a virtual environment with Tempest exists outside the repository
   (default ``~/.cache/control-plane/tempest-venv``, ``tempest==47.0.0`` from PyPI);
   it is reused when the right version is already installed there.
2. Creates a scratch database (``cp_tempest_<pid>``) on ``$DATABASE_URL`` (default
   ``postgresql://postgres@127.0.0.1:5432/postgres``) and starts
   ``control-plane serve`` on a free loopback port, with a bootstrap file holding the
   accounts Tempest uses (demo/member, demo-reader/reader, demo-manager/manager in
   project ``demo``; alt/member in ``alt``; the bootstrap admin) and generous quotas.
3. ``tempest init``s a workspace in a temporary directory and writes
   ``etc/tempest.conf`` and ``etc/accounts.yaml`` (no Glance, Neutron or Cinder;
   compute feature flags off unless ``--feature`` turns them on; ``max_microversion``
   is read from ``GET /v2.1``).
4. Runs ``tempest run --concurrency 1`` on ``--regex`` (default
   ``^tempest\\.api\\.compute``) or on the regexes listed in ``--subset FILE``, with a
   timeout, and prints passed/failed/skipped counts and every failed test with the
   first line of its failure reason.

The server is always stopped and the scratch database dropped at the end. Exit status:
0 when no test failed, 1 otherwise (2 when the run could not be set up).

    .venv/bin/python scripts/tempest_run.py                      # all compute API tests
    .venv/bin/python scripts/tempest_run.py --subset scripts/tempest-subset.txt
    .venv/bin/python scripts/tempest_run.py --regex 'tempest\\.api\\.compute\\.flavors'
    .venv/bin/python scripts/tempest_run.py --list                # only list the tests
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any

import harness
import yaml
from harness import HOST, REPO, HarnessError, ScratchDatabases, ServeProcess, free_port

from control_plane.store.db import embedded_database_url

TEMPEST_VERSION = "47.0.0"
DEFAULT_VENV = pathlib.Path.home() / ".cache" / "control-plane" / "tempest-venv"
DEFAULT_REGEX = r"^tempest\.api\.compute"
IMAGE_REF = harness.IMAGE
IMAGE_REF_ALT = "0b2c1a7e-9d3f-4c55-8e6a-3f1d2c4b5a69"
PASSWORD = "secret"

# [compute-feature-enabled] flags; all written as False unless --feature turns them on.
FEATURES_OFF = (
    "change_password", "console_output", "resize", "pause", "shelve", "suspend",
    "cold_migration", "live_migration", "metadata_service", "vnc_console", "spice_console",
    "serial_console", "rescue", "interface_attach", "snapshot", "personality",
    "attach_encrypted_volume", "config_drive",
)
# Flags the recipe's template sets to True (the API behaviour, not a guest feature).
FEATURES_ON = ("enable_instance_password", "disk_config")

QUOTAS = {
    "INSTANCES": 1000, "CORES": 4000, "RAM": 4_000_000, "KEY_PAIRS": 1000,
    "SERVER_GROUPS": 1000, "SERVER_GROUP_MEMBERS": 1000, "SECURITY_GROUPS": 1000,
    "SECURITY_GROUP_RULES": 1000, "FLOATING_IPS": 1000,
}

ACCOUNTS: list[dict[str, Any]] = [
    {"username": "demo", "project_name": "demo", "roles": ["member"]},
    {"username": "demo-reader", "project_name": "demo", "roles": ["reader"]},
    {"username": "demo-manager", "project_name": "demo", "roles": ["manager"]},
    {"username": "alt", "project_name": "alt", "roles": ["member"]},
]

# Runs inside the Tempest venv: subunit v2 on stdin -> JSON list of test results.
SUBUNIT_TO_JSON = r"""
import json, sys
import subunit, testtools

results = []

def text(content):
    try:
        return "".join(content.iter_text())
    except Exception:  # binary attachments
        return ""

def on_test(test):
    details = test.get("details") or {}
    results.append({
        "id": test["id"], "status": test["status"],
        "timestamps": [str(t) if t else None for t in test.get("timestamps", [])],
        "details": {k: text(v) for k, v in details.items()
                    if k in ("traceback", "reason") or k.startswith("traceback")},
    })

stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
result = testtools.StreamToDict(on_test)
result.startTestRun()
stream.run(result)
result.stopTestRun()
json.dump(results, sys.stdout)
"""


# stestr's subunit-trace, with the submodule it forgets to import (python-subunit 1.4).
SUBUNIT_TRACE = (
    "import sys, subunit.test_results; from stestr.subunit_trace import main; "
    "sys.argv[0] = 'subunit-trace'; main()"
)


log = harness.logger("tempest_run")


class RunError(HarnessError):
    """The run could not be set up; the message says why."""


# --------------------------------------------------------------------------- tempest venv


def _venv_python(venv: pathlib.Path) -> pathlib.Path:
    return venv / "bin" / "python"


def _installed_tempest(venv: pathlib.Path) -> str | None:
    py = _venv_python(venv)
    if not py.exists():
        return None
    proc = subprocess.run(
        [str(py), "-c", "import importlib.metadata as m; print(m.version('tempest'))"],
        capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_tempest(venv: pathlib.Path, version: str) -> None:
    installed = _installed_tempest(venv)
    if installed == version:
        log(f"reusing tempest {installed} in {venv}")
        return
    if not _venv_python(venv).exists():
        log(f"creating virtual environment {venv}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        # the base interpreter, not the project's venv (a venv inside a venv works too)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    log(f"installing tempest=={version} into {venv} (was: {installed or 'none'})")
    subprocess.run([str(_venv_python(venv)), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", f"tempest=={version}"], check=True)
    if _installed_tempest(venv) != version:
        raise RunError(f"tempest {version} did not install into {venv}")


def tempest_env(venv: pathlib.Path) -> dict[str, str]:
    """Environment for tempest/stestr: its venv first on PATH (stestr runs ``python``)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
           and not k.lower().endswith("_proxy")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHON"] = str(_venv_python(venv))
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


# --------------------------------------------------------------------------- database


@contextlib.contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    name = f"cp_tempest_{os.getpid()}"
    scratch = ScratchDatabases(admin_url, log)
    dsn = asyncio.run(scratch.create(name))
    log(f"created scratch database {name}")
    try:
        yield dsn
    finally:
        try:
            asyncio.run(scratch.drop_all())
        except OSError as exc:
            log(f"WARNING: could not drop scratch database {name}: {exc}")


# --------------------------------------------------------------------------- the server


def write_bootstrap(path: pathlib.Path) -> None:
    spec = {
        "projects": sorted({a["project_name"] for a in ACCOUNTS}),
        "users": [{"name": a["username"], "password": PASSWORD, "project": a["project_name"],
                   "roles": list(a["roles"])} for a in ACCOUNTS],
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


def server(database_url: str, bootstrap_file: pathlib.Path, log_path: pathlib.Path,
           tree: pathlib.Path = REPO) -> ServeProcess:
    """control-plane serve as Tempest's cloud: Keystone auth, the accounts' bootstrap file,
    an admin, quotas large enough for the whole run."""
    env = {"CONTROL_PLANE_BOOTSTRAP_FILE": str(bootstrap_file),
           "CONTROL_PLANE_ADMIN_USER": "admin",
           "CONTROL_PLANE_ADMIN_PASSWORD": PASSWORD,
           "CONTROL_PLANE_ADMIN_PROJECT": "admin",
           "CONTROL_PLANE_AUTH_STRATEGY": "keystone",
           **{f"CONTROL_PLANE_QUOTA_{k}": str(v) for k, v in QUOTAS.items()}}
    return ServeProcess(database_url, log_path, env=env, tree=tree)


# --------------------------------------------------------------------------- workspace


SERVICES = ("glance", "neutron", "cinder", "swift")


def tempest_conf(ws: pathlib.Path, port: int, max_microversion: str,
                 features: Sequence[str], services: Sequence[str] = ()) -> str:
    flags = {name: False for name in FEATURES_OFF}
    flags.update({name: True for name in FEATURES_ON})
    for name in features:
        key, _, value = name.partition("=")
        flags[key] = value.strip().lower() not in ("false", "0", "no") if value else True
    feature_lines = "\n".join(f"{k} = {v}" for k, v in flags.items())
    available = {name: name in services for name in SERVICES}
    return f"""\
[DEFAULT]
log_dir = {ws}/logs
log_file = tempest.log

[oslo_concurrency]
lock_path = {ws}/tempest_lock

[auth]
use_dynamic_credentials = False
test_accounts_file = {ws}/etc/accounts.yaml
default_credentials_domain_name = Default
create_isolated_networks = False
# for the classes with force_tenant_isolation (admin.test_quotas*): dynamic credentials,
# made through the built-in identity service's /v3/projects, /v3/users and role grants
admin_username = admin
admin_password = {PASSWORD}
admin_project_name = admin
admin_domain_name = Default

[identity]
auth_version = v3
uri_v3 = http://{HOST}:{port}/identity/v3
region = RegionOne
v3_endpoint_type = public
admin_role = admin

[identity-feature-enabled]
api_v2 = False

[service_available]
nova = True
glance = {available["glance"]}
neutron = {available["neutron"]}
cinder = {available["cinder"]}
swift = {available["swift"]}

[compute]
catalog_type = compute
endpoint_type = publicURL
region = RegionOne
image_ref = {IMAGE_REF}
image_ref_alt = {IMAGE_REF_ALT}
flavor_ref = 1
flavor_ref_alt = 2
min_microversion = 2.1
max_microversion = {max_microversion}
build_timeout = 30
build_interval = 1
# control-plane serve runs two fake compute hosts: the multinode tests (cold migration) run
min_compute_nodes = 2

[compute-feature-enabled]
{feature_lines}

[validation]
run_validation = False

[enforce_scope]
nova = False
"""


def accounts_yaml() -> str:
    entries: list[dict[str, Any]] = [
        {"username": a["username"], "project_name": a["project_name"], "password": PASSWORD,
         "domain_name": "Default", "roles": list(a["roles"])} for a in ACCOUNTS]
    entries.append({"username": "admin", "project_name": "admin", "password": PASSWORD,
                    "domain_name": "Default", "types": ["admin"]})
    text: str = yaml.safe_dump(entries, sort_keys=False)
    return text


def init_workspace(venv: pathlib.Path, root: pathlib.Path, port: int, max_mv: str,
                   features: Sequence[str], services: Sequence[str] = ()) -> pathlib.Path:
    ws = root / "ws"
    subprocess.run([str(venv / "bin" / "tempest"), "init", "--workspace-path",
                    str(root / "workspace.yaml"), str(ws)],
                   env=tempest_env(venv), check=True, stdout=subprocess.DEVNULL)
    (ws / "etc" / "tempest.conf").write_text(tempest_conf(ws, port, max_mv, features, services))
    (ws / "etc" / "accounts.yaml").write_text(accounts_yaml())
    return ws


def read_subset(path: pathlib.Path) -> list[str]:
    regexes = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            regexes.append(line)
    if not regexes:
        raise RunError(f"{path} lists no test regexes")
    return regexes


def selection_args(ws: pathlib.Path, regex: str, subset: pathlib.Path | None) -> list[str]:
    if subset is None:
        return ["--regex", regex]
    include = ws / "etc" / "include-list.txt"
    include.write_text("\n".join(read_subset(subset)) + "\n")
    return ["--include-list", str(include)]


# --------------------------------------------------------------------------- running


def _pump(src: IO[bytes], sinks: Sequence[IO[bytes]]) -> None:
    for chunk in iter(lambda: src.read1(65536), b""):  # type: ignore[attr-defined]
        for sink in sinks:
            with contextlib.suppress(OSError, ValueError):
                sink.write(chunk)
                sink.flush()
    for sink in sinks:
        with contextlib.suppress(OSError, ValueError):
            sink.close()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_tempest(venv: pathlib.Path, ws: pathlib.Path, selection: list[str], timeout: float,
                quiet: bool) -> tuple[pathlib.Path, bool]:
    """Run tempest with subunit output saved to a file; live progress via subunit-trace.

    Returns the subunit file and whether the run timed out.
    """
    env = tempest_env(venv)
    subunit_path = ws / "results.subunit"
    argv = [str(venv / "bin" / "tempest"), "run", "--config-file",
            str(ws / "etc" / "tempest.conf"), "--concurrency", "1", "--subunit", *selection]
    log(f"running (cwd {ws}): {' '.join(argv)}")
    tempest = subprocess.Popen(argv, cwd=ws, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, start_new_session=True)
    trace: subprocess.Popen[bytes] | None = None
    sinks: list[IO[bytes]] = []
    with subunit_path.open("wb") as out:
        sinks.append(out)
        if not quiet:
            trace = subprocess.Popen(
                [str(_venv_python(venv)), "-c", SUBUNIT_TRACE, "--no-summary",
                 "--no-failure-debug"],
                env=env, stdin=subprocess.PIPE, start_new_session=True)
            assert trace.stdin is not None
            sinks.append(trace.stdin)
        assert tempest.stdout is not None
        pump = threading.Thread(target=_pump, args=(tempest.stdout, sinks), daemon=True)
        pump.start()
        timed_out = False
        try:
            tempest.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            log(f"TIMEOUT after {timeout:.0f}s: stopping tempest; results are partial")
            _kill_group(tempest)
        except BaseException:
            _kill_group(tempest)
            raise
        finally:
            pump.join(30)
            if trace is not None:
                try:
                    trace.wait(30)
                except subprocess.TimeoutExpired:
                    _kill_group(trace)
    log(f"tempest exited with {tempest.returncode}; subunit stream in {subunit_path}")
    return subunit_path, timed_out


def parse_results(venv: pathlib.Path, subunit_path: pathlib.Path) -> list[dict[str, Any]]:
    with subunit_path.open("rb") as stream:
        proc = subprocess.run([str(_venv_python(venv)), "-c", SUBUNIT_TO_JSON], stdin=stream,
                              capture_output=True, env=tempest_env(venv), check=False)
    if proc.returncode != 0:
        raise RunError(f"could not parse {subunit_path}: {proc.stderr.decode(errors='replace')}")
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results


def short_id(test_id: str) -> str:
    """Drop tempest's ``[id-...,smoke]`` attribute suffix."""
    return re.sub(r"\[[^\]]*\]$", "", test_id)


_FRAME = re.compile(r'^\s+File "')


def failure_reason(details: dict[str, str]) -> str:
    """The exception that ended a test: the first lines after the last traceback frame."""
    tb = details.get("traceback") or next(
        (v for k, v in details.items() if k.startswith("traceback")), "")
    lines = tb.splitlines()
    last_frame = max((i for i, ln in enumerate(lines) if _FRAME.match(ln)), default=-1)
    start = next((i for i in range(last_frame + 1, len(lines))
                  if lines[i] and not lines[i][0].isspace()), None)
    if start is None:
        tail = [ln.strip() for ln in lines if ln.strip()]
        return tail[-1][:400] if tail else "(no traceback)"
    reason = " ".join(ln.strip() for ln in lines[start:start + 4] if ln.strip())
    return reason[:400]


def summarize(results: list[dict[str, Any]], timed_out: bool, elapsed: float) -> int:
    by_status: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_status.setdefault(r["status"], []).append(r)
    passed = by_status.get("success", []) + by_status.get("xfail", [])
    failed = (by_status.get("fail", []) + by_status.get("uxsuccess", [])
              + by_status.get("inprogress", []))
    skipped = by_status.get("skip", [])
    print()
    print("=" * 78)
    print(f"tempest summary: {len(passed)} passed, {len(failed)} failed, "
          f"{len(skipped)} skipped in {elapsed:.0f}s"
          + ("  [TIMED OUT: partial]" if timed_out else ""))
    # "exists" records come from the test listing stestr does before running
    others = {k: len(v) for k, v in by_status.items()
              if k not in ("success", "xfail", "fail", "uxsuccess", "inprogress", "skip",
                           "exists")}
    if others:
        print(f"other statuses: {others}")
    if failed:
        print(f"\nfailed tests ({len(failed)}):")
        for r in sorted(failed, key=lambda r: str(r["id"])):
            reason = ("did not finish (in progress when the run ended)"
                      if r["status"] == "inprogress" else failure_reason(r["details"]))
            print(f"  {short_id(r['id'])}\n      {reason}")
    print("=" * 78, flush=True)
    return 1 if failed or timed_out or not results else 0


# --------------------------------------------------------------------------- main


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regex", default=DEFAULT_REGEX,
                    help=f"tempest selection regex (default {DEFAULT_REGEX!r})")
    ap.add_argument("--subset", type=pathlib.Path, default=None,
                    help="file of test-id regexes, one per line ('#' comments); "
                         "replaces --regex")
    ap.add_argument("--list", action="store_true",
                    help="only list the selected tests (no server is started)")
    ap.add_argument("--feature", action="append", default=[], metavar="NAME[=BOOL]",
                    help="turn on a [compute-feature-enabled] flag, e.g. --feature pause "
                         "(repeatable)")
    ap.add_argument("--service", action="append", default=[], choices=SERVICES,
                    help="mark a [service_available] service True (default: all False). "
                         "Note: tempest 47.0.0's compute admin classes need glance = True "
                         "(BaseV2ComputeAdminTest uses os_admin.image_client_v2); the server "
                         "has a read-only Glance v2 subset at /image")
    ap.add_argument("--max-microversion", default=None,
                    help="override max_microversion (default: the server's maximum)")
    ap.add_argument("--timeout", type=float, default=2400.0,
                    help="seconds before the tempest run is stopped (default 2400)")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                    help="Postgres server for the scratch database (default $DATABASE_URL, "
                         "else the embedded Postgres the control plane uses)")
    ap.add_argument("--tempest-venv", type=pathlib.Path, default=DEFAULT_VENV,
                    help=f"virtual environment for tempest (default {DEFAULT_VENV})")
    ap.add_argument("--tempest-version", default=TEMPEST_VERSION)
    ap.add_argument("--keep", type=pathlib.Path, default=None, metavar="DIR",
                    help="copy the workspace (tempest.log, results.subunit, server log, "
                         "results.json) to DIR at the end")
    ap.add_argument("--server-tree", type=pathlib.Path, default=REPO, metavar="DIR",
                    help="run the control plane from this source tree (e.g. a `git archive` "
                         "export of a commit) instead of this checkout; default: this checkout")
    ap.add_argument("--quiet", action="store_true", help="no per-test progress lines")
    return ap


def list_tests(venv: pathlib.Path, root: pathlib.Path, args: argparse.Namespace) -> int:
    ws = init_workspace(venv, root, free_port(), args.max_microversion or "2.1", args.feature,
                        args.service)
    argv = [str(venv / "bin" / "tempest"), "run", "--config-file",
            str(ws / "etc" / "tempest.conf"), "--list-tests",
            *selection_args(ws, args.regex, args.subset)]
    proc = subprocess.run(argv, cwd=ws, env=tempest_env(venv), capture_output=True, text=True,
                          check=False)
    tests = [ln for ln in proc.stdout.splitlines() if ln.startswith("tempest.")]
    for t in tests:
        print(t)
    log(f"{len(tests)} tests selected")
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
    return proc.returncode


def run(args: argparse.Namespace) -> int:
    venv: pathlib.Path = args.tempest_venv.expanduser().resolve()
    if REPO in venv.parents or venv == REPO:
        raise RunError(f"the tempest venv must live outside the repository: {venv}")
    ensure_tempest(venv, args.tempest_version)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cp-tempest-") as tmp:
        root = pathlib.Path(tmp)
        if args.list:
            return list_tests(venv, root, args)
        bootstrap = root / "bootstrap.yaml"
        write_bootstrap(bootstrap)
        ws: pathlib.Path | None = None
        server_log = root / "control-plane.log"
        try:
            admin_url = args.database_url or embedded_database_url()
            with scratch_database(admin_url) as dsn:
                cloud = server(dsn, bootstrap, server_log, args.server_tree.resolve())
                try:
                    log(f"starting: {' '.join(cloud.argv)}")
                    cloud.start()
                    version: dict[str, Any] = asyncio.run(cloud.wait_ready()).json()["version"]
                    max_mv = args.max_microversion or version.get("version") or "2.1"
                    log(f"server up at {cloud.base_url} (microversions "
                        f"{version.get('min_version')}..{version.get('version')};"
                        f" testing up to {max_mv})")
                    ws = init_workspace(venv, root, cloud.port, max_mv, args.feature,
                                        args.service)
                    selection = selection_args(ws, args.regex, args.subset)
                    subunit_path, timed_out = run_tempest(venv, ws, selection, args.timeout,
                                                          args.quiet)
                finally:
                    log(f"server stopped (exit {cloud.stop(log=log)})")
            results = parse_results(venv, subunit_path)
            (ws / "results.json").write_text(json.dumps(results, indent=1))
            return summarize(results, timed_out, time.monotonic() - started)
        finally:
            if args.keep is not None:
                keep: pathlib.Path = args.keep.expanduser().resolve()
                keep.mkdir(parents=True, exist_ok=True)
                if ws is not None and ws.exists():
                    shutil.copytree(ws, keep / "ws", dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns(".stestr", "tempest_lock"))
                if server_log.exists():
                    shutil.copy2(server_log, keep / "control-plane.log")
                log(f"workspace and logs kept in {keep}")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except HarnessError as exc:
        log(f"ERROR: {exc}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
