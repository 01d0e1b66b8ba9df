"""The internal API and the client page against a real Redis: three delivery routes,
every bad input with its specific problem and no state change."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from tokenlab import ATTRS, jwe_of, other_rsa_key, token
from xmpp_plugin.app import create_app
from xmpp_plugin.appkeys import STORE
from xmpp_plugin.errors import Unauthorized
from xmpp_plugin.logs import AccessLogger
from xmpp_plugin.models import AttributeStatus, Source
from xmpp_plugin.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient:
    # The access logger the service runs with (xmpp_plugin.__main__), so log tests see it.
    server = TestServer(create_app(settings))
    await server.start_server(access_log_class=AccessLogger)
    return await aiohttp_client(server)


async def start(client: TestClient, **body: Any) -> dict[str, str]:
    resp = await client.post("/start_communication", json={"purpose": "report_move", **body})
    assert resp.status == 200, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


def path(url: str) -> str:
    return url.split("8002", 1)[1]


async def snapshot(redis_client: aioredis.Redis, settings: Settings) -> dict[bytes, Any]:
    keys = await redis_client.keys(settings.redis.key_prefix + ":*")
    out = {}
    for k in keys:
        kind = await redis_client.type(k)
        out[k] = await (redis_client.hgetall(k) if kind == b"hash" else redis_client.get(k))
    return out


def assert_problem(resp_status: int, body: dict[str, Any], status: int, slug: str) -> None:
    assert resp_status == status, body
    assert body["status"] == status and body["type"] == f"/problems/{slug}", body
    assert body["detail"]


async def test_start_without_token_gives_client_and_attr_url(client: TestClient) -> None:
    urls = await start(client)
    assert urls["client_url"].startswith("http://127.0.0.1:8002/s/")
    assert urls["attr_url"].startswith("http://127.0.0.1:8002/attributes/")
    sid, attr_id = urls["client_url"].rsplit("/", 1)[1], urls["attr_url"].rsplit("/", 1)[1]
    assert len(sid) >= 43 and len(attr_id) >= 43 and sid != attr_id  # 256 bits each
    session = await client.app[STORE].get(sid)
    assert session.status is AttributeStatus.PENDING and session.purpose == "report_move"


async def test_route_auth_result(client: TestClient) -> None:
    urls = await start(client, auth_result=token(), unknown_extra="ignored")
    assert "attr_url" not in urls
    stored = await client.app[STORE].attributes(urls["client_url"].rsplit("/", 1)[1])
    assert stored is not None and stored.attributes == ATTRS and stored.verified
    assert stored.source is Source.AUTH_RESULT


async def test_route_attr_url_is_single_use(client: TestClient) -> None:
    urls = await start(client)
    tok = token()
    resp = await client.post(path(urls["attr_url"]), data=tok,
                             headers={"Content-Type": "application/jwt"})
    assert resp.status == 200 and await resp.read() == b""
    stored = await client.app[STORE].attributes(urls["client_url"].rsplit("/", 1)[1])
    assert stored is not None and stored.attributes == ATTRS and stored.source is Source.ATTR_URL
    again = await client.post(path(urls["attr_url"]), data=tok,
                              headers={"Content-Type": "application/jwt"})
    assert_problem(again.status, await again.json(), 404, "unknown-attr-url")


async def test_route_client_url_result_redirects_without_token(client: TestClient) -> None:
    urls = await start(client)
    page = path(urls["client_url"])
    resp = await client.get(page + "?lang=en&result=" + token(), allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == page + "?lang=en"
    stored = await client.app[STORE].attributes(page.rsplit("/", 1)[1])
    assert stored is not None and stored.source is Source.CLIENT_URL
    # The attr_url of that session is used up too: one session, one set of attributes.
    late = await client.post(path(urls["attr_url"]), data=token(),
                             headers={"Content-Type": "application/jwt"})
    assert late.status == 404


async def test_attributes_after_the_citizen_landed(client: TestClient) -> None:
    urls = await start(client)
    page = await client.get(path(urls["client_url"]))
    assert page.status == 200
    assert "worden nog opgehaald" in await page.text()
    resp = await client.post(path(urls["attr_url"]), data=token(None),
                             headers={"Content-Type": "application/jwt"})
    assert resp.status == 200
    session = await client.app[STORE].get(urls["client_url"].rsplit("/", 1)[1])
    assert session.status is AttributeStatus.NOT_VERIFIED


async def test_replayed_token_into_another_session_is_refused(
        client: TestClient, redis_client: aioredis.Redis, settings: Settings) -> None:
    tok = token()
    await start(client, auth_result=tok)
    second = await start(client)
    before = await snapshot(redis_client, settings)
    resp = await client.post(path(second["attr_url"]), data=tok,
                             headers={"Content-Type": "application/jwt"})
    assert_problem(resp.status, await resp.json(), 409, "token-replayed")
    resp = await client.post("/start_communication", json={"purpose": "x", "auth_result": tok})
    assert_problem(resp.status, await resp.json(), 409, "token-replayed")
    assert await snapshot(redis_client, settings) == before


@pytest.mark.parametrize("kind,slug", [
    ("expired", "token-expired"), ("foreign", "token-decryption"),
    ("forged", "token-signature"), ("garbage", "token-malformed"),
    ("far-future", "token-time-range"), ("compressed", "token-compressed"),
])
async def test_bad_tokens_on_every_route_change_nothing(
        client: TestClient, redis_client: aioredis.Redis, settings: Settings,
        kind: str, slug: str) -> None:
    bad = {"expired": lambda: token(now=1_000_000),
           "foreign": lambda: token(enc_key=other_rsa_key().public_key()),
           "forged": lambda: token(sign_key=other_rsa_key()),
           "garbage": lambda: "not-a-token",
           # a signed exp of 10^30 once overflowed the Redis TTL of the replay memory: a 503
           "far-future": lambda: token(claims={"exp": 10**30}),
           # 1 MiB deflated into a 1 kB token (the attack used 15 kB -> 11.5 MB)
           "compressed": lambda: jwe_of(b'{"njwt": "x", "p": "' + b"0" * 2**20 + b'"}', zip="DEF"),
           }[kind]()
    urls = await start(client)
    before = await snapshot(redis_client, settings)
    r1 = await client.post("/start_communication", json={"purpose": "p", "auth_result": bad})
    assert_problem(r1.status, await r1.json(), 400, slug)
    r2 = await client.post(path(urls["attr_url"]), data=bad,
                           headers={"Content-Type": "application/jwt"})
    assert_problem(r2.status, await r2.json(), 400, slug)
    r3 = await client.get(path(urls["client_url"]) + "?result=" + bad, allow_redirects=False)
    assert_problem(r3.status, await r3.json(), 400, slug)
    assert await snapshot(redis_client, settings) == before
    # The attr_url still works for a good token afterwards.
    ok = await client.post(path(urls["attr_url"]), data=token(),
                           headers={"Content-Type": "application/jwt"})
    assert ok.status == 200


@pytest.mark.parametrize("body,ctype,status,slug", [
    (b"{not json", "application/json", 400, "invalid-json"),
    (b"[1, 2]", "application/json", 400, "invalid-json"),
    (b"{}", "application/json", 400, "missing-purpose"),
    (b'{"purpose": ""}', "application/json", 400, "missing-purpose"),
    (b'{"purpose": 5}', "application/json", 400, "missing-purpose"),
    (b'{"purpose": "p", "auth_result": 5}', "application/json", 400, "invalid-request"),
    (b'{"purpose": "p"}', "text/plain", 415, "unsupported-media-type"),
    (b'{"purpose": "p"}', "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400, "json-too-deep"),       # was a 500
    (b'{"purpose": "p", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json", 400,
     "json-too-deep"),
])
async def test_start_communication_rejects_bad_input(
        client: TestClient, redis_client: aioredis.Redis, settings: Settings,
        body: bytes, ctype: str, status: int, slug: str) -> None:
    before = await snapshot(redis_client, settings)
    resp = await client.post("/start_communication", data=body, headers={"Content-Type": ctype})
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert_problem(resp.status, await resp.json(), status, slug)
    assert await snapshot(redis_client, settings) == before


async def test_oversized_bodies_get_413(client: TestClient, settings: Settings) -> None:
    big = b"x" * (settings.http.max_body_bytes + 1)
    resp = await client.post("/start_communication", data=big,
                             headers={"Content-Type": "application/json"})
    assert_problem(resp.status, await resp.json(), 413, "payload-too-large")
    urls = await start(client)
    resp = await client.post(path(urls["attr_url"]), data=big,
                             headers={"Content-Type": "application/jwt"})
    assert_problem(resp.status, await resp.json(), 413, "payload-too-large")


async def test_attr_url_wrong_content_type_and_unknown_id(client: TestClient) -> None:
    urls = await start(client)
    resp = await client.post(path(urls["attr_url"]), data=token(),
                             headers={"Content-Type": "application/json"})
    assert_problem(resp.status, await resp.json(), 415, "unsupported-media-type")
    resp = await client.post("/attributes/nope", data=token(),
                             headers={"Content-Type": "application/jwt"})
    assert_problem(resp.status, await resp.json(), 404, "unknown-attr-url")


async def test_unknown_session_page(client: TestClient) -> None:
    resp = await client.get("/s/unknown")
    assert_problem(resp.status, await resp.json(), 404, "unknown-session")
    html = await client.get("/s/unknown", headers={"Accept": "text/html"})
    assert html.status == 404 and "Deze chat bestaat niet meer" in await html.text()


async def test_second_token_for_a_filled_session_is_a_conflict(client: TestClient) -> None:
    urls = await start(client, auth_result=token())
    another = token(claims={"test_nonce": "another token"})  # RS256 is deterministic
    resp = await client.get(path(urls["client_url"]) + "?result=" + another, allow_redirects=False)
    assert_problem(resp.status, await resp.json(), 409, "attributes-present")


async def test_same_token_on_reload_is_harmless(client: TestClient) -> None:
    urls = await start(client)
    url = path(urls["client_url"]) + "?result=" + token()
    assert (await client.get(url, allow_redirects=False)).status == 303
    assert (await client.get(url, allow_redirects=False)).status == 303


async def test_redis_down_gives_503_and_nothing_written(aiohttp_client: Any,
                                                        make_settings: Any) -> None:
    settings = make_settings(IDCHAT_REDIS_URL="redis://127.0.0.1:1/0",
                             IDCHAT_REDIS_TIMEOUT_SECONDS="0.5")
    client = await aiohttp_client(create_app(settings))
    resp = await client.post("/start_communication", json={"purpose": "report_move"})
    assert_problem(resp.status, await resp.json(), 503, "unavailable")
    resp = await client.get("/readyz")
    assert resp.status == 503 and (await resp.json())["redis"] == "down"
    assert (await client.get("/healthz")).status == 200


async def test_pages_carry_security_headers(client: TestClient) -> None:
    urls = await start(client)
    resp = await client.get(path(urls["client_url"]))
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_whole_flow_logs_no_attribute_value(client: TestClient,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    hostile = {**ATTRS, "test_attribute": "<img src=x onerror=alert(1)>"}
    caplog.set_level(logging.DEBUG)
    tok = token(hostile, session_url="https://core.example/secret-session-url")
    urls = await start(client)
    await client.get(path(urls["client_url"]))
    await client.post(path(urls["attr_url"]), data=tok, headers={"Content-Type": "application/jwt"})
    await client.post("/start_communication", json={"purpose": "p", "auth_result": tok})
    other = await start(client)
    await client.get(path(other["client_url"]) + "?result=" + token(hostile), allow_redirects=False)
    await client.app[STORE].attributes(urls["client_url"].rsplit("/", 1)[1])
    assert caplog.records, "expected some log records"
    text = "\n".join(r.getMessage() + " " + json.dumps(r.args, default=str) for r in caplog.records)
    for value in list(hostile.values()) + ["secret-session-url", tok[:40]]:
        assert value not in text
    assert "bsn" in text  # attribute *names* are logged


async def test_no_attribute_value_readable_in_redis(client: TestClient,
                                                    redis_client: aioredis.Redis,
                                                    settings: Settings) -> None:
    verified = await start(client, auth_result=token(session_url="https://core.example/s/42"))
    pending = await start(client)
    keys = set(await redis_client.keys(settings.redis.key_prefix + ":*"))
    # The controls: the scan sees every kind of key these two sessions wrote ...
    names = client.app[STORE].keys
    written = {names.session(verified["client_url"].rsplit("/", 1)[1]),
               names.session(pending["client_url"].rsplit("/", 1)[1]),
               names.attr_url(pending["attr_url"].rsplit("/", 1)[1])}
    assert {key.encode() for key in written} <= keys, keys
    assert any(key.startswith(names.token("").encode()) for key in keys), keys  # replay guard
    raw = b""
    for key in sorted(keys):
        kind = await redis_client.type(key)
        assert kind in (b"hash", b"string"), f"{key!r} is a {kind!r}: teach this scan to read it"
        raw += b"".join(p for kv in (await redis_client.hgetall(key)).items() for p in kv) \
            if kind == b"hash" else await redis_client.get(key)
    # ... and reads values as stored: the purpose is kept in plain text, so would a name be.
    assert b"report_move" in raw
    for value in list(ATTRS.values()) + ["core.example"]:
        assert value.encode() not in raw
    for key in keys:
        assert 0 < await redis_client.ttl(key) <= settings.store.session_ttl_seconds, key


async def test_client_url_belongs_to_the_first_browser(client: TestClient, aiohttp_client: Any) -> None:
    urls = await start(client)
    page = path(urls["client_url"])
    first = await client.get(page)
    assert first.status == 200 and "idchat_browser" in first.cookies
    assert (await client.get(page)).status == 200          # a reload in the same browser
    ticket = await client.post(page + "/ticket")
    assert ticket.status == 200 and len((await ticket.json())["ticket"]) >= 43
    other = await aiohttp_client(client.server)             # another browser: empty cookie jar
    resp = await other.get(page)
    assert_problem(resp.status, await resp.json(), 403, "chat-open-elsewhere")
    resp = await other.post(page + "/ticket")
    assert_problem(resp.status, await resp.json(), 403, "chat-open-elsewhere")


async def test_each_page_load_issues_a_fresh_single_use_ticket(client: TestClient) -> None:
    urls = await start(client)
    sid = urls["client_url"].rsplit("/", 1)[1]
    pages = [await (await client.get(path(urls["client_url"]))).text() for _ in range(2)]
    tickets = [json.loads(p.split('id="idchat-config">')[1].split("</script>")[0])["ticket"]
               for p in pages]
    assert tickets[0] != tickets[1]
    store = client.app[STORE]
    session, chat = await store.redeem(tickets[0], "g@guest.idchat.localhost", new_chat="c" * 32,
                                       deadline_ms=0, closed=[])
    assert (session.id, chat) == (sid, None)
    with pytest.raises(Unauthorized):                              # used up
        await store.redeem(tickets[0], "g@guest.idchat.localhost", new_chat="d" * 32,
                           deadline_ms=0, closed=[])


async def test_converse_is_served_compressed_and_revalidated(client: TestClient) -> None:
    resp = await client.get("/converse/converse.min.js", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.headers["Content-Encoding"] == "gzip"        # the pre-compressed copy
    assert int(resp.headers["Content-Length"]) < 600_000      # of 1.3 MB
    assert resp.headers["Cache-Control"] == "no-cache"
    again = await client.get("/converse/converse.min.js",
                             headers={"If-Modified-Since": resp.headers["Last-Modified"]})
    assert again.status == 304


# -- ?result= belongs to the browser the chat is bound to --------------------------------------


async def test_result_from_another_browser_is_refused_and_changes_nothing(
        client: TestClient, aiohttp_client: Any, redis_client: aioredis.Redis,
        settings: Settings) -> None:
    urls = await start(client)
    page = path(urls["client_url"])
    assert (await client.get(page)).status == 200                 # the citizen's browser binds it
    before = await snapshot(redis_client, settings)
    attacker = await aiohttp_client(client.server)                # holds the link, not the cookie
    own_token = token({"fullname": "Mallory"}, claims={"test_nonce": "mallory"})
    resp = await attacker.get(page + "?result=" + own_token, allow_redirects=False)
    assert_problem(resp.status, await resp.json(), 403, "result-other-browser")
    assert "idchat_browser" not in resp.cookies
    attacker.session.cookie_jar.update_cookies({"idchat_browser": "a-cookie-of-another-browser"})
    resp = await attacker.get(page + "?result=" + own_token, allow_redirects=False)
    assert_problem(resp.status, await resp.json(), 403, "result-other-browser")
    html = await attacker.get(page + "?result=" + own_token, headers={"Accept": "text/html"})
    assert html.status == 403 and "Deze chat is al geopend in een andere browser" in await html.text()
    assert await snapshot(redis_client, settings) == before       # no attributes, attr_url intact
    # The genuine auth plugin still delivers, and the citizen's browser still has its chat.
    ok = await client.post(path(urls["attr_url"]), data=token(),
                           headers={"Content-Type": "application/jwt"})
    assert ok.status == 200
    stored = await client.app[STORE].attributes(page.rsplit("/", 1)[1])
    assert stored is not None and stored.attributes == ATTRS
    assert (await client.get(page)).status == 200


async def test_result_as_the_first_visit_binds_that_browser(client: TestClient,
                                                            aiohttp_client: Any) -> None:
    urls = await start(client)
    page = path(urls["client_url"])
    resp = await client.get(page + "?result=" + token(), allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == page
    cookie = resp.cookies["idchat_browser"]
    assert cookie["samesite"] == "Lax" and cookie["httponly"] and cookie["path"] == page
    assert (await client.get(page)).status == 200                 # the redirect's target
    other = await aiohttp_client(client.server)
    resp = await other.get(page)
    assert_problem(resp.status, await resp.json(), 403, "chat-open-elsewhere")
    resp = await other.get(page + "?result=" + token(claims={"test_nonce": "other"}),
                           allow_redirects=False)
    assert_problem(resp.status, await resp.json(), 403, "result-other-browser")


async def test_result_with_a_conflicting_token_still_binds_the_first_browser(
        client: TestClient, aiohttp_client: Any) -> None:
    urls = await start(client, auth_result=token())
    page = path(urls["client_url"])
    resp = await client.get(page + "?result=" + token(claims={"test_nonce": "late"}),
                            allow_redirects=False)
    assert_problem(resp.status, await resp.json(), 409, "attributes-present")
    assert "idchat_browser" in resp.cookies                       # else nobody could open it
    assert (await client.get(page)).status == 200
    other = await aiohttp_client(client.server)
    assert (await other.get(page)).status == 403


# -- oversized request lines and headers: a problem, and nothing of them in the logs -----------


async def raw_request(client: TestClient, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client would build these requests) and read the answer."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(head)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head_part, _, body = raw.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() + " " + str(r.exc_info) + " " + (r.exc_text or "")
                     for r in caplog.records)


async def test_long_request_line_is_a_problem_logged_without_the_path(
        client: TestClient, redis_client: aioredis.Redis, settings: Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    """Over 8 KB (it was an ERROR quoting the session id and the token, then a failing
    access logger): a 414 problem, and nothing of the line in any log."""
    urls = await start(client)
    sid = urls["client_url"].rsplit("/", 1)[1]
    tok = token()                                                 # a valid one: it must not land
    before = await snapshot(redis_client, settings)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    got, headers, body = await raw_request(
        client, f"GET /s/{sid}?result={tok}&pad={'x' * 9000} HTTP/1.1\r\nHost: t\r\n"
                "Connection: close\r\n\r\n".encode())
    assert got == 414 and headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["type"] == "/problems/uri-too-long" and "instance" not in problem
    assert await snapshot(redis_client, settings) == before       # not stored, not bound
    text = log_text(caplog)
    assert sid not in text and tok[:40] not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "GET /s/{sid} 414" in text                             # the access log: route template
    ok = await client.post(path(urls["attr_url"]), data=tok, headers={"Content-Type": "application/jwt"})
    assert ok.status == 200                                       # the attr_url is still usable


async def test_long_headers_are_a_431_problem_and_change_nothing(
        client: TestClient, redis_client: aioredis.Redis, settings: Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    urls = await start(client)
    sid = urls["client_url"].rsplit("/", 1)[1]
    before = await snapshot(redis_client, settings)
    caplog.set_level(logging.DEBUG)
    request = f"GET /s/{sid}?result={token()} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n".encode()
    got, _, body = await raw_request(client, request + b"X-Big: SECRETHEADER" + b"h" * 9000 + b"\r\n\r\n")
    assert got == 431 and json.loads(body)["type"] == "/problems/header-fields-too-large"
    many = b"".join(b"X-H%d: " % i + b"h" * 1000 + b"\r\n" for i in range(40))   # 40 kB together
    got, _, body = await raw_request(client, request + many + b"\r\n")
    assert got == 431 and json.loads(body)["type"] == "/problems/header-fields-too-large"
    assert await snapshot(redis_client, settings) == before
    assert "SECRETHEADER" not in log_text(caplog) and sid not in log_text(caplog)


async def test_request_beyond_the_parser_limit_is_refused_without_logging_it(
        client: TestClient, redis_client: aioredis.Redis, settings: Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    """Past aiohttp's own (larger) limit the parser refuses it with a bare 400, which we
    cannot turn into a problem document; it must still log nothing of the request."""
    urls = await start(client)
    sid = urls["client_url"].rsplit("/", 1)[1]
    before = await snapshot(redis_client, settings)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    got, _, body = await raw_request(
        client, f"GET /s/{sid}?result=TOKENSTART{'x' * 40000} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert got == 400
    assert await snapshot(redis_client, settings) == before
    text = log_text(caplog)
    assert "refused an HTTP request aiohttp could not parse: LineTooLong" in text   # it was seen
    assert sid not in text and "TOKENSTART" not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "UNKNOWN - 400" in text                                  # the access log did not fail


async def test_access_log_carries_route_templates_never_ids_or_tokens(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    tok = token()
    urls = await start(client)
    page = path(urls["client_url"])
    await client.get(page + "?lang=en&result=" + tok)
    await client.post(page + "/ticket")
    await client.post(path(urls["attr_url"]), data=token(claims={"test_nonce": "2"}),
                      headers={"Content-Type": "application/jwt"})
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    text = "\n".join(access)
    for route in ("POST /start_communication 200", "GET /s/{sid} 303", "GET /s/{sid} 200",
                  "POST /s/{sid}/ticket 200", "POST /attributes/{attr_id} 404"):
        assert route in text, text                                # positive control
    for secret in (page.rsplit("/", 1)[1], urls["attr_url"].rsplit("/", 1)[1], tok[:40], "lang="):
        assert secret not in text
