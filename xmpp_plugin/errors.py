"""The one exception family of ID Chat, each with its HTTP status, problem slug and XMPP condition.

    IdChatError
    ├── InvalidRequest (400, bad-request)
    │   ├── InvalidToken (400, not-acceptable)
    │   ├── MalformedEvent (400, bad-request): an entry of the event stream (xmpp_plugin/events.py)
    │   └── SignInError (400, not-authorized): an agent's OpenID Connect sign-in, oidc-*
    ├── Unauthorized (401, not-authorized)
    ├── Forbidden (403, forbidden)
    │   └── NotAnAgent (403, forbidden): no agent or supervisor role from the provider
    ├── NotFound (404, item-not-found)
    ├── Conflict (409, conflict)
    │   └── RecipientUnavailable (409, recipient-unavailable)
    ├── PayloadTooLarge (413, policy-violation)
    ├── UriTooLong (414, policy-violation)
    ├── UnsupportedMediaType (415, bad-request)
    ├── TooManyRequests (429, resource-constraint)
    ├── HeaderFieldsTooLarge (431, policy-violation)
    ├── NotImplementedHere (501, feature-not-implemented)
    ├── CoreRefused (502, not-acceptable)
    └── Unavailable (503, service-unavailable)
        └── CoreUnavailable (504, remote-server-timeout)

Domain code raises these; the HTTP middleware renders them as RFC 9457 problem
documents and the component renders them as XMPP errors. A ``detail`` must never
contain personal data (attribute values, names, BSN).
"""

from __future__ import annotations


