"""Authentication during the chat (docs/protocol.md §11) on the real servers, Redis and the
demo's core simulator: the agent asks, the citizen leaves for the core and comes back to
the same chat, the card turns verified for this agent only; a used or replayed token, a
refusal, an expiry and an end each close the request and leave no record behind."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from slixmpp.exceptions import IqError

from actors import Stack, error_condition, form_values
from component.core import Core
from redis_server import free_port
from tokenlab import TEST_PRIVKEY, TEST_PUBKEY, token
from xmpp_plugin.app import create_app
from xmpp_plugin.errors import CoreRefused, CoreUnavailable
from xmpp_plugin.settings import AuthSettings, KeyConfig
from xmpp_plugin.simulator import PEOPLE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

RATE = 6  # auth.agent_requests_per_minute here


@pytest.fixture
def http_port() -> int:
    return free_port()


@pytest.fixture
def stack_env(stack_env: dict[str, str], http_port: int) -> dict[str, str]:
    """The stack's settings plus the HTTP service with the core simulator as the core."""
    base = f"http://127.0.0.1:{http_port}"
    return {**stack_env, "IDCHAT_HTTP_PORT": str(http_port), "IDCHAT_HTTP_INTERNAL_URL": base,
            "IDCHAT_HTTP_EXTERNAL_URL": base, "IDCHAT_AUTH_CORE_URL": f"{base}/demo/core",
            "IDCHAT_AUTH_REQUESTOR": "idchat-test",
            "IDCHAT_AUTH_REQUEST_PRIVKEY_TYPE": "RSA", "IDCHAT_AUTH_REQUEST_PRIVKEY_FILE": str(TEST_PRIVKEY),
            "IDCHAT_AUTH_AGENT_REQUESTS_PER_MINUTE": str(RATE),
            "IDCHAT_DEMO_CORE_SIMULATOR": "true",
            "IDCHAT_DEMO_ENCRYPTION_PUBKEY_TYPE": "RSA", "IDCHAT_DEMO_ENCRYPTION_PUBKEY_FILE": str(TEST_PUBKEY),
            "IDCHAT_DEMO_SIGNING_PRIVKEY_TYPE": "RSA", "IDCHAT_DEMO_SIGNING_PRIVKEY_FILE": str(TEST_PRIVKEY),
            "IDCHAT_DEMO_REQUESTOR_PUBKEY_TYPE": "RSA", "IDCHAT_DEMO_REQUESTOR_PUBKEY_FILE": str(TEST_PUBKEY)}


@pytest.fixture
async def http(stack: Stack, http_port: int) -> Any:
    server = TestServer(create_app(stack.settings), port=http_port)
    await server.start_server()
    async with ClientSession() as browser:
        yield browser
    await server.close()


async def refused(call: Any) -> str:
    with pytest.raises(IqError) as info:
        await call
    return error_condition(info.value)


async def post_token(http: ClientSession, url: str, jwe: str) -> int:
    async with http.post(url, data=jwe, headers={"Content-Type": "application/jwt"}) as resp:
        return resp.status


def audit(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stack.audit_file.read_text().splitlines()]


