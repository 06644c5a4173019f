"""The redaction rules (``jamsostek_channels.redact``): one rule per kind of value, masking by
field name in logged bodies (SNAP JSON, Kantor Pos XML, forms) and by shape everywhere."""

from __future__ import annotations

import datetime as dt
import doctest
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jamsostek_channels import redact
from jamsostek_channels.identifiers import kpj, nik, phone

NIK = "3201015508950001"


def test_doctests() -> None:
    assert doctest.testmod(redact).failed == 0


@pytest.mark.parametrize(
    ("rule", "value", "masked"),
    [
        (redact.nik, NIK, "3201********0001"),
        (redact.nik, "3201.01.550895.0001", "3201********0001"),
        (redact.nik, "123456", "******"),
        (redact.kpj, "12345678901", "*******8901"),
        (redact.kpj, "1234", "****"),
        (redact.customer, NIK, "3201********0001"),
        (redact.customer, "12345678901", "*******8901"),
        (redact.phone, "+6281234567890", "0812****7890"),
        (redact.phone, "0812-3456-7890", "0812****7890"),
        (redact.name, "Siti Rahayu", "S*** R***"),
        (redact.name, "  Ni Luh  Putu ", "N*** L*** P***"),
        (redact.name, "", ""),
        (redact.address, "Jl. Merdeka No. 10, Cibinong", "***"),
        (redact.birth_date, dt.date(1995, 8, 15), "***"),
        (redact.email, "siti@contoh.id", "***"),
        (redact.secret, "tok-abc", "***"),
        (redact.optional(redact.name), None, "None"),
    ],
)
def test_rules(rule: object, value: object, masked: str) -> None:
    assert callable(rule)
    assert rule(value) == masked


def test_the_identifier_modules_use_the_same_rules() -> None:
    assert nik.mask(NIK) == redact.nik(NIK)
    assert kpj.mask("12345678901") == redact.kpj("12345678901")
    assert phone.mask("+6281234567890") == redact.phone("+6281234567890")


@given(st.from_regex(r"[0-9]{0,20}", fullmatch=True))
def test_masking_is_idempotent_and_hides_the_middle(digits: str) -> None:
    for rule in (redact.nik, redact.kpj, redact.customer, redact.phone):
        once = rule(digits)
        assert rule(once) == once
        assert len(once) == len(digits) - (1 if rule is redact.phone and digits[:2] == "62" else 0)
        if len(digits) >= 9:
            assert digits not in once


@given(st.text(max_size=40))
def test_name_shows_initials_only(name: str) -> None:
    masked = redact.name(name)
    assert redact.name(masked) == masked
    words = name.split()
    assert masked == " ".join(f"{w[0]}***" for w in words)


# --- field names on the wire --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("nik", redact.Kind.NIK),
        ("kp:nik", redact.Kind.NIK),
        ("kpj", redact.Kind.KPJ),
        ("customerNo", redact.Kind.CUSTOMER),
        ("virtualAccountNo", redact.Kind.CUSTOMER),
        ("phone", redact.Kind.PHONE),
        ("kp:phone", redact.Kind.PHONE),
        ("name", redact.Kind.NAME),
        ("payerName", redact.Kind.NAME),
        ("virtualAccountName", redact.Kind.NAME),
        ("address", redact.Kind.ADDRESS),
        ("birth_date", redact.Kind.BIRTH_DATE),
        ("kp:birthDate", redact.Kind.BIRTH_DATE),
        ("email", redact.Kind.EMAIL),
        ("accessToken", redact.Kind.SECRET),
        ("X-SIGNATURE", redact.Kind.SECRET),
        ("private_key_pem", redact.Kind.SECRET),
        ("client_secret", redact.Kind.SECRET),
        ("otp", redact.Kind.SECRET),
        ("nikMasked", None),
        ("nameMasked", None),
        ("amount", None),
        ("partnerReferenceNo", None),
    ],
)
def test_kind_of(name: str, kind: redact.Kind | None) -> None:
    assert redact.kind_of(name) is kind


