"""JSON Schemas and the model held together: valid schemas, valid instances, no drift."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from conftest import participant_data
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jamsostek_channels import coverage_status, parse_participant, quote, schemas
from jamsostek_channels.cli.main import main
from jamsostek_channels.converters import structure, unstructure
from jamsostek_channels.errors import InvalidInput
from jamsostek_channels.identifiers import nik as nik_id
from jamsostek_channels.messages import CATALOGUE
from jamsostek_channels.model import (
    CoverageStatus,
    Participant,
    Payer,
    PayerKind,
    Payment,
    Program,
    Quote,
    QuoteLine,
    Receipt,
)
from jamsostek_channels.period import YearMonth
from jamsostek_channels.validation import FIELDS

TODAY = dt.date(2026, 11, 22)
WIB = ZoneInfo("Asia/Jakarta")
NIK = "3201015508950001"
PREFIX = "urn:jamsostek-channels:schema:"
COMMON = f"{PREFIX}common:1"


def registry() -> Registry:
    resources = [
        (uri, Resource.from_contents(schema, default_specification=DRAFT202012))
        for uri, schema in schemas.all_schemas().items()
    ]
    return Registry().with_resources(resources)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schemas.load(name), registry=registry())


def subschema_validator(uri: str, pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=registry())


def as_json(value: Any) -> Any:
    """What a partner would actually receive: the unstructured form through JSON text."""
    return json.loads(json.dumps(unstructure(value)))


def assert_valid(name: str, instance: Any) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


# Fixtures built from the library -----------------------------------------------------------


def make_participant(**changes: Any) -> Participant:
    return parse_participant(participant_data(**changes), as_of=TODAY)


def make_quote(payer: Payer | None = None) -> Quote:
    return quote(
        income=2_800_000,
        occupations=["ojek-online", "pedagang"],
        programs=["jkk", "jkm", "jht"],
        start="2026-11",
        months=12,
        payer=payer or Payer.self_paid(),
        joined="2026-01",
    )


PAYERS = [
    Payer(PayerKind.SELF),
    Payer(PayerKind.SERTAKAN, name="Budi Santoso"),
    Payer(PayerKind.CSR, name="PT Contoh Sejahtera", scheme="SC", reference="CSR-2026-001"),
    Payer(PayerKind.CSR, name="Bank Contoh", scheme="SB"),
    Payer(PayerKind.CSR, name="Donatur"),
    Payer(PayerKind.CREDIT_UNION, name="CU Sumber Rejeki"),
    Payer(PayerKind.APBD, name="Pemkab Bogor", reference="SK-123"),
    Payer(PayerKind.APBN, name="Kemnaker"),
    Payer(PayerKind.APBDES, name="Desa Cibinong"),
]


def make_payment(**changes: Any) -> Payment:
    values: dict[str, Any] = {
        "reference": "TRX-20261122-0001",
        "channel": "bank-contoh",
        "nik": NIK,
        "payer": Payer(PayerKind.SERTAKAN, name="Budi Santoso"),
        "periods": (YearMonth(2026, 11), YearMonth(2026, 12), YearMonth(2027, 1)),
        "programs": (Program.JKK, Program.JKM),
        "amount": 54_450,
        "admin_fee": 2_500,
        "requested_at": dt.datetime(2026, 11, 22, 9, 30, 15, tzinfo=WIB),
        "kpj": "12345678901",
    }
    values.update(changes)
    return Payment(**values)


def make_receipt(**changes: Any) -> Receipt:
    values: dict[str, Any] = {
        "channel": "bank-contoh",
        "channel_reference": "TRX-20261122-0001",
        "host_reference": "BPJS-998877",
        "nik_masked": nik_id.mask(NIK),
        "name": "Siti Rahayu",
        "programs": (Program.JKK, Program.JKM),
        "periods": (YearMonth(2026, 11),),
        "amount": 18_150,
        "admin_fee": 2_500,
        "paid_at": dt.datetime(2026, 11, 22, 9, 31, 0, 123456, tzinfo=WIB),
    }
    values.update(changes)
    return Receipt(**values)


def statuses() -> list[CoverageStatus]:
    return [
        coverage_status("2026-01", [f"2026-{m:02d}" for m in range(1, 12)], as_of=TODAY),
        coverage_status("2026-01", [f"2026-{m:02d}" for m in range(1, 10)], as_of=TODAY),
        coverage_status("2026-01", ["2026-01", "2026-02"], as_of=TODAY),
        coverage_status("2026-11", [], as_of=dt.date(2026, 11, 3)),
        coverage_status("2025-01", ["2025-01", "2025-03", "2026-10"], as_of=TODAY),
    ]


# The schemas themselves --------------------------------------------------------------------


def test_schema_names_and_ids() -> None:
    names = schemas.names()
    assert {
        "common",
        "participant",
        "payer",
        "payment",
        "quote",
        "quote-summary",
        "coverage-status",
        "receipt",
        "check-result",
    } <= set(names)
    for name in names:
        schema = schemas.load(name)
        assert schema["$id"] == f"{PREFIX}{name}:1"
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schemas.all_schemas()) == {f"{PREFIX}{n}:1" for n in names}


def test_packaged_schemas_are_the_repository_schemas() -> None:
    folder = Path(__file__).resolve().parents[1] / "schemas"
    on_disk = {p.name[: -len(".schema.json")] for p in folder.glob("*.schema.json")}
    assert on_disk == set(schemas.names())
    for name in on_disk:
        text = (folder / f"{name}.schema.json").read_text(encoding="utf-8")
        assert json.loads(text) == schemas.load(name)


@pytest.mark.parametrize("name", schemas.names())
def test_every_schema_is_valid(name: str) -> None:
    Draft202012Validator.check_schema(schemas.load(name))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


@pytest.mark.parametrize("name", schemas.names())
def test_every_reference_resolves(name: str) -> None:
    schema = schemas.load(name)
    resolver = registry().resolver(base_uri=schema["$id"])
    for ref in _refs(schema):
        resolved = resolver.lookup(ref)
        assert resolved.contents is not None, ref


# Model objects validate --------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"email": None, "kpj": "12345678901"},
        {"programs": ["jkk", "jkm", "jht"], "occupations": ["pedagang", "ojek-online"]},
    ],
)
def test_participant_validates(changes: dict[str, Any]) -> None:
    assert_valid("participant", as_json(make_participant(**changes)))


@pytest.mark.parametrize("payer", PAYERS, ids=lambda p: f"{p.kind.value}-{p.scheme}")
def test_payer_validates(payer: Payer) -> None:
    assert_valid("payer", as_json(payer))


def test_every_payer_kind_is_covered() -> None:
    assert {p.kind for p in PAYERS} == set(PayerKind)
    kinds = schemas.all_schemas()[COMMON]["$defs"]["payer"]["properties"]["kind"]["enum"]
    assert set(kinds) == {k.value for k in PayerKind}


@pytest.mark.parametrize("payer", [None, PAYERS[2], PAYERS[6]])
def test_quote_validates(payer: Payer | None) -> None:
    assert_valid("quote", as_json(make_quote(payer)))


def test_coverage_status_validates() -> None:
    seen = set()
    for status in statuses():
        seen.add(status.state)
        assert_valid("coverage-status", as_json(status))
    assert len(seen) == 4


def test_payment_validates() -> None:
    assert_valid("payment", as_json(make_payment()))
    assert_valid("payment", as_json(make_payment(kpj=None, payer=Payer.self_paid())))


def test_receipt_validates() -> None:
    receipt = make_receipt()
    assert receipt.total == 20_650
    assert_valid("receipt", as_json(receipt))


def test_cli_quote_json_validates(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["quote", "--income", "2800000", "--occupation", "ojek-online", "--programs"]
    argv += ["jkk,jkm", "--start", "2026-11", "--months", "12", "--json"]
    assert main(argv) == 0
    assert_valid("quote-summary", json.loads(capsys.readouterr().out))


def test_cli_check_json_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(participant_data()), encoding="utf-8")
    assert main(["check", str(good), "--json", "--as-of", "2026-11-22"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "participant" in document
    assert_valid("check-result", document)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(participant_data(sex="male", extra=1)), encoding="utf-8")
    assert main(["check", str(bad), "--json"]) == 1
    assert_valid("check-result", json.loads(capsys.readouterr().out))

    unreadable = tmp_path / "broken.json"
    unreadable.write_text("{", encoding="utf-8")
    assert main(["check", str(unreadable), "--json"]) == 2
    assert_valid("check-result", json.loads(capsys.readouterr().out))


def test_every_message_code_fits_the_check_result_pattern() -> None:
    problem = schemas.load("check-result")["$defs"]["problem"]
    pattern = re.compile(problem["properties"]["code"]["pattern"])
    for code in CATALOGUE:
        assert pattern.search(code), code


# The schemas reject what the model rejects (they are not vacuous) ---------------------------


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("nik", "3201********0001"),
        ("income", 2_800_000.5),
        ("income", -1),
        ("sex", "F"),
        ("birth_date", "15-08-1995"),
        ("postal_code", "01234"),
        ("programs", ["jkk", "jkk"]),
        ("occupations", ["a", "b", "c"]),
        ("unexpected", 1),
    ],
)
def test_participant_schema_rejects(change: str, value: Any) -> None:
    instance = as_json(make_participant())
    instance[change] = value
    with pytest.raises(ValidationError):
        validator("participant").validate(instance)


def test_quote_summary_schema_rejects_float_money_and_bad_month() -> None:
    summary = {
        "total": 18150,
        "months": [{"period": "2026-11", "jkk": 14750, "jkm": 3400, "jht": 0, "discount": None}],
    }
    validator("quote-summary").validate(summary)
    for key, value in (("jkk", 14750.5), ("jkk", "14750"), ("period", "2026-13"), ("discount", 5)):
        broken = json.loads(json.dumps(summary))
        broken["months"][0][key] = value
        with pytest.raises(ValidationError):
            validator("quote-summary").validate(broken)


def test_payment_schema_rejects_naive_instant_and_full_nik_elsewhere() -> None:
    instance = as_json(make_payment())
    instance["requested_at"] = "2026-11-22T09:30:15"
    with pytest.raises(ValidationError):
        validator("payment").validate(instance)
    receipt = as_json(make_receipt())
    receipt["nik_masked"] = NIK
    with pytest.raises(ValidationError):
        validator("receipt").validate(receipt)


# No drift between attrs classes and schemas --------------------------------------------------


def _properties(uri: str, pointer: str) -> dict[str, Any]:
    resolved = registry().resolver().lookup(f"{uri}#{pointer}")
    node: dict[str, Any] = resolved.contents
    while "$ref" in node and "properties" not in node:
        resolved = resolved.resolver.lookup(node["$ref"])
        node = resolved.contents
    return node


MODELS = [
    (Participant, f"{PREFIX}participant:1", ""),
    (Payer, f"{PREFIX}payer:1", ""),
    (Quote, f"{PREFIX}quote:1", ""),
    (QuoteLine, f"{PREFIX}quote:1", "/properties/lines/items"),
    (CoverageStatus, f"{PREFIX}coverage-status:1", ""),
    (Payment, f"{PREFIX}payment:1", ""),
    (Receipt, f"{PREFIX}receipt:1", ""),
]


@pytest.mark.parametrize(
    ("cls", "uri", "pointer"), MODELS, ids=lambda x: getattr(x, "__name__", "")
)
def test_schema_properties_equal_attrs_fields(cls: type, uri: str, pointer: str) -> None:
    node = _properties(uri, pointer)
    fields = [f.name for f in attrs.fields(cls)]
    assert set(node["properties"]) == set(fields)
    assert node.get("additionalProperties") is False
    assert set(node["required"]) <= set(fields)


@pytest.mark.parametrize(
    "cls", [Payer, Quote, QuoteLine, CoverageStatus, Payment, Receipt], ids=lambda c: c.__name__
)
def test_schema_requires_every_field_the_converter_always_writes(cls: type) -> None:
    uri, pointer = next((u, p) for c, u, p in MODELS if c is cls)
    node = _properties(uri, pointer)
    assert set(node["required"]) == {f.name for f in attrs.fields(cls)}


def test_participant_schema_required_matches_validation() -> None:
    node = schemas.load("participant")
    assert tuple(f.name for f in attrs.fields(Participant)) == FIELDS
    assert set(node["required"]) == set(FIELDS) - {"email", "kpj"}


def test_month_summaries_fit_the_quote_summary_schema() -> None:
    """The converter's form of a month summary and the quote-summary month item describe the
    same thing; they must not drift apart."""
    priced = make_quote()
    document = {"total": priced.total, "months": as_json(priced.by_month())}
    assert_valid("quote-summary", document)


# Round trips -------------------------------------------------------------------------------


def round_trip(value: Any) -> Any:
    return structure(as_json(value), type(value))


@pytest.mark.parametrize("payer", [None, PAYERS[2], PAYERS[6]])
def test_quote_round_trip(payer: Payer | None) -> None:
    original = make_quote(payer)
    again = round_trip(original)
    assert again == original
    assert again.lines[0].period == YearMonth(2026, 11)
    assert again.by_month() == original.by_month()


@pytest.mark.parametrize("payer", PAYERS, ids=lambda p: f"{p.kind.value}-{p.scheme}")
def test_payer_round_trip(payer: Payer) -> None:
    assert round_trip(payer) == payer


def test_coverage_status_round_trip() -> None:
    for status in statuses():
        assert round_trip(status) == status


@pytest.mark.parametrize(
    "changes", [{}, {"email": None, "kpj": "12345678901", "programs": ["jkk", "jkm", "jht"]}]
)
def test_participant_round_trip(changes: dict[str, Any]) -> None:
    original = make_participant(**changes)
    assert round_trip(original) == original


def test_payment_and_receipt_round_trip() -> None:
    payment = make_payment()
    again = round_trip(payment)
    assert again == payment
    assert again.requested_at.utcoffset() == dt.timedelta(hours=7)
    receipt = make_receipt()
    assert round_trip(receipt) == receipt


def test_structure_refuses_an_invalid_participant() -> None:
    data = as_json(make_participant())
    data["sex"] = "male"
    with pytest.raises(InvalidInput) as info:
        structure(data, Participant)
    assert [p.code for p in info.value.problems] == ["nik.sex_mismatch"]
