"""Receipts: the printed text (exact for one case, bounded for any) and the app's JSON view."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jamsostek_channels import schemas
from jamsostek_channels.identifiers import nik as nik_id
from jamsostek_channels.model import Program, Receipt
from jamsostek_channels.money import in_words, rupiah
from jamsostek_channels.period import YearMonth, month_range
from jamsostek_channels.receipts import WIDTHS, period_text, render_text, structured

NIK = "3201015508950001"
WIB = ZoneInfo("Asia/Jakarta")
UTC = dt.UTC


def make_receipt(**changes: Any) -> Receipt:
    values: dict[str, Any] = {
        "channel": "bank-contoh",
        "channel_reference": "TRX-20261122-0001",
        "host_reference": "BPJS-998877",
        "nik_masked": nik_id.mask(NIK),
        "name": "Siti Rahayu",
        "programs": (Program.JKK, Program.JKM),
        "periods": tuple(month_range(YearMonth(2026, 11), 3)),
        "amount": 36_800,
        "admin_fee": 2_500,
        # 02:31 UTC is 09:31 WIB: the receipt must show the Jakarta clock.
        "paid_at": dt.datetime(2026, 11, 22, 2, 31, 5, tzinfo=UTC),
    }
    values.update(changes)
    return Receipt(**values)


EXPECTED_40 = """\
          BPJS KETENAGAKERJAAN
         BUKTI BAYAR IURAN BPU
----------------------------------------
Kanal                        Bank Contoh
Waktu            22-11-2026 09:31:05 WIB
No. Ref                TRX-20261122-0001
No. BPJS                     BPJS-998877
NIK                     3201********0001
Nama                         Siti Rahayu
Program                         JKK, JKM
Bulan      NOV 2026 - JAN 2027 (3 bulan)
----------------------------------------
Iuran                           Rp36.800
Biaya admin                      Rp2.500
Total                           Rp39.300
----------------------------------------
Terbilang: Tiga puluh sembilan ribu tiga
ratus rupiah
----------------------------------------
   Simpan struk ini sebagai bukti sah
