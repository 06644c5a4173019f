"""SNAP security: the published test vector, minify, both signatures, timestamps, X-EXTERNAL-ID."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jamsostek_channels.adapters.snap.security import (
    body_digest,
    external_id,
    format_timestamp,
    generate_key_pair,
    is_external_id,
    minify,
    parse_timestamp,
    sign_symmetric,
    sign_token_request,
    symmetric_string_to_sign,
    verify_symmetric,
    verify_token_request,
    within_tolerance,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage

# The public test vector (channels.md, SNAP section), byte for byte.
VECTOR_SECRET = "myclientsecret"
VECTOR_METHOD = "POST"
VECTOR_PATH = "/v1.0/qr/qr-mpm-generate"
VECTOR_TOKEN = "myaccesstoken"
VECTOR_TIMESTAMP = "2024-03-05T10:37:16.196Z"
VECTOR_BODY = (
    b'{"partnerReferenceNo":"2020102900000000000001",'
    b'"amount":{"value":"12345678.00","currency":"IDR"},'
    b'"feeAmount":{"value":"12345678.00","currency":"IDR"},'
    b'"merchantId":"00007100010926","terminalId":"213141251124",'
    b'"validityPeriod":"2009-07-03T12:08:56-07:00"}'
)
VECTOR_BODY_HASH = "01463f60dbb6ca538581579dd95b31c8ba9fc6600eca750e4d8460ca4e402111"
VECTOR_SIGNATURE = (
    "wmzT7yjg1SxxCsxNsFgCR9SYXiZGGbceF6fV8xe97sAMHxZ+7OEBMIBmvb6Sj6GcksGp3iv77DiomgSbcST3XQ=="
)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def vector_args(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "client_secret": VECTOR_SECRET,
        "method": VECTOR_METHOD,
        "path": VECTOR_PATH,
        "access_token": VECTOR_TOKEN,
        "body": VECTOR_BODY,
        "timestamp": VECTOR_TIMESTAMP,
    }
    args.update(changes)
    return args


# -- the published vector ---------------------------------------------------------------------


def test_vector_body_hash() -> None:
    assert body_digest(VECTOR_BODY) == VECTOR_BODY_HASH
    assert hashlib.sha256(minify(VECTOR_BODY)).hexdigest() == VECTOR_BODY_HASH


def test_vector_string_to_sign() -> None:
    text = symmetric_string_to_sign(
        VECTOR_METHOD, VECTOR_PATH, VECTOR_TOKEN, VECTOR_BODY, VECTOR_TIMESTAMP
    )
    assert (
        text == f"POST:/v1.0/qr/qr-mpm-generate:myaccesstoken:{VECTOR_BODY_HASH}:{VECTOR_TIMESTAMP}"
    )


def test_vector_signature() -> None:
    assert sign_symmetric(**vector_args()) == VECTOR_SIGNATURE


def test_vector_verifies() -> None:
    assert verify_symmetric(**vector_args(), signature=VECTOR_SIGNATURE)


def test_vector_signs_the_same_when_the_body_is_pretty_printed() -> None:
    pretty = json.dumps(json.loads(VECTOR_BODY), indent=4).encode()
    assert pretty != VECTOR_BODY
    assert sign_symmetric(**vector_args(body=pretty)) == VECTOR_SIGNATURE
    assert verify_symmetric(**vector_args(body=pretty), signature=VECTOR_SIGNATURE)


def test_bearer_prefix_is_not_signed() -> None:
    assert sign_symmetric(**vector_args(access_token="Bearer myaccesstoken")) == VECTOR_SIGNATURE


def test_method_is_upper_cased() -> None:
    assert sign_symmetric(**vector_args(method="post")) == VECTOR_SIGNATURE


@pytest.mark.parametrize(
    "changes",
    [
        {"body": VECTOR_BODY.replace(b"12345678.00", b"12345679.00", 1)},
        {"body": VECTOR_BODY.replace(b'"IDR"', b'"USD"', 1)},
        {"client_secret": "myclientsecreT"},
        {"path": "/v1.0/qr/qr-mpm-generate?x=1"},
        {"path": "/openapi/v1.0/qr/qr-mpm-generate"},
        {"timestamp": "2024-03-05T10:37:17.196Z"},
        {"access_token": "otheraccesstoken"},
        {"method": "PUT"},
    ],
    ids=["amount", "currency", "secret", "query", "prefix", "timestamp", "token", "method"],
)
def test_verify_rejects_any_change(changes: dict[str, Any]) -> None:
    assert not verify_symmetric(**vector_args(**changes), signature=VECTOR_SIGNATURE)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not base64!",
        "wmzT7yjg1Sxx",  # bad padding
        VECTOR_SIGNATURE[:-4],  # truncated
        VECTOR_SIGNATURE.lower(),
        "é" * 10,
        "\x00",
        base64.b64encode(b"\x00" * 64).decode(),
    ],
)
def test_verify_answers_false_to_garbage_signatures(signature: str) -> None:
    assert verify_symmetric(**vector_args(), signature=signature) is False


def test_verify_answers_false_to_non_string_signature() -> None:
    assert verify_symmetric(**vector_args(), signature=None) is False  # type: ignore[arg-type]


def test_verify_refuses_a_body_that_is_not_json() -> None:
    with pytest.raises(MalformedMessage) as caught:
        verify_symmetric(**vector_args(body=b"{not json"), signature=VECTOR_SIGNATURE)
    assert caught.value.code == "message.malformed"


@given(st.text(max_size=200) | st.binary(max_size=100).map(lambda b: base64.b64encode(b).decode()))
def test_verify_never_raises_on_arbitrary_signatures(signature: str) -> None:
    assert verify_symmetric(**vector_args(), signature=signature) is False


@given(st.text(max_size=50), st.text(max_size=50), st.text(max_size=50))
def test_verify_never_raises_on_arbitrary_headers(path: str, token: str, timestamp: str) -> None:
    result = verify_symmetric(
        **vector_args(path=path, access_token=token, timestamp=timestamp),
        signature=VECTOR_SIGNATURE,
    )
    assert isinstance(result, bool)


# -- minify -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pretty", "compact"),
    [
        (b'{ "b" : 1 ,\n  "a" : 2 }', b'{"b":1,"a":2}'),  # key order kept
        (b'{"a": null, "b": [ null , true , false ]}', b'{"a":null,"b":[null,true,false]}'),
        (
            b'{"n": 1.10, "e": 1e5, "E": 1E+05, "z": -0, "f": 0.000}',
            b'{"n":1.10,"e":1e5,"E":1E+05,"z":-0,"f":0.000}',
        ),
        ('{"nama": "Śrī Ñoño 日本"}'.encode(), '{"nama":"Śrī Ñoño 日本"}'.encode()),
        (b'{"s": "  spaced \\t  out  "}', b'{"s":"  spaced \\t  out  "}'),
        (b'{"q": "a \\" b", "r": " c "}', b'{"q":"a \\" b","r":" c "}'),  # escaped quote
        (b'{"u": "\\u00e9 \\n"}', b'{"u":"\\u00e9 \\n"}'),  # escapes stay escapes
        (b'{"back": "\\\\", "x" : 1}', b'{"back":"\\\\","x":1}'),  # a string ending in \\
        (b"\r\n\t [ 1 , [ ] , { } ] \n", b"[1,[],{}]"),
        (b'"top level string"', b'"top level string"'),
    ],
)
def test_minify_removes_only_whitespace_between_tokens(pretty: bytes, compact: bytes) -> None:
    assert minify(pretty) == compact


def test_minify_keeps_number_text_byte_for_byte() -> None:
    body = b'{"a":1.10,"b":1e5,"c":12345678901234567890123,"d":1.0E-7}'
    assert minify(body) == body  # a re-serialiser would write 1.1, 100000.0, 1e-07


def test_minify_is_a_no_op_on_minified_bytes() -> None:
    assert minify(VECTOR_BODY) == VECTOR_BODY
    assert minify(minify(b'{ "a" : [ 1 , 2 ] }')) == b'{"a":[1,2]}'


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"{",
        b'{"a":1,}',
        b"{'a':1}",
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":1} {"b":2}',
        b"\xff\xfe{}",
        '\ufeff{"a":1}'.encode(),  # a UTF-8 byte-order mark
        b'{"a":1,"a":2}',  # duplicate keys: two parsers could read two messages
        b"[" * 50_000 + b"]" * 50_000,
    ],
    ids=[
        "empty",
        "blank",
        "open",
        "trailing-comma",
        "single-quotes",
        "nan",
        "infinity",
        "two-values",
        "not-utf8",
        "bom",
        "duplicate-key",
        "deep",
    ],
)
def test_minify_refuses_what_is_not_json(body: bytes) -> None:
    with pytest.raises(MalformedMessage) as caught:
        minify(body)
    assert caught.value.code == "message.malformed"


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)


@given(json_objects)
def test_minify_of_pretty_json_is_compact_json(value: dict[str, Any]) -> None:
    pretty = json.dumps(value, indent=2, ensure_ascii=False).encode()
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert minify(pretty) == compact
    assert minify(compact) == compact


@given(json_objects)
def test_signature_does_not_depend_on_formatting(value: dict[str, Any]) -> None:
    pretty = json.dumps(value, indent=3, ensure_ascii=False).encode()
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    signature = sign_symmetric(**vector_args(body=compact))
    assert verify_symmetric(**vector_args(body=pretty), signature=signature)


# -- empty bodies -----------------------------------------------------------------------------


def test_empty_body_hashes_empty_string_by_default() -> None:
    assert body_digest(b"") == EMPTY_SHA256
    assert body_digest(b" \n") == EMPTY_SHA256
    text = symmetric_string_to_sign("GET", "/v1.0/x", "tok", b"", "2024-03-05T17:37:16+07:00")
    assert text == f"GET:/v1.0/x:tok:{EMPTY_SHA256}:2024-03-05T17:37:16+07:00"


def test_empty_body_omitted_leaves_an_empty_segment() -> None:
    assert body_digest(b"", "omit") == ""
    text = symmetric_string_to_sign(
        "GET", "/v1.0/x", "tok", b"", "2024-03-05T17:37:16+07:00", empty_body="omit"
    )
    assert text == "GET:/v1.0/x:tok::2024-03-05T17:37:16+07:00"


def test_empty_body_modes_sign_differently_and_verify_only_themselves() -> None:
    args = vector_args(body=b"")
    hashed = sign_symmetric(**args)
    omitted = sign_symmetric(**args, empty_body="omit")
    assert hashed != omitted
    assert verify_symmetric(**args, signature=hashed)
    assert verify_symmetric(**args, signature=omitted, empty_body="omit")
    assert not verify_symmetric(**args, signature=omitted)
    assert not verify_symmetric(**args, signature=hashed, empty_body="omit")


def test_omit_changes_nothing_for_a_non_empty_body() -> None:
    assert sign_symmetric(**vector_args(), empty_body="omit") == VECTOR_SIGNATURE


# -- the access-token signature (RSA) ---------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_key_pair()


@pytest.fixture(scope="module")
def other_keys() -> tuple[str, str]:
    return generate_key_pair()


def test_generate_key_pair_gives_pem(keys: tuple[str, str]) -> None:
    private, public = keys
    assert private.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert public.startswith("-----BEGIN PUBLIC KEY-----")


def test_token_signature_round_trip(keys: tuple[str, str]) -> None:
    private, public = keys
    timestamp = "2026-11-22T09:30:00+07:00"
    signature = sign_token_request(private, "client-123", timestamp)
    assert len(base64.b64decode(signature)) == 256  # 2048-bit RSA
    assert verify_token_request(public, "client-123", timestamp, signature)
    assert verify_token_request(public.encode(), "client-123", timestamp, signature)
    # PKCS#1 v1.5 is deterministic: the same input signs the same.
    assert sign_token_request(private.encode(), "client-123", timestamp) == signature


@pytest.mark.parametrize(
    ("client_id", "timestamp"),
    [
        ("client-124", "2026-11-22T09:30:00+07:00"),
        ("client-123 ", "2026-11-22T09:30:00+07:00"),
        ("client-123", "2026-11-22T09:30:01+07:00"),
        ("client-123|2026-11-22T09:30:00+07:00", ""),
    ],
)
def test_token_signature_rejects_tampering(
    keys: tuple[str, str], client_id: str, timestamp: str
) -> None:
    private, public = keys
    signature = sign_token_request(private, "client-123", "2026-11-22T09:30:00+07:00")
    assert not verify_token_request(public, client_id, timestamp, signature)


def test_token_signature_rejects_another_key(
    keys: tuple[str, str], other_keys: tuple[str, str]
) -> None:
    signature = sign_token_request(other_keys[0], "client-123", "2026-11-22T09:30:00+07:00")
    assert not verify_token_request(keys[1], "client-123", "2026-11-22T09:30:00+07:00", signature)


@given(signature=st.text(max_size=400) | st.binary(max_size=300).map(base64.b64encode))
def test_token_verify_never_raises_on_garbage(keys: tuple[str, str], signature: Any) -> None:
    if isinstance(signature, bytes):
        signature = signature.decode()
    stamp = "2026-11-22T09:30:00+07:00"
    assert verify_token_request(keys[1], "client-123", stamp, signature) is False


def test_token_verify_accepts_a_certificate(keys: tuple[str, str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    private_pem, _ = keys
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    signature = sign_token_request(private_pem, "client-123", "2026-11-22T09:30:00+07:00")
    assert verify_token_request(pem, "client-123", "2026-11-22T09:30:00+07:00", signature)


def test_bad_keys_are_configuration_errors() -> None:
    with pytest.raises(ValueError, match=r".+"):
        sign_token_request("not a key", "client", "2026-11-22T09:30:00+07:00")
    with pytest.raises(ValueError, match=r".+"):
        verify_token_request("not a key", "client", "2026-11-22T09:30:00+07:00", "AAAA")


# -- timestamps -------------------------------------------------------------------------------

MOMENT = dt.datetime(2026, 11, 22, 9, 30, 5, 123456, tzinfo=JAKARTA)


def test_format_timestamp_seconds_form() -> None:
    assert format_timestamp(MOMENT) == "2026-11-22T09:30:05+07:00"


def test_format_timestamp_millis_form() -> None:
    assert format_timestamp(MOMENT, millis=True) == "2026-11-22T09:30:05.123+07:00"


def test_format_timestamp_converts_to_jakarta() -> None:
    utc = dt.datetime(2024, 3, 5, 10, 37, 16, 196000, tzinfo=dt.UTC)
    assert format_timestamp(utc) == "2024-03-05T17:37:16+07:00"
    assert format_timestamp(utc, millis=True) == "2024-03-05T17:37:16.196+07:00"


def test_format_timestamp_refuses_naive() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_timestamp(dt.datetime(2026, 11, 22, 9, 30))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T09:30:05+07:00", dt.datetime(2026, 11, 22, 9, 30, 5, tzinfo=JAKARTA)),
        (
            "2026-11-22T09:30:05.123+07:00",
            dt.datetime(2026, 11, 22, 9, 30, 5, 123000, tzinfo=JAKARTA),
        ),
        ("2024-03-05T10:37:16.196Z", dt.datetime(2024, 3, 5, 17, 37, 16, 196000, tzinfo=JAKARTA)),
        ("2026-11-22T02:30:05Z", dt.datetime(2026, 11, 22, 9, 30, 5, tzinfo=JAKARTA)),
        ("2026-11-22T10:30:05+0800", dt.datetime(2026, 11, 22, 9, 30, 5, tzinfo=JAKARTA)),
        ("2009-07-03T12:08:56-07:00", dt.datetime(2009, 7, 4, 2, 8, 56, tzinfo=JAKARTA)),
        (
            "2026-11-22T09:30:05.123456789+07:00",
            dt.datetime(2026, 11, 22, 9, 30, 5, 123456, tzinfo=JAKARTA),
        ),
        (
            "2026-11-22T09:30:05.5+07:00",
            dt.datetime(2026, 11, 22, 9, 30, 5, 500000, tzinfo=JAKARTA),
        ),
    ],
)
def test_parse_timestamp_accepts_both_forms_and_other_offsets(
    text: str, expected: dt.datetime
) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == dt.timedelta(hours=7)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-11-22T09:30:05",  # no offset: ambiguous
        "2026-11-22 09:30:05+07:00",
        "2026-11-22t09:30:05+07:00",
        "2026-02-30T09:30:05+07:00",
        "2026-11-22T24:00:00+07:00",
        "2026-11-22T09:60:00+07:00",
        "2026-11-22T09:30:60+07:00",
        "2026-11-22T09:30:05+24:00",
        "2026-11-22T09:30:05+07",
        "2026-11-22T09:30:05.+07:00",
        "0000-01-01T00:00:00+07:00",
        "0001-01-01T00:00:00+07:00",  # before year 1 once in UTC
        "9999-12-31T23:59:59-07:00",  # after year 9999 in Jakarta
        "２０２６-11-22T09:30:05+07:00",  # full-width digits
        "2026-11-22T09:30:05+07:00\n",
        " 2026-11-22T09:30:05+07:00",
    ],
)
def test_parse_timestamp_refuses_bad_text(text: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_timestamp(text)
    assert caught.value.code == "message.malformed"


def test_parse_timestamp_refuses_non_text() -> None:
    with pytest.raises(MalformedMessage):
        parse_timestamp(20261122)  # type: ignore[arg-type]


@given(
    st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(9998, 12, 31),
        timezones=st.just(dt.UTC),
    ).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)),
    st.booleans(),
)
def test_timestamp_round_trip(moment: dt.datetime, millis: bool) -> None:
    parsed = parse_timestamp(format_timestamp(moment, millis=millis))
    expected = moment if millis else moment.replace(microsecond=0)
    assert parsed == expected


@given(st.text(max_size=40))
def test_parse_timestamp_raises_only_malformed(text: str) -> None:
    with contextlib.suppress(MalformedMessage):
        parse_timestamp(text)


def test_within_tolerance_is_inclusive_at_five_minutes() -> None:
    now = dt.datetime(2026, 11, 22, 9, 30, tzinfo=JAKARTA)
    five = dt.timedelta(minutes=5)
    assert within_tolerance(now + five, now)
    assert within_tolerance(now - five, now)
    assert not within_tolerance(now + five + dt.timedelta(seconds=1), now)
    assert not within_tolerance(now - five - dt.timedelta(seconds=1), now)
    assert within_tolerance(now + dt.timedelta(minutes=9), now, dt.timedelta(minutes=10))


def test_within_tolerance_compares_instants_across_zones() -> None:
    now = dt.datetime(2026, 11, 22, 9, 30, tzinfo=JAKARTA)
    assert within_tolerance(parse_timestamp("2026-11-22T02:31:00Z"), now)


def test_within_tolerance_refuses_naive() -> None:
    now = dt.datetime(2026, 11, 22, 9, 30, tzinfo=JAKARTA)
    with pytest.raises(ValueError, match="aware"):
        within_tolerance(dt.datetime(2026, 11, 22, 9, 30), now)


# -- X-EXTERNAL-ID ----------------------------------------------------------------------------


def test_external_id_is_deterministic_and_valid() -> None:
    day = dt.date(2026, 11, 22)
    assert external_id(day, 42) == "202611220000000042"
    assert external_id(day, 42, "LA") == "LA202611220000000042"
    assert external_id(day, 42, "LA") == external_id(day, 42, "LA")
    assert external_id(day, 43, "LA") != external_id(day, 42, "LA")
    assert is_external_id(external_id(day, 10**17, "A" * 8))


@pytest.mark.parametrize(
    ("sequence", "prefix"),
    [(-1, ""), (1, "LA-"), (1, "é"), (1, "A" * 19), (True, ""), (10**30, "")],
)
def test_external_id_refuses_what_snap_would(sequence: int, prefix: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        external_id(dt.date(2026, 11, 22), sequence, prefix)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("A1", True),
        ("x" * 36, True),
        ("x" * 37, False),
        ("", False),
        ("abc-123", False),
        ("١٢٣", False),  # Arabic-Indic digits are not ASCII
        (123, False),
    ],
)
def test_is_external_id(text: object, ok: bool) -> None:
    assert is_external_id(text) is ok
