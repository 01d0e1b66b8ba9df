"""The short-lived XMPP credential of an agent signed in with OpenID Connect: a JWT (HS256,
``agents.credential_key``) that the browser gives the XMPP server as its SASL PLAIN
password. ejabberd checks it natively (``auth_method: jwt``, claim ``jid``), Prosody with
prosody/modules/mod_auth_idchat_jwt.lua; both refuse it after ``exp``.
"""

from __future__ import annotations

import secrets
import time

import jwt

ISSUER = "idchat"


def issue(key: bytes, jid: str, roles: tuple[str, ...], purposes: tuple[str, ...] | None,
          ttl: int, now: float | None = None) -> tuple[str, int]:
    """The credential and its expiry (unix seconds)."""
    issued = int(time.time() if now is None else now)
    expires = issued + ttl
    claims = {"iss": ISSUER, "jid": jid, "roles": list(roles),
              "topics": ["*"] if purposes is None else list(purposes),
              "iat": issued, "exp": expires, "jti": secrets.token_urlsafe(12)}
    return jwt.encode(claims, key, algorithm="HS256"), expires


def verify(key: bytes, token: str) -> dict[str, object]:
    """For tests and tools: the claims of a valid credential (raises jwt.InvalidTokenError)."""
    return jwt.decode(token, key, algorithms=["HS256"], issuer=ISSUER,
                      options={"require": ["jid", "exp", "iat"]})
