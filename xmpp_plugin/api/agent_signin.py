"""The agent console's sign-in with OpenID Connect (``agents.mode = "oidc"``) and its
short-lived XMPP credential (docs/deployment.md, "Agents: OpenID Connect or XMPP accounts").

    GET  /agent/signin          → 303 to the provider (state, nonce, PKCE S256), all three
                                  sealed into a cookie of this browser (nothing stored)
    GET  /agent/oidc/callback   → checks it all, opens a console session → 303 /agent; the
                                  provider's code is single use, the cookie is dropped
    POST /agent/credential      → {jid, credential, expires_in, roles, purposes}; renews at
                                  the provider first, so a refusal there ends the session
    POST /agent/signout         → ends the session and the grant; {logout_url}
"""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from .. import credential
from ..agent_store import AgentSession
from ..appkeys import AGENTS, OIDC, SETTINGS
from ..errors import Forbidden, NotAnAgent, SignInError, Unauthorized, Unavailable
from ..oidc import LoginRequest, agent_from_claims

log = logging.getLogger(__name__)

LOGIN_COOKIE = "idchat_oidc_login"
SESSION_COOKIE = "idchat_agent"
COOKIE_PATH = "/agent"


async def get_signin(request: web.Request) -> web.Response:
    login = LoginRequest.new()
    url = await request.app[OIDC].authorization_url(login)
    response = web.Response(status=303, headers={"Location": url})
    # Lax: the provider sends the browser back by a cross-site redirect.
    _cookie(request, response, LOGIN_COOKIE, request.app[AGENTS].login_cookie(login),
            samesite="Lax", max_age=600)
    return response


async def get_callback(request: web.Request) -> web.Response:
    query = request.query
    if "error" in query:  # the provider refused or the user cancelled (RFC 6749 §4.1.2.1)
        raise SignInError("the provider did not sign you in", slug="oidc-provider")
    state, code = query.get("state", ""), query.get("code", "")
    login = None
    if state and code and len(state) <= 200 and len(code) <= 2000:
        login = request.app[AGENTS].login_from_cookie(request.cookies.get(LOGIN_COOKIE, ""), state)
    if login is None:
        raise SignInError("this sign-in is unknown, has expired or began in another browser",
                          slug="oidc-state")
    claims, refresh_token = await request.app[OIDC].redeem(code, login)
    settings = request.app[SETTINGS]
    agent = agent_from_claims(claims, settings.agents)
    session = AgentSession(username=agent.username,
                           jid=f"{_node(agent.username)}@{settings.xmpp.agent_domain}",
                           roles=agent.roles, purposes=agent.purposes,
                           refresh_token=refresh_token, started=int(time.time()),
                           checked=int(time.time()))
    cookie = secrets.token_urlsafe(32)
    await request.app[AGENTS].create_session(cookie, session)
    log.info("agent signed in roles=%s", ",".join(agent.roles))
    response = web.Response(status=303, headers={"Location": COOKIE_PATH})
    response.del_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    # Strict: only our own pages ever send it (the console's fetch to /agent/credential).
    _cookie(request, response, SESSION_COOKIE, cookie, samesite="Strict",
            max_age=settings.agents.session_max_seconds)
    return response


async def post_credential(request: web.Request) -> web.Response:
    _same_origin(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    agents = request.app[AGENTS]
    session = await agents.session(cookie) if cookie else None
    if session is None:
        raise Unauthorized("not signed in, or the sign-in has ended", slug="agent-signed-out")
    settings = request.app[SETTINGS].agents
    try:
        session = await _renew(request, session)
    except (SignInError, NotAnAgent):
        await agents.end_session(cookie, session.jid)
        log.info("agent renewal refused by the provider: signed out")
        raise
    token, expires = credential.issue(settings.credential_key_bytes(), session.jid,
                                      session.roles, session.purposes,
                                      settings.credential_ttl_seconds)
    await agents.grant(session, expires)
    await agents.update_session(cookie, session)
    return web.json_response({
        "jid": session.jid, "credential": token, "expires_in": settings.credential_ttl_seconds,
        "roles": list(session.roles),
        "purposes": None if session.purposes is None else list(session.purposes)})


async def _renew(request: web.Request, session: AgentSession) -> AgentSession:
    """Ask the provider again (refresh token): its session must still live, and the role
    is taken from its new ID token; at most every agents.provider_check_seconds. Without
    a refresh token the console session's own lifetime is the limit."""
    now = int(time.time())
    check = request.app[SETTINGS].agents.provider_check_seconds
    if not session.refresh_token or now - session.checked < check:
        return session
    claims, refresh_token = await request.app[OIDC].refresh(session.refresh_token)
    roles, purposes = session.roles, session.purposes
    if claims is not None:
        agent = agent_from_claims(claims, request.app[SETTINGS].agents)
        if agent.username != session.username:
            raise SignInError("the provider renewed another account", slug="oidc-claims")
        roles, purposes = agent.roles, agent.purposes
    return AgentSession(username=session.username, jid=session.jid, roles=roles,
                        purposes=purposes, refresh_token=refresh_token,
                        started=session.started, checked=now)


async def post_signout(request: web.Request) -> web.Response:
    _same_origin(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    agents = request.app[AGENTS]
    session = await agents.session(cookie) if cookie else None
    if cookie:
        await agents.end_session(cookie, session.jid if session else None)
    try:
        config = await request.app[OIDC].config()
    except Unavailable:
        config = {}  # signed out here all the same; the provider's sign-out is not offered
    logout_url = None
    if isinstance(config.get("end_session_endpoint"), str):
        settings = request.app[SETTINGS]
        logout_url = config["end_session_endpoint"] + "?" + urlencode({
            "client_id": settings.agents.client_id,
            "post_logout_redirect_uri": f"{settings.http.external_url}{COOKIE_PATH}"})
    response = web.json_response({"logout_url": logout_url})
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


def _same_origin(request: web.Request) -> None:
    """A cross-site POST never gets here with the Strict cookie; an Origin header that names
    another site is refused all the same (defence in depth)."""
    origin = request.headers.get("Origin")
    external = urlsplit(request.app[SETTINGS].http.external_url)
    if origin and origin != f"{external.scheme}://{external.netloc}":
        raise Forbidden("this request comes from another site")


def _node(username: str) -> str:
    """XEP-0106 escaping of the characters a JID's localpart may not hold."""
    out = []
    for ch in username.lower():
        if ch in ' "&\'/:<>@\\':
            out.append(f"\\{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def _cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, *,
            samesite: str, max_age: int) -> None:
    response.set_cookie(name, value, path=COOKIE_PATH, httponly=True, samesite=samesite,
                        max_age=max_age,
                        secure=request.app[SETTINGS].http.external_url.startswith("https://"))
