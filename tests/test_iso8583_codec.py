"""The ISO 8583 codec: every MTI of the family round-trips under every profile's layout, DE48
and DE57 TLV read and write to the letter (lengths 00 and 99, unknown tags kept, bad lengths
refused), DE4/DE7/DE90 spelt as the practice spells them, and bytes that are not a message -
random, cut short, mutated - are a MalformedMessage, never a traceback."""

from __future__ import annotations

import contextlib
import datetime as dt
import doctest
import re
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamsostek_channels.adapters.iso8583 import (
    PROFILES,
    Advice,
    AdviceResponse,
    Codec,
    FinancialRequest,
    FinancialResponse,
    Lines,
    MatchKey,
    Meaning,
    Message,
    NetworkCode,
    NetworkRequest,
    NetworkResponse,
    OriginalData,
    PrivateData,
    Reversal,
    ReversalResponse,
    TransmissionTime,
    build_spec,
    decode_amount,
    decode_items,
    encode_amount,
    encode_items,
    fields,
    load_profile,
    match_key,
    tlv,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.model import Program
from jamsostek_channels.period import YearMonth
from jamsostek_channels.testing.tcp import FramedTcpServer
from jamsostek_channels.transport import Framing, TcpTransport, Timeouts

NIK = "3201015508950001"
NAME = "Siti Rahayu"
SENT = TransmissionTime(12, 4, 21, 5, 9)
PRIVATE = PrivateData(
    product="BPU001",
    customer=NIK,
    name=NAME,
    amount=73_600,
    admin_fee=2_500,
    months=2,
    first_period=YearMonth(2026, 11),
    programs=[Program.JKK, Program.JKM],
    program_amounts={Program.JKK: 33_600, Program.JKM: 40_000},
    discount_name="Diskon iuran JKK 50%",
    discount_amount=16_800,
    other=[("C1", "REF-77"), ("ZZ", "")],
)
COMMON: dict[str, Any] = {
    "processing_code": "500000",
    "amount": 73_600,
    "transmitted": SENT,
    "stan": 123,
    "channel_type": "6018",
    "acquirer": "002",
    "rrn": "612304000123",
    "terminal": "BRI00001",
    "merchant": "AGEN-0042",
    "private": PRIVATE,
}
ORIGINAL = OriginalData("0200", 123, SENT, "002", "0")
ANSWER: dict[str, Any] = {
    "processing_code": "500000",
    "transmitted": SENT,
    "stan": 123,
    "terminal": "BRI00001",
    "response_code": "00",
    "amount": 73_600,
    "rrn": "612304000123",
    "private": PRIVATE,
    "lines": Lines(["PEMBAYARAN BERHASIL"], ["BPJS KETENAGAKERJAAN", "", "IURAN BPU  Rp73.600"]),
    "currency": "360",
}

EVERY_MESSAGE: list[Message] = [
    FinancialRequest(**COMMON),
    FinancialResponse(**ANSWER),
    Advice(**COMMON),
    Advice(**COMMON, repeat=True),
    AdviceResponse(**ANSWER),
    Reversal(**COMMON, original=ORIGINAL),
    Reversal(**COMMON, original=ORIGINAL, repeat=True),
    ReversalResponse(**ANSWER, original=ORIGINAL),
    Reversal(**COMMON, original=ORIGINAL, advice=True),
    Reversal(**COMMON, original=ORIGINAL, advice=True, repeat=True),
    ReversalResponse(**ANSWER, advice=True),
    NetworkRequest(code=NetworkCode.SIGN_ON, transmitted=SENT, stan=1, terminal="BRI00001"),
    NetworkRequest(code="002", transmitted=SENT, stan=2),
    NetworkRequest(code="301", transmitted=SENT, stan=3, private=PrivateData(other=[("K1", "x")])),
    NetworkResponse(code="301", transmitted=SENT, stan=3, response_code="00"),
]
MTIS = ["0200", "0210", "0220", "0221", "0230", "0400", "0401", "0410", "0420", "0421", "0430"]
CODECS = [Codec(), Codec(bitmap="binary"), Codec(terminal_id_length=16)]


# --- messages --------------------------------------------------------------------------------


def test_every_mti_of_the_family_has_a_value() -> None:
    assert [m.mti for m in EVERY_MESSAGE] == [*MTIS, "0800", "0800", "0800", "0810"]


@pytest.mark.parametrize("codec", CODECS, ids=["hex", "binary", "de41-16"])
@pytest.mark.parametrize("message", EVERY_MESSAGE, ids=lambda m: f"{m.mti}")
def test_every_message_round_trips(codec: Codec, message: Message) -> None:
    raw = codec.encode(message)
    assert raw[:4] == message.mti.encode()
    assert codec.decode(raw) == message


EXAMPLE_PAYMENT = FinancialRequest(
    **{**COMMON, "private": PrivateData(product="BPU001", customer=NIK, amount=73_600)}
)
EXAMPLE_SIGN_ON = NetworkRequest(code="001", transmitted=SENT, stan=1, terminal="BRI00001")


def hexdump(frame: bytes) -> str:
    """16 bytes a line, as `hexdump -C` shows them: offset, hex, |ASCII| ('.' if not)."""
    lines = []
    for at in range(0, len(frame), 16):
        chunk = frame[at : at + 16]
        shown = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{at:04x}  {chunk.hex(' '):<47}  |{shown}|")
    return "\n".join(lines)


def test_the_documented_dumps_are_what_the_codec_writes() -> None:
    page = (Path(__file__).parent.parent / "docs" / "channels" / "iso8583.md").read_text()
    for message in (EXAMPLE_PAYMENT, EXAMPLE_SIGN_ON):
        assert hexdump(Framing().frame(Codec().encode(message))) in page


def test_a_payment_is_spelt_byte_for_byte() -> None:
    """The layout pinned: ASCII MTI, hex bitmap, fixed fields, LLVAR DE32, LLLVAR DE48."""
    assert (
        Codec().encode(EXAMPLE_PAYMENT)
        == (
            b"0200" + b"3220400108C18000"  # DE3 4 7 11 18 32 37 41 42 48 49
            b"500000" + b"000000073600" + b"1204210509" + b"000123" + b"6018" + b"03002"
            b"612304000123" + b"BRI00001" + b"AGEN-0042      "
            b"039PI06BPU001CN163201015508950001AT0573600" + b"360"
        )
    )


def test_binary_bitmap_and_long_terminal_ids() -> None:
    long_id = FinancialRequest(**{**COMMON, "terminal": "IDM-T001-0042"})
    raw = Codec(bitmap="binary", terminal_id_length=16).encode(long_id)
    assert raw[4:12] == bytes.fromhex("3220400108C18000")
    assert b"IDM-T001-0042   " in raw  # space-padded to 16, read back without the padding
    with pytest.raises(ValueError, match="DE41 is 8"):
        Codec().encode(long_id)


def test_match_keys_pair_each_request_with_its_answer() -> None:
    pairs = [(0, 1), (2, 4), (3, 4), (5, 7), (6, 7), (8, 10), (9, 10), (13, 14)]
    for request, answer in pairs:
        assert match_key(EVERY_MESSAGE[request]) == match_key(EVERY_MESSAGE[answer])
    assert match_key(EVERY_MESSAGE[0]) == MatchKey("0200", 123, "BRI00001")
    classes = {match_key(m).mti_class for m in EVERY_MESSAGE}
    assert classes == {"0200", "0220", "0400", "0420", "0800"}
    assert match_key(EVERY_MESSAGE[12]).terminal == ""  # an 0800 without DE41


def test_values_are_checked_when_built() -> None:
    for bad in (
        {"processing_code": "50000"},
        {"amount": -1},
        {"amount": 10**12},
        {"stan": 1_000_000},
        {"channel_type": "60A8"},
        {"acquirer": "123456789012"},
        {"rrn": "short"},
        {"terminal": "BRI00001 "},
        {"terminal": ""},
        {"merchant": "x" * 16},
        {"currency": "IDR"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            FinancialRequest(**{**COMMON, **bad})
    with pytest.raises(ValueError, match="not a valid NetworkCode"):
        NetworkRequest(code="999", transmitted=SENT, stan=1)


def test_reprs_mask_the_customer() -> None:
    shown = repr(FinancialResponse(**ANSWER))
    assert NIK not in shown
    assert NAME not in shown
    assert "REF-77" not in shown  # an unknown tag's value may be personal too
    assert "3201********0001" in shown
    assert "<3 lines>" in shown


def test_too_much_private_data_is_refused_before_sending() -> None:
    crowded = PrivateData(other=[(f"X{i}", "y" * 99) for i in range(10)])  # 1030 characters
    with pytest.raises(ValueError, match="DE48"):
        Codec().encode(FinancialRequest(**{**COMMON, "private": crowded}))


# --- decoding what is not a message ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "MTI at byte 0"),
        (b"02", "MTI at byte 0"),
        (b"0200", "bitmap at byte 4"),
        (b"0200ZZZZ000000000000", "bitmap at byte 4"),
        (b"0300" + b"2000000000000000" + b"380000", "MTI: not a message of this family"),
        (b"0210" + b"2000000000000000" + b"380000", "DE7 missing from 0210"),
        (b"0200" + b"2000000000000000" + b"38000X", "DE4 missing from 0200"),
        (b"0200" + b"2000000000000000" + b"3800", "DE3 at byte 20"),
        (b"0200" + b"2000000000000000" + b"380000extra", "Extra data"),
    ],
)
def test_bytes_that_are_no_message_are_malformed(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason) as caught:
        Codec().decode(raw)
    assert caught.value.code == "message.malformed"


def replace_element(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) == 1
    return raw.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"1204210509", b"0230210509", "DE7: not a real date"),  # 30 February
        (b"1204210509", b"1204250509", "DE7: not a real date"),
        (b"000000073600", b"0000000736.0", "DE4: not 12 digits"),
        (b"500000", b"50000X", "DE3: not 6 digits"),
        (b"612304000123", b"6123-4000123", "DE37: not 12 letters or digits"),
        (b"BRI00001", b" BRI0001", "DE41: not 1 to 16 printable characters"),
        (b"00360", b"00 60", "DE49: not 3 digits"),
        (b"AT0573600", b"AT05736X0", "DE48: TLV AT is not whole rupiah"),
        (b"FP06202611", b"FP06202613", "DE48: TLV FP is not a month"),
        (b"PG07JKK,JKM", b"PG07JKK,XYZ", "DE48: TLV PG/PA: unknown program"),
        (b"S019PEMBAYARAN", b"SX19PEMBAYARAN", "DE57: TLV SX"),  # SX: an unknown, ignored tag
    ],
)
def test_elements_spelt_wrong_are_malformed(old: bytes, new: bytes, reason: str) -> None:
    raw = replace_element(Codec().encode(FinancialResponse(**ANSWER)), old, new)
    if reason.startswith("DE57: TLV SX"):  # unknown DE57 tags are no error: the line is gone
        assert Codec().decode(raw).lines.screen == ()  # type: ignore[union-attr]
        return
    with pytest.raises(MalformedMessage, match=reason):
        Codec().decode(raw)


