"""The one decorator that turns the IdChatError family into XMPP errors (RFC 6120 §8.3)."""

from __future__ import annotations

import functools
import logging
from typing import Any, Awaitable, Callable

from redis.exceptions import RedisError
from slixmpp import Iq

from xmpp_plugin.errors import IdChatError

log = logging.getLogger(__name__)


def replies_errors(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """For IQ handlers: a raised IdChatError becomes the matching error reply.

    Redis that does not answer (down, paused, failing over) is service-unavailable, as
    the HTTP API's 503: worth trying again. Unknown exceptions are logged without their
    text (it may hold personal data) and answered with internal-server-error.
    """
    @functools.wraps(fn)
    async def wrapper(self: Any, iq: Iq) -> None:
        try:
            await fn(self, iq)
        except IdChatError as exc:
            reply_error(iq, exc)
        except RedisError as exc:
            log.warning("%s: Redis unavailable (%s)", fn.__name__, type(exc).__name__)
            _error(iq, "service-unavailable", "wait",
                   "the session store (Redis) is unavailable; try again in a few seconds")
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            log.error("unhandled %s in %s", type(exc).__name__, fn.__name__)
            _error(iq, "internal-server-error", "wait", "internal error; nothing was changed")
    return wrapper


def reply_error(iq: Iq, exc: IdChatError) -> None:
    """Answer a request with the error that ``exc`` stands for."""
    _error(iq, exc.condition, exc.xmpp_type, exc.detail)


def _error(iq: Iq, condition: str, etype: str, text: str) -> None:
    reply = iq.reply(clear=True)
    reply["error"]["condition"] = condition
    reply["error"]["type"] = etype
    reply["error"]["text"] = text
    reply.send()
