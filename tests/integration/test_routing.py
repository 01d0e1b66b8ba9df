"""Routing on the real stack: queue positions, capacity, decline, timeout, no agent,
late attributes, a citizen's reload, an agent who goes away."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from slixmpp.exceptions import IqError

from actors import Stack, error_condition, form_values
from component.routing import Accepted, Chat, DayCount, Released, Router
from component.stateless import MUC_PLUGIN
from redis_server import RedisServer
from tokenlab import ATTRS, token
from xmpp_plugin import lua
from xmpp_plugin.models import AuthResult
from xmpp_plugin.store import Keys, SessionStore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_two_citizens_one_agent_of_capacity_one(stack: Stack) -> None:
    first, second = await stack.citizen(), await stack.citizen()
    c1 = await first.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    c2 = await second.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    assert (c1["position"], c2["position"]) == ("1", "2")

    agent = await stack.agent("romeo")
    await agent.available(max_chats=1)
    offer = await agent.wait_for("idchat_offer")
    assert offer["chat"] == c1["chat"]                     # first come, first served
    await agent.accept(offer)
    await first.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    moved = await second.wait_for("idchat_status", lambda s: s["state"] == "queued")
    assert moved["position"] == "1"                        # pushed when the queue moved
    await asyncio.sleep(0.5)
    assert len([m for m in agent.headlines if m["idchat_offer"]["id"]]) == 1  # capacity 1 holds

    await agent.iq("idchat_end", chat=c1["chat"])
    second_offer = await agent.wait_for("idchat_offer", lambda o: o["chat"] == c2["chat"])
    await agent.accept(second_offer)
    await second.wait_for("idchat_status", lambda s: s["state"] == "assigned")


async def test_decline_goes_to_the_next_agent_and_is_remembered(stack: Stack) -> None:
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    romeo = await stack.agent("romeo")
    await romeo.available()
    offer = await romeo.wait_for("idchat_offer")
    mercutio = await stack.agent("mercutio")
    await mercutio.available()
    await romeo.iq("idchat_decline", offer=offer["id"])
    second = await mercutio.wait_for("idchat_offer")
    assert second["chat"] == claimed["chat"]
    await mercutio.iq("idchat_decline", offer=second["id"])
    await asyncio.sleep(0.5)
    assert [m["idchat_offer"]["chat"] for m in romeo.headlines if m["idchat_offer"]["id"]] == \
        [claimed["chat"]]                                   # not offered to romeo again


async def test_offer_timeout_goes_to_the_next_agent(stack: Stack) -> None:
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    romeo = await stack.agent("romeo")
    await romeo.available()
    offer = await romeo.wait_for("idchat_offer")
    mercutio = await stack.agent("mercutio")
    await mercutio.available()
    revoke = await romeo.wait_for("idchat_revoke", timeout=6)   # offer timeout is 2 s here
    assert revoke["offer"] == offer["id"] and revoke["reason"] == "timeout"
    assert (await mercutio.wait_for("idchat_offer"))["chat"] == offer["chat"]
    with pytest.raises(IqError) as info:
        await romeo.iq("idchat_accept", offer=offer["id"])
    assert error_condition(info.value) == "item-not-found"


async def test_no_agent_tells_the_citizen_the_alternative(stack: Stack) -> None:
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    status = await citizen.wait_for("idchat_status", lambda s: s["state"] == "no-agent", timeout=6)
    texts = {alt["lang"]: alt["text"] for alt in status["alternatives"]}
    assert texts == {"nl": stack.settings.routing.alternative_nl,
                     "en": stack.settings.routing.alternative_en}


async def test_attributes_arriving_late_are_pushed_to_the_agent(stack: Stack) -> None:
    sid = await stack.session(pending=True)
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    agent = await stack.agent("romeo")
    await agent.available()
    await agent.accept(await agent.wait_for("idchat_offer"))
    first = await agent.wait_for("idchat_attributes")
    assert form_values(first["form"])["status"] == "pending"
    from xmpp_plugin.models import Source
    # Entries of an unknown kind or without a session are skipped (and acknowledged),
    # the reader goes on to the real one behind them.
    for bad in ({"type": "gossip", "sid": sid}, {"type": "attributes", "auth": "verified"}):
        await stack.store.redis.xadd(stack.store.keys.events(), bad)
    await stack.store.deliver(sid, stack.verifier().check(token()), Source.ATTR_URL)
    pushed = await agent.wait_for("idchat_attributes",
                                  lambda a: form_values(a["form"])["status"] == "verified")
    assert form_values(pushed["form"])["attr:fullname"] == ATTRS["fullname"]
    # The events that carried the news (they name the session) are gone once handled.
    for _ in range(20):
        if await stack.store.redis.xlen(stack.store.keys.events()) == 0:
            break
        await asyncio.sleep(0.1)
    assert await stack.store.redis.xlen(stack.store.keys.events()) == 0


async def test_agent_can_fetch_attributes_again_but_nobody_else(stack: Stack) -> None:
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session(None)))
    romeo, mercutio = await stack.agent("romeo"), await stack.agent("mercutio")
    await romeo.available()
    await romeo.accept(await romeo.wait_for("idchat_offer"))
    again = (await romeo.iq("idchat_attributes", ptype="get", chat=claimed["chat"]))["idchat_attributes"]
    assert form_values(again["form"])["status"] == "not_verified"
    for actor in (mercutio, citizen):
        with pytest.raises(IqError) as info:
            await actor.iq("idchat_attributes", ptype="get", chat=claimed["chat"])
        assert error_condition(info.value) == "forbidden"


async def test_reload_keeps_the_chat_and_moves_membership(stack: Stack) -> None:
    sid = await stack.session()
    before = await stack.citizen()
    first = await before.claim_and_join(await stack.store.issue_ticket(sid))
    after = await stack.citizen()                            # the reloaded page: a new guest JID
    second = await after.claim_and_join(await stack.store.issue_ticket(sid))
    assert second["room"] == first["room"] and second["chat"] == first["chat"]
    members = await stack.gateway.plugin[MUC_PLUGIN].get_affiliation_list(
        first["room"], "member", ifrom=stack.gateway.chats.rooms.me)
    assert members == [after.jid.bare]


async def test_two_pages_claiming_one_session_at_once_share_one_chat(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two tabs of one session claim at the same moment: both make a room, one chat is
    linked first, the other claim joins it (its own room destroyed, its id forgotten)."""
    rooms = stack.gateway.chats.rooms
    create, destroy = rooms.create, rooms.destroy
    both, started, destroyed = asyncio.Event(), [], []

    async def create_together(cid: str, *args: Any, **kwargs: Any) -> Any:
        started.append(cid)                                 # both claims got this far
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)
        return await create(cid, *args, **kwargs)

    async def noting_destroy(cid: str) -> None:
        destroyed.append(cid)
        await destroy(cid)
    monkeypatch.setattr(rooms, "create", create_together)
    monkeypatch.setattr(rooms, "destroy", noting_destroy)
    sid = await stack.session()
    one, two = await stack.citizen(), await stack.citizen()
    tickets = [await stack.store.issue_ticket(sid) for _ in range(2)]
    a, b = await asyncio.gather(one.claim(tickets[0]), two.claim(tickets[1]))
    assert a["chat"] == b["chat"] and a["room"] == b["room"]
    assert sorted(started) == sorted([a["chat"], *destroyed]) and len(destroyed) == 1
    lives = [c.decode() for c in await stack.store.redis.zrange(stack.store.keys.lives(), 0, -1)]
    assert lives == [a["chat"]]                             # the loser's reserved id is gone
    assert await stack.store.chat_of(sid) == a["chat"]


