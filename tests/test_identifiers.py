"""Identifiers: NIK (structure, region, encoded birth date and sex), mobile phone, KPJ."""

from __future__ import annotations

import pytest

from jamsostek_channels.errors import InvalidInput
from jamsostek_channels.identifiers import kpj, nik, phone

#: The conftest participant's NIK: Kab. Bogor (32.01.01), a woman born 15 Aug 1995, serial 0001.
SITI = "3201015508950001"


def codes(number: str) -> list[str]:
    return [p.code for p in nik.problems(number)]


# NIK ---------------------------------------------------------------------------------------


def test_nik_valid_woman_decodes_day_minus_40() -> None:
    parts = nik.decode(SITI)
    assert parts.sex == "female"
    assert (parts.birth_day, parts.birth_month, parts.birth_yy) == (15, 8, 95)
    assert (parts.province, parts.regency, parts.district) == ("32", "3201", "320101")
    assert parts.serial == "0001"
    assert nik.is_valid(SITI)
    assert nik.validate(SITI) == SITI


def test_nik_valid_man_decodes_day_as_is() -> None:
    parts = nik.decode("3201011508950001")
    assert parts.sex == "male"
    assert (parts.birth_day, parts.birth_month, parts.birth_yy) == (15, 8, 95)
    assert nik.is_valid("3201011508950001")


@pytest.mark.parametrize(
    ("number", "day", "sex"),
    [
        ("3201010108950001", 1, "male"),
        ("3201013108950001", 31, "male"),
        ("3201014108950001", 1, "female"),
        ("3201017108950001", 31, "female"),
    ],
)
def test_nik_day_boundaries(number: str, day: int, sex: str) -> None:
    parts = nik.decode(number)
    assert (parts.birth_day, parts.sex) == (day, sex)
    assert nik.is_valid(number)


def test_nik_serial_0000_refused() -> None:
    assert codes("3201015508950000") == ["nik.serial"]
    assert not nik.is_valid("3201015508950000")


@pytest.mark.parametrize(
    "number",
    [
        "6501010101900001",  # Kalimantan Utara (65): python-stdnum 2.2 rejects it
        "6501015501900002",
        "9202030101900001",  # Papua Pegunungan / new Papua provinces 92-96
        "9301010101900001",
        "9401010101900001",
        "9501010101900001",
        "9601010101900001",
    ],
)
def test_nik_new_provinces_valid(number: str) -> None:
    assert nik.problems(number) == []
    assert nik.is_valid(number)
    assert nik.region_known(number)


@pytest.mark.parametrize("province", ["20", "00", "10", "97", "99"])
def test_nik_unknown_province_refused(province: str) -> None:
    assert codes(f"{province}01015508950001") == ["nik.province"]


@pytest.mark.parametrize(
    "number",
    [
        "3200015508950001",  # regency 00
        "3201005508950001",  # district 00
    ],
)
def test_nik_regency_or_district_00_refused(number: str) -> None:
    assert codes(number) == ["nik.region"]


@pytest.mark.parametrize(
    "number",
    [
        "3201013208950001",  # day 32 (man)
        "3201017208950001",  # day 72 = 32 (woman)
        "3201010008950001",  # day 00
        "3201014008950001",  # day 40: neither a man's day nor a woman's
        "3201011513950001",  # month 13
        "3201011500950001",  # month 00
        "3201013102950001",  # 31 February
        "3201017102950001",  # 31 February (woman)
        "3201013104950001",  # 31 April
    ],
)
def test_nik_impossible_birth_date_refused(number: str) -> None:
    assert codes(number) == ["nik.birth_date"]


def test_nik_29_february_accepted_in_structure() -> None:
    # The century is not in the NIK; 29 Feb is a real date in some year with that YY.
    assert nik.is_valid("3201012902000001")
    assert nik.is_valid("3201016902960001")


def test_nik_every_problem_at_once() -> None:
    assert sorted(codes("2000003213950000")) == sorted(
        ["nik.province", "nik.region", "nik.birth_date", "nik.serial"]
    )


@pytest.mark.parametrize(
    "number", ["", "320101550895000", "32010155089500011", "320101550895000X", "abcdefghijklmnop"]
)
def test_nik_format_refused(number: str) -> None:
    assert codes(number) == ["nik.format"]
    with pytest.raises(InvalidInput) as info:
        nik.validate(number)
    assert [p.code for p in info.value.problems] == ["nik.format"]


def test_nik_compact_and_format() -> None:
    assert nik.compact("3201.01.550895.0001") == SITI
    assert nik.compact("32 01 01 550895 0001") == SITI
    assert nik.compact("3201-01-550895-0001") == SITI
    assert nik.format(SITI) == "32.01.01.550895.0001"
    assert nik.compact(nik.format(SITI)) == SITI
    assert nik.validate("32.01.01.550895.0001") == SITI


@pytest.mark.parametrize("number", [SITI, "32.01.01.550895.0001", "9601010101900001"])
def test_nik_mask_hides_digits_5_to_12(number: str) -> None:
    masked = nik.mask(number)
    digits = nik.compact(number)
    assert masked == f"{digits[:4]}{'*' * 8}{digits[-4:]}"
    assert masked[4:12] == "*" * 8
    assert digits[4:12] not in masked
    assert digits not in masked


def test_nik_mask_short_input_fully_hidden() -> None:
    assert nik.mask("1234567") == "*******"


def test_nik_validate_raises_with_all_problems() -> None:
    with pytest.raises(InvalidInput) as info:
        nik.validate("3200013208950000")
    assert {p.code for p in info.value.problems} == {"nik.region", "nik.birth_date", "nik.serial"}
    assert all(p.field == "nik" for p in info.value.problems)


# Phone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "081234567890", "+6281234567890"],
)
def test_phone_normalised_to_e164(number: str) -> None:
    assert phone.compact(number) == "+6281234567890"
    assert phone.validate(number) == "+6281234567890"
    assert phone.problems(number) == []
    assert phone.is_valid(number)


def test_phone_format_national() -> None:
    assert phone.format("+6281234567890") == "0812-3456-7890"


@pytest.mark.parametrize("number", ["021-5551234", "(021) 5551234", "+62 21 5551234"])
def test_phone_landline_refused_as_not_mobile(number: str) -> None:
    assert [p.code for p in phone.problems(number)] == ["phone.not_mobile"]
    assert not phone.is_valid(number)


@pytest.mark.parametrize(
    "number", ["", "abc", "12345", "0812", "+1 202 555 0100", "08x2-3456-7890"]
)
def test_phone_garbage_refused(number: str) -> None:
    assert [p.code for p in phone.problems(number)] == ["phone.format"]
    with pytest.raises(InvalidInput):
        phone.validate(number)


@pytest.mark.parametrize("number", ["+6281234567890", "0812-3456-7890", "6281234567890"])
def test_phone_mask(number: str) -> None:
    masked = phone.mask(number)
    assert masked == "0812****7890"
    assert "3456" not in masked
    assert "81234567890" not in masked


# KPJ ---------------------------------------------------------------------------------------


def test_kpj_11_digits() -> None:
    assert kpj.LENGTH == 11
    assert kpj.is_valid("12345678901")
    assert kpj.validate("123-4567-8901") == "12345678901"
    assert kpj.mask("12345678901") == "*******8901"


@pytest.mark.parametrize(
    "number", ["1234567890", "123456789012", "1234567890a", "", "１２３４５６７８９０１"]
)
def test_kpj_wrong_format_refused(number: str) -> None:
    found = kpj.problems(number)
    assert [p.code for p in found] == ["kpj.format"]
    assert "11" in found[0].message_en
