"""The component's chat logic reaches Redis only through the store, the router and the
leases (xmpp_plugin/store.py, component/routing.py, component/lease.py); the gateway
keeps its event stream and IQ-forwarding channel."""

from __future__ import annotations

import re
from pathlib import Path

COMPONENT = Path(__file__).resolve().parents[2] / "component"
HOMES = {"routing.py", "lease.py"}
# A Redis command or pipeline on a client: `<x>.redis.<command>(`, `redis.pipeline(`.
RAW = re.compile(r"\.redis\.(?!asyncio\b|exceptions\b)\w+\(|\bredis\.pipeline\(")
GATEWAY_ALLOWED = re.compile(r"\.redis\.(publish|pubsub)\(")


def raw_calls(path: Path) -> list[str]:
    return [f"{path.name}:{n}: {line.strip()}"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if RAW.search(line) and not (path.name == "gateway.py" and GATEWAY_ALLOWED.search(line))]


def test_no_raw_redis_calls_outside_the_store_router_and_leases() -> None:
    assert raw_calls(COMPONENT / "routing.py")  # the scan sees calls where they live
    assert raw_calls(COMPONENT / "lease.py")
    found = [hit for path in sorted(COMPONENT.rglob("*.py")) if path.name not in HOMES
             for hit in raw_calls(path)]
    assert not found, "Redis calls outside store/router/leases:\n" + "\n".join(found)
