"""Issue 8, item 3: four anonymous guests flood the component with junk claims while a real
citizen claims. The component answers the citizen at once, keeps its stream and its
lease, and refuses or drops the excess (component/budget.py, component/admission.py).

The XMPP server may throttle guests itself (Prosody mod_limits, ejabberd shapers), so
the first test asserts on what reached the component; the second feeds the same flood
to the component directly, as if the server had let all of it through; the third
starves the shared Redis pool and checks that lease and liveness do not notice.
The real claim must be answered within 2 s; on a machine where other work takes CPU
meanwhile, within 2 s scaled by the CPUs left over (measured, printed with the result).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path
from typing import Any, AsyncIterator
from xml.etree import ElementTree as ET

import pytest
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families
from redis.exceptions import ConnectionError as RedisConnectionError

from actors import Flooder, Stack
from component import audit
from component.gateway import Gateway
from component.metrics import Exporter
from component.protocol import stanza
from prosody_server import ProsodyServer
from xmpp_clients import join_room
from xmpp_plugin.settings import Settings, StoreSettings
from xmpp_plugin.store import SessionStore, connect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

GUESTS, STANZAS, SEND_SECONDS, SLICES = 4, 15_000, 2.0, 20
CLAIM_WITHIN = 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


@pytest.fixture
async def prod_stack(stack_settings: Settings, xmpp_server: Any,
                     tmp_path: Path) -> AsyncIterator[Stack]:
    """The stack with the Redis client the component has in production: a blocking pool
    of redis.max_connections (conftest's ``stack`` has an unbounded one). Tickets live
    as long as by default: a slow claim must fail on its time, not on its ticket."""
    stack_settings = dataclasses.replace(stack_settings, store=dataclasses.replace(
        stack_settings.store, ticket_ttl_seconds=StoreSettings().ticket_ttl_seconds))
    audit.configure(str(tmp_path / "audit.log"))
    client = connect(stack_settings, read_timeout=5.0)
    gateway = Gateway(stack_settings, client)
    gateway.start()
    await asyncio.wait_for(gateway.online.wait(), 15)
    st = Stack(stack_settings, SessionStore.from_settings(client, stack_settings), gateway,
               xmpp_server, tmp_path / "audit.log")
    try:
        yield st
    finally:
        await st.close()
        await gateway.stop()
        await client.aclose()


class Watch:
    """Samples, every 20 ms, whether the component is online and how much work it holds."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.disconnects = 0
        self.offline_samples = 0
        self.max_handlers = 0
        self.max_tasks = 0
        gateway.add_event_handler("disconnected", self._disconnected)
        self._task = asyncio.ensure_future(self._sample())

    def _disconnected(self, _event: object) -> None:
        self.disconnects += 1

    async def _sample(self) -> None:
        while True:
            self.offline_samples += not self.gateway.online.is_set()
            self.max_handlers = max(self.max_handlers, len(self.gateway.admission.tasks))
            self.max_tasks = max(self.max_tasks, len(asyncio.all_tasks()))
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.gateway.del_event_handler("disconnected", self._disconnected)


def counters(gateway: Gateway) -> tuple[int, int, int]:
    b = gateway.budget
    return b.admitted, b.refused, b.dropped


async def settle(gateway: Gateway, limit: float) -> None:
    """Until the component's counters stood still for 1 s, or ``limit`` s: a server that
    throttles guests lets the flood trickle in long after it was sent."""
    deadline = time.monotonic() + limit
    last, since = counters(gateway), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        now = counters(gateway)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 1.0:
            return


class OtherWork:
    """The CPU that processes outside this test (not this process, which runs the
    component, nor the XMPP server, nor Redis) used over a window, from /proc. On a
    shared machine a latency limit means nothing without it."""

    def __init__(self, server: Any, redis_server: Any) -> None:
        pid = server.pid if isinstance(server, ProsodyServer) else server._find_beam()
        self.pids = [p for p in (pid, redis_server.proc.pid) if p]
        self._start = self._sample()

    def _sample(self) -> tuple[float, float, float]:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields)
        busy = (user + nice + system + irq + softirq + steal) / CLK_TCK
        ours = time.process_time() + sum(_cpu_seconds(p) for p in self.pids)
        return time.monotonic(), busy, ours

    def cpus(self) -> float:
        """CPUs that other work used on average since this object was made."""
        (t0, busy0, ours0), (t1, busy1, ours1) = self._start, self._sample()
        return max(0.0, ((busy1 - busy0) - (ours1 - ours0)) / max(1e-3, t1 - t0))


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def claim_limit(other: OtherWork) -> float:
    """2 s (issue 8) when the stack has the machine's CPUs to itself; when other work took
    some of them meanwhile, 2 s scaled by the CPUs that were left (printed with the
    result): the component cannot make a CPU it does not get go faster."""
    cpus = os.cpu_count() or 1
    return CLAIM_WITHIN * cpus / max(0.25, cpus - other.cpus())