class IdChatError(Exception):
    status = 500
    slug = "internal-error"
    title = "Internal error"
    condition = "internal-server-error"
    xmpp_type = "wait"
    retry_after: int | None = None  # seconds, sent as Retry-After: worth trying again then

    def __init__(self, detail: str, *, slug: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug

    @property
    def type_uri(self) -> str:
        """RFC 9457 §3.1.1: a URI reference; ours resolve to /problems/<slug> on the service."""
        return f"/problems/{self.slug}"

    def problem(self, instance: str | None = None) -> dict[str, object]:
        doc: dict[str, object] = {"type": self.type_uri, "title": self.title,
                                  "status": self.status, "detail": self.detail}
        if instance:
            doc["instance"] = instance
        return doc


class InvalidRequest(IdChatError):
    status, slug, title, condition, xmpp_type = 400, "invalid-request", "Invalid request", "bad-request", "modify"


class InvalidToken(InvalidRequest):
    slug, title, condition = "invalid-token", "Invalid token", "not-acceptable"


class MalformedEvent(InvalidRequest):
    """An event stream entry of an unknown kind, or without a field its kind needs."""


class SignInError(InvalidRequest):
    """A refused OpenID Connect sign-in (xmpp_plugin/oidc.py); each check has its own slug."""
    slug, title, condition, xmpp_type = "oidc-sign-in", "Sign-in refused", "not-authorized", "auth"


class Unauthorized(IdChatError):
    status, slug, title, condition, xmpp_type = 401, "unauthorized", "Unauthorized", "not-authorized", "auth"


class Forbidden(IdChatError):
    status, slug, title, condition, xmpp_type = 403, "forbidden", "Forbidden", "forbidden", "auth"


class NotAnAgent(Forbidden):
    slug, title = "oidc-role", "Not an agent"


class NotFound(IdChatError):
    status, slug, title, condition, xmpp_type = 404, "not-found", "Not found", "item-not-found", "cancel"


class Conflict(IdChatError):
    status, slug, title, condition, xmpp_type = 409, "conflict", "Conflict", "conflict", "cancel"


class RecipientUnavailable(Conflict):
    """Over XMPP only: whom the request is meant for cannot take it now (e.g. a colleague
    off duty or at capacity, for a transfer); type wait: later, or someone else."""
    condition, xmpp_type = "recipient-unavailable", "wait"


class PayloadTooLarge(IdChatError):
    status, slug, title, condition, xmpp_type = 413, "payload-too-large", "Payload too large", "policy-violation", "modify"


class UriTooLong(IdChatError):
    status, slug, title, condition, xmpp_type = 414, "uri-too-long", "URI too long", "policy-violation", "modify"


class HeaderFieldsTooLarge(IdChatError):
    status, slug, title, condition, xmpp_type = 431, "header-fields-too-large", "Request header fields too large", "policy-violation", "modify"


class UnsupportedMediaType(IdChatError):
    status, slug, title, condition, xmpp_type = 415, "unsupported-media-type", "Unsupported media type", "bad-request", "modify"


class TooManyRequests(IdChatError):
    """Over the sender's budget (component/budget.py); type ``wait``: try again later."""
    status, slug, title, condition, xmpp_type = 429, "too-many-requests", "Too many requests", "resource-constraint", "wait"


class Unavailable(IdChatError):
    status, slug, title, condition, xmpp_type = 503, "unavailable", "Service unavailable", "service-unavailable", "wait"
    retry_after = 5  # a Redis failover takes a few seconds (docs/deployment.md)


class NotImplementedHere(IdChatError):
    """A feature this installation has switched off (e.g. authentication during the chat)."""
    status, slug, title, condition, xmpp_type = 501, "not-configured", "Not configured", "feature-not-implemented", "cancel"


class CoreRefused(IdChatError):
    """The ID Contact core answered, but refused the request or answered nonsense."""
    status, slug, title, condition, xmpp_type = 502, "core-refused", "Refused by the ID Contact core", "not-acceptable", "cancel"


class CoreUnavailable(Unavailable):
    """The ID Contact core did not answer (down, unreachable, too slow)."""
    status, slug, title, condition, xmpp_type = 504, "core-unavailable", "ID Contact core unavailable", "remote-server-timeout", "wait"


# Every slug a client may see, with a one-line explanation served at /problems/<slug>.
PROBLEM_TYPES: dict[str, str] = {
    "internal-error": "An unexpected error; nothing was changed. Try again later.",
    "invalid-request": "The request is malformed.",
    "invalid-json": "The body is not a JSON object.",
    "json-too-deep": "The JSON body nests deeper than any request of ours does; nothing was changed.",
    "missing-purpose": "The JSON body lacks a non-empty string 'purpose'.",
    "invalid-token": "The token could not be accepted.",
    "token-malformed": "The token is not a compact JWE with the expected structure.",
    "token-too-large": "The token, or one of its headers, is larger than an ID Contact token can be.",
    "token-compressed": "The token is compressed (a 'zip' header); ID Contact tokens never are, and we do not inflate them.",
    "token-algorithm": "The token uses an algorithm or encryption that is not allowed.",
    "token-decryption": "The token could not be decrypted with our key.",
    "token-signature": "The inner token's signature does not verify.",
    "token-expired": "The token has expired (exp is not in the future).",
    "token-not-yet-valid": "The token is not yet valid (nbf or iat lies in the future).",
    "token-time-range": "A time claim is out of range: exp, iat and nbf must not be negative, and exp at most an hour ahead.",
    "token-claims": "The token's claims are missing or of the wrong type.",
    "token-replayed": "This token was already accepted for another session.",
    "attributes-present": "This session already holds attributes from another token.",
    "unauthorized": "The credentials (a claim ticket) are unknown, expired or already used.",
    "forbidden": "This action is not allowed.",
    "chat-open-elsewhere": "This chat is already open in another browser; only that browser can use it.",
    "result-other-browser": "This login result arrived in another browser than the one the chat is open in; nothing was changed.",
    "not-found": "No such resource.",
    "unknown-session": "No such session; it may have ended or expired.",
    "unknown-attr-url": "No such attribute URL, or it has already been used.",
    "conflict": "The request conflicts with the current state.",
    "payload-too-large": "The request body is larger than allowed.",
    "uri-too-long": "The request line (path and query) is longer than allowed; nothing was changed.",
    "header-fields-too-large": "A request header, or all of them together, is larger than allowed; nothing was changed.",
    "unsupported-media-type": "The request has the wrong Content-Type.",
    "too-many-requests": "Too many requests from this sender; nothing was changed. Try again later.",
    "unavailable": "A service we depend on is unavailable; nothing was changed.",
    "method-not-allowed": "This method is not allowed on this resource.",
    "oidc-sign-in": "The agent's sign-in with the identity provider was refused; each check has its own oidc-* type.",
    "oidc-state": "The sign-in's state is unknown or too old, or the sign-in began in another browser.",
    "oidc-provider": "The identity provider refused the sign-in or its renewal (e.g. the provider session ended).",
    "oidc-algorithm": "The ID token's signature algorithm is not allowed (e.g. none or HS256).",
    "oidc-signature": "The ID token's signature does not verify with the provider's published keys.",
    "oidc-issuer": "The ID token comes from another issuer than the configured provider.",
    "oidc-audience": "The ID token is meant for another client.",
    "oidc-nonce": "The ID token's nonce is not the one this sign-in sent (a replayed or injected token).",
    "oidc-expired": "The ID token has expired, or its iat or nbf lies in the future.",
    "oidc-claims": "The ID token lacks a required claim, or a claim is of the wrong type.",
    "oidc-acr": "The sign-in did not reach the required level (acr) or method (amr), e.g. no MFA.",
    "oidc-role": "The identity provider gives this account neither the agent nor the supervisor role.",
    "agent-signed-out": "The agent is not signed in, or the sign-in has ended; sign in again.",
    "not-configured": "This feature is switched off in this installation.",
    "core-refused": "The ID Contact core refused the request or gave an unusable answer; nothing was changed.",
    "core-unavailable": "The ID Contact core did not answer in time; nothing was changed. Try again later.",
    "request-signature": "The signed request (JWS) is malformed, its key id unknown or its signature wrong.",
}
