"""Prometheus metrics of the HTTP service, and the Redis metrics both processes share.

No label ever carries a session, chat or agent id, nor anything a citizen sent:
labels are drawn from small fixed sets (problem slugs, routes), and anything else
is counted as ``other``. The shared gauges of the contact centre (queues, agents)
are exported by the component (component/metrics.py), never here.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from .errors import PROBLEM_TYPES

# Both processes: the process itself and its Redis calls.
SHARED = CollectorRegistry()
ProcessCollector(registry=SHARED)
PlatformCollector(registry=SHARED)
GCCollector(registry=SHARED)
REDIS_ERRORS = Counter("idchat_redis_errors", "Redis calls that failed (connection, timeout, "
                       "refused)", registry=SHARED)
REDIS_SECONDS = Histogram("idchat_redis_operation_seconds", "Duration of session-store "
                          "operations in Redis", registry=SHARED,
                          buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                   0.5, 1.0, 2.5))

# The HTTP service only.
HTTP = CollectorRegistry()
SESSIONS_STARTED = Counter("idchat_sessions_started", "Chat sessions started by the core, by "
                           "the route their attributes take (auth_result: with the start; "
                           "attr_url: delivered later)", ["route"], registry=HTTP)
ATTRIBUTES_DELIVERED = Counter("idchat_attributes_delivered", "Attributes delivered after the "
                               "start and stored, by route (attr_url, or the login result "
                               "on the client URL: client_url)", ["route"], registry=HTTP)
TOKENS_REJECTED = Counter("idchat_tokens_rejected", "Tokens refused, by problem type",
                          ["type"], registry=HTTP)
PROBLEMS = Counter("idchat_http_problems", "Problem documents sent, by problem type",
                   ["type"], registry=HTTP)

ROUTES = ("auth_result", "attr_url")


def session_started(with_auth_result: bool) -> None:
    SESSIONS_STARTED.labels(ROUTES[0] if with_auth_result else ROUTES[1]).inc()


def problem(slug: str) -> None:
    """Every problem by its slug (a fixed set); token problems also as rejected tokens."""
    label = slug if slug in PROBLEM_TYPES else "other"
    PROBLEMS.labels(label).inc()
    if label.startswith("token-") or label == "invalid-token":
        TOKENS_REJECTED.labels(label).inc()


@contextmanager
def redis_call() -> Iterator[None]:
    """Times one store operation; counts it as an error when Redis failed."""
    from redis.exceptions import RedisError
    start = time.perf_counter()
    try:
        yield
    except RedisError:
        REDIS_ERRORS.inc()
        raise
    finally:
        REDIS_SECONDS.observe(time.perf_counter() - start)


def exposition(*registries: CollectorRegistry) -> bytes:
    """The text format (version 0.0.4) of several registries, one after the other."""
    return b"".join(generate_latest(r) for r in registries)


def response(body: bytes) -> web.Response:
    resp = web.Response(body=body)
    resp.headers["Content-Type"] = CONTENT_TYPE_PLAIN_0_0_4  # what Prometheus 2 reads
    resp.headers["Cache-Control"] = "no-store"
    return resp


async def get_metrics(_request: web.Request) -> web.Response:
    return response(exposition(SHARED, HTTP))


def _init() -> None:
    # Label sets known in advance appear at 0 from the start, so rate() sees the first event.
    for route in ROUTES:
        SESSIONS_STARTED.labels(route)
    for route in ("attr_url", "client_url"):
        ATTRIBUTES_DELIVERED.labels(route)


_init()
