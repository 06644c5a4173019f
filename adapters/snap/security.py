"""SNAP security: request signatures, timestamps and the X-EXTERNAL-ID idempotency key.

Two signatures, as *SNAP Standar Teknis dan Keamanan* defines them:

* the **access-token request** (B2B, service 73) is signed asymmetrically:
  ``X-SIGNATURE = Base64(SHA256withRSA(private_key, client_id + "|" + X-TIMESTAMP))``;
* every **transaction** is signed symmetrically:
  ``X-SIGNATURE = Base64(HMAC-SHA512(client_secret, stringToSign))`` with ``stringToSign =``
  ``METHOD:EndpointUrl:AccessToken:lowercase(hex(SHA-256(minify(body)))):X-TIMESTAMP``.

Signatures are computed over the exact bytes sent and verified over the exact bytes received:
:func:`minify` only removes whitespace *between* JSON tokens, so both sides hash the same text
whatever their JSON library does with key order, number formats or non-ASCII characters.
Verification never raises on a garbage signature: it answers ``False``, in constant time.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import hmac
import re
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jamsostek_channels.adapters.snap._reader import load_json
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage

__all__ = [
    "DEFAULT_TOLERANCE",
    "EXTERNAL_ID_MAX",
    "EmptyBody",
    "body_digest",
    "external_id",
    "format_timestamp",
    "generate_key_pair",
    "is_external_id",
    "minify",
    "parse_timestamp",
    "sign_symmetric",
    "sign_token_request",
    "symmetric_string_to_sign",
    "verify_symmetric",
    "verify_token_request",
    "within_tolerance",
]

#: How an empty body enters the string to sign. ``"hash-empty"`` (the standard's reading, and
#: the default): the body-hash segment is ``lowercase(hex(SHA-256("")))``, i.e.
#: ``e3b0c442…b855``. ``"omit"`` (some implementations hash nothing): the segment is the empty
#: string, so the string to sign reads ``GET:/path:token::2024-…``. A per-partner setting.
EmptyBody = Literal["hash-empty", "omit"]

#: How far a request's X-TIMESTAMP may be from our clock before it is refused.
DEFAULT_TOLERANCE = dt.timedelta(minutes=5)

#: X-EXTERNAL-ID: at most 36 characters, ASCII letters and digits only.
EXTERNAL_ID_MAX = 36

_JSON_WHITESPACE = b" \t\n\r"
_ANY_WHITESPACE = re.compile(rb"[ \t\n\r]")
# A JSON string (group 1, kept whole: whitespace inside it is data) or a run of whitespace
# between tokens (no group: replaced by nothing). A template, not a callback: it runs in C.
_TOKENS = re.compile(rb'("[^"\\]*(?:\\.[^"\\]*)*")|[ \t\n\r]+', re.DOTALL)


# -- minify and the symmetric signature ---------------------------------------------------------


def minify(body: bytes) -> bytes:
    """``body`` with the whitespace between JSON tokens removed, and nothing else changed.

    Not a re-serialisation: key order, duplicate spacing inside strings, ``null``, number text
    (``1.10``, ``1e5``) and raw non-ASCII bytes stay exactly as they were, so the result is what
    the sender hashed if the sender sent it minified. Already-minified bytes come back
    unchanged. Bytes that are not one strict JSON value raise
    :class:`~jamsostek_channels.errors.MalformedMessage` (``message.malformed``).
    """
    load_json(body, limit=None)  # validates: UTF-8, strict JSON, no NaN, no duplicate keys
    data = bytes(body)
    if _ANY_WHITESPACE.search(data) is None:
        return data
    return _TOKENS.sub(rb"\1", data)


def _is_empty(body: bytes) -> bool:
    return not bytes(body).strip(_JSON_WHITESPACE)


def body_digest(
    body: bytes, empty_body: EmptyBody = "hash-empty", *, minified: bool = False
) -> str:
    """The body-hash segment of the string to sign: lowercase hex SHA-256 of the minified body.

    An empty (or whitespace-only) body hashes as ``b""``, or is the empty string when
    ``empty_body="omit"``. ``minified=True`` is the caller's word that ``body`` is already
    minified JSON (this library's encoders write it so): it is hashed as it is. Received bodies
    are always minified here first.
    """
    if _is_empty(body):
        return hashlib.sha256(b"").hexdigest() if empty_body == "hash-empty" else ""
    return hashlib.sha256(body if minified else minify(body)).hexdigest()


def _bare_token(access_token: str) -> str:
    # The standard signs the token alone; accept the Authorization header's value too.
    if access_token[:7].lower() == "bearer ":
        return access_token[7:].strip()
    return access_token


def symmetric_string_to_sign(
    method: str,
    path: str,
    access_token: str,
    body: bytes,
    timestamp: str,
    *,
    empty_body: EmptyBody = "hash-empty",
    minified: bool = False,
) -> str:
    """``METHOD:path:token:bodyhash:timestamp`` — what a partner's support asks to compare.

    ``path`` is everything after the host: any deployment prefix and the query string included
    (``/openapi/v1.0/transfer-va/inquiry``). ``timestamp`` is the X-TIMESTAMP header exactly as
    sent.
    """
    digest = body_digest(body, empty_body, minified=minified)
    return f"{method.upper()}:{path}:{_bare_token(access_token)}:{digest}:{timestamp}"


def _hmac(client_secret: str, string_to_sign: str) -> bytes:
    key = client_secret.encode("utf-8")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha512).digest()


def sign_symmetric(
    client_secret: str,
    method: str,
    path: str,
    access_token: str,
    body: bytes,
    timestamp: str,
    *,
    empty_body: EmptyBody = "hash-empty",
    minified: bool = False,
) -> str:
    """X-SIGNATURE of a transaction: Base64(HMAC-SHA512(client_secret, stringToSign)).

    ``body`` is the exact bytes that will be sent; ``access_token`` without ``Bearer `` (a
    leading ``Bearer `` is removed). Raises ``MalformedMessage`` if ``body`` is not JSON.
    ``minified=True``: see :func:`body_digest` (for bodies this library encoded itself).
    """
    text = symmetric_string_to_sign(
        method, path, access_token, body, timestamp, empty_body=empty_body, minified=minified
    )
    return base64.b64encode(_hmac(client_secret, text)).decode("ascii")


def _decode_signature(signature: object) -> bytes | None:
    if not isinstance(signature, str | bytes):
        return None
    try:
        return base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):  # bad alphabet, bad padding, non-ASCII text
        return None


def verify_symmetric(
    client_secret: str,
    method: str,
    path: str,
    access_token: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    empty_body: EmptyBody = "hash-empty",
) -> bool:
    """Whether ``signature`` signs this request; compared in constant time.

    ``body`` is the raw received body. A signature that is not Base64 (or not a string) is
    simply ``False``. A body that is not JSON cannot have been signed by the standard and
    raises ``MalformedMessage`` (a server answers it 400, not 401).
    """
    given = _decode_signature(signature)
    digest = body_digest(body, empty_body)  # may raise MalformedMessage, on purpose
    try:
        text = f"{method.upper()}:{path}:{_bare_token(access_token)}:{digest}:{timestamp}"
        expected = _hmac(client_secret, text)
    except (UnicodeError, AttributeError, TypeError):  # headers that are not text
        return False
    if given is None:
        hmac.compare_digest(expected, expected)  # same work either way
        return False
    return hmac.compare_digest(given, expected)


# -- the asymmetric signature (access-token request) ---------------------------------------------


def _pem(data: str | bytes) -> bytes:
    return data.encode("ascii") if isinstance(data, str) else bytes(data)


@functools.lru_cache(maxsize=16)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key")
    return key


@functools.lru_cache(maxsize=64)
def _public_key(pem: bytes) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:  # partners often hand over a certificate rather than a bare key
        key = x509.load_pem_x509_certificate(pem).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the public key is not an RSA key")
    return key


def _token_string(client_id: str, timestamp: str) -> bytes:
    return f"{client_id}|{timestamp}".encode()


def sign_token_request(private_key_pem: str | bytes, client_id: str, timestamp: str) -> str:
    """X-SIGNATURE of the access-token request: Base64(SHA256withRSA(``client_id|timestamp``)).

    PKCS#1 v1.5 padding, as the standard's Java reference (``SHA256withRSA``) uses. The key is
    an unencrypted PEM (PKCS#8 or PKCS#1); anything else raises :class:`ValueError`, a
    configuration error rather than a message error.
    """
    key = _private_key(_pem(private_key_pem))
    signed = key.sign(_token_string(client_id, timestamp), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signed).decode("ascii")


def verify_token_request(
    public_key_pem: str | bytes, client_id: str, timestamp: str, signature: str
) -> bool:
    """Whether ``signature`` signs ``client_id|timestamp`` with the partner's key.

    ``public_key_pem`` is a PEM public key or X.509 certificate (a bad one raises
    :class:`ValueError`: it is configuration). A garbage signature is ``False``, never an error.
    """
    key = _public_key(_pem(public_key_pem))
    given = _decode_signature(signature)
    if given is None:
        return False
    try:
        key.verify(given, _token_string(client_id, timestamp), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        return False
    return True


def generate_key_pair() -> tuple[str, str]:
    """A fresh 2048-bit RSA pair as (private PEM in PKCS#8, public PEM), for tests and sandboxes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode("ascii"), public.decode("ascii")


# -- timestamps -------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})"
)


def format_timestamp(moment: dt.datetime, *, millis: bool = False) -> str:
    """X-TIMESTAMP text in Asia/Jakarta: ``2026-11-22T09:30:00+07:00``, or with ``.SSS``.

    SNAP shows both forms; we emit the seconds form unless asked. ``moment`` must be aware (a
    naive datetime's zone is a guess, and a wrong guess is a 7-hour error): naive raises
    :class:`ValueError`.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("format_timestamp needs an aware datetime")
    # JAKARTA is a fixed +07:00 zone, so isoformat writes exactly SNAP's form.
    return moment.astimezone(JAKARTA).isoformat(timespec="milliseconds" if millis else "seconds")


def parse_timestamp(text: str) -> dt.datetime:
    """Read an X-TIMESTAMP (or a body's date-time): an aware datetime in Asia/Jakarta.

    Accepts ``yyyy-MM-ddTHH:mm:ss`` with optional fraction (1–9 digits; beyond microseconds is
    truncated) and an offset ``Z``, ``±HH:MM`` or ``±HHMM``. A timestamp without an offset, or
    anything else, raises :class:`~jamsostek_channels.errors.MalformedMessage`.
    """
    match = _TIMESTAMP.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise MalformedMessage("message.malformed", {"reason": "bad timestamp"})
    if match[7] is None or len(match[7]) in (3, 6):
        try:  # the usual forms: the C parser, once the pattern has vouched for the text
            return dt.datetime.fromisoformat(text).astimezone(JAKARTA)
        except (ValueError, OverflowError):
            pass  # e.g. "+0700" without a colon: read field by field below
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    fraction = (match[7] or "").ljust(6, "0")[:6]
    zone = match[8]
    try:
        if zone == "Z":
            tz = dt.UTC
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = dt.timezone(sign * delta)
        moment = dt.datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=tz)
        return moment.astimezone(JAKARTA)
    except (ValueError, OverflowError):  # 2024-02-30, hour 24, offset ≥ 24 h, year 0 …
        raise MalformedMessage("message.malformed", {"reason": "bad timestamp"}) from None


def within_tolerance(
    timestamp: dt.datetime, now: dt.datetime, tolerance: dt.timedelta = DEFAULT_TOLERANCE
) -> bool:
    """Whether ``timestamp`` is at most ``tolerance`` before or after ``now`` (both aware).

    A server refuses a request outside it (``auth.timestamp``): a captured request cannot be
    replayed later, and a partner with a drifting clock finds out at once.
    """
    if timestamp.utcoffset() is None or now.utcoffset() is None:
        raise ValueError("within_tolerance needs aware datetimes")
    return abs(timestamp - now) <= tolerance


# -- X-EXTERNAL-ID ----------------------------------------------------------------------------

_EXTERNAL_ID = re.compile(r"[A-Za-z0-9]{1,36}")


def external_id(day: dt.date, sequence: int, prefix: str = "", *, width: int = 10) -> str:
    """``prefix + yyyymmdd + sequence`` zero-padded to ``width``: e.g. ``LA202611220000000042``.

    Deterministic, so the id of a journalled request can be rebuilt for a retry. Raises
    :class:`ValueError` if the result would not be a valid X-EXTERNAL-ID (non-alphanumeric
    prefix, negative sequence, longer than 36 characters).
    """
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        raise ValueError("sequence must be a non-negative integer")
    text = f"{prefix}{day.year:04d}{day.month:02d}{day.day:02d}{sequence:0{width}d}"
    if not is_external_id(text):
        raise ValueError("an X-EXTERNAL-ID is 1-36 ASCII letters and digits")
    return text


def is_external_id(text: object) -> bool:
    """Whether ``text`` is a well-formed X-EXTERNAL-ID (1–36 ASCII letters and digits)."""
    return isinstance(text, str) and _EXTERNAL_ID.fullmatch(text) is not None
