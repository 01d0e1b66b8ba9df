"""Session feedback to ID Contact (CONTRACT.md): ``session_url?type=user_active|logout``.

Server-side, no body; answers and errors are ignored (and logged without the URL).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientError, ClientSession, ClientTimeout
from yarl import URL

log = logging.getLogger(__name__)


class Feedback:
    def __init__(self) -> None:
        self._http: ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, session_url: str | None, kind: str) -> None:
        """Fire and forget: the chat never waits for ID Contact."""
        if not session_url:
            return
        task = asyncio.ensure_future(self._post(session_url, kind))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, session_url: str, kind: str) -> None:
        if self._http is None:
            self._http = ClientSession(timeout=ClientTimeout(total=5))
        try:
            url = URL(session_url).update_query(type=kind)
            async with self._http.post(url) as resp:
                if resp.status >= 400:
                    log.info("session feedback %s answered %s", kind, resp.status)
        except (ClientError, asyncio.TimeoutError, ValueError):
            log.info("session feedback %s could not be delivered", kind)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
