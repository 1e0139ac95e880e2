#!/usr/bin/env python
"""Fuzz the live API with schemathesis, driven by the server's own GET /openapi.json.

1. creates a scratch database (``cp_fuzz_<pid>``; dropped at the end),
2. starts ``control-plane serve`` on it (Keystone tokens, two fake compute hosts),
3. logs in as the bootstrap admin and creates a few resources (a server, a keypair, a
   volume and snapshot, metadata, a flavor extra spec, an identity user, project and
   role) so that path parameters resolve; DELETE operations get their own copies,
4. runs ``schemathesis run`` over every operation of the document (or the
   ``--include-path-regex`` subset) with the checks not_a_server_error,
   status_code_conformance and response_schema_conformance, a per-request timeout (a
   request that hangs fails), a bounded number of examples per operation and a time
   bound for the whole run,
5. prints the number of requests sent and the failures grouped by operation and check,
   with one example each, and exits non-zero on any failure.

Run with the project's venv:  .venv/bin/python scripts/fuzz_api.py [options]
Postgres: $DATABASE_URL if set, else postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any
from xml.etree import ElementTree

import harness
import httpx
from harness import IMAGE, HarnessError, ScratchDatabases, ServeProcess

FLAVOR = "42"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
BOOTSTRAP = "users:\n  - {name: demo, password: secret, project: demo, roles: [member]}\n"

log = harness.logger("fuzz")


async def wait_ready(server: ServeProcess, timeout: float) -> None:
    """Once the API answers and both fake hosts registered."""
    await server.wait_ready(timeout)
    await server.wait_hosts(2, timeout)


# --------------------------------------------------------------------------- seeding


class Seeder:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, expect: tuple[int, ...], **kw: Any
                   ) -> httpx.Response:
        r = await self.http.request(method, path, **kw)
        if r.status_code not in expect:
            raise SystemExit(f"seeding: {method} {path} -> {r.status_code} {r.text[:500]}")
        return r

    async def server(self, name: str) -> str:
        r = await self.call("POST", "/v2.1/servers", (202,), json={"server": {
            "name": name, "imageRef": IMAGE, "flavorRef": FLAVOR}})
        server_id: str = r.json()["server"]["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = (await self.call("GET", f"/v2.1/servers/{server_id}", (200,))
                      ).json()["server"]["status"]
            if status == "ACTIVE":
                return server_id
            if status == "ERROR":
                raise SystemExit(f"seeding: server {name} went to ERROR")
            await asyncio.sleep(0.2)
        raise SystemExit(f"seeding: server {name} not ACTIVE in 60 s")

    async def volume(self) -> str:
        r = await self.call("POST", "/v2.1/os-volumes", (200, 201, 202),
                            json={"volume": {"size": 1}})
        volume_id: str = r.json()["volume"]["id"]
        return volume_id

    async def snapshot(self, volume_id: str) -> str:
        r = await self.call("POST", "/v2.1/os-snapshots", (200, 201, 202),
                            json={"snapshot": {"volume_id": volume_id, "force": True}})
        snapshot_id: str = r.json()["snapshot"]["id"]
        return snapshot_id

    async def identity(self, kind: str, body: dict[str, Any]) -> str:
        r = await self.call("POST", f"/identity/v3/{kind}s", (201,), json={kind: body})
        ident: str = r.json()[kind]["id"]
        return ident


async def seed(root: str, token: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Resources for path parameters: one set for every operation, and per DELETE
    operation (by operation id) its own victims."""
    async with httpx.AsyncClient(base_url=root, timeout=30.0,
                                 headers={"X-Auth-Token": token}) as http:
        s = Seeder(http)
        server, victim = await s.server("fuzz"), await s.server("fuzz-victim")
        # actions (forceDelete, shelveOffload, resetState, ...) get a server of their own
        acted_on = await s.server("fuzz-actions")
        await s.call("PUT", f"/v2.1/servers/{server}/metadata/fuzz", (200,),
                     json={"meta": {"fuzz": "yes"}})
        await s.call("PUT", f"/v2.1/servers/{victim}/metadata/victim", (200,),
                     json={"meta": {"victim": "yes"}})
        for name in ("fuzz", "fuzz-victim"):
            await s.call("POST", "/v2.1/os-keypairs", (200, 201),
                         json={"keypair": {"name": name}})
        volume, volume_victim = await s.volume(), await s.volume()
        snapshot = await s.snapshot(volume)
        snapshot_victim = await s.snapshot(volume_victim)
        await s.call("POST", f"/v2.1/flavors/{FLAVOR}/os-extra_specs", (200,),
                     json={"extra_specs": {"fuzz": "1", "victim": "1"}})
        flavor_victim = (await s.call("POST", "/v2.1/flavors", (200,), json={"flavor": {
            "name": "fuzz-victim", "ram": 64, "vcpus": 1, "disk": 1}})).json()["flavor"]["id"]
        await s.call("POST", f"/v2.1/images/{IMAGE}/metadata", (200,),
                     json={"metadata": {"fuzz": "yes", "victim": "yes"}})
        ports = (await s.call("GET", f"/v2.1/servers/{server}/os-interface", (200,))
                 ).json()["interfaceAttachments"]
        port = ports[0]["port_id"] if ports else "none"
        addresses = (await s.call("GET", f"/v2.1/servers/{server}/ips", (200,))
                     ).json()["addresses"]
        network = next(iter(addresses), "none")
        actions = (await s.call("GET", f"/v2.1/servers/{server}/os-instance-actions", (200,))
                   ).json()["instanceActions"]
        request_id = actions[0]["request_id"] if actions else "none"
        user = await s.identity("user", {"name": "fuzz", "password": "secret"})
        user_victim = await s.identity("user", {"name": "fuzz-victim", "password": "x"})
        project = await s.identity("project", {"name": "fuzz"})
        project_victim = await s.identity("project", {"name": "fuzz-victim"})
        role = await s.identity("role", {"name": "fuzz"})
        role_victim = await s.identity("role", {"name": "fuzz-victim"})
        await s.call("PUT", f"/identity/v3/projects/{project}/users/{user}/roles/{role}",
                     (204,))
    params = {
        "server_id": server, "key": "fuzz", "name": "fuzz", "volume_id": volume,
        "snapshot_id": snapshot, "flavor_id": FLAVOR, "image_id": IMAGE, "port_id": port,
        "network": network, "request_id": request_id, "tenant_id": "admin",
        "volume_type_id": "lvmdriver-1", "alias": "os-keypairs", "console_id": "1",
        "console_token": "none", "user_id": user, "project_id": project, "role_id": role,
        "domain_id": "default",
    }
    c, i = "compute:DELETE:/v2.1", "identity:DELETE:/identity/v3"
    victims = {
        "compute:POST:/v2.1/servers/{server_id}/action": {"server_id": acted_on},
        f"{c}/servers/{{server_id}}": {"server_id": victim},
        f"{c}/servers/{{server_id}}/metadata/{{key}}": {"server_id": victim, "key": "victim"},
        f"{c}/os-keypairs/{{name}}": {"name": "fuzz-victim"},
        f"{c}/os-volumes/{{volume_id}}": {"volume_id": volume_victim},
        f"{c}/os-snapshots/{{snapshot_id}}": {"snapshot_id": snapshot_victim},
        f"{c}/flavors/{{flavor_id}}": {"flavor_id": flavor_victim},
        f"{c}/flavors/os-flavor-manage/{{flavor_id}}": {"flavor_id": flavor_victim},
        f"{c}/flavors/{{flavor_id}}/os-extra_specs/{{key}}": {"key": "victim"},
        f"{c}/images/{{image_id}}/metadata/{{key}}": {"key": "victim"},
        f"{c}/images/{{image_id}}": {"image_id": "00000000-0000-0000-0000-000000000000"},
        f"{i}/users/{{user_id}}": {"user_id": user_victim},
        f"{i}/projects/{{project_id}}": {"project_id": project_victim},
        f"{i}/roles/{{role_id}}": {"role_id": role_victim},
    }
    return params, victims