async def timed_claim(citizen: Any, ticket: str) -> tuple[Any, float]:
    t = time.perf_counter()
    claimed = await citizen.claim(ticket)
    return claimed, time.perf_counter() - t


async def chat_still_works(stack: Stack, citizen: Any, claimed: Any) -> None:
    """The claimed chat goes on as usual: join, offer, accept, a message each way."""
    await join_room(citizen.xmpp, claimed["room"], claimed["nick"])
    agent = await stack.agent("romeo")
    await agent.available()
    offer = await agent.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"])
    room = await agent.accept(offer)
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    await agent.say(room, "Goedemiddag, waarmee kan ik helpen?")
    await citizen.wait_for_room("Goedemiddag, waarmee kan ik helpen?")
    await citizen.say(room, "Ik ben verhuisd.")
    await agent.wait_for_room("Ik ben verhuisd.")


async def test_a_flood_of_junk_claims_leaves_a_real_citizen_and_the_stream_alone(
        prod_stack: Stack, redis_server: Any) -> None:
    stack, gw, limits = prod_stack, prod_stack.gateway, prod_stack.settings.budget
    sid = await stack.session()
    citizen = await stack.citizen()
    flooders = [await stack.flooder(i) for i in range(GUESTS)]
    per = STANZAS // SLICES
    slices = [[f.junk(s * per, per) for f in flooders] for s in range(SLICES)]
    other = OtherWork(stack.server, redis_server)
    watch = Watch(gw)
    before = counters(gw)
    t0 = time.monotonic()

    async def flood() -> None:
        for s, chunks in enumerate(slices):
            for f, chunk in zip(flooders, chunks):
                f.write(chunk, per)
            await asyncio.sleep(max(0.0, t0 + (s + 1) * SEND_SECONDS / SLICES - time.monotonic()))

    flooding = asyncio.ensure_future(flood())
    await asyncio.sleep(SEND_SECONDS / 4)                     # in the thick of it
    claimed, took = await timed_claim(citizen, await stack.store.issue_ticket(sid))
    limit = claim_limit(other)
    await flooding
    await settle(gw, 5)
    elapsed = time.monotonic() - t0
    await watch.stop()

    assert took < limit, f"the real claim took {took:.2f} s (limit {limit:.1f} s)"
    assert claimed["state"] == "queued" and claimed["chat"]
    assert watch.disconnects == 0 and watch.offline_samples == 0
    assert gw.online.is_set()
    # Bounded work: never more handlers than the caps, never a task per stanza.
    assert watch.max_handlers <= limits.in_flight
    assert watch.max_tasks < 200

    # What reached the component so far (all of it, unless the server throttles guests):
    # every junk claim was looked up, refused or dropped; the citizen's claim is the one
    # more admitted.
    admitted, refused, dropped = (a - b for a, b in zip(counters(gw), before))
    looked_up = admitted - 1
    received = looked_up + refused + dropped
    answers = {k: sum(f.counts[k] for f in flooders) for k in Flooder.NEEDLES}
    print(f"flood: {received} junk claims reached the component in {elapsed:.1f} s: "
          f"{looked_up} looked up, {refused} refused, {dropped} dropped; claim {took * 1000:.0f} ms "
          f"(limit {limit:.1f} s)")
    # Positive control: the flood went past every guest's budget at the component.
    assert received >= GUESTS * (limits.guest_burst + limits.refusals)
    # However much arrived, each guest got no more looked up than its budget ...
    assert looked_up <= GUESTS * (limits.guest_burst + limits.guest_rate * elapsed + 1)
    # ... no more answers past it than the refusals (no amplification), and the rest of
    # the flood was dropped.
    assert refused <= GUESTS * (limits.guest_burst + limits.refusals + limits.guest_rate * elapsed + 1)
    assert dropped >= received - GUESTS * (2 * limits.guest_burst + limits.refusals
                                           + 2 * limits.guest_rate * elapsed + 2)
    # What the guests saw agrees (replies may still be on their way): junk tickets,
    # refusals, and never a component in trouble.
    assert answers["not-authorized"] <= looked_up and answers["resource-constraint"] <= refused
    assert answers["service-unavailable"] == answers["internal-server-error"] == 0

    await chat_still_works(stack, citizen, claimed)