async def test_the_agent_asks_the_citizen_logs_in_and_the_card_turns_verified(
        stack: Stack, http: ClientSession) -> None:
    s = stack.settings
    redis, keys, router = stack.store.redis, stack.store.keys, stack.gateway.router
    sid = await stack.session(None)                     # a failed login: not verified
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    agent, other = await stack.agent("romeo"), await stack.agent("mercutio")
    await agent.available(max_chats=2)
    offer = await agent.wait_for("idchat_offer")
    cid = offer["chat"]
    await agent.accept(offer)
    card = await agent.wait_for("idchat_attributes")
    assert form_values(card["form"])["status"] == "not_verified"

    # Only this chat's agent may ask, and only for a method the core allows.
    assert await refused(other.iq("idchat_auth_methods", "get", chat=cid)) == "forbidden"
    assert await refused(citizen.iq("idchat_authenticate", chat=cid, method="digid")) == "forbidden"
    assert await refused(agent.iq("idchat_authenticate", chat=cid, method="telepathy")) == "bad-request"
    answer = await agent.iq("idchat_auth_methods", "get", chat=cid)
    assert [m["tag"] for m in answer["idchat_auth_methods"]["methods"]] == ["digid", "yivi"]

    # 1. The request: the citizen gets the core's client_url; one request at a time.
    await agent.iq("idchat_authenticate", chat=cid, method="digid")
    asked = await citizen.wait_for("idchat_auth", lambda a: a["state"] == "requested")
    assert asked["method"] == "digid" and asked["url"].startswith(f"{s.http.external_url}/demo/core/login/")
    assert await refused(agent.iq("idchat_authenticate", chat=cid, method="yivi")) == "conflict"
    chat = await router.chat(cid)
    attr_url = f"{s.http.internal_url}/attributes/{chat.auth_attr}"
    assert await redis.get(keys.attr_url(chat.auth_attr)) == sid.encode()

    # The citizen leaves for the core (the page is left: gone from the room) longer than
    # routing.citizen_gone_seconds; the chat waits for them while the request is out.
    await citizen.close()
    back = await stack.citizen()                        # the page that loads on the way back
    async with http.get(asked["url"]) as resp:
        assert resp.status == 200 and "DigiD" in await resp.text()
    await asyncio.sleep(s.routing.citizen_gone_seconds + 1.5)
    assert (await router.chat(cid)).state == "assigned"
    async with http.post(asked["url"], data={"action": "login", "person": "0"},
                         allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == f"{s.http.external_url}/s/{sid}"
    result = await agent.wait_for("idchat_auth", lambda a: a["state"] == "verified")
    assert result["chat"] == cid and result["method"] == "digid"
    # However long the login took, the citizen now has a fresh grace to come back in.
    assert await redis.zscore(keys.gone(), cid) > time.time() * 1000
    # Back in the same chat: a new guest JID claims it.
    claimed = await back.claim_and_join(await stack.store.issue_ticket(sid))
    assert claimed["chat"] == cid
    pushed = await agent.wait_for("idchat_attributes", lambda a: form_values(a["form"])["status"] == "verified")
    values = form_values(pushed["form"])
    assert values["source"] == "in_chat" and values["attr:fullname"] == PEOPLE[0]["fullname"]
    assert any(m.xml.find(".//{jabber:x:data}x") is not None for m in agent.headlines)  # control
    assert all(m.xml.find(".//{jabber:x:data}x") is None for m in other.headlines)

    assert (await router.chat(cid)).auth_state == ""                  # the request is over
    assert await post_token(http, attr_url, token()) == 404          # used up

    # 2. The auth plugin posts to the attr_url directly; the same token again is refused.
    await agent.iq("idchat_authenticate", chat=cid, method="yivi")
    await back.wait_for("idchat_auth", lambda a: a["state"] == "requested" and a["method"] == "yivi")
    attr_url = f"{s.http.internal_url}/attributes/{(await router.chat(cid)).auth_attr}"
    jwe = token({"fullname": "Juliet Capulet", "bsn": "999990019"}, claims={"n": "2"})
    mark = len(agent.headlines)
    assert await post_token(http, attr_url, jwe) == 200
    await agent.wait_for("idchat_auth", lambda a: a["state"] == "verified", after=mark)
    assert await post_token(http, attr_url, jwe) == 404

    # 3. A replay of that accepted token into the next request is refused; the citizen declines.
    await agent.iq("idchat_authenticate", chat=cid, method="digid")
    attr_id = (await router.chat(cid)).auth_attr
    assert await post_token(http, f"{s.http.internal_url}/attributes/{attr_id}", jwe) == 409
    await back.iq("idchat_auth_cancel")
    assert (await agent.wait_for("idchat_auth", lambda a: a["state"] == "declined"))["chat"] == cid
    assert await redis.exists(keys.attr_url(attr_id)) == 0
    assert await redis.hget(keys.session(sid), "auth_attr_id") is None
    assert await refused(back.iq("idchat_auth_cancel")) == "item-not-found"

    # 4. Abandoned: when the request's time is up the sweeper closes it and tells both.
    await agent.iq("idchat_authenticate", chat=cid, method="digid")
    attr_id = (await router.chat(cid)).auth_attr
    await redis.hset(keys.chat(cid), "auth_deadline", 1)     # its time is up
    assert (await agent.wait_for("idchat_auth", lambda a: a["state"] == "expired", timeout=15))["chat"] == cid
    await back.wait_for("idchat_auth", lambda a: a["state"] == "expired")
    assert await redis.exists(keys.attr_url(attr_id)) == 0

    # 5. A request still out when the chat ends: every record of it goes with the chat.
    await agent.iq("idchat_authenticate", chat=cid, method="digid")
    attr_id = (await router.chat(cid)).auth_attr
    assert await redis.exists(keys.attr_url(attr_id)) == 1              # the control
    # A reloaded console learns of the request from its state presence (§3).
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    agent.xmpp.add_event_handler("presence", lambda p: answer.done() or p["from"].bare != s.xmpp.component_domain
                                 or answer.set_result([(c["id"], c["auth"], c["auth-method"])
                                                       for c in p["idchat_agent"]["chats"]]))
    await agent.available(max_chats=2)
    assert await asyncio.wait_for(answer, 8) == [(cid, "requested", "digid")]
    # The agent's count this minute (its window may have turned on a slow machine): at the limit.
    rate = keys.auth_rate("romeo@agents.idchat.localhost")
    assert int(await redis.get(rate) or 0) >= 1
    await redis.set(rate, RATE, ex=60)
    assert await refused(agent.iq("idchat_authenticate", chat=cid, method="digid")) == "resource-constraint"
    await agent.iq("idchat_end", chat=cid)
    await back.wait_for("idchat_status", lambda st: st["state"] == "ended")
    assert await redis.exists(keys.attr_url(attr_id), keys.session(sid), keys.chat(cid)) == 0
    assert await post_token(http, f"{s.http.internal_url}/attributes/{attr_id}",
                            token(claims={"n": "5"})) == 404

    events = audit(stack)
    kinds = [e["event"] for e in events if e["chat"] == cid]
    assert kinds.count("authentication-requested") == 5
    assert {"authenticated-in-chat", "authentication-declined", "authentication-expired"} <= set(kinds)
    done = next(e for e in events if e["event"] == "authenticated-in-chat")
    assert done["agent"] == "romeo@agents.idchat.localhost" and done["method"] == "digid"
    assert done["attribute_names"] == sorted(PEOPLE[0])
    text = stack.audit_file.read_text()
    assert PEOPLE[0]["fullname"] not in text and PEOPLE[0]["bsn"] not in text


async def test_a_core_that_is_down_or_refuses_is_a_clear_error() -> None:
    """Without a stack: the core client against a core that is not there, and one that
    answers what the contract does not allow."""
    async def broken(request: web.Request) -> web.Response:
        if request.path.startswith("/session_options/"):
            return web.json_response({"auth_methods": "digid"})     # not a list
        return web.json_response({"client_url": "javascript:alert(1)"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", broken)
    server = TestServer(app, port=free_port())
    await server.start_server()
    key = KeyConfig(type="RSA", file=str(TEST_PRIVKEY))
    refusing = Core.from_settings(AuthSettings(core_url=str(server.make_url("")).rstrip("/"),
                                               requestor="idchat-test", request_privkey=key))
    down = Core.from_settings(AuthSettings(core_url=f"http://127.0.0.1:{free_port()}",
                                           requestor="idchat-test", request_privkey=key))
    assert refusing is not None and down is not None
    try:
        with pytest.raises(CoreRefused):
            await refusing.methods("report_move")
        with pytest.raises(CoreRefused):
            await refusing.start("report_move", "digid", "http://x/s/1", "http://x/attributes/1")
        with pytest.raises(CoreUnavailable):
            await down.methods("report_move")
    finally:
        await refusing.close()
        await down.close()
        await server.close()


async def test_a_request_still_out_goes_with_the_chat_however_it_ends(
        stack: Stack, http: ClientSession) -> None:
    """The agent's end is in the scenario above; here the citizen's and the idle timeout's
    (the sweeper): each ends the request's records with the chat."""
    s, redis, keys, router = stack.settings, stack.store.redis, stack.store.keys, stack.gateway.router
    agent = await stack.agent("romeo")
    await agent.available(max_chats=2)
    chats = []
    for _ in range(2):
        sid = await stack.session(None)
        citizen = await stack.citizen()
        mark = len(agent.headlines)
        await citizen.claim_and_join(await stack.store.issue_ticket(sid))
        offer = await agent.wait_for("idchat_offer", after=mark)
        await agent.accept(offer)
        await agent.iq("idchat_authenticate", chat=offer["chat"], method="yivi")
        await citizen.wait_for("idchat_auth", lambda a: a["state"] == "requested")
        attr_id = (await router.chat(offer["chat"])).auth_attr
        assert await redis.exists(keys.attr_url(attr_id)) == 1                # the control
        assert await redis.hget(keys.session(sid), "auth_attr_id") == attr_id.encode()
        chats.append((sid, offer["chat"], attr_id, citizen))

    (sid1, cid1, attr1, citizen1), (sid2, cid2, attr2, citizen2) = chats
    await citizen1.iq("idchat_end")                                          # the citizen stops
    await redis.zadd(keys.lives(), {cid2: 0})                                # idle past its time
    for citizen, by in ((citizen1, "citizen"), (citizen2, "timeout")):
        await citizen.wait_for("idchat_status", lambda st, by=by: st["state"] == "ended" and st["by"] == by)
    for sid, cid, attr_id in ((sid1, cid1, attr1), (sid2, cid2, attr2)):
        assert await redis.exists(keys.attr_url(attr_id), keys.session(sid), keys.chat(cid)) == 0
        assert await post_token(http, f"{s.http.internal_url}/attributes/{attr_id}", token()) == 404


async def test_the_console_offers_it_only_when_the_service_has_a_core(make_settings: Any,
                                                                      aiohttp_client: Any) -> None:
    async def offered(**env: str) -> bool:
        client = await aiohttp_client(create_app(make_settings(**env)))
        page = await (await client.get("/agent")).text()
        return bool(json.loads(page.split('id="idchat-config">')[1].split("</script>")[0])["auth_in_chat"])

    assert await offered() is False
    assert await offered(IDCHAT_AUTH_CORE_URL="https://core.example.nl", IDCHAT_AUTH_REQUESTOR="idchat-test",
                         IDCHAT_AUTH_REQUEST_PRIVKEY_TYPE="RSA",
                         IDCHAT_AUTH_REQUEST_PRIVKEY_FILE=str(TEST_PRIVKEY)) is True
