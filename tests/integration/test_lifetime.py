"""One lifetime for a chat: every record ends together, whichever way the chat ends —
idle expiry and a lost Redis record included — and routing never strands a citizen."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from typing import Any

import pytest
from slixmpp import JID
from slixmpp.exceptions import IqError

from actors import Agent, Stack, error_condition
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import SessionStore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

IDLE_TTL = 15  # seconds of idle timeout here: a chat's deadline falls 13 s after its last activity


@pytest.fixture
def stack_settings(stack_settings: Settings) -> Settings:
    return dataclasses.replace(
        stack_settings,
        store=dataclasses.replace(stack_settings.store, session_ttl_seconds=IDLE_TTL),
        routing=dataclasses.replace(stack_settings.routing, reoffer_pause_seconds=2,
                                    no_agent_timeout_seconds=0, offer_timeout_seconds=2))


async def keys(stack: Stack, entity: str) -> list[bytes]:
    prefix = stack.settings.redis.key_prefix
    return [k async for k in stack.store.redis.scan_iter(match=f"{prefix}:{entity}:*", count=1000)]


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.25)


async def synthetic_chat(stack: Stack, name: str) -> str:
    """A chat claimed through the component by a guest JID that never connects (idle)."""
    chats = stack.gateway.chats
    ticket = await stack.store.issue_ticket(await stack.session())
    guest = JID(f"{name}-{secrets.token_hex(4)}@{stack.settings.xmpp.guest_domain}/page")
    chat, position, interrupted, _, dispatched = await chats.claim(guest, ticket)
    await chats.after_claim(chat, position, interrupted, dispatched=dispatched)
    # Positive control: the guest mapping the end must remove is there.
    assert await stack.store.redis.exists(stack.store.keys.guest(guest.bare))
    return chat.id


async def accept_offers(agent: Agent, count: int, accepted: list[str]) -> None:
    """Accept offers until ``count`` chats are ours (an offer may time out meanwhile)."""
    tried: set[str] = set()
    while len(accepted) < count:
        offer = await agent.wait_for("idchat_offer", after=0, pred=lambda o: o["id"] not in tried)
        tried.add(offer["id"])
        try:
            await agent.accept(offer)
        except IqError as exc:
            assert error_condition(exc) == "item-not-found"
            continue
        accepted.append(offer["chat"])


async def test_a_hundred_idle_chats_end_with_everything_they_hold(stack: Stack) -> None:
    router, rooms, redis = stack.gateway.router, stack.gateway.chats.rooms, stack.store.redis
    romeo, mercutio = await stack.agent("romeo"), await stack.agent("mercutio")
    for agent in (romeo, mercutio):
        await agent.available(max_chats=3)
    await asyncio.sleep(0.3)
    # The test takes the sweeper lease while it sets up, so that no chat ends before all
    # are counted on a slow machine: the component's renewal finds it is not its own and
    # stops sweeping (component/lease.py), and takes it back when the test lets go.
    sweeper = router.keys.lease("sweeper")
    await redis.set(sweeper, "test", px=120_000)
    await asyncio.sleep(1.5)  # a sweep that began before is over
    romeos: list[str] = []
    mercutios: list[str] = []
    accepting = asyncio.gather(accept_offers(romeo, 3, romeos), accept_offers(mercutio, 3, mercutios))
    cids: list[str] = []
    for batch in range(10):
        cids += await asyncio.gather(*(synthetic_chat(stack, f"idle{batch}-{i}") for i in range(10)))
    await asyncio.wait_for(accepting, 20)
    accepted = romeos + mercutios

    # Positive controls: the records and rooms the checks below must find gone are there.
    assert len(await keys(stack, "chat")) == 100
    assert await redis.zcard(router.keys.queue("report_move")) == 94
    assert await rooms.exists(cids[0]) and await rooms.exists(accepted[0])
    assert (await router.agent_figures(["romeo@agents.idchat.localhost"]))[0][2] == 3  # load
    assert set(cids) <= set(rooms.known)             # the component's own memory of rooms
    await redis.delete(sweeper)

    async def all_gone() -> bool:
        return await redis.zcard(router.keys.lives()) == 0
    await until(all_gone, IDLE_TTL + 15, "every idle chat ended")

    assert await redis.zcard(router.keys.queue("report_move")) == 0
    assert await redis.zcard(router.keys.offers()) == 0
    for entity in ("chat", "session", "guest", "declined", "offer", "attrurl"):
        assert await keys(stack, entity) == [], entity
    for bare in ("romeo@agents.idchat.localhost", "mercutio@agents.idchat.localhost"):
        assert (await router.agent_figures([bare]))[0][2:] == (0, 0), bare  # load, pending
        assert await router.agent_chats(bare) == []
    assert not any([await rooms.exists(cid) for cid in cids])
    # Nor in the component's memory: its rooms, and what slixmpp would keep for every JID
    # that sent it presence (every room, every agent: bench/soak.py saw it grow per chat).
    assert not set(cids) & set(rooms.known)
    assert list(stack.gateway.roster) == [] and not stack.gateway.plugin.enabled("xep_0115")
    for agent, theirs in ((romeo, romeos), (mercutio, mercutios)):
        ended = [m["idchat_ended"] for m in agent.headlines if m["idchat_ended"]["chat"]]
        assert sorted(e["chat"] for e in ended) == sorted(theirs)     # both sides are told
        assert {e["by"] for e in ended} == {"timeout"}

    # The queue moves again at once: a new citizen is first and offered without delay.
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    assert claimed["position"] == "1"
    offer = await romeo.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"], timeout=3)
    assert offer["chat"] == claimed["chat"]


async def test_a_waiting_citizen_in_the_room_never_expires_an_idle_conversation_does(
        stack: Stack) -> None:
    router = stack.gateway.router
    waiting = await stack.citizen()
    kept = await waiting.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    talking = await stack.citizen()
    idle = await talking.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    await asyncio.sleep(0.5)
    romeo = await stack.agent("romeo")
    await romeo.available(max_chats=1)
    offer = await romeo.wait_for("idchat_offer")
    assert offer["chat"] == kept["chat"]
    await romeo.iq("idchat_decline", offer=offer["id"])
    offer = await romeo.wait_for("idchat_offer", lambda o: o["chat"] == idle["chat"])
    await romeo.accept(offer)

    ended = await talking.wait_for("idchat_status", lambda s: s["state"] == "ended",
                                   timeout=IDLE_TTL + 6)
    assert ended["by"] == "timeout"
    assert (await romeo.wait_for("idchat_ended", lambda e: e["chat"] == idle["chat"]))["by"] \
        == "timeout"
    chat = await router.chat(kept["chat"])
    assert chat is not None and chat.present            # still waiting, still there
    await asyncio.sleep(IDLE_TTL - 4)                    # well past its own deadline now
    assert await router.chat(kept["chat"]) is not None
    assert await stack.store.get(chat.sid)

    await waiting.close()                                # leaves without a word: gone, then ended
    await until(lambda: _missing(router, kept["chat"]), 8, "the gone citizen's chat ended")


async def _missing(router: Any, cid: str) -> bool:
    return await router.chat(cid) is None


async def test_lost_records_are_cleaned_and_the_agent_recounted(stack: Stack) -> None:
    router, redis = stack.gateway.router, stack.store.redis
    romeo = await stack.agent("romeo")
    await romeo.available(max_chats=2)
    first, second = await stack.citizen(), await stack.citizen()
    c1 = await first.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    await romeo.accept(await romeo.wait_for("idchat_offer"))
    romeo.headlines.clear()
    await romeo.available(max_chats=1)                   # full: the second chat stays queued
    c2 = await second.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    assert await redis.zscore(router.keys.queue("report_move"), c2["chat"]) is not None

    # Redis loses both chat records (eviction, an operator's mistake).
    await redis.delete(router.keys.chat(c1["chat"]), router.keys.chat(c2["chat"]))

    async def forgotten() -> bool:  # the periodic check (every 2 s here) finds both
        return await redis.zcard(router.keys.lives()) == 0
    await until(forgotten, 10, "both lost chats out of the lifetime index")
    assert await redis.zcard(router.keys.queue("report_move")) == 0
    assert (await router.agent_figures(["romeo@agents.idchat.localhost"]))[0][2:] == (0, 0)
    assert await router.agent_chats("romeo@agents.idchat.localhost") == []
    assert not await stack.gateway.chats.rooms.exists(c1["chat"])
    assert not await stack.gateway.chats.rooms.exists(c2["chat"])
    assert await romeo.open_chats(max_chats=2) == []     # the console's list is empty too


async def test_only_the_agent_an_offer_went_to_can_decline_it(stack: Stack) -> None:
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    romeo, mercutio = await stack.agent("romeo"), await stack.agent("mercutio")
    await romeo.available()
    offer = await romeo.wait_for("idchat_offer")
    with pytest.raises(IqError) as info:
        await mercutio.iq("idchat_decline", offer=offer["id"])
    assert error_condition(info.value) == "item-not-found"
    chat = await stack.gateway.router.chat(offer["chat"])
    assert chat is not None and (chat.state, chat.offer) == ("offered", offer["id"])
    await romeo.accept(offer)                            # still romeo's to take


async def test_a_refused_chat_comes_back_to_the_only_agent_after_the_pause(stack: Stack) -> None:
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    romeo = await stack.agent("romeo")
    await romeo.available()
    first = await romeo.wait_for("idchat_offer")
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "offered")
    mark = len(citizen.headlines)
    await romeo.iq("idchat_decline", offer=first["id"])
    back = await citizen.wait_for("idchat_status", lambda s: s["state"] == "queued", after=mark)
    assert back["position"] == "1"
    # Declined: not at once, but after the pause (2 s here) it is offered to romeo again.
    await asyncio.sleep(1.0)
    assert [m for m in romeo.headlines if m["idchat_offer"]["id"]
            and m["idchat_offer"]["id"] != first["id"]] == []
    again = await romeo.wait_for("idchat_offer", lambda o: o["id"] != first["id"], timeout=5)
    assert again["chat"] == claimed["chat"]
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "offered", after=mark)

    # Missed (timeout, 2 s here): the same, after the pause.
    missed = await romeo.wait_for("idchat_revoke", lambda r: r["offer"] == again["id"], timeout=6)
    assert missed["reason"] == "timeout"
    third = await romeo.wait_for("idchat_offer",
                                 lambda o: o["id"] not in (first["id"], again["id"]), timeout=8)
    assert third["chat"] == claimed["chat"]


async def test_an_agent_back_on_duty_is_offered_what_they_refused(stack: Stack) -> None:
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    romeo = await stack.agent("romeo")
    await romeo.available()
    first = await romeo.wait_for("idchat_offer")
    await romeo.iq("idchat_decline", offer=first["id"])
    await romeo.available(show="away")
    await asyncio.sleep(0.3)
    await romeo.available()                              # back on duty: at once, no pause
    again = await romeo.wait_for("idchat_offer", lambda o: o["id"] != first["id"], timeout=1.5)
    assert again["chat"] == claimed["chat"]


async def test_nobody_on_duty_is_told_at_once_and_undone_when_someone_comes(stack: Stack) -> None:
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    told = await citizen.wait_for("idchat_status", lambda s: s["state"] == "no-agent", timeout=2)
    assert {alt["lang"] for alt in told["alternatives"]} == {"nl", "en"}
    # Whoever comes while nobody is on duty reads it in the claim's answer already.
    second = await stack.citizen()
    claimed = await second.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    assert claimed["state"] == "no-agent"
    await second.wait_for("idchat_status", lambda s: s["state"] == "no-agent", timeout=2)
    mark = len(citizen.headlines)
    romeo = await stack.agent("romeo")
    await romeo.available()
    back = await citizen.wait_for("idchat_status", lambda s: s["state"] in ("queued", "offered"),
                                  after=mark)
    assert back["state"] == "queued" and back["position"] == "1"
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "offered", after=mark)

    # The only agent goes away with the offer still out: it is withdrawn, and the citizen
    # hears at once that nobody is on duty (never "an agent is looking" any more).
    mark = len(citizen.headlines)
    await romeo.available(show="away")
    revoked = await romeo.wait_for("idchat_revoke")
    assert revoked["reason"] == "unavailable"
    later = await citizen.wait_for("idchat_status", lambda s: s["state"] != "offered",
                                   after=mark, timeout=3)
    assert later["state"] == "no-agent"
    # The first chat of a topic nobody serves, before any sweep has seen the topic: the
    # claim's answer itself says so (never "you are next" first).
    fresh = await stack.citizen()
    first = await fresh.claim(await stack.store.issue_ticket(await stack.session(purpose="parking")))
    assert first["state"] == "no-agent"


async def test_a_session_without_a_chat_lives_briefly_and_activity_marks_end_with_the_chat(
        stack: Stack) -> None:
    """A session nobody claimed (the citizen never came, or the claim failed) lives
    ``store.unclaimed_ttl_seconds``, not a chat's idle timeout; the once-a-minute activity
    marks go with the chat, not a minute later."""
    redis, keys_ = stack.store.redis, stack.store.keys
    short = SessionStore(redis, prefix=stack.settings.redis.key_prefix,
                         attributes_key=stack.settings.store.attributes_key_bytes(),
                         ttl=600, unclaimed_ttl=60)
    unclaimed = await short.create("report_move")
    assert 0 < await redis.ttl(keys_.session(unclaimed.id)) <= 60
    assert 0 < await redis.ttl(keys_.attr_url(unclaimed.attr_id or "")) <= 60
    assert await short.touch(unclaimed.id)               # a page load: still without a chat
    assert 0 < await redis.ttl(keys_.session(unclaimed.id)) <= 60
    await redis.hset(keys_.session(unclaimed.id), "chat", "c" * 32)
    assert await short.touch(unclaimed.id)               # claimed: a chat's idle timeout
    assert 60 < await redis.ttl(keys_.session(unclaimed.id)) <= 600
    await redis.delete(keys_.session(unclaimed.id), keys_.attr_url(unclaimed.attr_id or ""))

    sid = await stack.session()
    citizen, romeo = await stack.citizen(), await stack.agent("romeo")
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    await romeo.available(max_chats=1)
    room = await romeo.accept(await romeo.wait_for("idchat_offer"))
    # The claim kept the chat alive just now: activity within the minute extends nothing.
    # Made a minute old, the next message keeps it alive again (and marks that it did).
    record = keys_.chat(claimed["chat"])
    await redis.hset(record, "alive_ms", 1)
    stack.gateway.chats.forget_activity(claimed["chat"])  # its own note a minute old too
    await romeo.say(room, "Goedemiddag")
    await until(lambda: _alive_since(redis, record, 1), 5, "the agent's message kept it alive")
    await citizen.say(room, "Hallo")                      # told to ID Contact once a minute
    marks = [keys_.active_throttle(sid), keys_.active_throttle(f"{sid}:alive")]

    async def both_marked() -> bool:
        return await redis.exists(*marks) == 2
    await until(both_marked, 5, "the keep-alive's and the citizen's marks")   # positive control
    # Both were noted within the minute: more messages cost Redis nothing (the component
    # remembers that it looked), not a read of the chat per message.
    reads = await _chat_reads(redis)
    await stack.gateway.router.chat(claimed["chat"])      # the control: a read is counted
    assert await _chat_reads(redis) == reads + 1
    for n in range(3):
        await citizen.say(room, f"vraag {n}")
        await romeo.say(room, f"antwoord {n}")
    await romeo.wait_for_room("vraag 2")
    await citizen.wait_for_room("antwoord 2")
    await asyncio.sleep(0.3)
    assert await _chat_reads(redis) == reads + 1
    await romeo.iq("idchat_end", chat=claimed["chat"])
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "ended")
    assert await redis.exists(keys_.session(sid), *marks) == 0


async def _chat_reads(redis: Any) -> int:
    """HGETALL calls so far (how the component reads a chat's record)."""
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_hgetall", {}).get("calls", 0))


async def _alive_since(redis: Any, record: str, after: int) -> bool:
    value = await redis.hget(record, "alive_ms")
    return value is not None and int(value) > after
