"""What both benchmarks share: tokens minted beforehand, CPU readings from /proc, percentiles."""

from __future__ import annotations

import concurrent.futures
import math
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEST_PRIVKEY = ROOT / "demo" / "test-keys" / "test-privkey.pem"  # published test keys
TEST_PUBKEY = ROOT / "demo" / "test-keys" / "test-pubkey.pem"
ATTRS = {"fullname": "Juliet Capulet", "email": "juliet@capulet.lit", "bsn": "999990019",
         "city": "Verona"}
CLK_TCK = os.sysconf("SC_CLK_TCK")

_MINT_KEYS: tuple[Any, Any] | None = None


def _mint_init() -> None:
    global _MINT_KEYS
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    from cryptography.hazmat.primitives import serialization
    _MINT_KEYS = (serialization.load_pem_public_key(TEST_PUBKEY.read_bytes()),
                  serialization.load_pem_private_key(TEST_PRIVKEY.read_bytes(), None))


def _mint_chunk(count: int, lifetime: int) -> list[str]:
    from xmpp_plugin.simulator import auth_claims, mint_token
    assert _MINT_KEYS is not None
    enc_key, sign_key = _MINT_KEYS
    tokens = []
    for _ in range(count):
        claims = auth_claims(ATTRS, lifetime=lifetime)
        # RS256 is deterministic: without a unique claim, two tokens minted in the same
        # second would be the same token, and the second session would get 409 replayed.
        claims["jti"] = uuid.uuid4().hex
        tokens.append(mint_token(claims, enc_key, sign_key))
    return tokens


def mint_tokens(count: int, lifetime: int, processes: int, chunk: int = 200) -> list[str]:
    """``count`` unique tokens to the test key, minted in a process pool."""
    chunks = [chunk] * (count // chunk) + ([count % chunk] if count % chunk else [])
    tokens: list[str] = []
    with concurrent.futures.ProcessPoolExecutor(processes, initializer=_mint_init) as pool:
        for batch in pool.map(_mint_chunk, chunks, [lifetime] * len(chunks)):
            tokens.extend(batch)
    assert len(set(tokens)) == len(tokens), "minted tokens must be unique"
    return tokens


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU time spent busy on all CPUs (user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_for_quiet(max_wait: float, threshold_pct: float, log: Any) -> float:
    """Wait (at most ``max_wait`` s) until other processes use under ``threshold_pct`` % of a
    CPU, measured over 1 s while this benchmark's own processes idle. Returns the last value."""
    deadline = time.monotonic() + max_wait
    said = False
    while True:
        busy0, own0 = machine_busy_seconds(), time.process_time()
        time.sleep(1.0)
        other = 100 * ((machine_busy_seconds() - busy0) - (time.process_time() - own0))
        if other < threshold_pct or time.monotonic() >= deadline:
            return other
        if not said:
            print(f"the machine is busy (other processes: {other:.0f} % of a CPU); waiting up to "
                  f"{max_wait:g} s for it to quieten ...", file=log)
            said = True


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def minting_pool(processes: int = 1) -> concurrent.futures.ProcessPoolExecutor:
    """A process pool that mints while a run goes on (submit :func:`mint_chunk`): tokens made
    shortly before they are used can have a realistic lifetime (ID Contact's: 300 s)."""
    return concurrent.futures.ProcessPoolExecutor(processes, initializer=_mint_init)


def mint_chunk(count: int, lifetime: int) -> list[str]:
    """``count`` unique tokens, in a worker of :func:`minting_pool`."""
    return _mint_chunk(count, lifetime)