async def test_agent_offline_mid_chat_puts_the_citizen_back_in_front(stack: Stack) -> None:
    waiting = await stack.citizen()
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    romeo = await stack.agent("romeo")
    await romeo.available()
    await romeo.accept(await romeo.wait_for("idchat_offer"))
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    later = await waiting.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    assert later["position"] == "1"
    await romeo.close()                                      # gone; grace is 1 s here
    back = await citizen.wait_for("idchat_status",
                                  lambda s: s["state"] == "queued" and s["interrupted"] == "true",
                                  timeout=6)
    assert back["position"] == "1"                           # in front of the later citizen
    mercutio = await stack.agent("mercutio")
    await mercutio.available()
    assert (await mercutio.wait_for("idchat_offer"))["chat"] == claimed["chat"]


async def test_expected_wait_once_chats_have_been_handled(stack: Stack) -> None:
    for ms in (60_000, 120_000, 180_000):                    # three chats of 1, 2 and 3 minutes
        await stack.store.redis.lpush(stack.store.keys.handling_times(), ms)
    agent = await stack.agent("romeo")
    await agent.available(max_chats=1)
    first, second = await stack.citizen(), await stack.citizen()
    await first.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    await second.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    await agent.accept(await agent.wait_for("idchat_offer"))
    status = await second.wait_for("idchat_status", lambda s: s["state"] == "queued" and s["wait"])
    assert (status["position"], status["wait"]) == ("1", "120")   # 2 minutes mean, 1 place
    # The capacity on duty is one read of the duty hash; a lost or stale hash is made to
    # follow the on-duty set again by the recount.
    router = stack.gateway.router
    assert await router.seconds_per_place() == 120.0
    await router.redis.delete(router.keys.duty())
    await router.redis.hset(router.keys.duty(), "ghost@agents.example", "5 *")
    assert await router.seconds_per_place() == 24.0      # the hash is what counts: 5 places
    await router.reconcile()
    assert await router.seconds_per_place() == 120.0
    assert not await router.redis.hexists(router.keys.duty(), "ghost@agents.example")


