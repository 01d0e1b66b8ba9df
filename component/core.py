"""The ID Contact core, as the component asks it for an authentication during the chat
(CONTRACT.md, "Optional: authentication during the chat"; docs/protocol.md §11).

``GET <core_url>/session_options/<purpose>`` lists the methods the core allows for a
purpose; ``POST <core_url>/start`` with a JWS signed with our requestor key (``kid`` =
our requestor name) starts one and answers the ``client_url`` the citizen opens. The
core gets at most ``TIMEOUT_SECONDS`` (as the core gives us); an answer that is not what
the contract says is a refusal, never an exception of another kind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote

import jwt
from aiohttp import ClientError, ClientSession, ClientTimeout
from cryptography.hazmat.primitives.asymmetric import rsa

from xmpp_plugin.errors import CoreRefused, CoreUnavailable
from xmpp_plugin.keys import PrivateKey, is_published_test_key, load_private_key
from xmpp_plugin.settings import AuthSettings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
REQUEST_LIFETIME = 60       # seconds a signed /start request is valid (its exp)
OPTIONS_CACHE_SECONDS = 30  # the methods per purpose change with the core's configuration only
MAX_CACHED_PURPOSES = 100
MAX_ANSWER_BYTES = 16384
METHOD_TAG = re.compile(r"[A-Za-z0-9._-]{1,64}")


class Core:
    def __init__(self, settings: AuthSettings, key: PrivateKey) -> None:
        self.url = settings.core_url
        self.requestor = settings.requestor
        self._key = key
        self._alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        self._http: ClientSession | None = None
        self._options: dict[str, tuple[float, list[str]]] = {}

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> Core | None:
        """None when authentication during the chat is off (no ``auth.core_url``)."""
        if not settings.enabled:
            return None
        key = load_private_key(settings.request_privkey)
        if is_published_test_key(key):
            log.warning("auth.request_privkey is the PUBLISHED ID Contact test key: demo and tests only")
        return cls(settings, key)

    def _client(self) -> ClientSession:
        if self._http is None:
            self._http = ClientSession(timeout=ClientTimeout(total=TIMEOUT_SECONDS))
        return self._http

    async def methods(self, purpose: str) -> list[str]:
        """The authentication methods the core allows for ``purpose`` (cached briefly)."""
        cached = self._options.get(purpose)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        body = await self._call("GET", f"{self.url}/session_options/{quote(purpose, safe='')}")
        raw = body.get("auth_methods") if isinstance(body, dict) else None
        if not isinstance(raw, list):
            raise CoreRefused("the core's session_options has no auth_methods list")
        # The reference core lists tags; a richer core may list objects with a 'tag'.
        tags = [m if isinstance(m, str) else m.get("tag") if isinstance(m, dict) else None for m in raw]
        methods = [t for t in tags if isinstance(t, str) and METHOD_TAG.fullmatch(t)]
        if len(self._options) >= MAX_CACHED_PURPOSES:
            self._options.clear()
        self._options[purpose] = (time.monotonic() + OPTIONS_CACHE_SECONDS, methods)
        return methods

    def signed_request(self, purpose: str, method: str, comm_url: str, attr_url: str) -> str:
        now = int(time.time())
        claims = {"request": {"purpose": purpose, "auth_method": method, "comm_url": comm_url,
                              "attr_url": attr_url},
                  "iat": now, "exp": now + REQUEST_LIFETIME}
        return jwt.encode(claims, self._key, algorithm=self._alg, headers={"kid": self.requestor})

    async def start(self, purpose: str, method: str, comm_url: str, attr_url: str) -> str:
        """``POST /start``; returns the ``client_url`` for the citizen."""
        body = await self._call("POST", f"{self.url}/start",
                                data=self.signed_request(purpose, method, comm_url, attr_url),
                                headers={"Content-Type": "application/jwt"})
        url = body.get("client_url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s\"'<>]{1,2000}", url):
            raise CoreRefused("the core's answer to /start has no usable client_url")
        return url

    async def _call(self, verb: str, url: str, **kw: Any) -> Any:
        headers = {"Accept": "application/json", **kw.pop("headers", {})}
        try:
            async with self._client().request(verb, url, headers=headers, **kw) as resp:
                if resp.status >= 500:
                    raise CoreUnavailable(f"the ID Contact core answered {resp.status}")
                if resp.status != 200:
                    raise CoreRefused(f"the ID Contact core refused the request ({resp.status})")
                raw = await resp.content.read(MAX_ANSWER_BYTES + 1)
        except (ClientError, asyncio.TimeoutError, OSError) as exc:
            raise CoreUnavailable("the ID Contact core did not answer") from exc
        if len(raw) > MAX_ANSWER_BYTES:
            raise CoreRefused("the ID Contact core's answer is too large")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise CoreRefused("the ID Contact core's answer is not JSON") from exc

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