async def login(root: str) -> str:
    async with httpx.AsyncClient(base_url=root, timeout=10.0) as http:
        r = await http.post("/identity/v3/auth/tokens", json={"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}})
    if r.status_code != 201:
        raise SystemExit(f"admin login failed: {r.status_code} {r.text}")
    return r.headers["x-subject-token"]


def config_toml(params: dict[str, str], victims: dict[str, dict[str, str]]) -> str:
    def table(values: dict[str, str]) -> str:
        return "{ " + ", ".join(f"{json.dumps('path.' + k)} = {json.dumps(v)}"
                                for k, v in values.items()) + " }"

    lines = ["[parameters]"]
    lines += [f"{json.dumps('path.' + k)} = {json.dumps(v)}" for k, v in params.items()]
    for op_id, values in victims.items():
        lines += ["", "[[operations]]", f"include-operation-id = {json.dumps(op_id)}",
                  f"parameters = {table(values)}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the report


def summarize(work: pathlib.Path) -> tuple[int, dict[tuple[str, str], int], dict[str, str],
                                            list[str]]:
    """(requests sent, failure count by (operation, check), an example per operation,
    errors) from schemathesis's run report, JUnit report and HAR log."""
    har = json.loads((work / "requests.har").read_text())
    requests = len(har["log"]["entries"])
    run = json.loads((work / "run.json").read_text())
    failures: dict[tuple[str, str], int] = {}
    for group in run["failures"]:
        for label in group["operations"]:
            failures[(label, group["title"])] = failures.get((label, group["title"]), 0) + 1
    errors = [f"{e['title']} (x{e['count']})" for e in run["errors"]]
    examples: dict[str, str] = {}
    for case in ElementTree.parse(work / "junit.xml").iter("testcase"):
        for problem in (*case.iter("failure"), *case.iter("error")):
            text = (problem.text or problem.get("message") or "").strip()
            examples.setdefault(case.get("name", "?"), text)
    return requests, failures, examples, errors


_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_ACCESS = re.compile(r'"(?P<request>[A-Z]+ [^"]*)" status: (?P<status>\d+)')
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")
_ID = re.compile(r"(?<=/)(?:[0-9a-f]{32}|[0-9a-f-]{36}|req-[0-9a-f-]{36})(?=/|$)")
_FRAME = re.compile(r'File ".*?/((?:control_plane|projections|drivers)/[^"]+)", line (\d+)')


def server_tracebacks(log_text: str) -> dict[tuple[str, str, str], tuple[int, str]]:
    """The server's unexpected errors from its log: (operation, exception, innermost
    project frame) -> (count, one request that raised it)."""
    out: dict[tuple[str, str, str], tuple[int, str]] = {}
    lines = log_text.splitlines()
    last_5xx = "?"
    i = 0
    while i < len(lines):
        access = _ACCESS.search(lines[i])
        if access and access["status"].startswith("5"):
            last_5xx = access["request"]
        if "unexpected error" in lines[i]:
            j = i + 1
            frame = "?"
            while j < len(lines) and not _STAMP.match(lines[j]):
                found = _FRAME.search(lines[j])
                if found:
                    frame = f"{found[1]}:{found[2]}"
                j += 1
            raised = [line for line in lines[i + 1:j] if _RAISED.match(line)]
            exception = (raised[-1] if raised else lines[j - 1]).strip()[:160]
            operation = _ID.sub("{id}", last_5xx.split("?")[0])
            key = (operation, exception.split(":")[0], frame)
            count, example = out.get(key, (0, ""))
            out[key] = (count + 1, example or f"{last_5xx}  ->  {exception}")
            i = j
            continue
        i += 1
    return out


# --------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> int:
    name = f"cp_fuzz_{os.getpid()}"
    scratch = ScratchDatabases(harness.admin_url())
    dsn = asyncio.run(scratch.create(name))
    work = pathlib.Path(tempfile.mkdtemp(prefix="cp_fuzz_"))
    (work / "bootstrap.yaml").write_text(BOOTSTRAP)
    server_log = work / "server.log"
    server = ServeProcess(dsn, server_log, ["--fake-hosts", "2", "--latency", "0.01"], env={
        "CONTROL_PLANE_AUTH_STRATEGY": "keystone",
        "CONTROL_PLANE_BOOTSTRAP_FILE": str(work / "bootstrap.yaml"),
        "CONTROL_PLANE_TOKEN_KEY_FILE": str(work / "token.key")})
    root = server.base_url
    server.start()
    try:
        try:
            asyncio.run(wait_ready(server, 60.0))
        except HarnessError as exc:
            raise SystemExit(str(exc)) from None
        log(f"server up at {root} on database {name}")
        token = asyncio.run(login(root))
        params, victims = asyncio.run(seed(root, token))
        log("seeded: " + ", ".join(f"{k}={v}" for k, v in params.items()))
        config = work / "schemathesis.toml"
        config.write_text(config_toml(params, victims))
        report = work / "run.json"
        cmd = [str(pathlib.Path(sys.executable).with_name("schemathesis")),
               "--config-file", str(config), "run", f"{root}/openapi.json",
               "--checks", CHECKS, "--max-examples", str(args.max_examples),
               "--request-timeout", str(args.request_timeout),
               "--workers", str(args.workers),
               "--phases", args.phases, "--mode", args.mode, "--seed", str(args.seed),
               "--header", f"X-Auth-Token: {token}", "--no-shrink",
               *(["--header", f"X-OpenStack-Nova-API-Version: {args.microversion}"]
                 if args.microversion else []),
               "--continue-on-failure", "--suppress-health-check", "all",
               "--report", "junit,har,json", "--report-junit-path", str(work / "junit.xml"),
               "--report-har-path", str(work / "requests.har"),
               "--report-json-path", str(report),
               "--output-truncate", "true"]
        if args.include_path_regex:
            cmd += ["--include-path-regex", args.include_path_regex]
        if args.exclude_path_regex:
            cmd += ["--exclude-path-regex", args.exclude_path_regex]
        log("running: " + " ".join(cmd).replace(token, "<token>"))
        started = time.monotonic()
        # a hang of schemathesis itself (not of one request) is a failure too
        try:
            result = subprocess.run(
                cmd, cwd=work, stdout=None if args.verbose else subprocess.PIPE,
                stderr=subprocess.STDOUT, timeout=args.max_time, check=False)
        except subprocess.TimeoutExpired:
            log(f"FAILED: schemathesis did not finish in {args.max_time} s")
            return 2
        elapsed = time.monotonic() - started
        if not report.exists():
            print((result.stdout or b"").decode()[-6000:])
            log(f"schemathesis wrote no report (exit {result.returncode})")
            return 2
        requests, failures, examples, errors = summarize(work)
        if server.proc is not None and server.proc.poll() is not None:
            errors.append(f"the server exited: {server_log.read_text()[-2000:]}")
        log(f"schemathesis exit {result.returncode} after {elapsed:.0f} s; "
            f"{requests} requests sent")
        by_operation: dict[str, list[str]] = {}
        for (label, check), count in sorted(failures.items()):
            by_operation.setdefault(label, []).append(f"{check} (x{count})")
        for label, checks in by_operation.items():
            print(f"\nFAILED {label}: {'; '.join(checks)}")
            example = examples.get(label, "")
            print("    " + example[:args.example_chars].replace("\n", "\n    "))
        for error in errors:
            print(f"\nERROR {error}")
        tracebacks = server_tracebacks(server_log.read_text(errors="replace"))
        if tracebacks:
            print(f"\nthe server's unexpected errors (from its log, "
                  f"{sum(n for n, _ in tracebacks.values())} in all):")
            for (operation, exception, frame), (count, example) in sorted(
                    tracebacks.items(), key=lambda kv: -kv[1][0]):
                print(f"  x{count} {operation}: {exception} at {frame}\n"
                      f"      {example[:300]}")
        if not failures and not errors and result.returncode != 0:
            print((result.stdout or b"").decode()[-6000:])
            errors.append(f"schemathesis exited {result.returncode} without failures")
        print(f"\nrequests sent: {requests}; operations with failures: {len(by_operation)}; "
              f"failures: {sum(failures.values())}; errors: {len(errors)}")
        if args.keep:
            log(f"kept {work} and database {name}")
        return 1 if failures or errors else 0
    finally:
        server.stop(((signal.SIGTERM, 10), (signal.SIGKILL, 10)))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            asyncio.run(scratch.drop_all())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--max-examples", type=int, default=10,
                   help="test cases per operation and phase (default 10)")
    p.add_argument("--request-timeout", type=float, default=10.0,
                   help="seconds one request may take before it counts as a hang")
    p.add_argument("--max-time", type=int, default=900,
                   help="seconds the whole schemathesis run may take (else it fails)")
    p.add_argument("--example-chars", type=int, default=1500,
                   help="how much of each failing operation's report to print")
    p.add_argument("--workers", default="2")
    p.add_argument("--phases", default="examples,coverage,fuzzing")
    p.add_argument("--mode", default="all", choices=["positive", "negative", "all"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--microversion", default=None,
                   help="send X-OpenStack-Nova-API-Version (default: none, i.e. 2.1)")
    p.add_argument("--include-path-regex", default=None)
    p.add_argument("--exclude-path-regex", default=None)
    p.add_argument("--keep", action="store_true", help="keep the work dir and database")
    p.add_argument("--verbose", action="store_true", help="show schemathesis's own output")
    args = p.parse_args()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