async def _commands(client: aioredis.Redis) -> dict[str, int]:
    """Calls per command that Redis executed so far (INFO commandstats), INFO itself left out."""
    stats = await client.info("commandstats")
    return {name: row["calls"] for name, row in stats.items() if name != "cmdstat_info"}


async def test_dispatch_reads_the_agents_in_a_constant_number_of_commands(tmp_path: Path) -> None:
    """Issue 15: one dispatch with a chat waiting costs the same Redis commands with 3 or 12
    agents on duty (it used to read every agent's record, one HMGET each); an end asks for
    a dispatch only when it freed a full agent's place; the recount moves an older
    version's counters. A private Redis: nothing else runs commands while they are counted."""
    server = RedisServer(tmp_path / "redis").start()
    client = aioredis.from_url(server.url)
    try:
        cost = {}
        for n in (3, 12):
            keys = Keys(f"dispatch{n}")
            router = Router(client, keys, offer_timeout=30, chat_ttl=600)
            agents = [f"agent{i}@agents.example" for i in range(n)]
            for i, bare in enumerate(agents):
                await router.agent_available(bare, f"{bare}/console", 2, f"Agent {i}")
            await router.dispatch()  # nobody waits: the script is loaded, nothing offered
            await router.open_chat("c1", "s1", "report_move", "juliet@guest.example/web")
            # agent0 declined it a moment ago: the pause holds, it goes to someone else.
            await client.zadd(keys.declined("c1"), {agents[0]: int(time.time() * 1000) + 1000})
            before = await _commands(client)
            made, lost = await router.dispatch()
            after = await _commands(client)
            # Positive control: this dispatch read the agents, skipped the one who declined
            # and made an offer, and the count sees the script's own commands.
            assert lost == [] and [(m.chat, m.agent_full) for m in made] == [
                ("c1", f"{agents[1]}/console")]
            cost[n] = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
            assert cost[n]["cmdstat_evalsha"] == 1
            figures = await router.agent_figures(agents[:2])
            assert [f[3] for f in figures] == [0, 1]              # pending: the offer counted
        assert cost[12] == cost[3]
        # After an end, a dispatch only when it freed a place of an agent who had none (only
        # then can a waiting chat go where it could not): agent1 (room for 2) had the offer.
        keys = Keys("dispatch3")
        router = Router(client, keys, offer_timeout=30, chat_ttl=600)
        released = await router.release("c1", "citizen")
        assert released is not None and (released.state, released.offered_to) == (
            "offered", agents[1])
        assert (await router.agent_figures([agents[1]]))[0][3] == 0  # the offer's place freed
        assert not await router.had_no_room([agents[1]])        # 0 of 2 used: had room
        await client.hset(keys.agent_load(), agents[1], 1)
        assert await router.had_no_room([agents[1]])            # 1 + the freed one = 2 of 2
        await router.agent_busy(agents[1], f"{agents[1]}/console", 2)
        assert not await router.had_no_room([agents[1]])        # away: takes no new chat
        assert await router.had_no_room(None) and not await router.had_no_room([])
        # An upgrade: counters a former version kept in the agent's own record are dropped
        # from it by the recount, which writes them where they live now.
        await client.hset(keys.agent("agent2@agents.example"), mapping={"load": 7, "pending": 7,
                                                                        "last": 1})
        assert await router.reconcile() == [agents[1]]          # its load, set by hand above
        assert await client.hmget(keys.agent("agent2@agents.example"),
                                  ["load", "pending", "last", "max"]) == [None, None, None, b"2"]
    finally:
        await client.aclose()
        server.stop()


