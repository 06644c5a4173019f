"""The Kantor Pos WSDL (``schemas/kantorpos/kantorpos-2.wsdl``) says what the XSDs and the
adapter do: every element it names is a message of version 2, every operation the profile's,
with the SOAPAction the adapter sends, and it ships with the package."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from conftest import participant_data
from lxml import etree

from jamsostek_channels.adapters.kantorpos.profile import default_profile
from jamsostek_channels.client import Client
from jamsostek_channels.errors import HostDeclined
from jamsostek_channels.model import CoverageState
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.testing.wire import WireRequest, WireResponse
from jamsostek_channels.validation import parse_participant

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP11_ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
XS = "http://www.w3.org/2001/XMLSchema"
KP2 = "urn:jamsostek-channels:kantorpos:2"
SCHEMAS = resources.files("jamsostek_channels.schemas").joinpath("kantorpos")
NS = {"wsdl": WSDL, "soap": WSDL_SOAP11, "xs": XS}


def _parse(name: str) -> etree._ElementTree:
    return etree.parse(str(SCHEMAS.joinpath(name)))


@pytest.fixture(scope="module")
def wsdl() -> etree._ElementTree:
    return _parse("kantorpos-2.wsdl")


def _qname(element: etree._Element, value: str) -> str:
    """A QName attribute (``kp:PaymentRequest``) in Clark notation, by the element's prefixes."""
    prefix, _, local = value.rpartition(":")
    return f"{{{element.nsmap[prefix or None]}}}{local}"


def _operations(wsdl: etree._ElementTree) -> dict[str, dict[str, str]]:
    """operation -> its input, output and fault elements and its SOAPAction."""
    root = wsdl.getroot()
    target = root.get("targetNamespace")
    messages = {
        f"{{{target}}}{m.get('name')}": _qname(part, part.get("element", ""))
        for m in root.iterfind("wsdl:message", NS)
        for part in m.iterfind("wsdl:part", NS)
    }
    (port_type,) = root.iterfind("wsdl:portType", NS)
    operations: dict[str, dict[str, str]] = {}
    for op in port_type.iterfind("wsdl:operation", NS):
        found = {
            kind: messages[_qname(child, child.get("message", ""))]
            for kind in ("input", "output", "fault")
            for child in op.iterfind(f"wsdl:{kind}", NS)
        }
        operations[op.get("name", "")] = found
    (binding,) = root.iterfind("wsdl:binding", NS)
    assert _qname(binding, binding.get("type", "")) == f"{{{target}}}{port_type.get('name')}"
    for op in binding.iterfind("wsdl:operation", NS):
        (soap_operation,) = op.iterfind("soap:operation", NS)
        operations[op.get("name", "")]["action"] = soap_operation.get("soapAction", "")
    return operations


def test_every_element_named_is_a_message_of_version_2(wsdl: etree._ElementTree) -> None:
    xsd = _parse("kantorpos-2.xsd").getroot()
    assert xsd.get("targetNamespace") == KP2
    declared = {f"{{{KP2}}}{e.get('name')}" for e in xsd.iterfind("xs:element", NS)}
    named = {
        element for op in _operations(wsdl).values() for element in op.values() if "{" in element
    }
    assert named <= declared
    assert declared - named == set()  # and every message of version 2 has its operation


def test_one_operation_per_soap_action_of_the_profile(wsdl: etree._ElementTree) -> None:
    profile = default_profile()
    operations = _operations(wsdl)
    assert set(operations) == set(profile.soap_actions)
    for name, op in operations.items():
        assert op["action"] == profile.soap_action(name), name
        assert set(op) == {"input", "output", "fault", "action"}, name
        assert op["fault"] == f"{{{KP2}}}FaultDetail"


