"""Crash points: the component (and, separately, the HTTP service) is killed with SIGKILL at
chosen points of a claim, an offer, an accept and an end, then started again. Nobody is
left in a room nobody watches, no agent's capacity leaks, no offer stays pending, and
every delivery of attributes is audited exactly once.

The processes run as in production (``python -m component``, ``python -m xmpp_plugin``)
with ``IDCHAT_FAULT_CRASH_AT`` naming the point (xmpp_plugin/faults.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from slixmpp.exceptions import IqError, IqTimeout

import launcher
from actors import Agent, Citizen, Stack, error_condition
from prosody_server import ProsodyServer
from redis_server import free_port
from tokenlab import ATTRS, TEST_PRIVKEY, TEST_PUBKEY, token
from xmpp_clients import join_room
from xmpp_plugin.settings import load_settings
from xmpp_plugin.store import SessionStore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]
ROMEO = "romeo@agents.idchat.localhost"


class Process(launcher.ModuleProcess):
    """One of our processes, started as in production; killed as by a power cut."""

    def __init__(self, module: str, env: dict[str, str], log: Path) -> None:
        super().__init__(module, module, env, log, ROOT)

    def start(self, crash_at: str = "") -> "Process":  # type: ignore[override]
        super().start({"IDCHAT_FAULT_CRASH_AT": crash_at} if crash_at else None)
        return self

    async def died(self, timeout: float = 15) -> int:
        assert self.proc is not None
        for _ in range(int(timeout * 10)):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.module} did not reach its crash point; log:\n"
                             + self.log_path.read_text()[-2000:])


@pytest.fixture
def env(redis_server: Any, xmpp_server: Any, tmp_path: Path) -> dict[str, str]:
    kind = "prosody" if isinstance(xmpp_server, ProsodyServer) else "ejabberd"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "IDCHAT_REDIS_URL": redis_server.url,
        "IDCHAT_REDIS_KEY_PREFIX": "idchat-crash-" + secrets.token_hex(4),
        "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
        "IDCHAT_XMPP_SERVER": kind,
        **{k: v for k, v in xmpp_server.env.items() if k.startswith("IDCHAT_XMPP_")},
        "IDCHAT_ROUTING_OFFER_TIMEOUT_SECONDS": "3",
        "IDCHAT_ROUTING_REOFFER_PAUSE_SECONDS": "1",
        "IDCHAT_ROUTING_NO_AGENT_TIMEOUT_SECONDS": "0",
        "IDCHAT_ROUTING_ORPHAN_CHECK_SECONDS": "2",
        "IDCHAT_XMPP_LEASE_SECONDS": "2",
        "IDCHAT_LOG_AUDIT_FILE": str(tmp_path / "audit.log"),
    }


@pytest.fixture
def http_env(env: dict[str, str]) -> dict[str, str]:
    port = free_port()
    return {**env,
            "IDCHAT_HTTP_PORT": str(port),
            "IDCHAT_HTTP_EXTERNAL_URL": f"http://127.0.0.1:{port}",
            "IDCHAT_HTTP_INTERNAL_URL": f"http://127.0.0.1:{port}",
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY),
            "IDCHAT_DEMO_ENABLED": "true"}


@pytest.fixture
async def crash_stack(http_env: dict[str, str], xmpp_server: Any,
                      tmp_path: Path) -> AsyncIterator[tuple[Stack, Process]]:
    """Clients, the store and a component process (not started: each test starts it)."""
    settings = load_settings(environ=http_env)
    client = aioredis.from_url(settings.redis.url, socket_timeout=10)
    component = Process("component", {k: v for k, v in http_env.items()
                                       if not k.startswith("IDCHAT_HTTP_")},
                        tmp_path / "component.log")
    st = Stack(settings, SessionStore.from_settings(client, settings), None,  # type: ignore[arg-type]
               xmpp_server, tmp_path / "audit.log")
    try:
        yield st, component
    finally:
        await st.close()
        component.stop()
        await client.aclose()


async def alive(st: Stack, after: bytes | None = None, timeout: float = 20) -> bytes:
    """Until a component instance (other than ``after``) reports a live XMPP stream."""
    key = st.store.keys.component_alive()
    for _ in range(int(timeout * 10)):
        value = await st.store.redis.get(key)
        if value is not None and value != after:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("the component did not come up")


async def restart(st: Stack, component: Process, crashed: Any = None) -> None:
    assert await component.died() == -signal.SIGKILL
    await st.store.redis.delete(st.store.keys.component_alive())
    component.start()
    await alive(st)


async def consistent(st: Stack) -> None:
    """The routing state adds up: load = open chats, pending = offers out, nothing stale."""
    r, k = st.store.redis, st.store.keys
    for raw in await r.smembers(k.agents_known()):
        bare = raw.decode()
        load, pending = await r.hget(k.agent_load(), bare), await r.hget(k.agent_pending(), bare)
        info = {"load": (load or b"0").decode(), "pending": (pending or b"0").decode()}
        chats = [c.decode() for c in await r.smembers(k.agent_chats(bare))]
        states = [await r.hmget(k.chat(c), ["state", "agent"]) for c in chats]
        assert all(s == [b"assigned", bare.encode()] for s in states), (bare, states)
        assert int(info.get("load", 0)) == len(chats), (bare, info, chats)
        offered = 0
        for raw_cid in await r.zrange(k.offers(), 0, -1):
            st_ = await r.hmget(k.chat(raw_cid.decode()), ["state", "offered_to"])
            assert st_[0] == b"offered", st_
            offered += st_[1] == raw
        assert int(info.get("pending", 0)) == offered, (bare, info)
    for raw in await r.zrange(k.lives(), 0, -1):
        assert await r.exists(k.chat(raw.decode())), f"a live id without a record: {raw!r}"


def deliveries(st: Stack) -> list[dict[str, Any]]:
    if not st.audit_file.exists():
        return []
    return [e for e in map(json.loads, st.audit_file.read_text().splitlines())
            if e["event"] == "attributes-delivered"]


async def room_exists(actor: Agent | Citizen, room: str) -> bool:
    """disco#info on the room: item-not-found when it does not exist (any other answer:
    it does, even if we may not look inside)."""
    for attempt in range(3):  # ejabberd leaves a request to a room being destroyed unanswered now and then
        try:
            await actor.xmpp.plugin["xep_0030"].get_info(jid=room, timeout=2)
            return True
        except IqError as exc:
            return error_condition(exc) != "item-not-found"
        except IqTimeout:
            if attempt == 2:
                raise
    return True  # not reached


async def until(check: Any, timeout: float, what: str) -> None:
    for _ in range(int(timeout * 4)):
        if await check():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"not within {timeout}s: {what}")


async def claim_again(st: Stack, citizen: Citizen, sid: str) -> Any:
    """What the page does when a claim fails: a fresh ticket (POST /ticket), claim again."""
    for _ in range(20):
        try:
            return await citizen.claim_and_join(await st.store.issue_ticket(sid))
        except (IqError, IqTimeout):
            await asyncio.sleep(0.5)
    raise AssertionError("the citizen could not claim again")


async def agent_with_console(st: Stack) -> Agent:
    """An agent that, like the console, opens the chats the component lists and asks for
    their details (protocol §3, §5)."""
    agent = await st.agent("romeo")
    agent.fetched = []  # type: ignore[attr-defined]

    def on_presence(pres: Any) -> None:
        if pres["from"].bare != st.settings.xmpp.component_domain:
            return
        for item in pres["idchat_agent"]["chats"]:
            asyncio.ensure_future(_open_chat(agent, item["id"], item["room"]))

    agent.xmpp.add_event_handler("presence", on_presence)
    return agent


async def _open_chat(agent: Agent, cid: str, room: str) -> None:
    if cid in agent.fetched:  # type: ignore[attr-defined]
        return
    agent.fetched.append(cid)  # type: ignore[attr-defined]
    await join_room(agent.xmpp, room, "Romeo")
    await agent.iq("idchat_attributes", ptype="get", chat=cid)


def attribute_messages(agent: Agent, cid: str) -> int:
    pushed = [m for m in agent.headlines if m["idchat_attributes"]["chat"] == cid]
    return len(pushed) + sum(1 for c in getattr(agent, "fetched", []) if c == cid)


CLAIM_POINTS = ["claim.room_created", "claim.linked"]


@pytest.mark.parametrize("point", CLAIM_POINTS)
async def test_a_claim_cut_short(crash_stack: tuple[Stack, Process], point: str) -> None:
    st, component = crash_stack
    component.start(crash_at=point)
    await alive(st)
    citizen = await st.citizen()
    sid = await st.session()
    with pytest.raises((IqError, IqTimeout)):
        await citizen.claim(await st.store.issue_ticket(sid))
    leftover = [c.decode() for c in await st.store.redis.zrange(st.store.keys.lives(), 0, -1)]
    assert len(leftover) == 1                          # the id reserved before the room
    await restart(st, component)

    claimed = await claim_again(st, citizen, sid)
    if point == "claim.linked":
        assert claimed["chat"] == leftover[0]          # the linked chat is opened after all
    else:                                              # the room made before the crash goes
        async def orphan_gone() -> bool:
            return not await room_exists(citizen, f"{leftover[0]}@{st.settings.xmpp.muc_domain}")
        await until(orphan_gone, 15, "the room of the claim cut short destroyed")
    romeo = await agent_with_console(st)
    await romeo.available()
    await romeo.accept(await romeo.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"]))
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    await citizen.say(claimed["room"], "hallo")
    await romeo.wait_for_room("hallo")
    await consistent(st)


async def test_an_offer_cut_short(crash_stack: tuple[Stack, Process]) -> None:
    st, component = crash_stack
    component.start(crash_at="offer.made")
    await alive(st)
    citizen = await st.citizen()
    claimed = await citizen.claim_and_join(await st.store.issue_ticket(await st.session()))
    romeo = await agent_with_console(st)
    await romeo.available()
    await restart(st, component)
    # The offer recorded but never sent times out, and is made again.
    offer = await romeo.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"], timeout=15)
    await romeo.accept(offer)
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    await consistent(st)
    assert len(deliveries(st)) == attribute_messages(romeo, claimed["chat"]) == 1


@pytest.mark.parametrize("point", ["accept.routed", "accept.delivered"])
async def test_an_accept_cut_short(crash_stack: tuple[Stack, Process], point: str) -> None:
    st, component = crash_stack
    component.start(crash_at=point)
    await alive(st)
    citizen = await st.citizen()
    claimed = await citizen.claim_and_join(await st.store.issue_ticket(await st.session()))
    romeo = await agent_with_console(st)
    await romeo.available()
    offer = await romeo.wait_for("idchat_offer")
    with pytest.raises((IqError, IqTimeout)):
        await romeo.iq("idchat_accept", offer=offer["id"])
    await restart(st, component)

    # The component completes the accept: the citizen hears it, the console is told its
    # chat, opens the room and asks for the details; nobody waits in a room nobody watches.
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned", timeout=15)
    await until(lambda: _fetched(romeo, claimed["chat"]), 10, "the console opened the chat")
    await asyncio.sleep(1)
    await citizen.say(claimed["room"], "hallo")
    await romeo.wait_for_room("hallo")
    await consistent(st)
    # Every delivery (pushed before the crash, or asked for after) is audited exactly once.
    audited = [e for e in deliveries(st) if e["chat"] == claimed["chat"]]
    assert len(audited) == attribute_messages(romeo, claimed["chat"])
    assert len(audited) == (2 if point == "accept.delivered" else 1)


async def test_a_transfer_cut_short(crash_stack: tuple[Stack, Process]) -> None:
    """The component dies right after routing gave the chat to the colleague: the sweeper
    completes the hand-over — the colleague admitted, the agent who handed it on out of
    the room — and the numbers add up."""
    st, component = crash_stack
    component.start(crash_at="transfer.taken")
    await alive(st)
    citizen = await st.citizen()
    claimed = await citizen.claim_and_join(await st.store.issue_ticket(await st.session()))
    romeo = await agent_with_console(st)
    await romeo.available()
    await romeo.accept(await romeo.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"]))
    removed: list[Any] = []
    romeo.xmpp.add_event_handler("groupchat_presence", lambda p: removed.append(p) if (
        p["type"] == "unavailable" and p["from"].bare == claimed["room"]
        and "321" in [s.get("code") for s in p.xml.iter("{http://jabber.org/protocol/muc#user}status")])
        else None)
    mercutio = await st.agent("mercutio")
    await mercutio.available()
    await asyncio.sleep(0.5)
    iq = romeo.xmpp.make_iq(ito=romeo.component, itype="set")
    iq["idchat_transfer"]["chat"], iq["idchat_transfer"]["agent"] = claimed["chat"], mercutio.jid.bare
    await iq.send(timeout=8)
    offer = await mercutio.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"])
    with pytest.raises((IqError, IqTimeout)):
        await mercutio.iq("idchat_accept", offer=offer["id"])
    await restart(st, component)

    async def handed_over() -> bool:
        return bool(removed)
    await until(handed_over, 15, "the agent who handed the chat on removed from the room")
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned", timeout=15)
    await join_room(mercutio.xmpp, claimed["room"], "Mercutio")   # admitted by the sweeper
    await citizen.say(claimed["room"], "hallo")
    await mercutio.wait_for_room("hallo")
    await consistent(st)
    assert [c.decode() for c in await st.store.redis.smembers(st.store.keys.agent_chats(ROMEO))] == []


async def _fetched(agent: Agent, cid: str) -> bool:
    return cid in getattr(agent, "fetched", [])


async def test_an_end_cut_short(crash_stack: tuple[Stack, Process]) -> None:
    st, component = crash_stack
    component.start(crash_at="end.released")
    await alive(st)
    citizen = await st.citizen()
    sid = await st.session()
    claimed = await citizen.claim_and_join(await st.store.issue_ticket(sid))
    romeo = await agent_with_console(st)
    await romeo.available()
    await romeo.accept(await romeo.wait_for("idchat_offer"))
    with pytest.raises((IqError, IqTimeout)):
        await romeo.iq("idchat_end", chat=claimed["chat"])
    await restart(st, component)

    ended = await citizen.wait_for("idchat_status", lambda s: s["state"] == "ended", timeout=15)
    assert ended["by"] == "agent"                       # wound up as it began
    assert (await romeo.wait_for("idchat_ended"))["by"] == "agent"

    async def gone() -> bool:
        return not await room_exists(romeo, claimed["room"])
    await until(gone, 10, "the room destroyed")

    async def wound_up() -> bool:
        return await st.store.redis.zcard(st.store.keys.lives()) == 0
    await until(wound_up, 10, "the end wound up")
    assert not await st.store.redis.exists(st.store.keys.session(sid))
    assert not await st.store.redis.exists(st.store.keys.chat(claimed["chat"]))
    await consistent(st)
    assert (await st.store.redis.hget(st.store.keys.agent_load(), ROMEO)) == b"0"


async def test_attributes_stored_when_the_http_service_dies(
        crash_stack: tuple[Stack, Process], http_env: dict[str, str], tmp_path: Path) -> None:
    """Killed right after storing late attributes, before answering: the component was told
    in the same step, so the agent gets them once, audited once."""
    st, component = crash_stack
    component.start()
    await alive(st)
    http = Process("xmpp_plugin", http_env, tmp_path / "http.log")
    http.start(crash_at="attributes.stored")
    base = http_env["IDCHAT_HTTP_EXTERNAL_URL"]
    try:
        async with aiohttp.ClientSession() as web:
            for _ in range(100):
                try:
                    async with web.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            async with web.post(f"{base}/start_communication",
                                json={"purpose": "report_move"}) as resp:
                urls = await resp.json()
            sid = urls["client_url"].rsplit("/", 1)[1]
            citizen = await st.citizen()
            claimed = await citizen.claim_and_join(await st.store.issue_ticket(sid))
            romeo = await agent_with_console(st)
            await romeo.available()
            await romeo.accept(await romeo.wait_for("idchat_offer"))
            first = await romeo.wait_for("idchat_attributes")
            assert first["form"].get_values()["status"] == "pending"
            with pytest.raises(aiohttp.ClientError):
                async with web.post(urls["attr_url"], data=token(ATTRS),
                                    headers={"Content-Type": "application/jwt"}) as resp:
                    await resp.read()
        assert await http.died() == -signal.SIGKILL
        late = await romeo.wait_for("idchat_attributes",
                                    lambda a: a["form"].get_values()["status"] == "verified")
        assert late["chat"] == claimed["chat"]
        await asyncio.sleep(1)
        verified = [m for m in romeo.headlines
                    if m["idchat_attributes"]["form"].get_values().get("status") == "verified"]
        assert len(verified) == 1
        audited = [e for e in deliveries(st) if e.get("status") == "verified"]
        assert len(audited) == 1
    finally:
        http.stop()
