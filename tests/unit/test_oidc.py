"""The ID token checks of the agents' OpenID Connect sign-in (xmpp_plugin/oidc.py), the role
and topic mapping, and the XMPP credential: each refusal with its own problem type."""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Callable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from xmpp_plugin import credential
from xmpp_plugin.errors import NotAnAgent, SignInError
from xmpp_plugin.oidc import LoginRequest, Provider, agent_from_claims
from xmpp_plugin.settings import AgentSettings

ISSUER = "https://login.capulet.lit"
CLIENT = "idchat-agent"
NONCE = "n-0S6_WzA2Mj"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SETTINGS = AgentSettings(mode="oidc", issuer=ISSUER, client_id=CLIENT, client_secret="s",
                         credential_key="k" * 32,
                         group_purposes=("kcc-belastingen=report_move|request_permit",
                                         "kcc-algemeen=*"))


def _jwks() -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}


def _provider(settings: AgentSettings = SETTINGS) -> Provider:
    """A provider whose discovery and keys are known already: no network."""
    provider = Provider(settings, "https://chat.capulet.lit/agent/oidc/callback", None)  # type: ignore[arg-type]
    provider._config = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
                        "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks"}
    provider._config_at = provider._jwks_at = time.monotonic()
    provider._jwks = _jwks()
    return provider


def _claims(**change: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "juliet", "aud": CLIENT, "iat": now, "exp": now + 300,
              "nonce": NONCE, "roles": ["agent"], "groups": ["kcc-belastingen"],
              "acr": "urn:capulet:mfa", "amr": ["pwd", "otp"]}
    claims.update(change)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any], key: Any = KEY, alg: str = "RS256", kid: str = "k1") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'kid': 'k1'})}.{part(claims)}."


async def test_a_good_id_token_gives_its_claims() -> None:
    claims = await _provider().check_id_token(_token(_claims()), nonce=NONCE)
    assert claims["sub"] == "juliet"


# Tokens made when the test runs, not when it is collected: a long run must not find
# them expired (the "issuer" case would then be refused as expired).
@pytest.mark.parametrize("make, slug", [
    (lambda: _token(_claims(iss="https://evil.example")), "oidc-issuer"),
    (lambda: _token(_claims(aud="another-client")), "oidc-audience"),
    (lambda: _token(_claims(aud=[CLIENT, "another-client"])), "oidc-audience"),  # several, no azp
    (lambda: _token(_claims(nonce="another-nonce")), "oidc-nonce"),
    (lambda: _token(_claims(nonce=None)), "oidc-nonce"),
    (lambda: _token(_claims(exp=int(time.time()) - 120)), "oidc-expired"),
    (lambda: _token(_claims(iat=int(time.time()) + 600)), "oidc-expired"),
    (lambda: _token(_claims(), key=OTHER_KEY), "oidc-signature"),             # wrong key, same kid
    (lambda: _token(_claims(), kid="unknown"), "oidc-signature"),               # a key nobody publishes
    (lambda: _unsigned(_claims()), "oidc-algorithm"),                           # alg none
    (lambda: _token(_claims(), key="k" * 32, alg="HS256"), "oidc-algorithm"),   # symmetric: refused
    (lambda: _token(_claims(sub=None)), "oidc-claims"),
    (lambda: "not-a-jwt", "oidc-claims"),
], ids=["issuer", "audience", "audiences-without-azp", "nonce", "no-nonce", "expired",
        "issued-in-future", "wrong-key", "unknown-kid", "alg-none", "alg-hs256", "no-sub",
        "garbage"])
async def test_a_bad_id_token_is_refused_with_its_own_type(make: Callable[[], str],
                                                           slug: str) -> None:
    with pytest.raises(SignInError) as refused:
        await _provider().check_id_token(make(), nonce=NONCE)
    assert refused.value.slug == slug
    assert refused.value.status == 400


async def test_an_es256_key_of_the_provider_is_used_when_allowed() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    provider = _provider()
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    provider._jwks = {"keys": [*provider._jwks["keys"], {**jwk, "kid": "e1"}]}
    claims = await provider.check_id_token(_token(_claims(), key=ec_key, alg="ES256", kid="e1"),
                                           nonce=NONCE)
    assert claims["sub"] == "juliet"
    # The same token with the RSA key's kid does not verify: keys are not tried at random.
    with pytest.raises(SignInError) as refused:
        await provider.check_id_token(_token(_claims(), key=ec_key, alg="ES256", kid="k1"), nonce=NONCE)
    assert refused.value.slug == "oidc-signature"


@pytest.mark.parametrize("change, slug", [
    ({"required_acr": ("urn:capulet:mfa",)}, None),
    ({"required_acr": ("urn:capulet:high",)}, "oidc-acr"),
    ({"required_amr": ("otp",)}, None),
    ({"required_amr": ("hwk",)}, "oidc-acr"),
])
async def test_a_required_acr_or_amr_is_enforced(change: dict[str, Any], slug: str | None) -> None:
    from dataclasses import replace
    provider = _provider(replace(SETTINGS, **change))
    if slug is None:
        assert (await provider.check_id_token(_token(_claims()), nonce=NONCE))["acr"]
    else:
        with pytest.raises(SignInError) as refused:
            await provider.check_id_token(_token(_claims()), nonce=NONCE)
        assert refused.value.slug == slug


