"""What every part of the chat benchmark shares: the names of the stack it runs, the
timeouts, and the readings (a reference loop, RSS, Redis command counts)."""

from __future__ import annotations

import math
import re
import secrets
import socket
import time
from pathlib import Path

from benchlib import machine_busy_seconds, percentile, proc_cpu_seconds

PURPOSE = "report_move"
AGENT_PASSWORD = "bench-only-" + secrets.token_hex(8)
AGENT_DOMAIN = "agents.idchat.localhost"
GUEST_DOMAIN = "guest.idchat.localhost"
MUC_DOMAIN = "rooms.idchat.localhost"
COMPONENT_DOMAIN = "component.idchat.localhost"
CITIZEN_NICK = "Inwoner"  # component/chats.py CITIZEN_NICK
try:  # the most max-chats the component accepts in an agent's presence
    from component.handlers.agent import MAX_CHATS_LIMIT as MAX_CHATS_LIMIT
except (ImportError, AttributeError):  # pragma: no cover - older or reorganised component
    MAX_CHATS_LIMIT = 20
STEP_TIMEOUT = 15.0       # any single wait of a session
RATE_CAP = 150            # sessions/s assumed at most, for the default number of tokens
CONFIG_RE = re.compile(
    r'<script type="application/json" id="idchat-config">(.*?)</script>', re.S)

# --------------------------------------------------------------------------- readings


def reference_ms() -> float:
    """A fixed single-threaded Python loop, best of three, in ms: how fast a CPU is right now.
    On a shared virtual machine the same work can take a third longer at times while no other
    process on this machine is busy (neighbours on the host); this makes that visible."""
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        x = 0
        for i in range(500_000):
            x += i * i % 7
        best = min(best, time.perf_counter() - t)
    return 1000 * best


def rss_kib(pid: int, name: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def redis_commandstats(port: int) -> dict[str, int]:
    """Calls per command since Redis started (INFO commandstats), over a raw socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"INFO commandstats\r\n")
        buf = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
            head, _, rest = buf.partition(b"\r\n")
            if head.startswith(b"$") and len(rest) >= int(head[1:]):
                break
    out = {}
    for line in buf.decode().splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def commands_per_session(before: dict[str, int], after: dict[str, int], sessions: int
                         ) -> dict[str, float]:
    """The Redis commands of a window (two :func:`redis_commandstats` readings) per session,
    most first; ``info`` (our own reading) left out."""
    calls = {k: (v - before.get(k, 0)) / sessions for k, v in after.items()}
    calls.pop("info", None)
    return {k: round(v, 2) for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v > 0}


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each process, of this load generator, and of the whole machine
    (busy time on all CPUs); two of them make a window (:func:`cpu_used`)."""
    out = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    out["load generator"] = time.process_time()
    out["machine"] = machine_busy_seconds()
    return out


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds used between two snapshots: each process, the load generator, and
    ``other`` (what the rest of the machine used meanwhile; never below 0), last."""
    used = {k: after[k] - before[k] for k in before if k != "machine"}
    used["other"] = max(0.0, (after["machine"] - before["machine"]) - sum(used.values()))
    return used


def established_connections(port: int) -> int:
    """Established TCP connections to a local listening ``port`` (the server side)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def median(values: list[float]) -> float:
    return percentile(sorted(values), 50)