def test_document_literal_over_soap_1_1_and_http(wsdl: etree._ElementTree) -> None:
    root = wsdl.getroot()
    (binding,) = root.iterfind("wsdl:binding/soap:binding", NS)
    assert binding.get("style") == "document"
    assert binding.get("transport") == "http://schemas.xmlsoap.org/soap/http"
    bodies = list(root.iterfind(".//soap:body", NS)) + list(root.iterfind(".//soap:fault", NS))
    assert len(bodies) == 3 * len(_operations(wsdl))
    assert {body.get("use") for body in bodies} == {"literal"}
    # The envelope the WSDL's binding means is the one the envelope XSD describes.
    envelope = _parse("kantorpos-envelope-2.xsd").getroot()
    assert envelope.get("targetNamespace") == SOAP11_ENVELOPE


def test_its_types_compile_with_the_xsds_beside_it(wsdl: etree._ElementTree) -> None:
    (schema,) = wsdl.getroot().iterfind("wsdl:types/xs:schema", NS)
    base = str(SCHEMAS.joinpath("kantorpos-2.wsdl"))
    etree.XMLSchema(etree.fromstring(etree.tostring(schema), base_url=base))


def test_its_example_address_is_where_the_sandbox_serves_the_channel(
    wsdl: etree._ElementTree,
) -> None:
    (address,) = wsdl.getroot().iterfind("wsdl:service/wsdl:port/soap:address", NS)
    mount = urlsplit(Sandbox(channels=("kantorpos",)).info()["channels"]["kantorpos"]["base_url"])
    assert urlsplit(address.get("location")).path == mount.path + default_profile().endpoint_path


def test_it_is_packaged() -> None:
    assert SCHEMAS.joinpath("kantorpos-2.wsdl").is_file()
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["jamsostek_channels.schemas"]
    assert any(fnmatch.fnmatch("kantorpos/kantorpos-2.wsdl", p) for p in patterns)


# What the adapter sends, operation by operation ----------------------------------------------


class _Recorder:
    """Wraps the sandbox's Kantor Pos gateway and keeps every exchange."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.channel = sandbox.channels["kantorpos"]
        self.inner = self.channel.gateway
        self.exchanges: list[tuple[WireRequest, WireResponse]] = []
        self.channel.gateway = self

    def __call__(self, request: WireRequest) -> WireResponse:
        response = self.inner(request)
        self.exchanges.append((request, response))
        return response


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(seed=3, channels=("kantorpos",))
    box.install()
    yield box
    box.stop()


def _body_child(raw: bytes) -> etree._Element:
    (child,) = etree.fromstring(raw).iterfind(f"{{{SOAP11_ENVELOPE}}}Body/*")
    return child


def test_every_operation_the_adapter_sends_is_the_wsdls(
    wsdl: etree._ElementTree, sandbox: Sandbox
) -> None:
    recorder = _Recorder(sandbox)
    client = cast(Client, sandbox.client("kantorpos", sleep=lambda seconds: None))
    worker = parse_participant(
        participant_data(), as_of=sandbox.host.today(), rules=sandbox.host.rules
    )
    challenge = client.register(worker, reference="WSDL-REG")
    client.confirm_registration(challenge, sandbox.host.last_otp(worker.phone))
    nik = next(
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    )
    client.pay(nik, months=1, reference="WSDL-PAY")
    client.status("WSDL-PAY")
    client.reverse("WSDL-PAY")
    with pytest.raises(HostDeclined):  # a refusal: a Fault whose detail is the WSDL's fault
        client.inquire("3201011501600001")  # nobody the host knows

    by_input = {op["input"]: op for op in _operations(wsdl).values()}
    seen: set[str] = set()
    faults = 0
    for request, response in recorder.exchanges:
        sent = _body_child(request.body)
        op: dict[str, Any] = by_input[sent.tag]
        assert request.header("soapaction") == f'"{op["action"]}"'
        answer = _body_child(response.body)
        if answer.tag == f"{{{SOAP11_ENVELOPE}}}Fault":
            (detail,) = answer.iterfind("detail/*")
            assert detail.tag == op["fault"]
            faults += 1
        else:
            assert answer.tag == op["output"]
        seen.add(sent.tag)
    assert seen == set(by_input)
    assert faults >= 1