def test_a_reason_never_quotes_the_data() -> None:
    raw = replace_element(Codec().encode(FinancialRequest(**COMMON)), b"CN16", b"CN1X")
    with pytest.raises(MalformedMessage) as caught:
        Codec().decode(raw)
    assert NIK not in str(caught.value)


def valid_frames() -> list[bytes]:
    return [codec.encode(message) for codec in CODECS[:2] for message in EVERY_MESSAGE]


def decodes_or_is_malformed(codec: Codec, raw: bytes) -> None:
    try:
        message = codec.decode(raw)
    except MalformedMessage:
        return  # typed, as it must be: any other exception fails the test
    assert codec.decode(codec.encode(message)) == message


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(CODECS))
def test_fuzz_random_bytes(raw: bytes, codec: Codec) -> None:
    decodes_or_is_malformed(codec, raw)


@FUZZ
@given(st.sampled_from(range(len(valid_frames()))), st.data())
def test_fuzz_truncated_messages(index: int, data: st.DataObject) -> None:
    raw = valid_frames()[index]
    cut = data.draw(st.integers(0, len(raw) - 1))
    codec = CODECS[index // len(EVERY_MESSAGE)]
    with pytest.raises(MalformedMessage):
        codec.decode(raw[:cut])


@FUZZ
@given(st.sampled_from(range(len(valid_frames()))), st.data())
def test_fuzz_mutated_messages(index: int, data: st.DataObject) -> None:
    raw = bytearray(valid_frames()[index])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    decodes_or_is_malformed(CODECS[index // len(EVERY_MESSAGE)], bytes(raw))


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_tlv_text(text: str) -> None:
    for read in (decode_items, PrivateData.decode, Lines.decode):
        with contextlib.suppress(MalformedMessage):
            read(text)


# --- DE48 and DE57 TLV -----------------------------------------------------------------------


def test_tlv_lengths_00_and_99() -> None:
    text = encode_items([("AA", ""), ("BB", "x" * 99)])
    assert text == "AA00BB99" + "x" * 99
    assert decode_items(text) == (("AA", ""), ("BB", "x" * 99))
    assert decode_items("") == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PI0", "cut short at offset 0"),
        ("PI06BPU", "PI: value cut short"),
        ("PIX6BPU001", "PI: length is not 2 digits"),
        ("PI-1BPU001", "PI: length is not 2 digits"),
        ("PI 6BPU001", "PI: length is not 2 digits"),
        ("pi06BPU001", "bad TLV tag at offset 0"),
        ("PI06BPU001A", "cut short at offset 10"),
        ("PI02\x00\x01", "PI: not printable ASCII"),
        ("PI02١٢", "PI: length is not 2 digits|not printable"),
    ],
)
def test_bad_tlv_is_refused(text: str, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        decode_items(text)


def test_tlv_writing_refuses_what_cannot_be_read_back() -> None:
    with pytest.raises(ValueError, match="tag"):
        encode_items([("p1", "x")])
    with pytest.raises(ValueError, match="99 printable"):
        encode_items([("PI", "x" * 100)])
    with pytest.raises(ValueError, match="printable"):
        encode_items([("NM", "Siti\nRahayu")])


def test_private_data_round_trips_and_keeps_unknown_tags_in_order() -> None:
    text = PRIVATE.encode()
    assert text.startswith("PI06BPU001CN16" + NIK + "NM11Siti Rahayu")
    assert "PG07JKK,JKMPA19JKK=33600,JKM=40000" in text
    assert text.endswith("C106REF-77ZZ00")
    assert PrivateData.decode(text) == PRIVATE
    mixed = "FR04abcdPI06BPU001C1040812"
    decoded = PrivateData.decode(mixed)
    assert decoded.product == "BPU001"
    assert decoded.other == (("FR", "abcd"), ("C1", "0812"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PI06BPU001PI06BPU002", "PI twice"),
        ("AT13" + "1" * 13, "AT is not whole rupiah"),
        ("MC03100", "MC is not whole rupiah"),
        ("MC0200", "months"),
        ("FP042026", "FP is not YYYYMM"),
        ("PA09JKK=1680x", "PA is not PROGRAM=amount"),
        ("PA08JKK16800", "PA is not PROGRAM=amount"),
        ("NM51" + "x" * 51, "name"),
        ("PG11JKK,JKK,JKK", "programs: each at most once"),
    ],
)
def test_private_data_refuses_known_tags_spelt_wrong(text: str, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        PrivateData.decode(text)


def test_private_data_values_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="customer"):
        PrivateData(customer="1" * 25)
    with pytest.raises(ValueError, match="own field"):
        PrivateData(other=[("PI", "BPU001")])
    with pytest.raises(ValueError, match="months"):
        PrivateData(months=100)
    with pytest.raises(ValueError, match="programs: each at most once"):
        PrivateData(programs=[Program.JKK, Program.JKK])
    with pytest.raises(ValueError, match="program_amounts: each program"):
        PrivateData(program_amounts=[(Program.JKK, 1), (Program.JKK, 2)])
    with pytest.raises(ValueError, match="program_amounts: whole rupiah"):
        PrivateData(program_amounts={Program.JKM: -1})


def test_lines_keep_gaps_and_order() -> None:
    lines = Lines(["a"], ["r0", "", "r2"])
    assert lines.encode() == "S001aR002r0R100R202r2"
    assert Lines.decode("R202r2S001aR002r0") == Lines(["a"], ["r0", "", "r2"])
    assert Lines.decode("") == Lines()
    assert len(Lines(receipt=["x" * 50] * 19).receipt) == 19
    with pytest.raises(ValueError, match="50"):
        Lines(["x" * 51])
    with pytest.raises(ValueError, match="at most 10"):
        Lines(["x"] * 11)
    with pytest.raises(MalformedMessage, match="S0 twice"):
        Lines.decode("S001aS001b")
    with pytest.raises(MalformedMessage, match="over 50"):
        Lines.decode("S051" + "x" * 51)


# --- DE4, DE7, DE90 --------------------------------------------------------------------------


def test_amounts_are_whole_rupiah_in_twelve_digits() -> None:
    assert encode_amount(138_983) == "000000138983"
    assert decode_amount("000000138983") == 138_983
    for bad in (-1, 10**12, True, 1.5):
        with pytest.raises(ValueError, match="whole rupiah"):
            encode_amount(bad)  # type: ignore[arg-type]
    for text in ("13898", "00000013898.", "-00000138983", "０００００００００００１"):
        with pytest.raises(MalformedMessage, match="DE4"):
            decode_amount(text)


def test_transmission_time_in_the_profiles_zone() -> None:
    moment = dt.datetime(2026, 12, 31, 17, 5, 9, tzinfo=dt.UTC)
    assert TransmissionTime.of(moment).text == "1231170509"
    assert TransmissionTime.of(moment, JAKARTA).text == "0101000509"  # already 1 January in WIB
    with pytest.raises(ValueError, match="aware"):
        TransmissionTime.of(dt.datetime(2026, 1, 1))


def test_transmission_time_takes_the_nearest_year() -> None:
    new_year = dt.datetime(2027, 1, 1, 0, 0, 30, tzinfo=dt.UTC)
    assert TransmissionTime.parse("1231235959").near(new_year).year == 2026
    assert TransmissionTime.parse("0101000100").near(new_year).year == 2027
    leap = TransmissionTime.parse("0229120000")  # only 2028 has one near 2027
    assert leap.near(new_year) == dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)
    in_wib = TransmissionTime.parse("0101000509").near(new_year, JAKARTA)
    assert in_wib == dt.datetime(2026, 12, 31, 17, 5, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "text", ["123123595", "1231235960", "1332000000", "0431000000", "abcdefghij"]
)
def test_transmission_times_that_are_not_real_are_malformed(text: str) -> None:
    with pytest.raises(MalformedMessage, match="DE7"):
        TransmissionTime.parse(text)


def test_original_data_elements() -> None:
    original = OriginalData("0200", 123, SENT, "002", "12345678901")
    assert original.text == "0200000123" + "1204210509" + "00000000002" + "12345678901"
    assert len(original.text) == 42
    assert OriginalData.parse(original.text) == original
    assert OriginalData.parse(ORIGINAL.text).forwarder == "0"
    for bad in ("0200", "0200000123120421050900000000002123456789012", "x" * 42):
        with pytest.raises(MalformedMessage, match="DE90: not 42 digits"):
            OriginalData.parse(bad)
    with pytest.raises(MalformedMessage, match="DE90: the original's MTI"):
        OriginalData.parse("3200000123" + "1204210509" + "0" * 22)  # found by fuzzing
    with pytest.raises(MalformedMessage, match="DE90: its DE7"):
        OriginalData.parse("0200000123" + "1332210509" + "0" * 22)
    with pytest.raises(ValueError, match="acquirer"):
        OriginalData("0200", 1, SENT, "ABC")


# --- the spec and the profiles ---------------------------------------------------------------


def test_the_spec_is_a_copy_edited_per_field() -> None:
    import iso8583.specs

    hex_spec, binary_spec = build_spec(), build_spec(bitmap="binary", terminal_id_length=16)
    assert hex_spec["p"]["data_enc"] == "ascii"
    assert hex_spec["p"]["max_len"] == 16
    assert binary_spec["p"]["data_enc"] == "b"
    assert binary_spec["41"]["max_len"] == 16
    assert iso8583.specs.default_ascii["41"]["max_len"] == 8  # the library's own is untouched
    assert hex_spec["48"]["len_type"] == 3
    assert hex_spec["32"]["len_type"] == 2
    with pytest.raises(ValueError, match="bitmap"):
        build_spec(bitmap="octal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="DE41"):
        build_spec(terminal_id_length=12)


def test_the_shipped_profiles() -> None:
    brilink, indomaret, alfamart = (load_profile(name) for name in PROFILES)
    assert (brilink.channel_type, indomaret.channel_type, alfamart.channel_type) == (
        "6018",
        "6024",
        "6024",
    )
    assert (brilink.processing_codes.inquiry, brilink.processing_codes.payment) == (
        "380000",
        "500000",
    )
    assert (indomaret.processing_codes.inquiry, indomaret.processing_codes.payment) == (
        "370000",
        "800000",
    )
    assert brilink.processing_codes.registration is not None
    assert indomaret.processing_codes.registration is None
    assert (brilink.resolution, indomaret.resolution, alfamart.resolution) == (
        "advice",
        "reverse",
        "reverse",
    )
    assert brilink.receipt_widths == (32, 42)
    assert indomaret.capabilities.receipt_width == alfamart.capabilities.receipt_width == 40
    assert (indomaret.capabilities.min_amount, indomaret.capabilities.max_amount) == (
        10_000,
        5_000_000,
    )
    assert alfamart.capabilities.max_amount == 2_500_000
    assert brilink.timers.payment_timeout == 30
    assert brilink.timers.store_and_forward_expiry == 86_400
    assert indomaret.time_zone is JAKARTA
    assert alfamart.framing.frame(b"0800") == b"00040800"
    assert alfamart.codec().bitmap == "binary"
    assert indomaret.codec().terminal_id_length == 16


def test_response_code_maps_differ_where_partners_differ() -> None:
    brilink, indomaret, alfamart = (load_profile(name) for name in PROFILES)
    assert [brilink.response(c).meaning for c in ("54", "88", "91")] == [
        Meaning.ALREADY_PAID,
        Meaning.NO_BILL,
        Meaning.LINK_DOWN,
    ]
    assert [indomaret.response(c).meaning for c in ("54", "88", "91")] == [
        Meaning.NO_BILL,
        Meaning.ALREADY_PAID,
        Meaning.NO_INQUIRY,
    ]
    assert alfamart.response("91").meaning is Meaning.NO_INQUIRY
    for profile in (brilink, indomaret, alfamart):
        assert profile.response("00").meaning is Meaning.APPROVED
        assert profile.response("94").meaning is Meaning.DUPLICATE
        assert profile.response("Q7").meaning is Meaning.DECLINED  # not in the map


def shipped(name: str) -> str:
    return (
        Path(__file__).parent.parent / "adapters" / "iso8583" / "profiles" / f"{name}.toml"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ('bitmap = "hex"', 'bitmap = "octal"', "bitmap"),
        ("terminal_id_length = 8", "terminal_id_length = 12", "DE41"),
        ('resolution = "advice"', 'resolution = "status"', "resolution"),
        ('time_zone = "UTC"', 'time_zone = "Asia/Jakarta"', "time_zone"),
        ('channel_type = "6018"', 'channel_type = "60"', "DE18"),
        ('"00" = { meaning = "approved"', '"00" = { meaning = "declined"', "00"),
        ('"54" = { meaning = "already-paid"', '"54" = { meaning = "paid"', "Meaning"),
        ('registration = "390000"', 'registration = "380000"', "processing code"),
        ("length_width = 2", "length_width = 3", "wide"),
        ("payment_timeout = 30", "payment_timeout = 0", "payment_timeout"),
        ("widths = [32, 42]", "widths = [42]", "receipt_width"),
        ('payment = "500000"', 'payment = "500000"\nrefund = "200000"', "unknown keys: refund"),
        ("missed_echoes = 3", "missed_echoes = 3\necho_jitter = 1", "unknown keys: echo_jitter"),
    ],
)
def test_a_profile_that_is_wrong_is_refused(tmp_path: Path, old: str, new: str, error: str) -> None:
    text = shipped("brilink")
    assert old in text
    path = tmp_path / "edited.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_profile(path)


def test_a_profile_by_path_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "partner.toml"
    path.write_text(shipped("indomaret").replace('name = "indomaret"', 'name = "partner"'))
    assert load_profile(path).name == "partner"


# --- over the wire ---------------------------------------------------------------------------


def test_answers_out_of_order_over_a_real_socket() -> None:
    """Two terminals' payments in flight on one link; the switch answers the second first."""
    codec = load_profile("indomaret").codec()
    first_in = threading.Event()
    second_out = threading.Event()

    def switch(frame: bytes) -> bytes:
        request = codec.decode(frame)
        assert isinstance(request, FinancialRequest)
        if request.terminal == "T1":
            first_in.set()
            assert second_out.wait(2.0)
        fields = {f.name: getattr(request, f.name) for f in attrs.fields(FinancialResponse)
                  if hasattr(request, f.name)}  # fmt: skip
        return codec.encode(FinancialResponse(**fields, response_code="00"))

    done: list[str] = []
    with FramedTcpServer(switch) as server:
        link: TcpTransport[Message] = TcpTransport(
            server.address, codec.decode_keyed, timeouts=Timeouts(1.0, 2.0)
        )
        link.connect()

        def pay(terminal: str) -> None:
            request = FinancialRequest(**{**COMMON, "terminal": terminal, "merchant": None})
            answer = link.send(codec.encode(request), match_key(request))
            assert isinstance(answer, FinancialResponse)
            assert answer.terminal == terminal
            done.append(terminal)

        first = threading.Thread(target=pay, args=("T1",))
        first.start()
        assert first_in.wait(2.0)
        pay("T2")  # same STAN, another terminal: another key
        second_out.set()
        first.join(2.0)
        link.close()
    assert done == ["T2", "T1"]


def test_the_documented_python_example_runs() -> None:
    """docs/channels/iso8583.md's example, against a switch that approves every inquiry."""
    page = (Path(__file__).parent.parent / "docs" / "channels" / "iso8583.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", page, re.S)
    profile = load_profile("indomaret")
    codec = profile.codec()

    def switch(frame: bytes) -> bytes:
        request = codec.decode(frame)
        assert isinstance(request, FinancialRequest)
        return codec.encode(
            FinancialResponse(
                processing_code=request.processing_code,
                transmitted=request.transmitted,
                stan=request.stan,
                terminal=request.terminal,
                response_code="00",
            )
        )

    with FramedTcpServer(switch, framing=profile.framing) as server:
        namespace: dict[str, Any] = {}
        exec(code.replace("tcp://127.0.0.1:9583", server.address), namespace)
    assert namespace["answer"].approved
    assert namespace["answer"].terminal == "IDM-T001-0042"


@pytest.mark.parametrize("module", [fields, tlv], ids=["fields", "tlv"])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


# --- a payment's answer: DE48 PT -------------------------------------------------------------


def test_an_answer_s_paid_at_is_read_as_exactly_yyyymmddhhmmss_utc() -> None:
    from jamsostek_channels.adapters.iso8583 import flows

    def paid(at: str) -> dt.datetime | None:
        data = PrivateData(product="BPU001", amount=36800, other=[("FR", "POS-1"), ("PT", at)])
        return flows.result_of(data, "POS-1", "00").paid_at

    assert paid("20261122031500") == dt.datetime(2026, 11, 22, 3, 15, tzinfo=dt.UTC)
    assert paid("20280229235959") == dt.datetime(2028, 2, 29, 23, 59, 59, tzinfo=dt.UTC)
    for bad in ("2026112203150", "202611220315000", "20261322031500", "20270229000000",
                "20261122246000", "2026-11-22T03", "٢٠٢٦١١٢٢٠٣١٥٠٠", "00001122031500"):  # fmt: skip
        with pytest.raises(MalformedMessage, match="PT is not YYYYMMDDhhmmss"):
            paid(bad)


def test_a_value_not_printable_after_printable_items_is_named() -> None:
    with pytest.raises(MalformedMessage, match="CN: not printable ASCII"):
        decode_items("PI06BPU001CN02\x7f1AT0536800")