async def test_a_new_chat_is_opened_and_offered_in_one_round_trip(tmp_path: Path) -> None:
    """Issue 15: a claim's opening and the dispatch go to Redis as one pipeline, so the
    offer is made before the claim is answered; when Redis does not hold the scripts (at
    first, or after a restart emptied its cache) both still run, in order, and the new chat
    is still offered."""
    server = RedisServer(tmp_path / "redis").start()
    client = aioredis.from_url(server.url)
    try:
        keys = Keys("opening")
        router = Router(client, keys, offer_timeout=30, chat_ttl=600)
        await router.agent_available("romeo@agents.example", "romeo@agents.example/console", 1,
                                     "Romeo")
        offered = []
        # Redis holds: neither script, both, only the dispatch (which then runs first and
        # finds nothing to offer), both.
        for n, missing in enumerate((2, 0, 1, 0)):
            cid, sid = f"c{n}", f"s{n}"
            await client.hset(keys.session(sid), "purpose", "report_move")
            if missing:
                await client.script_flush()
            if missing == 1:
                assert await router.dispatch() == ([], [])   # loads the dispatch only
            before = await _commands(client)
            (kind, chat, position, told), (made, lost) = await router.open_and_dispatch(
                cid, sid, "report_move", f"juliet{n}@guest.example/web",
                guest_key=keys.guest(f"juliet{n}@guest.example"), session_ttl=600,
                no_agent_grace_ms=60_000)
            after = await _commands(client)
            sent = {k: v - before.get(k, 0) for k, v in after.items()
                    if k in ("cmdstat_evalsha", "cmdstat_script|load")}
            assert (kind, position, told, lost) == ("opened", 1, False, [])
            assert isinstance(chat, Chat) and chat.id == cid
            assert await client.hget(keys.session(sid), "chat") == cid.encode()
            offered.append([(m.chat, m.agent) for m in made])
            if missing:  # refused, loaded, run again: the opening, then the dispatch
                assert sent.get("cmdstat_script|load") == missing
            else:        # one pipeline of two EVALSHA, nothing loaded
                assert (sent.get("cmdstat_evalsha"), sent.get("cmdstat_script|load", 0)) == (2, 0)
            await router.release(cid, "citizen")  # romeo (room for one) is free again
        assert offered == [[(f"c{n}", "romeo@agents.example")] for n in range(4)]
    finally:
        await client.aclose()
        server.stop()


def _counting_client(url: str) -> tuple[aioredis.Redis, list[str]]:
    """A client that notes the name of every command it sends on its own (a pipeline's
    commands go past it)."""
    client = aioredis.from_url(url)
    sent: list[str] = []
    execute = client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]).upper())
        return await execute(*args, **options)

    client.execute_command = counting  # type: ignore[method-assign]
    return client, sent


