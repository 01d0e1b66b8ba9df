"""OpenID Connect for the agent console: the relying party's side of the authorization code
flow with PKCE (OpenID Connect Core 1.0 §3.1, RFC 7636), discovery, and the ID token checks
(§3.1.3.7) done with PyJWT; and what the token says about the agent (role, topics).

    SignInError (400, a refused sign-in; each check has its own slug)
    ├── oidc-state      the callback's state is unknown, used or from another browser
    ├── oidc-provider   the provider said no, or its token endpoint failed
    ├── oidc-algorithm  the ID token's alg is not allowed (none, HS256, …)
    ├── oidc-signature  the signature does not verify with the provider's keys
    ├── oidc-issuer, oidc-audience, oidc-nonce, oidc-expired, oidc-claims
    └── oidc-acr        the required acr/amr is missing (no MFA)
    NotAnAgent (403, oidc-role): signed in, but the role claim has neither the agent nor
                                 the supervisor role
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import jwt

from .errors import NotAnAgent, SignInError, Unavailable
from .settings import AgentSettings

DISCOVERY_TTL = 3600
JWKS_MIN_REFRESH = 60  # an unknown kid refetches the keys at most this often
MAX_CANDIDATE_KEYS = 8  # a token without kid is tried against at most this many keys
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=5)
MAX_RESPONSE_BYTES = 256 * 1024


@dataclass(frozen=True)
class LoginRequest:
    """What the browser takes to the provider and what we keep until it comes back."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> "LoginRequest":
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class Agent:
    """Who signed in, as the ID token says: the XMPP user name, role and topics."""

    username: str
    roles: tuple[str, ...]  # "agent", "supervisor" or both
    purposes: tuple[str, ...] | None  # None: every purpose


class Provider:
    """One OpenID Provider: discovery and keys cached; every call bounded by HTTP_TIMEOUT."""

    def __init__(self, settings: AgentSettings, redirect_uri: str,
                 session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.redirect_uri = redirect_uri
        self.http = session
        self._config: dict[str, Any] = {}
        self._config_at = 0.0
        self._jwks: dict[str, Any] = {"keys": []}
        self._jwks_at = 0.0

    async def config(self) -> dict[str, Any]:
        if not self._config or time.monotonic() - self._config_at > DISCOVERY_TTL:
            doc = await self._get(f"{self.settings.issuer}/.well-known/openid-configuration")
            if doc.get("issuer") != self.settings.issuer:  # Discovery 1.0 §4.3
                raise Unavailable("the provider's discovery document names another issuer")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(doc.get(name), str):
                    raise Unavailable(f"the provider's discovery document lacks {name}")
            self._config, self._config_at = doc, time.monotonic()
        return self._config

    async def authorization_url(self, login: LoginRequest) -> str:
        config = await self.config()
        params = {"response_type": "code", "client_id": self.settings.client_id,
                  "redirect_uri": self.redirect_uri, "scope": " ".join(self.settings.scopes),
                  "state": login.state, "nonce": login.nonce,
                  "code_challenge": login.challenge, "code_challenge_method": "S256"}
        if self.settings.required_acr:
            params["acr_values"] = " ".join(self.settings.required_acr)
        return f"{config['authorization_endpoint']}?{urlencode(params)}"

    async def redeem(self, code: str, login: LoginRequest) -> tuple[dict[str, Any], str]:
        """The code for tokens; returns the checked ID token's claims and the refresh token."""
        tokens = await self._token({"grant_type": "authorization_code", "code": code,
                                    "redirect_uri": self.redirect_uri,
                                    "code_verifier": login.verifier})
        claims = await self.check_id_token(tokens.get("id_token"), nonce=login.nonce)
        return claims, str(tokens.get("refresh_token") or "")

    async def refresh(self, refresh_token: str) -> tuple[dict[str, Any] | None, str]:
        """A renewal: the provider must still accept the refresh token (its session lives).
        Returns the new ID token's claims (None when it sent none) and the refresh token."""
        tokens = await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})
        claims = None
        if tokens.get("id_token"):
            claims = await self.check_id_token(tokens["id_token"], nonce=None)
        return claims, str(tokens.get("refresh_token") or refresh_token)

    async def check_id_token(self, token: object, *, nonce: str | None) -> dict[str, Any]:
        """OpenID Connect Core §3.1.3.7 (and §12.2 for a refresh: no nonce then)."""
        if not isinstance(token, str) or not token:
            raise SignInError("the provider sent no ID token", slug="oidc-claims")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise SignInError("the ID token is not a JWS", slug="oidc-claims") from None
        alg = header.get("alg")
        if alg not in self.settings.id_token_algorithms:
            raise SignInError(f"ID token algorithm {str(alg)[:20]!r} is not allowed",
                              slug="oidc-algorithm")
        claims = _decode_with_any(token, await self._keys(header.get("kid"), alg), alg,
                                  self.settings)
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInError("the ID token's nonce is not the one we sent", slug="oidc-nonce")
        _check_strength(claims, self.settings)
        return claims

    async def _keys(self, kid: object, alg: str) -> list[Any]:
        """The provider's keys that may have signed it: the one named by ``kid``, or every
        key of the algorithm's type for a token without one. An unknown kid refetches the
        JWKS (key rotation), at most once a minute."""
        keys = _find_keys(self._jwks, kid, alg)
        if not keys and time.monotonic() - self._jwks_at > JWKS_MIN_REFRESH:
            self._jwks = await self._get((await self.config())["jwks_uri"])
            self._jwks_at = time.monotonic()
            keys = _find_keys(self._jwks, kid, alg)
        if not keys:
            raise SignInError("the ID token is signed with a key the provider does not publish",
                              slug="oidc-signature")
        return keys

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        config = await self.config()
        try:
            async with self.http.post(config["token_endpoint"], data=form,
                                      headers={"Authorization": self._basic_auth()},
                                      timeout=HTTP_TIMEOUT) as response:
                body = await _json(response)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise Unavailable("the provider's token endpoint did not answer") from None
        if response.status != 200:
            error = body.get("error") if isinstance(body, dict) else None
            raise SignInError(f"the provider refused: {str(error)[:40]}", slug="oidc-provider")
        return body

    def _basic_auth(self) -> str:
        """client_secret_basic: both parts form-encoded first (RFC 6749 §2.3.1)."""
        pair = f"{quote(self.settings.client_id, safe='')}:{quote(self.settings.secret(), safe='')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            async with self.http.get(url, timeout=HTTP_TIMEOUT) as response:
                if response.status != 200:
                    raise Unavailable(f"the provider answered {response.status}")
                return await _json(response)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise Unavailable("the provider did not answer") from None


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    raw = await response.content.read(MAX_RESPONSE_BYTES + 1)
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ValueError("response too large")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _find_keys(jwks: dict[str, Any], kid: object, alg: str) -> list[Any]:
    out = []
    for jwk in jwks.get("keys", []):
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        if kid is not None and jwk.get("kid") != kid:
            continue
        try:
            out.append(jwt.PyJWK(jwk, algorithm=alg).key)
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            continue
    return out[:MAX_CANDIDATE_KEYS]


