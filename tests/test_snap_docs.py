"""docs/channels/snap.md and schemas/snap-extensions.schema.json: the examples parse, validate
against the schema, carry signatures that verify, decode with the library's own decoders, and
are still what the library sends; the code table and the profiles are the code's."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from docs_kit import load_script
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jamsostek_channels import schemas
from jamsostek_channels.adapters.snap import codec, codes, extensions
from jamsostek_channels.adapters.snap.fake import BillerCredentials
from jamsostek_channels.adapters.snap.security import (
    body_digest,
    is_external_id,
    minify,
    sign_symmetric,
    symmetric_string_to_sign,
    verify_symmetric,
)
from jamsostek_channels.channel import SettlementState
from jamsostek_channels.model import CoverageState, PayerKind

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "channels" / "snap.md"
GENERATOR_PATH = ROOT / "docs" / "channels" / "snap_examples.py"
SCHEMA_ID = "urn:jamsostek-channels:schema:snap-extensions:1"
REGENERATE = "run `python docs/channels/snap_examples.py` to regenerate docs/channels/snap.md"

#: Each extension (and token) example and the ``$defs`` entry it must satisfy.
EXTENSION_EXAMPLES = {
    "token.request": "tokenRequest",
    "token.response": "tokenAnswer",
    "registration.request": "registrationRequest",
    "registration.response": "registrationAnswer",
    "registration-confirm.request": "registrationConfirmRequest",
    "registration-confirm.response": "registrationConfirmAnswer",
    "autodebit-enrol.request": "autoDebitEnrolRequest",
    "autodebit-enrol.response": "mandateAnswer",
    "autodebit-cancel.request": "autoDebitCancelRequest",
    "autodebit-cancel.response": "mandateAnswer",
    "history.request": "historyRequest",
    "history.response": "historyAnswer",
    "settlement.request": "settlementRequest",
    "settlement.response": "settlementAnswer",
}

#: Project fields inside the standard's virtual-account bodies: (example, JSON path, $defs).
ADDITIONAL_INFO = [
    ("inquiry.request", ("additionalInfo",), "inquiryRequestInfo"),
    ("inquiry.response", ("virtualAccountData", "additionalInfo"), "inquiryAnswerInfo"),
    ("payment.request", ("additionalInfo",), "paymentRequestInfo"),
    ("status.request", ("additionalInfo",), "statusRequestInfo"),
    ("agen46-inquiry.request", ("additionalInfo",), "inquiryRequestInfo"),
]

_EXAMPLE = re.compile(
    r"<!-- example: (?P<name>[\w.-]+) -->\n```http\n(?P<head>.*?)\n```"
    r"(?:\n\n```json\n(?P<body>.*?)\n```)?",
    re.DOTALL,
)
_STRING_TO_SIGN = re.compile(
    r"<!-- string-to-sign: (?P<name>[\w.-]+) -->\n```text\n(?P<text>[^\n]*)\n```"
)
_JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.DOTALL | re.MULTILINE)


# Reading the page --------------------------------------------------------------------------


@functools.cache
def doc() -> str:
    return DOC_PATH.read_text(encoding="utf-8")


@functools.cache
def generator() -> ModuleType:
    return load_script("snap_examples")


class Example:
    """One example: the HTTP head (request or status line, headers) and the JSON body."""

    def __init__(self, name: str, head: str, body: str | None) -> None:
        self.name = name
        first, *lines = head.splitlines()
        self.first_line = first
        self.headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines)}
        self.text = body
        self.json: Any = None if body is None else json.loads(body)

    @property
    def wire(self) -> bytes:
        """The exact bytes that travelled (the page shows them indented)."""
        assert self.text is not None, self.name
        return minify(self.text.encode("utf-8"))

    @property
    def method(self) -> str:
        return self.first_line.split(" ")[0]

    @property
    def path(self) -> str:
        return self.first_line.split(" ")[1]


@functools.cache
def examples() -> dict[str, Example]:
    found: dict[str, Example] = {}
    for match in _EXAMPLE.finditer(doc()):
        assert match["name"] not in found, f"example {match['name']} appears twice"
        found[match["name"]] = Example(match["name"], match["head"], match["body"])
    return found


def example(name: str) -> Example:
    assert name in examples(), f"snap.md has no example {name!r}; {REGENERATE}"
    return examples()[name]


@functools.cache
def strings_to_sign() -> dict[str, str]:
    return {match["name"]: match["text"] for match in _STRING_TO_SIGN.finditer(doc())}


# Schemas -------------------------------------------------------------------------------------


@functools.cache
def registry() -> Registry:
    resources = [
        (uri, Resource.from_contents(schema, default_specification=DRAFT202012))
        for uri, schema in schemas.all_schemas().items()
    ]
    return Registry().with_resources(resources)


def definition(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SCHEMA_ID}#/$defs/{name}"}, registry=registry())


def errors_of(name: str, instance: Any) -> list[str]:
    found = sorted(definition(name).iter_errors(instance), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message}" for e in found]


def snap_schema() -> dict[str, Any]:
    return schemas.all_schemas()[SCHEMA_ID]


def test_the_schema_is_valid_and_its_references_resolve() -> None:
    schema = snap_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    resolver = registry().resolver(base_uri=SCHEMA_ID)
    for name in schema["$defs"]:
        assert resolver.lookup(f"#/$defs/{name}").contents is not None
    for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema)):
        assert resolver.lookup(ref).contents is not None, ref


def test_the_schema_has_every_body_the_brief_names() -> None:
    wanted = set(EXTENSION_EXAMPLES.values()) | {d for _, _, d in ADDITIONAL_INFO}
    assert wanted <= set(snap_schema()["$defs"])


def test_the_schema_enums_are_the_models() -> None:
    defs = snap_schema()["$defs"]
    kinds = {kind.value for kind in PayerKind}
    assert set(defs["payer"]["properties"]["kind"]["enum"]) == kinds
    assert set(defs["inquiryRequestInfo"]["properties"]["payerKind"]["enum"]) == kinds
    assert set(defs["paymentRequestInfo"]["properties"]["payerKind"]["enum"]) == kinds
    coverage = defs["inquiryAnswerInfo"]["properties"]["coverageState"]["enum"]
    assert set(coverage) == {state.value for state in CoverageState}
    record = defs["settlementAnswer"]["properties"]["records"]["items"]
    assert set(record["properties"]["state"]["enum"]) == {s.value for s in SettlementState}


@pytest.mark.parametrize(
    ("name", "instance"),
    [
        (
            "registrationConfirmRequest",
            {"partnerReferenceNo": "R1", "challengeId": "C", "otp": "12a4"},
        ),
        ("historyRequest", {"customerNo": "1809066708040002", "customerNumber": "x"}),
        ("historyRequest", {"customerNo": "180906670804"}),
        ("settlementRequest", {"date": "23-11-2026"}),
        ("autoDebitEnrolRequest", {"customerNo": "10000000002", "months": 13}),
        ("mandateAnswer", {"responseCode": "2009100", "responseMessage": "Successful"}),
        ("tokenAnswer", {"responseCode": "2007300", "responseMessage": "OK", "accessToken": "t"}),
        (
            "historyAnswer",
            {"responseCode": "200920", "responseMessage": "Successful", "entries": []},
        ),
        (
            "settlementAnswer",
            {
                "responseCode": "2009300",
                "responseMessage": "Successful",
                "records": [],
                "extra": True,
            },
        ),
    ],
)
def test_the_schema_refuses_what_the_library_would(name: str, instance: Any) -> None:
    assert errors_of(name, instance)


@pytest.mark.parametrize("name", sorted({d for d in EXTENSION_EXAMPLES.values() if "nswer" in d}))
def test_a_refusal_needs_only_code_and_message(name: str) -> None:
    refusal = {"responseCode": "4039015", "responseMessage": "Transaction Not Permitted"}
    assert errors_of(name, refusal) == []


# The page's examples -------------------------------------------------------------------------


def test_every_json_block_parses() -> None:
    blocks = _JSON_BLOCK.findall(doc())
    assert len(blocks) >= 30
    for block in blocks:
        json.loads(block)


@pytest.mark.parametrize(("name", "schema"), sorted(EXTENSION_EXAMPLES.items()))
def test_extension_examples_validate(name: str, schema: str) -> None:
    assert errors_of(schema, example(name).json) == []


@pytest.mark.parametrize(("name", "path", "schema"), ADDITIONAL_INFO)
def test_project_fields_of_the_standard_bodies_validate(
    name: str, path: tuple[str, ...], schema: str
) -> None:
    value = example(name).json
    for key in path:
        value = value[key]
    assert errors_of(schema, value) == []


def test_every_signature_shown_verifies() -> None:
    secret_of = {
        name: BillerCredentials.sandbox(name).client_secret for name in ("linkaja", "bni-agen46")
    }
    signed = [e for e in examples().values() if "x-signature" in e.headers]
    assert len(signed) >= 11
    for item in signed:
        channel = item.path.split("/")[1]
        timestamp = item.headers["x-timestamp"]
        shown = strings_to_sign()[item.name]
        assert item.headers["content-length"] == str(len(item.wire)), item.name
        if "x-client-key" in item.headers:  # the token request: RSA, shown as its string
            assert shown == f"{item.headers['x-client-key']}|{timestamp}"
            continue
        token = item.headers["authorization"].removeprefix("Bearer ")
        assert shown == symmetric_string_to_sign(
            item.method, item.path, token, item.wire, timestamp
        )
        assert verify_symmetric(
            secret_of[channel],
            item.method,
            item.path,
            token,
            item.wire,
            timestamp,
            item.headers["x-signature"],
        ), item.name


def test_external_ids_are_well_formed_and_never_reused() -> None:
    seen: dict[tuple[str, str], str] = {}
    for item in examples().values():
        external = item.headers.get("x-external-id")
        if external is None:
            continue
        assert is_external_id(external)
        assert len(external) <= 36
        key = (item.headers["x-partner-id"], external)
        assert key not in seen, f"{item.name} reuses the X-EXTERNAL-ID of {seen[key]}"
        seen[key] = item.name


def test_the_virtual_account_examples_decode_and_agree() -> None:
    inquiry = codec.decode_inquiry_request(example("inquiry.request").wire)
    answer = codec.decode_inquiry_response(example("inquiry.response").wire)
    payment = codec.decode_payment_request(example("payment.request").wire)
    paid = codec.decode_payment_response(example("payment.response").wire)
    status = codec.decode_status_request(example("status.request").wire)
    found = codec.decode_status_response(example("status.response").wire)
    assert inquiry.partner_service_id == codec.partner_service_id("89001") == "   89001"
    assert example("inquiry.request").json["virtualAccountNo"] == inquiry.virtual_account_no
    assert answer.virtual_account is not None
    assert answer.virtual_account.inquiry_status == "00"
    assert answer.virtual_account.inquiry_request_id == inquiry.inquiry_request_id
    bills = answer.virtual_account.bill_details
    assert answer.virtual_account.total_amount == sum(bill.amount for bill in bills)
    assert payment.payment_request_id == inquiry.inquiry_request_id
    assert payment.paid_amount == answer.virtual_account.total_amount
    assert payment.flag_advise is False
    assert paid.virtual_account is not None
    assert paid.virtual_account.payment_flag_status == "00"
    assert status.payment_request_id == payment.payment_request_id
    assert status.reference_no == payment.reference_no
    assert found.virtual_account is not None
    assert found.virtual_account.payment_flag_status == "00"
    refused = codec.decode_inquiry_response(example("inquiry-refused.response").wire)
    assert refused.response_code.format() == "4042412"
    assert refused.virtual_account is not None
    assert refused.virtual_account.inquiry_status == "01"
    agent = codec.decode_inquiry_request(example("agen46-inquiry.request").wire)
    assert agent.agent_id
    assert agent.partner_service_id == "   89002"


def test_the_extension_examples_decode() -> None:
    assert extensions.decode_token_request(example("token.request").wire) == "client_credentials"
    token, seconds = extensions.read_token(extensions.decode_answer(example("token.response").wire))
    assert seconds == 900
    assert example("inquiry.request").headers["authorization"] == f"Bearer {token}"

    reference, participant, _payer = extensions.decode_registration_request(
        example("registration.request").wire
    )
    challenge = extensions.read_challenge(
        extensions.decode_answer(example("registration.response").wire)
    )
    assert challenge.reference == reference
    confirm = extensions.decode_registration_confirm(example("registration-confirm.request").wire)
    assert confirm[:2] == (reference, challenge.challenge_id)
    registration = extensions.read_registration(
        extensions.decode_answer(example("registration-confirm.response").wire)
    )
    assert registration.nik_masked == f"{participant['nik'][:4]}********{participant['nik'][12:]}"

    enrolled, customer, months, _ = extensions.decode_autodebit_enrol(
        example("autodebit-enrol.request").wire
    )
    mandate = extensions.read_mandate(
        extensions.decode_answer(example("autodebit-enrol.response").wire), enrolled
    )
    assert (mandate.customer, mandate.months, mandate.active) == (customer, months, True)
    cancelling, mandate_id = extensions.decode_autodebit_cancel(
        example("autodebit-cancel.request").wire
    )
    assert mandate_id == mandate.mandate_id
    assert cancelling != enrolled  # each request its own idempotency key
    cancelled = extensions.read_mandate(
        extensions.decode_answer(example("autodebit-cancel.response").wire), cancelling
    )
    assert cancelled.active is False

    assert extensions.decode_history_request(example("history.request").wire) == customer
    history = extensions.read_history(extensions.decode_answer(example("history.response").wire))
    payment = example("payment.request").json
    assert (
        sum(e.reference == payment["referenceNo"] for e in history)
        == payment["additionalInfo"]["months"]
    )

    day = extensions.decode_settlement_request(example("settlement.request").wire)
    records = extensions.read_settlement(
        extensions.decode_answer(example("settlement.response").wire), "linkaja"
    )
    assert records
    assert all(record.paid_at.date() == day for record in records)


def test_the_public_test_vector_reproduces() -> None:
    match = re.search(r"<!-- vector-body -->\n```json\n(.*?)\n```", doc(), re.DOTALL)
    assert match is not None
    body = match[1].encode("utf-8")
    digest = body_digest(body)
    signature = sign_symmetric(
        "myclientsecret",
        "POST",
        "/v1.0/qr/qr-mpm-generate",
        "myaccesstoken",
        body,
        "2024-03-05T10:37:16.196Z",
    )
    assert digest == "01463f60dbb6ca538581579dd95b31c8ba9fc6600eca750e4d8460ca4e402111"
    assert digest in doc()
    assert signature in doc()


# The generated tables and what the code says -----------------------------------------------


def test_the_response_code_table_lists_every_case() -> None:
    region = generator().regions_of(doc())["response-codes"]
    listed = set(re.findall(r"^\| `([1-5][0-9]{2})xx([0-9]{2})` \|", region, re.MULTILINE))
    assert listed == {(str(http), case) for http, case in codes.RESPONSE_CASES}
    for (http, case), meaning in codes.RESPONSE_CASES.items():
        row = re.search(rf"^\| `{http}xx{case}` \| ([^|]+) \|", region, re.MULTILINE)
        assert row is not None
        assert row[1].strip() == meaning.meaning_en
    services = generator().regions_of(doc())["service-cases"]
    for service, http, case in codes.SERVICE_CASES:
        assert f"`{http}{service}{case}`" in services


def test_the_tables_and_profiles_are_the_codes() -> None:
    current = generator().regions_of(doc())
    for name, wanted in generator().deterministic_regions().items():
        assert current.get(name) == wanted, f"region {name!r} is stale: {REGENERATE}"


def test_every_path_constant_appears() -> None:
    for module in (codec, extensions):
        paths = [value for name, value in vars(module).items() if name.endswith("_PATH")]
        assert paths
        for path in paths:
            assert f"`{path}`" in doc(), path


def test_a_fresh_capture_sends_what_the_page_shows() -> None:
    """The bodies, headers and answers are still the library's, but for tokens, signatures and
    the journal's random instance id."""
    module = generator()
    current = module.regions_of(doc())
    for name, fresh in module.capture().items():
        assert name in current, f"no region {name!r}: {REGENERATE}"
        assert module.normalise(current[name]) == module.normalise(fresh), REGENERATE