async def test_an_answer_an_activity_and_an_end_each_take_one_request(tmp_path: Path) -> None:
    """Issue 15: the accept counts the chat in today's figures (a chat a colleague handed
    to the queue was counted before, and is not again); the citizen's activity is marked
    and the attributes for ID Contact's notice read in one step; the release returns the
    attributes the end's audit and logout notice need. Each is one request to Redis."""
    server = RedisServer(tmp_path / "redis").start()
    client, sent = _counting_client(server.url)
    try:
        keys = Keys("answer")
        router = Router(client, keys, offer_timeout=30, chat_ttl=600)
        store = SessionStore(client, prefix="answer", attributes_key=bytes(32), ttl=600)
        romeo = "romeo@agents.example"
        await router.agent_available(romeo, f"{romeo}/console", 4, "Romeo")
        for name in ("routing_accept", "session_active", "routing_release"):
            await client.script_load(lua.source(name))  # held, as in a running process
        count = DayCount("2026-11-30", service_level=60, samples=2, ttl=3600)
        accepted = []
        for n, (waited_s, handed_on) in enumerate(((0, ""), (90, ""), (5, "Mercutio"), (1, ""))):
            session = await store.create("report_move", AuthResult(
                verified=True, attributes={"bsn": "999990019"},
                session_url="https://core.example/session/1", fingerprint=f"f{n}"))
            cid = f"c{n}"
            await router.open_and_dispatch(cid, session.id, "report_move",
                                           f"juliet{n}@guest.example/web",
                                           guest_key=keys.guest(f"juliet{n}@guest.example"),
                                           session_ttl=600, no_agent_grace_ms=60_000)
            arrived = int(time.time() * 1000) - waited_s * 1000
            await client.hset(keys.chat(cid), mapping={"enqueued_ms": arrived,
                                                       "transferred_by": handed_on})
            oid = (await client.hget(keys.chat(cid), "offer") or b"").decode()
            sent.clear()
            got = await router.accept(oid, romeo, f"{romeo}/console", "romeo", count)
            assert sent == ["EVALSHA"]
            assert isinstance(got, Accepted) and got.chat.id == cid and got.sealed
            accepted.append(session.id)
        # Answered: the three not handed on; within 60 s: two of them; the last 2 waits kept.
        assert await client.hmget(keys.day_stats("2026-11-30"), ["answered", "within"]) == [
            b"3", b"2"]
        assert await client.lrange(keys.day_waits("2026-11-30"), 0, -1) == [b"90", b"1"]
        for key in (keys.day_stats("2026-11-30"), keys.day_waits("2026-11-30")):
            assert 3500 < await client.ttl(key) <= 3600

        sid = accepted[0]
        sent.clear()
        told = await store.active(sid, 60)
        assert sent == ["EVALSHA"]
        assert told is not None and told.session_url == "https://core.example/session/1"
        assert await store.active(sid, 60) is None                   # told within the minute
        assert 0 < await client.ttl(keys.active_throttle(sid)) <= 60
        pending = await store.create("report_move")                 # attributes not here yet
        assert await store.active(pending.id, 60) is None
        assert not await client.exists(keys.active_throttle(pending.id))  # no mark then
        assert await store.active("no-such-session", 60) is None
        assert not await client.exists(keys.active_throttle("no-such-session"))

        # An agent's end: whose chat it is is checked in the same step as the release.
        before = await client.hgetall(keys.chat("c0"))
        assert await router.release_by_agent("c0", "mercutio@agents.example") == "not-yours"
        assert await client.hgetall(keys.chat("c0")) == before           # nothing changed
        sent.clear()
        released = await router.release_by_agent("c0", romeo)
        assert sent == ["EVALSHA"]
        assert isinstance(released, Released) and released.state == "assigned"
        assert released.chat is not None and (released.chat.agent, released.chat.sid,
                                              released.chat.state) == (romeo, sid, "assigned")
        opened = store.opened(sid, released.sealed)
        assert opened is not None and opened.attributes == {"bsn": "999990019"}
        assert await client.hget(keys.chat("c0"), "state") == b"ending"
        assert await router.release_by_agent("c0", romeo) == "ending"     # once only
        assert await router.release_by_agent("no-such-chat", romeo) == "gone"
        await client.delete(keys.session(accepted[1]))                 # the session is gone
        gone = await router.release("c1", "agent")
        assert gone is not None and gone.sealed == ""
    finally:
        await client.aclose()
        server.stop()


async def test_everyone_waiting_is_read_in_one_request(tmp_path: Path) -> None:
    """Issue 15: when a queue moves, the places of everyone waiting (queue, each chat's
    citizen and state, whether they were told nobody is on duty) are one request."""
    server = RedisServer(tmp_path / "redis").start()
    client, sent = _counting_client(server.url)
    try:
        keys = Keys("places")
        router = Router(client, keys, offer_timeout=30, chat_ttl=600)
        await client.script_load(lua.source("routing_waiting"))
        assert await router.waiting("report_move") == []               # nobody waits
        for n in range(3):
            await router.open_chat(f"c{n}", f"s{n}", "report_move", f"juliet{n}@guest.example/web")
        await client.hset(keys.chat("c0"), "state", "offered")
        await client.delete(keys.chat("c1"))                            # a record gone
        sent.clear()
        assert await router.waiting("report_move") == [
            ("c0", "juliet0@guest.example/web", "offered"),
            ("c2", "juliet2@guest.example/web", "queued")]
        assert sent == ["EVALSHA"]
        await client.sadd(keys.told_off_duty(), "report_move")
        assert await router.waiting("report_move") is None              # told nobody's there
        assert await router.waiting("request_permit") == []
    finally:
        await client.aclose()
        server.stop()