async def test_the_authorization_url_carries_state_nonce_and_a_pkce_challenge() -> None:
    login = LoginRequest.new()
    url = await _provider().authorization_url(login)
    from urllib.parse import parse_qs, urlsplit
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{ISSUER}/auth?")
    assert query["state"] == login.state and query["nonce"] == login.nonce
    assert query["code_challenge_method"] == "S256"
    digest = __import__("hashlib").sha256(login.verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert login.verifier not in url
    assert query["response_type"] == "code" and query["client_id"] == CLIENT


def test_roles_and_topics_come_from_the_configured_claims() -> None:
    agent = agent_from_claims(_claims(), SETTINGS)
    assert (agent.username, agent.roles, agent.purposes) == \
        ("juliet", ("agent",), ("report_move", "request_permit"))
    everyone = agent_from_claims(_claims(roles=["agent", "supervisor"], groups=["kcc-algemeen"]),
                                 SETTINGS)
    assert everyone.roles == ("agent", "supervisor") and everyone.purposes is None
    assert agent_from_claims(_claims(groups=["elsewhere"]), SETTINGS).purposes == ()
    assert agent_from_claims(_claims(roles="agent"), SETTINGS).roles == ("agent",)


@pytest.mark.parametrize("roles", [[], ["citizen"], None, "administrator"])
def test_without_the_agent_or_supervisor_role_the_sign_in_is_refused(roles: Any) -> None:
    with pytest.raises(NotAnAgent) as refused:
        agent_from_claims(_claims(roles=roles), SETTINGS)
    assert refused.value.status == 403 and refused.value.slug == "oidc-role"


def test_the_xmpp_credential_is_short_lived_and_names_the_jid_roles_and_topics() -> None:
    key = b"x" * 32
    token, expires = credential.issue(key, "juliet@agents.capulet.lit", ("agent",),
                                      ("report_move",), 300)
    claims = credential.verify(key, token)
    assert claims["jid"] == "juliet@agents.capulet.lit"
    assert claims["roles"] == ["agent"] and claims["topics"] == ["report_move"]
    assert claims["exp"] == expires and 299 <= expires - time.time() <= 301
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidSignatureError):
        credential.verify(b"y" * 32, token)
    old, _ = credential.issue(key, "juliet@agents.capulet.lit", ("agent",), None, 300,
                              now=time.time() - 600)
    with pytest.raises(jwt.ExpiredSignatureError):
        credential.verify(key, old)
    assert credential.verify(key, credential.issue(key, "j@a", ("agent",), None, 60)[0])["topics"] == ["*"]



async def test_a_token_without_kid_is_checked_against_each_published_key() -> None:
    provider = _provider()
    other = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(OTHER_KEY.public_key()))
    provider._jwks = {"keys": [{**other, "kid": "k0"}, *provider._jwks["keys"]]}  # ours second
    assert (await provider.check_id_token(jwt.encode(_claims(), KEY, algorithm="RS256"),
                                          nonce=NONCE))["sub"] == "juliet"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignInError) as refused:
        await provider.check_id_token(jwt.encode(_claims(), stranger, algorithm="RS256"), nonce=NONCE)
    assert refused.value.slug == "oidc-signature"
    # The key that verifies decides the other checks too: an expired token stays expired.
    with pytest.raises(SignInError) as refused:
        await provider.check_id_token(jwt.encode(_claims(exp=int(time.time()) - 600), KEY,
                                                 algorithm="RS256"), nonce=NONCE)
    assert refused.value.slug == "oidc-expired"


def test_the_sign_in_under_way_lives_in_a_sealed_cookie_of_that_browser(monkeypatch: Any) -> None:
    from xmpp_plugin.agent_store import AgentStore
    store = AgentStore(None, prefix="idchat", seal_key=b"k" * 32, idle_ttl=900, max_ttl=3600)  # type: ignore[arg-type]
    login = LoginRequest.new()
    cookie = store.login_cookie(login)
    assert login.nonce not in cookie and login.verifier not in cookie and login.state not in cookie
    assert store.login_from_cookie(cookie, login.state) == login
    assert store.login_from_cookie(cookie, LoginRequest.new().state) is None     # another state
    assert store.login_from_cookie(cookie[:-4] + "AAAA", login.state) is None    # tampered
    assert store.login_from_cookie("not base64!", login.state) is None
    other = AgentStore(None, prefix="idchat", seal_key=b"o" * 32, idle_ttl=900, max_ttl=3600)  # type: ignore[arg-type]
    assert other.login_from_cookie(cookie, login.state) is None                  # another key
    later = time.time() + 601
    monkeypatch.setattr(time, "time", lambda: later)
    assert store.login_from_cookie(cookie, login.state) is None                  # ten minutes on
