"""A Redis that lost everything (restarted without a replica): the component notices by its
marker, ends every room it knows without a record, tells the people in them, keeps its
agents on duty, and goes on serving new chats."""

from __future__ import annotations

import asyncio

import pytest

from actors import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def wipe(stack: Stack) -> int:
    """Everything this installation had in Redis is gone (its key prefix, here)."""
    prefix = stack.settings.redis.key_prefix
    found = [k async for k in stack.store.redis.scan_iter(match=f"{prefix}:*", count=1000)]
    if found:
        await stack.store.redis.delete(*found)
    return len(found)


async def test_redis_that_forgot_everything_ends_every_room_and_tells_everyone(stack: Stack) -> None:
    rooms = stack.gateway.chats.rooms
    talking, waiting = await stack.citizen(), await stack.citizen()
    romeo = await stack.agent("romeo")
    await romeo.available(max_chats=1)
    first = await talking.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    await romeo.accept(await romeo.wait_for("idchat_offer"))
    await talking.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    second = await waiting.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    await asyncio.sleep(1.5)  # the component has checked its marker at least once
    assert await rooms.exists(first["chat"]) and await rooms.exists(second["chat"])

    assert await wipe(stack) > 5                          # positive control: there was state

    ended = await talking.wait_for("idchat_status", lambda s: s["state"] == "ended", timeout=5)
    assert (ended["chat"], ended["by"]) == (first["chat"], "system")
    assert (await waiting.wait_for("idchat_status", lambda s: s["state"] == "ended",
                                   timeout=5))["by"] == "system"
    told = await romeo.wait_for("idchat_ended", lambda e: e["chat"] == first["chat"], timeout=5)
    assert told["by"] == "system"
    await asyncio.sleep(1)                                # people are told first, then destroy
    assert not await rooms.exists(first["chat"])
    assert not await rooms.exists(second["chat"])

    # Romeo is still on duty (restored from what he told the component) and gets the next chat.
    newcomer = await stack.citizen()
    claimed = await newcomer.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    assert claimed["position"] == "1"
    offer = await romeo.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"], timeout=5)
    await romeo.accept(offer)
    await newcomer.wait_for("idchat_status", lambda s: s["state"] == "assigned")


async def test_a_room_left_without_a_record_is_ended_after_a_while(stack: Stack) -> None:
    """A record lost while its room lives: the room does not live on (orphan check: 2 s)."""
    rooms = stack.gateway.chats.rooms
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    # The chat's record vanishes, but not its lifetime entry's due time: only the room
    # check can find it within this test's time.
    await stack.store.redis.delete(stack.gateway.router.keys.chat(claimed["chat"]))
    await stack.store.redis.zrem(stack.gateway.router.keys.lives(), claimed["chat"])
    ended = await citizen.wait_for("idchat_status", lambda s: s["state"] == "ended", timeout=15)
    assert ended["by"] == "system"
    await asyncio.sleep(1)                                # people are told first, then destroy
    assert not await rooms.exists(claimed["chat"])
    assert claimed["chat"] not in rooms.known
