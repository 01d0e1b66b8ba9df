"""Typed records that cross module boundaries: checked tokens and stored sessions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum


class AttributeStatus(str, Enum):
    """Whether a session's attributes are known, and whether they were verified."""

    PENDING = "pending"
    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"


class Source(str, Enum):
    """The delivery route an auth result came by (CONTRACT.md: three routes)."""

    AUTH_RESULT = "auth_result"
    ATTR_URL = "attr_url"
    CLIENT_URL = "client_url"
    IN_CHAT = "in_chat"  # the agent asked during the chat (docs/protocol.md §11)


@dataclass(frozen=True)
class AuthResult:
    """A decrypted and verified ID Contact auth-result token. Values are personal data."""

    verified: bool
    attributes: dict[str, str] = field(repr=False)
    session_url: str | None = field(default=None, repr=False)
    issued_at: int = 0
    expires_at: int = 0
    fingerprint: str = ""


@dataclass(frozen=True)
class StoredAttributes:
    """What the store keeps for the agent, decrypted: the values plus their provenance."""

    verified: bool
    attributes: dict[str, str] = field(repr=False)
    session_url: str | None = field(repr=False)
    source: Source
    verified_at: int
    received_at: int


@dataclass(frozen=True)
class Session:
    """A session record without its attributes (those are only decrypted on demand)."""

    id: str
    purpose: str
    created_at: int
    status: AttributeStatus
    attr_id: str | None = field(default=None, repr=False)


def session_ref(sid: str) -> str:
    """A stable short reference for logs: the session id itself opens the citizen page."""
    return hashlib.sha256(sid.encode()).hexdigest()[:12]
