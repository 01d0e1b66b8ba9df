"""Debian's real Prometheus scrapes the test stack (both processes, every second) with
the repository's alert rules: a PromQL query returns the queue the test made, and the
rules load and evaluate on our series."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

import launcher
from actors import Stack
from redis_server import free_port
from xmpp_plugin.app import create_app
from xmpp_plugin.settings import MetricsSettings, Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "monitoring" / "alerts.yml"


@pytest.fixture
def stack_settings(stack_settings: Settings) -> Settings:
    return dataclasses.replace(stack_settings, metrics=MetricsSettings(component_port=free_port()))


def render_config(folder: Path, http_port: int, component_port: int) -> Path:
    """The repository's configuration, with the test stack's targets and a 1 s rhythm."""
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(ALERTS)]
    targets = {"idchat-http": f"127.0.0.1:{http_port}",
               "idchat-component": f"127.0.0.1:{component_port}"}
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


async def api(http: aiohttp.ClientSession, base: str, path: str, **params: str) -> Any:
    async with http.get(base + path, params=params) as resp:
        body = await resp.json()
        assert resp.status == 200 and body["status"] == "success", body
        return body["data"]


async def eventually(check: Any, timeout: float = 30) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await check()
        if got:
            return got
        assert asyncio.get_running_loop().time() < deadline, "Prometheus never saw it"
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("xmpp_server", ["prosody"], indirect=True)
async def test_prometheus_scrapes_the_queue_and_loads_the_alert_rules(
        stack: Stack, tmp_path: Path) -> None:
    assert shutil.which("prometheus"), "Debian's prometheus is not installed (make setup)"
    http_server = TestServer(create_app(stack.settings), host="127.0.0.1")
    await http_server.start_server()
    port = free_port()
    config = render_config(tmp_path, http_server.port, stack.settings.metrics.component_port)
    log = open(tmp_path / "prometheus.log", "wb")
    proc = launcher.popen(  # registered: stopped at exit should the teardown not run
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(2):  # two citizens wait for report_move, no agent is on duty
            sid = await stack.session()
            citizen = await stack.citizen()
            await citizen.claim_and_join(await stack.store.issue_ticket(sid))
        async with aiohttp.ClientSession() as http:
            async def ready() -> bool:
                try:
                    async with http.get(base + "/-/ready") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
                    return False
            await eventually(ready)

            async def queue() -> list[Any]:
                data = await api(http, base, "/api/v1/query",
                                 query='sum(max by (purpose) (idchat_queue_length{purpose="report_move"}))')
                return [r for r in data["result"] if r["value"][1] == "2"]
            await eventually(queue)
            async def both_up() -> bool:  # each target has its own offset in the 1 s rhythm
                up = await api(http, base, "/api/v1/query", query="up")
                return {r["metric"]["job"]: r["value"][1] for r in up["result"]} == \
                    {"idchat-http": "1", "idchat-component": "1"}
            await eventually(both_up, timeout=10)

            rules = await api(http, base, "/api/v1/rules")
            loaded = {r["name"]: r for g in rules["groups"] for r in g["rules"]}
            assert {"IdChatNoAgentWhileCitizensWait", "IdChatLongWait",
                    "IdChatComponentDisconnected", "IdChatTokenRejectsSpiking"} <= set(loaded)
            assert all(r["health"] != "err" for r in loaded.values()), loaded

            async def pending() -> bool:  # citizens wait, nobody on duty: the alert is on its way
                alerts = await api(http, base, "/api/v1/alerts")
                return any(a["labels"]["alertname"] == "IdChatNoAgentWhileCitizensWait"
                           and a["state"] in ("pending", "firing") for a in alerts["alerts"])
            await eventually(pending)
            component_down = (await api(http, base, "/api/v1/rules"))["groups"]
            states = {r["name"]: r["state"] for g in component_down for r in g["rules"]}
            assert states["IdChatComponentDisconnected"] == "inactive"  # it is connected
    finally:
        launcher.stop_process(proc)  # SIGTERM, SIGKILL after 10 s
        log.close()
        await http_server.close()