def _decode_with_any(token: str, keys: list[Any], alg: str,
                     settings: AgentSettings) -> dict[str, Any]:
    """The first key whose signature verifies decides; every other check is done with it."""
    for key in keys[:-1]:
        try:
            jwt.decode(token, key, algorithms=[alg], options={"verify_signature": True,
                       "verify_exp": False, "verify_iat": False, "verify_nbf": False,
                       "verify_aud": False, "verify_iss": False})
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidTokenError:
            pass  # not a signature problem: _decode names it
        return _decode(token, key, alg, settings)
    return _decode(token, keys[-1], alg, settings)


def _decode(token: str, key: Any, alg: str, settings: AgentSettings) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[alg], audience=settings.client_id, issuer=settings.issuer,
            leeway=settings.leeway_seconds,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iat": True})
    except jwt.ExpiredSignatureError:
        raise SignInError("the ID token has expired", slug="oidc-expired") from None
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError):
        raise SignInError("the ID token is not valid yet (iat or nbf in the future)",
                          slug="oidc-expired") from None
    except jwt.InvalidAudienceError:
        raise SignInError("the ID token is meant for another client", slug="oidc-audience") from None
    except jwt.InvalidIssuerError:
        raise SignInError("the ID token comes from another issuer", slug="oidc-issuer") from None
    except jwt.InvalidSignatureError:
        raise SignInError("the ID token's signature does not verify",
                          slug="oidc-signature") from None
    except jwt.InvalidTokenError:  # a missing claim, a claim of the wrong type, bad encoding
        raise SignInError("the ID token lacks a required claim or does not decode",
                          slug="oidc-claims") from None
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != settings.client_id:
        raise SignInError("the ID token has several audiences and is not authorised for us",
                          slug="oidc-audience")  # Core §3.1.3.7 items 4-5
    return claims


def _check_strength(claims: dict[str, Any], settings: AgentSettings) -> None:
    if settings.required_acr and claims.get("acr") not in settings.required_acr:
        raise SignInError("the sign-in did not reach the required level (acr)", slug="oidc-acr")
    given = claims.get("amr")
    amr: list[Any] = given if isinstance(given, list) else []
    if any(value not in amr for value in settings.required_amr):
        raise SignInError("the sign-in lacks a required method (amr)", slug="oidc-acr")


def agent_from_claims(claims: dict[str, Any], settings: AgentSettings) -> Agent:
    """Role and topics from the configured claims; NotAnAgent without the agent role."""
    given = _strings(claims.get(settings.role_claim))
    roles = tuple(role for role, name in (("agent", settings.agent_role),
                                          ("supervisor", settings.supervisor_role))
                  if name in given)
    if not roles:
        raise NotAnAgent("the provider gives this account neither the agent nor the supervisor role")
    username = claims.get(settings.username_claim)
    if not isinstance(username, str) or not username.strip() or len(username) > 200:
        raise SignInError(f"the ID token lacks a usable {settings.username_claim!r} claim",
                          slug="oidc-claims")
    groups = _strings(claims.get(settings.groups_claim))
    purposes = settings.purposes_for(groups) if settings.group_purposes else None
    return Agent(username=username.strip(), roles=roles, purposes=purposes)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
