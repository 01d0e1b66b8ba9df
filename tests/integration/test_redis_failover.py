"""Redis high availability: the primary dies (SIGKILL) in the middle of live chats and
waiting citizens. The Sentinels promote the replica; the component and the HTTP service
find it through the Sentinels themselves, each as its own ACL user. Every live chat goes
on, the queue keeps its order, every agent gets only their own citizens' details, and
``/readyz`` says what happens while it happens.

Replication is asynchronous: the test also cuts the replication link just before the
primary dies, so that one citizen's claim is lost for real. That citizen is told the chat
ended (the component finds the room without a record), as docs/deployment.md promises.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from actors import HA_ADMIN, HA_PREFIX, Agent, Citizen, Stack, form_values
from redis_server import HTTP_USER, REPLICA_USER, SENTINEL_USER, RedisHA
from tokenlab import token
from xmpp_plugin.app import create_app
from xmpp_plugin.store import SessionStore, connect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

PEOPLE = {name: {"fullname": f"{name.capitalize()} Test", "bsn": bsn, "city": "Verona"}
          for name, bsn in (("anna", "999990011"), ("bram", "999990022"), ("carla", "999990033"),
                            ("daan", "999990044"), ("eva", "999990055"), ("fred", "999990066"))}


@pytest.fixture
async def http(aiohttp_client: Any, ha_settings: Any) -> TestClient:
    """The HTTP service on the same Redis, through the Sentinels, as its own ACL user."""
    return await aiohttp_client(TestServer(create_app(ha_settings(HTTP_USER))))


def admin(ha: RedisHA, node: Any) -> aioredis.Redis:
    return aioredis.from_url(node.url, username=HA_ADMIN, password=ha.passwords[HA_ADMIN],
                             socket_timeout=5)


async def live_chat(st: Stack, agent: Agent, name: str) -> tuple[Citizen, dict[str, Any]]:
    citizen = await st.citizen()
    claimed = await citizen.claim_and_join(await st.store.issue_ticket(await st.session(PEOPLE[name])))
    await agent.available(max_chats=1)
    await agent.accept(await agent.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"]))
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    await agent.wait_for("idchat_attributes", lambda a: a["chat"] == claimed["chat"])
    return citizen, claimed


async def watch_readiness(http: TestClient, seen: list[tuple[float, int, dict[str, Any], str]],
                          stop: asyncio.Event) -> None:
    started = time.monotonic()
    while not stop.is_set():
        resp = await http.get("/readyz")
        seen.append((time.monotonic() - started, resp.status, await resp.json(),
                     resp.headers.get("Retry-After", "")))
        await asyncio.sleep(0.1)


def carla_chat_id(waiting: dict[str, tuple[Citizen, dict[str, Any], str]]) -> str:
    return str(waiting["carla"][1]["chat"])


def values_seen(agent: Agent) -> str:
    return " ".join(str(m) for m in agent.headlines)


async def test_the_primary_dies_mid_chat_and_nothing_is_stranded(
        ha_stack: Stack, redis_ha: RedisHA, http: TestClient) -> None:
    st = ha_stack
    romeo, mercutio = await st.agent("romeo"), await st.agent("mercutio")
    # Two live chats with their details delivered, one per agent (capacity one each).
    anna, anna_chat = await live_chat(st, romeo, "anna")
    bram, bram_chat = await live_chat(st, mercutio, "bram")
    # Three citizens waiting, in this order; their details come later, through the API.
    waiting: dict[str, tuple[Citizen, dict[str, Any], str]] = {}
    for position, name in enumerate(("carla", "daan", "eva"), start=1):
        sid = await st.session(pending=True)
        citizen = await st.citizen()
        claimed = await citizen.claim_and_join(await st.store.issue_ticket(sid))
        assert claimed["position"] == str(position)
        waiting[name] = (citizen, claimed, (await st.store.get(sid)).attr_id or "")
    fred_sid = await st.session(PEOPLE["fred"])
    fred_ticket = await st.store.issue_ticket(fred_sid)
    assert (await http.get("/readyz")).status == 200

    primary = admin(redis_ha, redis_ha.primary)
    try:
        assert await primary.execute_command("WAIT", 1, 2000) == 1  # the replica has it all
        # Replication cut: what happens from here on lives on the primary only.
        await primary.execute_command("ACL", "SETUSER", REPLICA_USER, "off")
        await primary.execute_command("CLIENT", "KILL", "TYPE", "replica")
        fred = await st.citizen()
        fred_chat = await fred.claim_and_join(fred_ticket)
        assert fred_chat["position"] == "4"
    finally:
        await primary.aclose()

    seen: list[tuple[float, int, dict[str, Any], str]] = []
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(watch_readiness(http, seen, stop))
    redis_ha.primary.kill()
    try:
        for _ in range(150):                       # until the replica serves as the primary
            await asyncio.sleep(0.1)
            if seen and seen[-1][1] == 200 and any(s[2]["redis"] == "failing-over" for s in seen):
                break
    finally:
        stop.set()
        await watcher
    states = [(round(t, 1), status, body["redis"]) for t, status, body, _ in seen]
    failing = [s for s in seen if s[2]["redis"] == "failing-over"]
    assert failing, states
    assert all(status == 503 and retry == "5" and body["status"] == "unavailable"
               for _, status, body, retry in failing), states
    assert seen[-1][1] == 200 and seen[-1][2] == {"status": "ok", "redis": "up", "xmpp": "up"}, states
    assert seen[-1][0] < 12, states                # a failover takes seconds, not minutes
    promoted = admin(redis_ha, redis_ha.replica)
    try:
        keys = st.store.keys
        assert (await promoted.execute_command("ROLE"))[0] == b"master"
        assert await promoted.exists(keys.chat(anna_chat["chat"]), keys.chat(carla_chat_id(waiting))) == 2
        assert not await promoted.exists(keys.chat(fred_chat["chat"]))   # lost for real
    finally:
        await promoted.aclose()

    # The live chats go on: messages flow both ways, and the agents end them.
    for citizen, agent, claimed in ((anna, romeo, anna_chat), (bram, mercutio, bram_chat)):
        await agent.say(claimed["room"], f"Nog even over {claimed['chat'][:4]}")
        await citizen.wait_for_room(f"Nog even over {claimed['chat'][:4]}")
        await citizen.say(claimed["room"], f"Graag {claimed['chat'][:4]}")
        await agent.wait_for_room(f"Graag {claimed['chat'][:4]}")
    await romeo.iq("idchat_end", chat=anna_chat["chat"])
    assert (await anna.wait_for("idchat_status", lambda s: s["state"] == "ended"))["by"] == "agent"

    # The queue kept its order: the first waiting citizen is offered first, then the next.
    carla, carla_chat, carla_attr = waiting["carla"]
    offer = await romeo.wait_for("idchat_offer", lambda o: o["chat"] != anna_chat["chat"], timeout=10)
    assert offer["chat"] == carla_chat["chat"]
    await romeo.accept(offer)
    await mercutio.iq("idchat_end", chat=bram_chat["chat"])
    assert (await bram.wait_for("idchat_status", lambda s: s["state"] == "ended"))["by"] == "agent"
    daan, daan_chat, daan_attr = waiting["daan"]
    offer = await mercutio.wait_for("idchat_offer", lambda o: o["chat"] != bram_chat["chat"], timeout=10)
    assert offer["chat"] == daan_chat["chat"]
    await mercutio.accept(offer)
    eva, eva_chat, _ = waiting["eva"]
    moved = await eva.wait_for("idchat_status", lambda s: s["state"] == "queued" and s["position"] == "1")
    assert moved["chat"] == eva_chat["chat"]

    # Details that arrive now (the HTTP service, through the Sentinels) reach only the agent
    # whose chat it is.
    for attr_id, name in ((carla_attr, "carla"), (daan_attr, "daan")):
        resp = await http.post(f"/attributes/{attr_id}", data=token(PEOPLE[name]),
                               headers={"Content-Type": "application/jwt"})
        assert resp.status == 200, await resp.text()
    for agent, chat, name in ((romeo, carla_chat, "carla"), (mercutio, daan_chat, "daan")):
        form = await agent.wait_for("idchat_attributes", lambda a, c=chat: a["chat"] == c["chat"]
                                    and form_values(a["form"])["status"] == "verified")
        assert form_values(form["form"])["attr:bsn"] == PEOPLE[name]["bsn"]
    theirs = {romeo: ("anna", "carla"), mercutio: ("bram", "daan")}
    for agent, own in theirs.items():
        text = values_seen(agent)
        assert [n for n in own if PEOPLE[n]["bsn"] in text] == list(own)    # positive control
        leaked = [n for n in PEOPLE if n not in own and PEOPLE[n]["bsn"] in text]
        assert not leaked, leaked

    # Fred's claim was lost with the primary: his room has no record on the new one. He is
    # told the chat ended (not left waiting in a room nobody routes), and the room goes.
    ended = await fred.wait_for("idchat_status", lambda s: s["state"] == "ended", timeout=20)
    assert (ended["chat"], ended["by"]) == (fred_chat["chat"], "system")
    await asyncio.sleep(1)
    assert not await st.gateway.chats.rooms.exists(fred_chat["chat"])
    assert not [m for m in romeo.headlines + mercutio.headlines
                if m["idchat_offer"]["chat"] == fred_chat["chat"]]


@pytest.mark.parametrize("paused", [True, False], ids=["writes-paused", "unprepared"])
async def test_a_planned_failover_and_the_http_service_follows(
        make_settings: Any, redis_ha: RedisHA, aiohttp_client: Any, paused: bool) -> None:
    """SENTINEL FAILOVER (maintenance). The old primary stays up, a primary still until the
    Sentinels demote it seconds later, and whatever is written there is lost. The HTTP
    service follows the Sentinels to the new primary (it asks them again every half
    second). With writes paused on the old primary first (docs/operations.md), no session
    answered 200 is lost; without, only those answered in the moment of the switch are.
    Every request meanwhile is answered 200, or 503 with Retry-After, within the timeout."""
    settings = make_settings(
        IDCHAT_REDIS_SENTINELS=",".join(redis_ha.addresses), IDCHAT_REDIS_KEY_PREFIX=HA_PREFIX,
        IDCHAT_REDIS_USERNAME=HTTP_USER, IDCHAT_REDIS_PASSWORD=redis_ha.passwords[HTTP_USER],
        IDCHAT_REDIS_TIMEOUT_SECONDS="1")
    http = await aiohttp_client(TestServer(create_app(settings)))
    old, new = redis_ha.primary.port, redis_ha.replica.port
    nodes = {old: admin(redis_ha, redis_ha.primary), new: admin(redis_ha, redis_ha.replica)}
    sentinel = aioredis.Redis(port=redis_ha.sentinels[0].port, username=SENTINEL_USER,
                              password=redis_ha.passwords[SENTINEL_USER])
    created: list[tuple[str, float]] = []
    answers: list[tuple[int, str, float]] = []

    async def start_one() -> None:
        began = time.monotonic()
        resp = await http.post("/start_communication", json={"purpose": "report_move"})
        answers.append((resp.status, resp.headers.get("Retry-After", ""), time.monotonic() - began))
        if resp.status == 200:
            created.append(((await resp.json())["client_url"].rsplit("/", 1)[1], time.monotonic()))

    try:
        for _ in range(5):
            await start_one()
        if paused:
            await nodes[old].execute_command("CLIENT", "PAUSE", 3000, "WRITE")
        assert await sentinel.execute_command("SENTINEL", "FAILOVER", redis_ha.service)
        switched = time.monotonic() + 15
        while time.monotonic() < switched + 4:     # through the switch and past the pause
            await start_one()
            address = await sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                                     redis_ha.service)
            if int(address[1]) == new:
                switched = min(switched, time.monotonic())
            await asyncio.sleep(0.05)
        assert int(address[1]) == new != old
        assert (await nodes[old].execute_command("ROLE"))[0] == b"master"   # two primaries now
        assert (await nodes[new].execute_command("ROLE"))[0] == b"master"
        lost = [(sid, at - switched) for sid, at in created
                if not await nodes[new].exists(f"{HA_PREFIX}:session:{sid}")]
    finally:
        await sentinel.aclose()
        for client in nodes.values():
            await client.aclose()
    later = [at for _, at in created if at > switched + 1]
    assert len(created) > 20 and len(later) > 20, (len(created), len(later))
    if paused:
        assert not lost, (len(lost), len(created), answers)
        assert {status for status, _, _ in answers} == {200, 503}, answers   # the pause was felt
    else:
        assert not [sid for sid, after in lost if after > 1], lost   # on the new one after 1 s
    assert {status for status, _, _ in answers} <= {200, 503}, answers
    assert all(retry == "5" for status, retry, _ in answers if status == 503), answers
    assert max(took for _, _, took in answers) < 2.5, answers        # redis.timeout_seconds = 1
    ready = await http.get("/readyz")
    assert (await ready.json())["redis"] == "up"


async def test_every_script_is_confirmed_by_the_replica(make_settings: Any, redis_ha: RedisHA,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Sessions and routing decisions are Lua scripts; on a Sentinel-watched primary each is
    followed by WAIT on its own connection, so it is on the replica before anyone is told.
    A replica that does not answer costs a script 100 ms once, is logged, and is not waited
    for during the next seconds."""
    settings = make_settings(
        IDCHAT_REDIS_SENTINELS=",".join(redis_ha.addresses), IDCHAT_REDIS_KEY_PREFIX=HA_PREFIX,
        IDCHAT_REDIS_USERNAME=HTTP_USER, IDCHAT_REDIS_PASSWORD=redis_ha.passwords[HTTP_USER])
    client = connect(settings)
    store = SessionStore.from_settings(client, settings)
    replica = admin(redis_ha, redis_ha.replica)

    async def timed_create() -> tuple[float, str]:
        began = time.monotonic()
        session = await store.create("report_move")
        return time.monotonic() - began, session.id

    try:
        together = await asyncio.gather(*(store.create("report_move") for _ in range(5)))
        assert len({s.id for s in together}) == 5                  # waited, none refused
        took, sid = await timed_create()
        assert took < 0.09 and await replica.exists(f"{HA_PREFIX}:session:{sid}")   # confirmed
        redis_ha.replica.pause()
        try:
            slow, _ = await timed_create()       # WAIT on the script's own connection times out
            fast, _ = await timed_create()       # and is not waited for again at once
        finally:
            redis_ha.replica.resume()
    finally:
        await replica.aclose()
        await client.aclose()
    assert slow >= 0.1 and fast < 0.09, (slow, fast)
    assert "no Redis replica confirmed a write within 100 ms" in caplog.text
