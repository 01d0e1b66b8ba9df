"""Least privilege against a real Redis with ACLs: ``default`` off, one user per process.

The HTTP service and the component run as real processes (``python -m``), each given
only the settings of its own role and its own Redis user, and carry a whole chat; each
user is then held to what it may touch.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, NoPermissionError

import launcher
from actors import AGENT_PASSWORD, Agent, Citizen, form_values
from redis_server import (
    COMPONENT_USER,
    HTTP_USER,
    REPLICA_USER,
    SENTINEL_USER,
    RedisServer,
    acl_file,
    free_port,
    wait_for_port,
)
from tokenlab import ATTRS, ROOT, TEST_PRIVKEY, TEST_PUBKEY, token
from xmpp_clients import connect_agent, connect_guest
from xmpp_plugin.settings import XmppSettings, load_settings
from xmpp_plugin.store import connect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

PREFIX = "idchat-acl"


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return {HTTP_USER: secrets.token_urlsafe(24), COMPONENT_USER: secrets.token_urlsafe(24)}


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory,
              passwords: dict[str, str]) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis-acl"), acl=acl_file(PREFIX, passwords)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def password_files(tmp_path_factory: pytest.TempPathFactory,
                   passwords: dict[str, str]) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("secrets")
    files = {}
    for user, password in passwords.items():
        files[user] = folder / user
        files[user].write_text(password + "\n")   # as `openssl rand ... > file` writes it
        files[user].chmod(0o600)
    return files


def role_env(user: str, acl_redis: RedisServer, password_files: dict[str, Path]) -> dict[str, str]:
    """What every process of ours gets; the rest is per role."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("IDCHAT_")}
    env.update({"IDCHAT_REDIS_URL": acl_redis.url, "IDCHAT_REDIS_KEY_PREFIX": PREFIX,
                "IDCHAT_REDIS_USERNAME": user,
                "IDCHAT_REDIS_PASSWORD_FILE": str(password_files[user]),
                "IDCHAT_LOG_LEVEL": "INFO"})
    return env