"""


def test_exact_40_column_receipt() -> None:
    assert render_text(make_receipt(), 40, channel_label="Bank Contoh") == EXPECTED_40


def test_default_width_is_40_and_channel_code_without_label() -> None:
    text = render_text(make_receipt())
    assert text.splitlines()[3] == "Kanal" + "bank-contoh".rjust(35)
    assert max(len(line) for line in text.splitlines()) == 40


_RENDER_ELSEWHERE = """
import datetime as dt, sys
from jamsostek_channels.model import Program, Receipt
from jamsostek_channels.period import YearMonth, month_range
from jamsostek_channels.receipts import render_text
receipt = Receipt(
    channel="bank-contoh", channel_reference="TRX-20261122-0001", host_reference="BPJS-998877",
    nik_masked="3201********0001", name="Siti Rahayu",
    programs=(Program.JKM, Program.JHT, Program.JKK),
    periods=tuple(reversed(list(month_range(YearMonth(2026, 11), 3)))),
    amount=36_800, admin_fee=2_500,
    paid_at=dt.datetime(2026, 11, 22, 2, 31, 5, tzinfo=dt.UTC),
)
sys.stdout.write(render_text(receipt, 32))
"""


@pytest.mark.parametrize("hash_seed", ["1", "2", "3"])
def test_output_depends_on_the_receipt_alone(hash_seed: str) -> None:
    # Programs and months given in another order, rendered in another process with another
    # string-hash seed (set and dict orders change with it) and another clock: the same text.
    receipt = make_receipt(programs=(Program.JKK, Program.JKM, Program.JHT))
    here = render_text(receipt, 32)
    elsewhere = subprocess.run(
        [sys.executable, "-c", _RENDER_ELSEWHERE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": hash_seed, "TZ": "America/Lima"},
    ).stdout
    assert elsewhere == here
    assert "JKK, JKM, JHT" in here


@given(st.integers(0, 10**12), st.integers(0, 50_000))
def test_terbilang_spells_the_total_paid(amount: int, admin_fee: int) -> None:
    receipt = make_receipt(amount=amount, admin_fee=admin_fee)
    printed = " ".join(render_text(receipt, 48).split("Terbilang: ")[1].split("\n")[:-3])
    assert printed == structured(receipt)["total_in_words"]
    assert printed.lower() == in_words(amount + admin_fee)


@pytest.mark.parametrize("width", [0, 31, 33, 39, 41, 47, 49, 80, -40])
def test_unsupported_width_is_refused(width: int) -> None:
    with pytest.raises(ValueError, match="width"):
        render_text(make_receipt(), width)


@pytest.mark.parametrize("width", [40.0, True, "40"])
def test_width_must_be_an_int(width: Any) -> None:
    with pytest.raises(ValueError, match="width"):
        render_text(make_receipt(), width)


def test_naive_paid_at_is_refused() -> None:
    receipt = make_receipt(paid_at=dt.datetime(2026, 11, 22, 9, 31))
    with pytest.raises(ValueError, match="timezone"):
        render_text(receipt)
    with pytest.raises(ValueError, match="timezone"):
        structured(receipt)


@pytest.mark.parametrize(
    ("paid_at", "shown"),
    [
        (dt.datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC), "01-01-2027 00:00:00 WIB"),
        (dt.datetime(2026, 11, 22, 9, 31, 0, tzinfo=WIB), "22-11-2026 09:31:00 WIB"),
        (
            dt.datetime(2026, 11, 22, 10, 31, tzinfo=ZoneInfo("Asia/Makassar")),
            "22-11-2026 09:31:00 WIB",
        ),
        (
            dt.datetime(2026, 11, 21, 21, 31, tzinfo=ZoneInfo("America/New_York")),
            "22-11-2026 09:31:00 WIB",
        ),
    ],
)
def test_time_is_printed_in_wib(paid_at: dt.datetime, shown: str) -> None:
    text = render_text(make_receipt(paid_at=paid_at), 32)
    assert f"Waktu    {shown}" in text.splitlines()


def test_months_across_a_year_boundary_are_a_range() -> None:
    periods = tuple(month_range(YearMonth(2026, 10), 5))
    for width in WIDTHS:
        text = render_text(make_receipt(periods=periods), width)
        assert "OKT 2026 - FEB 2027 (5 bulan)" in text


def test_months_are_sorted_and_non_contiguous_months_listed() -> None:
    periods = (YearMonth(2026, 5), YearMonth(2026, 1), YearMonth(2026, 2), YearMonth(2026, 8))
    assert period_text(periods) == "JAN 2026 - FEB 2026, MEI 2026, AGU 2026"
    text = render_text(make_receipt(periods=periods[:3]), 48)
    assert "Bulan    JAN 2026 - FEB 2026, MEI 2026 (3 bulan)" in text.splitlines()
    lines = render_text(make_receipt(periods=periods), 48).splitlines()
    start = lines.index("Bulan")
    assert lines[start + 1 : start + 3] == [
        "         JAN 2026 - FEB 2026, MEI 2026, AGU 2026",
        "                                       (4 bulan)",
    ]


def test_every_indonesian_month_abbreviation() -> None:
    months = [YearMonth(2026, m) for m in range(1, 13, 2)]
    assert period_text(months) == "JAN 2026, MAR 2026, MEI 2026, JUL 2026, SEP 2026, NOV 2026"
    months = [YearMonth(2026, m) for m in range(2, 13, 2)]
    assert period_text(months) == "FEB 2026, APR 2026, JUN 2026, AGU 2026, OKT 2026, DES 2026"


def test_a_single_month_and_no_months() -> None:
    assert period_text([YearMonth(2026, 11)]) == "NOV 2026"
    assert period_text([]) == "-"


def test_long_month_list_breaks_between_months_at_32() -> None:
    periods = tuple(YearMonth(2026 + i // 6, 1 + (i % 6) * 2) for i in range(12))
    lines = render_text(make_receipt(periods=periods), 32).splitlines()
    start = lines.index("Bulan")
    block = lines[start + 1 : lines.index("-" * 32, start)]
    assert all(len(line) <= 32 for line in block)
    assert "(12 bulan)" in "\n".join(block)
    item = r"[A-Z]{3} [0-9]{4}( - [A-Z]{3} [0-9]{4})?"
    for line in block:  # months are never split across lines
        assert re.fullmatch(
            rf"({item}, )*({item},?|{item} \(12 bulan\)|\(12 bulan\))", line.strip()
        )


def test_unicode_names_are_transliterated() -> None:
    receipt = make_receipt(name="Zoë Ñúñez Đặng Ma’ruf Straße")
    text = render_text(receipt, 48)
    assert "Nama               Zoe Nunez Dang Ma'ruf Strasse" in text.splitlines()
    assert text.isascii()


def test_control_characters_never_reach_the_printer() -> None:
    receipt = make_receipt(name="Budi\x1b@\x07\tSantoso\n", channel_reference="A\x00B")
    text = render_text(receipt, 40)
    assert all(" " <= ch <= "~" or ch == "\n" for ch in text)
    assert "Budi@ Santoso" in text


def test_a_name_with_no_ascii_form_prints_a_dash() -> None:
    text = render_text(make_receipt(name="王伟"), 32)
    assert "Nama" + "-".rjust(28) in text.splitlines()


def test_long_name_wraps_then_shortens_at_a_word() -> None:
    name = "Raden Mas Muhammad Abdurrahman Wiryawan Kusumaatmadja Hadiningrat Al-Khawarizmi"
    lines = render_text(make_receipt(name=name), 32).splitlines()
    start = lines.index("Nama")
    first, second = lines[start + 1], lines[start + 2]
    assert lines[start + 3].startswith("Program")
    assert second.endswith("...")
    shown = f"{first.strip()} {second.strip()[:-3]}".split()
    assert shown == name.split()[: len(shown)]  # whole words only, in order


def test_name_that_fits_in_two_lines_is_not_shortened() -> None:
    name = "Raden Mas Muhammad Abdurrahman Wiryawan"
    lines = render_text(make_receipt(name=name), 32).splitlines()
    start = lines.index("Nama")
    assert f"{lines[start + 1].strip()} {lines[start + 2].strip()}" == name
    assert lines[start + 3].startswith("Program")


def test_one_huge_word_is_cut_without_crashing() -> None:
    text = render_text(make_receipt(name="A" * 200, channel_reference="R" * 100), 32)
    assert max(len(line) for line in text.splitlines()) <= 32
    assert ("A" * 29 + "...") in text


def test_a_full_nik_passed_by_mistake_is_masked() -> None:
    receipt = make_receipt(nik_masked=NIK)
    assert NIK not in render_text(receipt)
    assert "3201********0001" in render_text(receipt)
    assert structured(receipt)["nik_masked"] == "3201********0001"


# Properties over generated receipts ------------------------------------------------------

ZONES = [
    UTC,
    WIB,
    ZoneInfo("Asia/Makassar"),  # WITA, UTC+8
    ZoneInfo("Asia/Jayapura"),  # WIT, UTC+9
    ZoneInfo("America/New_York"),
    ZoneInfo("Pacific/Kiritimati"),  # UTC+14: the day differs from Jakarta's
    dt.timezone(dt.timedelta(hours=-11, minutes=-30)),
]

nik_numbers = st.builds(
    lambda region, day, month, yy, serial: f"{region}{day:02d}{month:02d}{yy:02d}{serial:04d}",
    st.sampled_from(["320101", "317101", "650101", "920101"]),
    st.integers(1, 71).filter(lambda d: d <= 28 or d > 40),
    st.integers(1, 12),
    st.integers(0, 99),
    st.integers(1, 9999),
)

names = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=120),
    st.sampled_from(["Zoë Ñúñez", "Đặng Thị Hương", "Ma’ruf Amin", "王伟", "Siti Rahayu"]),
    st.lists(st.text("abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=25), max_size=15).map(
        " ".join
    ),
)


@st.composite
def period_sets(draw: st.DrawFn) -> tuple[YearMonth, ...]:
    start = YearMonth(draw(st.integers(2015, 2040)), draw(st.integers(1, 12)))
    count = draw(st.integers(1, 12))
    if draw(st.booleans()):
        return tuple(month_range(start, count))
    offsets = draw(st.lists(st.integers(0, 35), min_size=count, max_size=count, unique=True))
    return tuple(start + offset for offset in offsets)


references = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/ ", min_size=1, max_size=70)


@st.composite
def receipts(draw: st.DrawFn) -> tuple[Receipt, str]:
    nik = draw(nik_numbers)
    receipt = Receipt(
        channel=draw(st.sampled_from(["bank-contoh", "linkaja", "kantorpos", "bni-agen46"])),
        channel_reference=draw(references),
        host_reference=draw(references),
        nik_masked=nik_id.mask(nik),
        name=draw(names),
        programs=tuple(draw(st.sets(st.sampled_from(list(Program)), min_size=1))),
        periods=draw(period_sets()),
        amount=draw(st.integers(0, 10**12)),
        admin_fee=draw(st.integers(0, 50_000)),
        paid_at=draw(
            st.datetimes(
                min_value=dt.datetime(2015, 1, 1),
                max_value=dt.datetime(2045, 12, 31),
                timezones=st.sampled_from(ZONES),
                allow_imaginary=False,  # a payment happens at a real instant (no DST gap)
            )
        ),
    )
    return receipt, nik


@given(receipts(), st.sampled_from(WIDTHS), st.one_of(st.none(), names))
def test_any_receipt_fits_the_paper(
    generated: tuple[Receipt, str], width: int, label: str | None
) -> None:
    receipt, nik = generated
    text = render_text(receipt, width, channel_label=label)
    lines = text.splitlines()
    assert text.endswith("\n")
    assert text.isascii()
    assert all(" " <= ch <= "~" for line in lines for ch in line)
    assert all(len(line) <= width for line in lines)
    assert any(line.endswith(rupiah(receipt.amount)) for line in lines)
    assert any(line.endswith(rupiah(receipt.admin_fee)) for line in lines)
    assert any(line.endswith(rupiah(receipt.total)) for line in lines)
    assert receipt.nik_masked in text
    assert nik not in text
    assert f"({len(set(receipt.periods))} bulan)" in text
    shown = receipt.paid_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S WIB")
    assert shown in text


# The app's view ----------------------------------------------------------------------------


def _validator() -> Draft202012Validator:
    resources = [
        (uri, Resource.from_contents(schema, default_specification=DRAFT202012))
        for uri, schema in schemas.all_schemas().items()
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft202012Validator(schemas.load("receipt-view"), registry=registry)


VALIDATOR = _validator()


def test_view_schema_is_valid_and_named() -> None:
    schema = schemas.load("receipt-view")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "urn:jamsostek-channels:schema:receipt-view:1"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])


def test_structured_example() -> None:
    view = structured(make_receipt())
    assert view == {
        "channel": "bank-contoh",
        "channel_reference": "TRX-20261122-0001",
        "host_reference": "BPJS-998877",
        "nik_masked": "3201********0001",
        "name": "Siti Rahayu",
        "programs": ["jkk", "jkm"],
        "periods": ["2026-11", "2026-12", "2027-01"],
        "amount": 36_800,
        "admin_fee": 2_500,
        "paid_at": "2026-11-22T02:31:05+00:00",
        "total": 39_300,
        "amount_text": "Rp36.800",
        "admin_fee_text": "Rp2.500",
        "total_text": "Rp39.300",
        "total_in_words": "Tiga puluh sembilan ribu tiga ratus rupiah",
        "paid_at_wib": "2026-11-22T09:31:05+07:00",
        "periods_text": "NOV 2026 - JAN 2027",
        "months_count": 3,
        "host_lines": [],
    }
    VALIDATOR.validate(view)


def test_view_carries_every_receipt_field_and_the_schema_knows_them() -> None:
    import attrs

    view = structured(make_receipt())
    fields = {f.name for f in attrs.fields(Receipt)}
    assert fields <= set(view)
    assert set(view) == set(schemas.load("receipt-view")["properties"])
    assert schemas.load("receipt")["properties"].items() <= (
        schemas.load("receipt-view")["properties"].items()
    )


def test_schema_rejects_a_full_nik_and_a_paid_at_wib_in_utc() -> None:
    view = json.loads(json.dumps(structured(make_receipt())))
    assert VALIDATOR.is_valid(view)
    assert not VALIDATOR.is_valid({**view, "nik_masked": NIK})
    assert not VALIDATOR.is_valid({**view, "paid_at_wib": "2026-11-22T02:31:05+00:00"})
    assert not VALIDATOR.is_valid({**view, "extra": 1})
    assert not VALIDATOR.is_valid({**view, "amount_text": "Rp 36,800"})


@given(receipts())
def test_structured_validates_and_adds_up(generated: tuple[Receipt, str]) -> None:
    receipt, nik = generated
    view = structured(receipt)
    through_json = json.loads(json.dumps(view))
    errors = [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(through_json)]
    assert not errors
    assert view["total"] == receipt.amount + receipt.admin_fee == receipt.total
    assert view["amount_text"] == rupiah(receipt.amount)
    assert view["total_text"] == rupiah(receipt.total)
    assert view["months_count"] == len(set(receipt.periods))
    paid_at_wib = dt.datetime.fromisoformat(str(view["paid_at_wib"]))
    # The same instant. Compared as timestamps: Python calls an ambiguous local time (the
    # hour repeated when daylight saving ends, e.g. 01:00 in New York) unequal to everything
    # in another zone (PEP 495), and hypothesis does draw such times.
    assert paid_at_wib.timestamp() == receipt.paid_at.timestamp()
    assert paid_at_wib.utcoffset() == dt.timedelta(hours=7)
    assert nik not in json.dumps(view)
