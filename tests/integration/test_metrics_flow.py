"""/metrics on both processes against the real stack: a chat moves the counters, the
queue shows in the gauges of the lease holder, and no id or personal data appears."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from actors import Stack
from redis_server import free_port
from tokenlab import ATTRS
from xmpp_plugin.app import create_app
from xmpp_plugin.settings import MetricsSettings, Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def stack_settings(stack_settings: Settings) -> Settings:
    return dataclasses.replace(stack_settings, metrics=MetricsSettings(component_port=free_port()))


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


async def scrape(settings: Settings) -> tuple[str, dict[Any, float]]:
    m = settings.metrics
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://{m.component_host}:{m.component_port}/metrics") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await resp.text()
    return text, values(text)


async def until(settings: Settings, pred: Any, timeout: float = 8) -> dict[Any, float]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        _, got = await scrape(settings)
        if pred(got):
            return got
        assert asyncio.get_running_loop().time() < deadline, "metrics never got there"
        await asyncio.sleep(0.3)


def v(got: dict[Any, float], name: str, **labels: str) -> float:
    return got.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_chat_moves_the_component_counters(stack: Stack) -> None:
    s = stack.settings
    # The sweeper lease is taken within a second of going online: then the shared gauges show.
    before = await until(s, lambda g: v(g, "idchat_component_lease_held", lease="sweeper") == 1)
    assert v(before, "idchat_component_connected") == 1
    sid = await stack.session()
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    waiting = await until(s, lambda g: v(g, "idchat_queue_length", purpose="report_move") == 1)
    assert v(waiting, "idchat_chats_claimed_total") == v(before, "idchat_chats_claimed_total") + 1
    assert v(waiting, "idchat_agents_available") == 0

    agent = await stack.agent("romeo")
    await agent.available(max_chats=2)
    offer = await agent.wait_for("idchat_offer")
    await agent.accept(offer)
    await citizen.wait_for("idchat_status", lambda st: st["state"] == "assigned")
    busy = await until(s, lambda g: v(g, "idchat_agents_busy") == 1)
    assert v(busy, "idchat_queue_length", purpose="report_move") == 0
    assert v(busy, "idchat_agents_available") == 1 and v(busy, "idchat_capacity_chats") == 2
    assert v(busy, "idchat_capacity_free") == 1 and v(busy, "idchat_chats_assigned") == 1
    assert v(busy, "idchat_chats_accepted_total") == v(before, "idchat_chats_accepted_total") + 1
    assert v(busy, "idchat_wait_seconds_count") == v(before, "idchat_wait_seconds_count") + 1

    await agent.iq("idchat_end", chat=offer["chat"])
    await citizen.wait_for("idchat_status", lambda st: st["state"] == "ended")
    ended_before = v(before, "idchat_chats_ended_total", by="agent", state="assigned")
    after = await until(s, lambda g: v(g, "idchat_chats_ended_total", by="agent",
                                       state="assigned") == ended_before + 1)
    assert v(after, "idchat_handling_seconds_count") == v(before, "idchat_handling_seconds_count") + 1
    assert v(after, "idchat_agents_busy") == 0
    text, _ = await scrape(s)
    for secret in (sid, offer["chat"], "romeo", citizen.jid.bare, *ATTRS.values()):
        assert secret not in text


async def test_http_metrics_count_sessions_and_rejected_tokens(aiohttp_client: Any,
                                                                settings: Settings) -> None:
    client: TestClient = await aiohttp_client(TestServer(create_app(settings)))
    before = values(await (await client.get("/metrics")).text())
    assert (await client.post("/start_communication", json={"purpose": "report_move"})).status == 200
    bad = await client.post("/start_communication",
                            json={"purpose": "report_move", "auth_result": "a.b.c.d.e"})
    assert bad.status == 400
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    after = values(await resp.text())
    assert v(after, "idchat_sessions_started_total", route="attr_url") == \
        v(before, "idchat_sessions_started_total", route="attr_url") + 1
    assert sum(val for (name, _), val in after.items() if name == "idchat_tokens_rejected_total") \
        == sum(val for (name, _), val in before.items() if name == "idchat_tokens_rejected_total") + 1
    assert v(after, "idchat_redis_operation_seconds_count") > v(before, "idchat_redis_operation_seconds_count")