async def client_for(user: str, acl_redis: RedisServer, password_files: dict[str, Path],
                     role: str) -> aioredis.Redis:
    """A client as the process of that role makes it: settings, then store.connect()."""
    env = role_env(user, acl_redis, password_files)
    env.update({"IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
                "IDCHAT_XMPP_COMPONENT_SECRET": "unused-here",
                "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
                "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
                "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
                "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY)})
    return connect(load_settings(environ=env, role=role))


# -- each user may do what its process needs, and nothing else -----------------------------


async def test_default_user_is_off_and_passwords_are_checked(acl_redis: RedisServer,
                                                            passwords: dict[str, str]) -> None:
    anonymous = aioredis.from_url(acl_redis.url)
    with pytest.raises(AuthenticationError):
        await anonymous.ping()
    await anonymous.aclose()
    wrong = aioredis.from_url(acl_redis.url, username=HTTP_USER, password="not-the-password")
    with pytest.raises(AuthenticationError):
        await wrong.ping()
    await wrong.aclose()
    right = aioredis.from_url(acl_redis.url, username=HTTP_USER, password=passwords[HTTP_USER])
    assert await right.ping()                                   # positive control
    await right.aclose()


async def test_http_user_reaches_only_the_keys_the_http_service_uses(
        acl_redis: RedisServer, password_files: dict[str, Path]) -> None:
    http = await client_for(HTTP_USER, acl_redis, password_files, "http")
    p = PREFIX
    try:
        await http.hset(f"{p}:session:x", "status", "pending")
        await http.set(f"{p}:attrurl:x", "x", ex=5)
        await http.set(f"{p}:token:x", "x", ex=5)
        await http.set(f"{p}:ticket:x", "x", ex=5)
        await http.xadd(f"{p}:events", {"type": "attributes", "sid": "x"}, maxlen=10)
        assert await http.exists(f"{p}:component:alive") == 0   # may read the liveness ...
        denied = [
            http.set(f"{p}:component:alive", "me"),             # ... not fake it
            http.hset(f"{p}:chat:x", "state", "assigned"),      # routing belongs to the component
            http.zadd(f"{p}:queue:report_move", {"x": 1}),
            http.hset(f"{p}:agent:romeo@agents", "load", 0),
            http.set(f"{p}:lease:sweeper", "me"),
            http.get(f"{p}:guest:juliet@guest"),
            http.publish(f"{p}:iqfwd:x", "x"),
            http.set("other-app:session:x", "x"),
            http.keys("*"), http.flushall(), http.config_get("*"),
        ]
        for attempt in denied:
            with pytest.raises(NoPermissionError):
                await attempt
    finally:
        await http.delete(f"{p}:session:x", f"{p}:attrurl:x", f"{p}:token:x", f"{p}:ticket:x",
                          f"{p}:events")
        await http.aclose()


async def test_component_user_reaches_all_of_id_chat_and_nothing_else(
        acl_redis: RedisServer, password_files: dict[str, Path]) -> None:
    component = await client_for(COMPONENT_USER, acl_redis, password_files, "component")
    p = PREFIX
    try:
        await component.hset(f"{p}:chat:x", "state", "queued")
        await component.zadd(f"{p}:queue:report_move", {"x": 1})
        await component.set(f"{p}:component:alive", "me", ex=5)
        await component.publish(f"{p}:iqfwd:x", "x")
        assert [k async for k in component.scan_iter(match=f"{p}:chat:*")] == [f"{p}:chat:x".encode()]
        for attempt in (component.set("other-app:x", "x"), component.publish("other-app:x", "x"),
                        component.keys("*"), component.flushall(), component.config_get("*")):
            with pytest.raises(NoPermissionError):
                await attempt
    finally:
        await component.delete(f"{p}:chat:x", f"{p}:queue:report_move", f"{p}:component:alive")
        await component.aclose()


# -- the two processes, each with its own role's settings and Redis user, carry a chat -----


def spawn(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # registered: stopped at exit should the teardown not run
        return launcher.popen([sys.executable, "-m", module], cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.fixture
async def processes(acl_redis: RedisServer, password_files: dict[str, Path], xmpp_server: Any,
                    tmp_path: Path) -> AsyncIterator[str]:
    attributes_key = base64.b64encode(os.urandom(32)).decode()
    http_port = free_port()
    base = f"http://127.0.0.1:{http_port}"
    # The HTTP service: token keys, never the component secret.
    http_env = role_env(HTTP_USER, acl_redis, password_files)
    http_env.update({"IDCHAT_HTTP_PORT": str(http_port), "IDCHAT_HTTP_EXTERNAL_URL": base,
                     "IDCHAT_HTTP_INTERNAL_URL": base, "IDCHAT_STORE_ATTRIBUTES_KEY": attributes_key,
                     "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
                     "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
                     "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
                     "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY),
                     "IDCHAT_DEMO_ENABLED": "true"})
    # The component: the component secret, never a token key.
    component_env = role_env(COMPONENT_USER, acl_redis, password_files)
    component_env.update({k: v for k, v in xmpp_server.env.items() if k.startswith("IDCHAT_XMPP_")})
    component_env.update({"IDCHAT_STORE_ATTRIBUTES_KEY": attributes_key,
                          "IDCHAT_XMPP_SERVER": type(xmpp_server).__name__.removesuffix("Server").lower(),
                          "IDCHAT_ROUTING_OFFER_TIMEOUT_SECONDS": "5",
                          "IDCHAT_LOG_AUDIT_FILE": str(tmp_path / "audit.log")})
    assert "IDCHAT_XMPP_COMPONENT_SECRET" not in http_env
    assert not [k for k in component_env if k.startswith(("IDCHAT_TOKENS_", "IDCHAT_DEMO_"))]
    procs = [spawn("xmpp_plugin", http_env, tmp_path / "http.log"),
             spawn("component", component_env, tmp_path / "component.log")]
    try:
        wait_for_port(http_port, 20, procs[0])
        await _wait_ready(base, procs, tmp_path)
        yield base
    finally:
        for proc in procs:
            launcher.stop_process(proc)


async def _wait_ready(base: str, procs: list[subprocess.Popen[bytes]], logs: Path) -> None:
    """/readyz is 200 once the component (its user) wrote its liveness and the HTTP
    service (its user) read it."""
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            try:
                async with http.get(base + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    tails = {f.name: f.read_text()[-2000:] for f in logs.glob("*.log")}
    raise AssertionError(f"the stack did not become ready: {tails}")


async def test_each_process_carries_a_chat_with_its_own_role_and_user(processes: str,
                                                                      xmpp_server: Any) -> None:
    base = processes
    xmpp = XmppSettings()
    port = int(xmpp_server.env["IDCHAT_XMPP_C2S_PORT"])
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.post(base + "/start_communication", json={"purpose": "report_move"}) as r:
            assert r.status == 200
            urls = await r.json()
        async with browser.get(urls["client_url"]) as r:          # binds, touches, issues a ticket
            assert r.status == 200
            page = await r.text()
        async with browser.post(urls["client_url"] + "/ticket") as r:   # a fresh ticket
            assert r.status == 200
            ticket = (await r.json())["ticket"]
        assert ticket != json.loads(page.split('id="idchat-config">')[1].split("</script>")[0])["ticket"]

        citizen = Citizen(await connect_guest(xmpp.guest_domain, port), xmpp.component_domain)
        agent = Agent(await connect_agent(f"romeo@{xmpp.agent_domain}", AGENT_PASSWORD, port),
                      xmpp.component_domain)
        try:
            # On duty first: with nobody on duty (as a run on the other server may have left
            # this prefix) the claim is answered no-agent.
            await agent.available()
            claimed = await citizen.claim_and_join(ticket)          # component: ticket, chat, queue
            assert claimed["state"] == "queued"
            offer = await agent.wait_for("idchat_offer")
            await agent.accept(offer)
            async with browser.post(urls["attr_url"], data=token(),  # HTTP: seal, event stream
                                    headers={"Content-Type": "application/jwt"}) as r:
                assert r.status == 200
            attrs = await agent.wait_for(                           # component: stream, open
                "idchat_attributes", lambda a: form_values(a["form"])["status"] == "verified")
            assert form_values(attrs["form"])["attr:bsn"] == ATTRS["bsn"]
            await agent.iq("idchat_end", chat=offer["chat"])
            ended = await citizen.wait_for("idchat_status", lambda s: s["state"] == "ended")
            assert ended["by"] == "agent"
        finally:
            for actor in (citizen, agent):
                await actor.close()
        async with browser.get(urls["client_url"]) as r:          # the component purged it
            assert r.status == 404


# -- Redis high availability: the Sentinels and the data nodes have their ACLs too ---------


async def test_on_the_sentinels_our_users_may_only_find_the_primary(redis_ha: Any) -> None:
    """A process that could reconfigure a Sentinel could point everyone at a Redis of its
    choosing (and collect the passwords sent there): ours may only ask. On the data nodes
    the replication and Sentinel users reach no key."""
    sentinel = redis_ha.sentinels[0]
    anonymous = aioredis.Redis(port=sentinel.port)
    with pytest.raises(AuthenticationError):
        await anonymous.ping()
    await anonymous.aclose()
    for user in (HTTP_USER, COMPONENT_USER):
        client = aioredis.Redis(port=sentinel.port, username=user,
                                password=redis_ha.passwords[user])
        try:
            address = await client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                                   redis_ha.service)
            assert int(address[1]) == redis_ha.primary.port           # may ask
            assert (await client.sentinel_master(redis_ha.service))["is_master"]
            for attempt in (("SENTINEL", "FAILOVER", redis_ha.service),
                            ("SENTINEL", "SET", redis_ha.service, "down-after-milliseconds", "1"),
                            ("SENTINEL", "REMOVE", redis_ha.service),
                            ("SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "1"),
                            ("SENTINEL", "RESET", "*"), ("SENTINEL", "CONFIG", "GET", "*"),
                            ("ACL", "LIST"), ("SHUTDOWN",)):
                with pytest.raises(NoPermissionError):
                    await client.execute_command(*attempt)
        finally:
            await client.aclose()
    for user in (REPLICA_USER, SENTINEL_USER):
        client = aioredis.Redis(port=redis_ha.primary.port, username=user,
                                password=redis_ha.passwords[user])
        try:
            assert await client.ping()                                   # positive control
            for attempt in (client.get(f"{redis_ha.prefix}:session:x"), client.keys("*"),
                            client.set("x", "y"), client.flushall()):
                with pytest.raises(NoPermissionError):
                    await attempt
        finally:
            await client.aclose()
