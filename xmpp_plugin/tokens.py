"""Checking ID Contact auth-result tokens: JWE (RSA-OAEP or ECDH-ES, A128CBC-HS256)
around ``{"njwt": <JWS>}``, inner JWS RS256 or ES256 (CONTRACT.md, "The auth-result token").

Each way a token can be wrong raises :class:`~xmpp_plugin.errors.InvalidToken` with
its own slug; no message ever quotes a claim value. Sizes and headers are checked
before any decoding or decryption, so a hostile token costs little.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwe
from jwcrypto.common import JWException, base64url_decode

from .errors import InvalidToken
from .keys import PrivateKey, PublicKey, to_jwk
from .models import AuthResult

ENC = "A128CBC-HS256"
SUBJECT = "id-contact-attributes"
STATUS_OK = "succes"  # sic: the reference implementation's spelling
STATUS_FAILED = "failed"
# An ID Contact token is 1-3 kB; these bounds leave room and are checked before any work.
MAX_TOKEN_CHARS = 16384
MAX_HEADER_CHARS = 1024  # base64url of a JWE or JWS protected header
# ID Contact tokens live 300 s; one valid longer is refused (and never stored that long).
MAX_LIFETIME_SECONDS = 3600

Clock = Callable[[], float]


class TokenVerifier:
    """Decrypts with our private key and verifies with the auth plugins' public key."""

    def __init__(self, decryption_key: PrivateKey, signature_key: PublicKey,
                 *, leeway: int = 0, clock: Clock = time.time) -> None:
        self._jwk = to_jwk(decryption_key)
        self._jwe_alg = "RSA-OAEP" if isinstance(decryption_key, rsa.RSAPrivateKey) else "ECDH-ES"
        self._signature_key = signature_key
        self._jws_alg = "RS256" if isinstance(signature_key, rsa.RSAPublicKey) else "ES256"
        if not isinstance(signature_key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
            raise TypeError("the signature key must be an RSA or EC public key")
        self._leeway = leeway
        self._clock = clock

    def check(self, token: str) -> AuthResult:
        token = token.strip()
        header = _protected_header(token)
        if "zip" in header:
            # RFC 7516 §4.1.3: DEFLATE before encryption; a small token would inflate to megabytes.
            raise InvalidToken("the JWE is compressed (zip); ID Contact tokens never are",
                               slug="token-compressed")
        if header.get("alg") != self._jwe_alg or header.get("enc") != ENC:
            raise InvalidToken(f"the JWE must use alg {self._jwe_alg} and enc {ENC}",
                               slug="token-algorithm")
        plaintext = self._decrypt(token)
        njwt = _njwt(plaintext)
        claims = self._verify_signature(njwt)
        return self._result(claims, njwt)

    def _decrypt(self, token: str) -> bytes:
        envelope = jwe.JWE(algs=[self._jwe_alg, ENC])
        try:
            envelope.deserialize(token, key=self._jwk)
        except (JWException, ValueError, TypeError, KeyError, RecursionError) as exc:
            raise InvalidToken("the JWE could not be decrypted with our key",
                               slug="token-decryption") from exc
        return envelope.payload

    def _verify_signature(self, njwt: str) -> dict[str, Any]:
        if len(njwt.partition(".")[0]) > MAX_HEADER_CHARS:
            raise InvalidToken("the inner JWS header is larger than allowed", slug="token-too-large")
        try:
            # One parse; times are checked below against our own (injectable) clock.
            claims = jwt.decode(njwt, self._signature_key, algorithms=[self._jws_alg],
                                options={"verify_exp": False, "verify_nbf": False,
                                         "verify_iat": False, "verify_aud": False})
        except jwt.InvalidAlgorithmError as exc:
            raise InvalidToken(f"the inner JWS must use alg {self._jws_alg}",
                               slug="token-algorithm") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("the inner JWS signature does not verify",
                               slug="token-signature") from exc
        except (jwt.InvalidTokenError, RecursionError) as exc:
            raise InvalidToken("the inner JWS is malformed", slug="token-malformed") from exc
        return claims

    def _result(self, claims: dict[str, Any], njwt: str) -> AuthResult:
        if claims.get("sub") != SUBJECT:
            raise InvalidToken(f"claim sub must be {SUBJECT!r}", slug="token-claims")
        status = claims.get("status")
        if status not in (STATUS_OK, STATUS_FAILED):
            raise InvalidToken("claim status must be 'succes' or 'failed'", slug="token-claims")
        for name in ("iat", "exp"):
            if not _is_int(claims.get(name)):
                raise InvalidToken(f"claim {name} must be an integer", slug="token-claims")
        if "nbf" in claims and not _is_int(claims["nbf"]):
            raise InvalidToken("claim nbf must be an integer", slug="token-claims")
        now = self._clock()
        self._check_time_range(claims, now)
        if claims["exp"] <= now - self._leeway:
            raise InvalidToken("the token has expired", slug="token-expired")
        if claims.get("nbf", 0) > now + self._leeway:
            raise InvalidToken("the token is not valid yet (nbf)", slug="token-not-yet-valid")
        if claims["iat"] > now + self._leeway:
            raise InvalidToken("the token was issued in the future (iat)", slug="token-not-yet-valid")
        session_url = claims.get("session_url")
        if session_url is not None and not isinstance(session_url, str):
            raise InvalidToken("claim session_url must be a string", slug="token-claims")
        attributes: dict[str, str] = {}
        if status == STATUS_OK:
            attributes = claims.get("attributes")  # type: ignore[assignment]
            if not isinstance(attributes, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
                raise InvalidToken("claim attributes must map names to strings", slug="token-claims")
        return AuthResult(verified=status == STATUS_OK, attributes=dict(attributes),
                          session_url=session_url, issued_at=claims["iat"],
                          expires_at=claims["exp"],
                          fingerprint=hashlib.sha256(njwt.encode()).hexdigest())

    def _check_time_range(self, claims: dict[str, Any], now: float) -> None:
        for name in ("iat", "exp", "nbf"):
            if claims.get(name, 0) < 0:
                raise InvalidToken(f"claim {name} must not be negative", slug="token-time-range")
        if claims["exp"] > now + self._leeway + MAX_LIFETIME_SECONDS:
            raise InvalidToken(f"claim exp lies more than {MAX_LIFETIME_SECONDS} s ahead",
                               slug="token-time-range")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _protected_header(token: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken(f"the token is longer than {MAX_TOKEN_CHARS} characters",
                           slug="token-too-large")
    parts = token.split(".")
    if len(parts) != 5:
        raise InvalidToken("a compact JWE has five dot-separated parts", slug="token-malformed")
    if len(parts[0]) > MAX_HEADER_CHARS:
        raise InvalidToken("the JWE header is larger than allowed", slug="token-too-large")
    try:
        header = json.loads(base64url_decode(parts[0]))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidToken("the JWE header is not base64url JSON", slug="token-malformed") from exc
    if not isinstance(header, dict):
        raise InvalidToken("the JWE header is not a JSON object", slug="token-malformed")
    return header


def _njwt(plaintext: bytes) -> str:
    try:
        wrapper = json.loads(plaintext)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidToken('the JWE payload must be a JSON object {"njwt": ...}',
                           slug="token-malformed") from exc
    if not isinstance(wrapper, dict) or not isinstance(wrapper.get("njwt"), str):
        raise InvalidToken('the JWE payload lacks the string member "njwt"', slug="token-claims")
    njwt: str = wrapper["njwt"]
    return njwt