SNAP_REGISTRATION = (
    '{"partnerReferenceNo": "REG-1", "participant": {"nik": "3201015508950001", '
    '"name": "Siti Rahayu", "birth_date": "1995-08-15", "sex": "female", '
    '"phone": "+6281234567890", "email": "siti@contoh.id", '
    '"address": "Jl. Merdeka No. 10, Cibinong", "postal_code": "16911", "kpj": "12345678901"}, '
    '"additionalInfo": {"payerName": "Budi Santoso", "kpj": 12345678901}}'
)
KANTORPOS_REGISTRATION = """<kp:participant>
  <kp:nik>3201015508950001</kp:nik>
  <kp:name>Siti Rahayu</kp:name>
  <kp:birthDate>1995-08-15</kp:birthDate>
  <kp:phone>+6281234567890</kp:phone>
  <kp:email>siti@contoh.id</kp:email>
  <kp:address>Jl. Merdeka No. 10, Cibinong</kp:address>
  <kp:postalCode>16911</kp:postalCode>
</kp:participant>
<kp:customer>
  <kp:kpj>12345678901</kp:kpj>
</kp:customer>
<kp:registeredBy><kp:kind>SERTAKAN</kp:kind><kp:name>Budi Santoso</kp:name></kp:registeredBy>"""


@pytest.mark.parametrize("body", [SNAP_REGISTRATION, KANTORPOS_REGISTRATION])
def test_bodies_are_masked_by_field_name(body: str) -> None:
    masked = redact.text(body)
    for secret in (
        NIK,
        "Siti Rahayu",
        "Budi Santoso",
        "1995-08-15",
        "6281234567890",
        "siti@contoh.id",
        "Merdeka",
        "12345678901",
    ):
        assert secret not in masked
    for shown in ("3201********0001", "S*** R***", "B*** S***", "0812****7890", "*******8901"):
        assert shown in masked
    assert "16911" in masked  # a postal code alone is not personal: it stays readable
    assert masked.count("\n") == body.count("\n")  # the layout of wrappers is kept


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (NIK, "3201********0001"),
        (f"va=   8888{NIK}", "va=   8888************0001"),
        ("0812-3456-7890", "0812****7890"),
        ("+62 812 3456 7890", "0812****7890"),
        ("hp 6281234567890.", "hp 0812****7890."),
        ('{"accessToken": "abc", "x": 1}', '{"accessToken": "***", "x": 1}'),
        ('{"OTP":123456}', '{"OTP":***}'),
        ('{"token":"cut sho', '{"token":"***"'),
        ('{"name":"Siti Rah', '{"name":"S*** R***"'),
        (
            "<ns:ClientSecret a='1'>s3cret</ns:ClientSecret>",
            "<ns:ClientSecret a='1'>***</ns:ClientSecret>",
        ),
        ("grant=x&password=hunter2&n=1", "grant=x&password=***&n=1"),
        ("nik=12345678&kpj=12345678901", "nik=********&kpj=*******8901"),
        ('<a signature="zz"/>', '<a signature="***"/>'),
        ("key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----.", "key ***."),
        ("Rp 36.800, ref 2024030500001", "Rp 36.800, ref 2024030500001"),
        ('{"note": "token expired"}', '{"note": "token expired"}'),
        ('{"nikMasked": "3201********0001"}', '{"nikMasked": "3201********0001"}'),
        ("", ""),
    ],
)
def test_text(text: str, masked: str) -> None:
    assert redact.text(text) == masked


PIECES = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"\d{10,24}", fullmatch=True),
    st.from_regex(r"(\+62|62|0)[ -]?8\d{2}[ -]?\d{3,4}[ -]?\d{3,5}", fullmatch=True),
    st.sampled_from(
        [
            '"token":',
            '"name":',
            "<otp>",
            "</otp>",
            "<kp:nik>",
            "secret=",
            "kpj=",
            '"',
            "'",
            "<",
            ">",
            "=",
            "&",
            "\\",
        ]
    ),
)


@given(st.lists(PIECES, max_size=12).map("".join))
def test_text_never_raises_nor_leaves_a_nik(text: str) -> None:
    masked = redact.text(text)
    assert isinstance(masked, str)
    assert re.search(r"\d{16}", masked) is None


HOSTILE = (
    "a.token" * 50_000,
    '"a":"' * 50_000,
    "<token" * 50_000,
    "08" * 100_000,
    '"name":"x' * 50_000,
    "<kp:name>" * 50_000,
    "-----BEGIN " * 50_000,
    "3201015508950001" * 20_000,
)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda text: repr(text[:12]))
def test_text_on_hostile_text_masks_and_ends(text: str) -> None:
    # How long it takes is `make bench`'s business (redaction of these texts beside a regex
    # floor); here, that it ends with nothing a pattern should have caught left in.
    masked = redact.text(text)
    assert re.search(r"\d{16}", masked) is None
    assert re.search(r"08\d{8}", masked) is None