async def test_the_budget_holds_when_the_whole_flood_reaches_the_component(
        prod_stack: Stack, redis_server: Any) -> None:
    """As if the XMPP server let every stanza through: the flood is handed to the component
    as parsed stanzas from four guest JIDs, in slices over 2 s, while a real citizen claims
    through the server."""
    stack, gw, limits = prod_stack, prod_stack.gateway, prod_stack.settings.budget
    x = stack.settings.xmpp
    sid = await stack.session()
    citizen = await stack.citizen()
    # Parsed beforehand: the component's parser runs in its own process in production.
    junk = [[ET.fromstring(f"<iq xmlns='jabber:component:accept' type='set' id='j{g}x{n}' "
                           f"from='flood{g}@{x.guest_domain}/bot' to='{x.component_domain}'>"
                           f"<claim xmlns='{stanza.NS}' ticket='junk-{n}'/></iq>")
             for g in range(GUESTS)] for n in range(STANZAS)]
    slices = 100  # short slices: this process also runs the citizen and the server's replies
    per = STANZAS // slices
    other = OtherWork(stack.server, redis_server)
    watch = Watch(gw)
    before = counters(gw)
    t0 = time.monotonic()

    async def flood() -> None:
        for s in range(slices):
            for row in junk[s * per:(s + 1) * per]:
                for xml in row:
                    gw._spawn_event(xml)
            await asyncio.sleep(max(0.0, t0 + (s + 1) * SEND_SECONDS / slices - time.monotonic()))

    flooding = asyncio.ensure_future(flood())
    await asyncio.sleep(SEND_SECONDS / 4)
    claimed, took = await timed_claim(citizen, await stack.store.issue_ticket(sid))
    limit = claim_limit(other)
    await flooding
    await settle(gw, 10)
    elapsed = time.monotonic() - t0
    await watch.stop()

    assert took < limit, f"the real claim took {took:.2f} s (limit {limit:.1f} s)"
    assert claimed["state"] == "queued"
    assert watch.disconnects == 0 and watch.offline_samples == 0
    assert watch.max_handlers <= limits.in_flight and watch.max_tasks < 200
    admitted, refused, dropped = (a - b for a, b in zip(counters(gw), before))
    sent = GUESTS * STANZAS
    assert admitted + refused + dropped == sent + 1          # + the citizen's claim: all counted
    per_guest = limits.guest_burst + limits.guest_rate * elapsed + 1
    assert admitted <= 1 + GUESTS * per_guest
    assert refused <= GUESTS * (per_guest + limits.refusals)
    assert dropped >= sent - GUESTS * (2 * per_guest + limits.refusals)
    # The same counts reach Prometheus (docs/operations.md, "Metrics").
    exported = {fam.name: {s.labels.get("verdict"): s.value for s in fam.samples}
                for fam in text_string_to_metric_families(
                    (await Exporter(gw).exposition()).decode())}
    assert exported["idchat_component_stanzas"]["dropped"] == gw.budget.dropped
    assert exported["idchat_component_stanzas"]["refused"] == gw.budget.refused
    await chat_still_works(stack, citizen, claimed)


async def test_lease_and_liveness_survive_a_starved_redis_pool(prod_stack: Stack) -> None:
    """Every connection of the shared pool is taken (as a flood of slow handlers would):
    the component stays connected, and its liveness mark (and on Prosody its connection
    lease) keeps being renewed, on their own client."""
    stack, gw = prod_stack, prod_stack.gateway
    pool = stack.store.redis.connection_pool
    keys = stack.store.keys
    observer = aioredis.from_url(stack.settings.redis.url)
    watch = Watch(gw)
    held: list[Any] = []

    async def hog() -> None:
        """Takes every connection the pool has, and each one that comes free."""
        while True:
            try:
                held.append(await pool.get_connection())
            except RedisConnectionError:  # "No connection available": still waiting
                pass

    hogging = asyncio.ensure_future(hog())
    try:
        # Positive control: the shared pool really is starved.
        await asyncio.sleep(0.5)
        assert not hogging.done()
        with pytest.raises(RedisConnectionError):
            await stack.store.redis.get(keys.component_alive())
        ttls: list[int] = []
        owners: list[bytes | None] = []
        for _ in range(int(6 / 0.25)):                      # 6 s: past any lease and heartbeat
            ttls.append(await observer.pttl(keys.component_alive()))
            owners.append(await observer.get(keys.lease("connection")))
            await asyncio.sleep(0.25)
    finally:
        hogging.cancel()
        await asyncio.gather(hogging, return_exceptions=True)
        for conn in held:
            await pool.release(conn)
        await observer.aclose()
        await watch.stop()
    assert watch.disconnects == 0 and watch.offline_samples == 0
    assert min(ttls) > 0                                     # never expired
    assert any(b > a for a, b in zip(ttls, ttls[1:]))        # and renewed meanwhile
    if gw.exclusive:
        assert set(owners) == {gw.instance.encode()}
    # The pool is back: claims are served again.
    citizen = await stack.citizen()
    claimed = await citizen.claim(await stack.store.issue_ticket(await stack.session()))
    assert claimed["state"] == "queued"
