"""The channel registry, typed channel settings and ``connect``: one way in for every channel, and
a core that names none of them."""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import jamsostek_channels as jc
from jamsostek_channels import registry
from jamsostek_channels.adapters.kantorpos.settings import KantorPosSettings
from jamsostek_channels.adapters.snap.settings import SnapSettings
from jamsostek_channels.channel_settings import settings_from_mapping
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import InvalidInput, SettingsInvalid, UnknownChannel
from jamsostek_channels.journal import EntryState, Journal
from jamsostek_channels.testing.sandbox import Sandbox, faked_channels

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "src" / "jamsostek_channels"
SHIPPED = {"linkaja", "bni-agen46", "kantorpos"}
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)


def fixed() -> dt.datetime:
    return NOW


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(seed=3, clock=fixed)
    box.install()
    try:
        yield box
    finally:
        box.stop()


def payable(sandbox: Sandbox) -> str:
    return sandbox.demo_participants[1]["nik"]  # one month in arrears


# The registry --------------------------------------------------------------------------------


def test_the_shipped_channels_are_installed_through_entry_points() -> None:
    assert set(registry.names()) >= SHIPPED
    assert list(registry.names()) == sorted(registry.names())
    assert set(faked_channels()) >= SHIPPED
    for spec in registry.channels():
        if spec.name not in SHIPPED:
            continue
        assert (ROOT / "adapters" / spec.family).is_dir(), spec.family
        assert spec.docs == f"docs/channels/{spec.name}.md"
        assert (ROOT / spec.docs).is_file(), spec.docs
        assert attrs.has(spec.settings)
        assert spec.fake is not None
    assert registry.spec("kantorpos").settlement_reader is not None
    assert registry.spec("linkaja").settlement_reader is None  # SNAP settles by API call
    assert registry.spec("linkaja").settings is SnapSettings
    assert registry.spec("kantorpos").settings is KantorPosSettings


def test_an_unknown_channel_is_a_typed_bilingual_error_naming_the_installed_ones() -> None:
    with pytest.raises(UnknownChannel) as raised:
        registry.spec("gopay")
    error = raised.value
    assert isinstance(error, InvalidInput)
    assert error.code == "channel.unknown"
    assert error.known == registry.names()
    assert [(p.field, p.code) for p in error.problems] == [("channel", "channel.unknown")]
    for name in SHIPPED:
        assert name in error.message_en
        assert name in error.message_id
    assert "Unknown channel gopay" in error.message_en
    assert "Kanal gopay tidak dikenal" in error.message_id
    # A mistyped NIK in the channel argument is not echoed back.
    with pytest.raises(UnknownChannel) as digits:
        registry.spec("3201015508950001")
    assert "3201015508950001" not in str(digits.value)


def test_a_spec_registered_for_a_while_is_found_then_gone() -> None:
    partner = attrs.evolve(registry.spec("linkaja"), name="partner-wallet")
    assert "partner-wallet" not in registry.names()
    with registry.registered(partner) as given:
        assert given is partner
        assert registry.spec("partner-wallet") is partner
        assert "partner-wallet" in registry.names()
        hidden = attrs.evolve(registry.spec("kantorpos"), docs="https://partner.example/kp")
        with registry.registered(hidden):
            assert registry.spec("kantorpos").docs == "https://partner.example/kp"
        assert registry.spec("kantorpos").docs == "docs/channels/kantorpos.md"
    assert "partner-wallet" not in registry.names()
    with pytest.raises(UnknownChannel):
        registry.spec("partner-wallet")


@pytest.mark.parametrize("name", ["", "Partner", "a b", "x/y", "-lead", "a" * 41])
def test_a_channel_name_must_fit_a_url_path_and_a_command_line(name: str) -> None:
    with pytest.raises(ValueError, match="channel name"):
        attrs.evolve(registry.spec("linkaja"), name=name)


class _Point:
    def __init__(self, name: str, loaded: object) -> None:
        self.name = name
        self.value = f"partner.module:{name}"
        self._loaded = loaded

    def load(self) -> object:
        return self._loaded


def test_a_broken_entry_point_is_refused_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    load = registry._installed.__wrapped__
    linkaja = registry.spec("linkaja")

    def offering(*points: _Point) -> None:
        monkeypatch.setattr(registry, "entry_points", lambda group: points)

    offering(_Point("wallet", object()))
    with pytest.raises(TypeError, match="not a ChannelSpec"):
        load()
    offering(_Point("wallet", linkaja))
    with pytest.raises(ValueError, match="linkaja"):
        load()
    offering(_Point("linkaja", linkaja), _Point("linkaja", attrs.evolve(linkaja, docs="x")))
    with pytest.raises(ValueError, match="two packages"):
        load()
    offering(_Point("linkaja", linkaja))
    assert load() == {"linkaja": linkaja}


# Typed settings --------------------------------------------------------------------------------


def test_every_missing_unknown_and_mistyped_key_is_reported_at_once() -> None:
    spec = registry.spec("linkaja")
    with pytest.raises(SettingsInvalid) as raised:
        spec.parse_settings(
            {
                "base_url": "  ",
                "client_id": 5,
                "partner_id": True,
                "bogus": 1,
                "3201015508950001": 2,
            }
        )
    error = raised.value
    assert error.channel == "linkaja"
    assert error.code == "settings.invalid"
    assert {(p.field, p.code) for p in error.problems} == {
        ("base_url", "field.required"),
        ("client_id", "field.type"),
        ("client_secret", "field.required"),
        ("private_key_pem", "field.required"),
        ("partner_id", "field.type"),
        ("bogus", "field.unknown"),
        ("****************", "field.unknown"),  # a key that looks like a NIK is starred
    }
    assert "linkaja" in error.message_en
    assert "linkaja" in error.message_id
    assert all(p.message_id and p.message_en for p in error.problems)
    assert "3201015508950001" not in str(error)
    with pytest.raises(SettingsInvalid) as not_an_object:
        spec.parse_settings(["base_url"])  # type: ignore[arg-type]
    assert [(p.field, p.code) for p in not_an_object.value.problems] == [("settings", "field.type")]


def test_settings_of_the_right_shape_become_the_typed_class_with_secrets_hidden() -> None:
    spec = registry.spec("linkaja")
    given = {
        "base_url": "https://biller.example/bpjs",
        "client_id": "la-client",
        "client_secret": "s3cr3t-value",
        "private_key_pem": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
        "partner_id": "la-partner",
        "agent_id": None,  # null is "not given" for an optional key
    }
    typed = spec.parse_settings(given)
    assert isinstance(typed, SnapSettings)
    assert typed.client_secret == "s3cr3t-value"
    assert typed.agent_id is None
    assert spec.parse_settings(typed) is typed  # a typed object is used as it is
    assert "s3cr3t-value" not in repr(typed)
    assert "PRIVATE KEY" not in repr(typed)
    kantorpos = registry.spec("kantorpos").parse_settings(
        {"base_url": "https://h2h.example", "office": "40115", "teller": "LKT01"}
    )
    assert kantorpos == KantorPosSettings("https://h2h.example", "40115", "LKT01")
    assert kantorpos.agent_id == "LKT01"  # at a post office the teller is the agent


@attrs.frozen
class _Tuning:
    name: str
    retries: int = 3
    ratio: float = 0.5
    strict: bool = False


def test_json_types_are_kept_apart() -> None:
    tuned = settings_from_mapping(_Tuning, {"name": "x", "ratio": 2, "strict": True}, channel="t")
    assert tuned == _Tuning("x", 3, 2.0, True)
    assert type(tuned.ratio) is float  # JSON writes 2.0 as 2
    with pytest.raises(SettingsInvalid) as raised:
        settings_from_mapping(
            _Tuning, {"name": 1, "retries": True, "ratio": "0.5", "strict": 1}, channel="t"
        )
    assert {(p.field, p.code) for p in raised.value.problems} == {
        ("name", "field.type"),
        ("retries", "field.type"),  # true is not the integer 1
        ("ratio", "field.type"),
        ("strict", "field.type"),  # nor 1 true
    }
    messages = {p.field: p.message_en for p in raised.value.problems}
    assert messages["retries"] == "Wrong type: must be integer."
    assert messages["strict"] == "Wrong type: must be true/false."


def test_a_profile_refuses_what_the_settings_name_for_it() -> None:
    with Journal() as journal, pytest.raises(SettingsInvalid) as raised:
        registry.spec("linkaja").open_adapter(
            {
                "base_url": "https://biller.example",
                "client_id": "c",
                "client_secret": "s",
                "private_key_pem": "k",
                "partner_id": "p",
                "channel_id": "00000",
                "partner_service_id": "   89001",  # the profile's own: accepted
            },
            journal=journal,
        )
    assert [(p.field, p.code) for p in raised.value.problems] == [
        ("channel_id", "settings.profile_mismatch")
    ]


# connect -----------------------------------------------------------------------------------------


def test_connect_pays_through_any_installed_channel(sandbox: Sandbox, tmp_path: Path) -> None:
    nik = payable(sandbox)
    for name in ("linkaja", "kantorpos"):
        settings = sandbox.info()["channels"][name]
        journal = tmp_path / f"{name}.sqlite"
        with jc.connect(name, settings, journal=journal, clock=fixed) as client:
            assert client.channel == name
            receipt = client.pay(nik, months=1, reference=f"CONNECT-{name}")
            assert receipt.channel_reference == f"CONNECT-{name}"
            assert client.adapter.clock is fixed
            entry = client.journal.get(name, "pay", f"CONNECT-{name}", scope=client.scope)
            assert entry is not None
            assert entry.state is EntryState.APPLIED
        nik = sandbox.demo_participants[3]["nik"]  # never paid: the next channel's payer
    assert {e.reference for e in sandbox.host.ledger()} == {"CONNECT-linkaja", "CONNECT-kantorpos"}


def test_connect_defaults_an_agent_channels_agent_from_its_settings(sandbox: Sandbox) -> None:
    kantorpos = sandbox.info()["channels"]["kantorpos"]
    with jc.connect("kantorpos", kantorpos, journal=":memory:") as client:
        assert client.agent_id == kantorpos["teller"]
    with jc.connect("kantorpos", kantorpos, journal=":memory:", agent_id="LKT02") as client:
        assert client.agent_id == "LKT02"
    with jc.connect("linkaja", sandbox.info()["channels"]["linkaja"], journal=":memory:") as client:
        assert client.agent_id is None  # a LinkAja customer pays for themself


def test_connect_takes_a_typed_settings_object_and_splits_the_options(sandbox: Sandbox) -> None:
    from jamsostek_channels.transport import Timeouts

    typed = registry.spec("linkaja").parse_settings(sandbox.info()["channels"]["linkaja"])
    timeouts = Timeouts(connect=1.0, read=2.0)
    with jc.connect("linkaja", typed, journal=":memory:", timeouts=timeouts, status_polls=1) as c:
        assert c._status_polls == 1  # a client option
        assert c.adapter._transport.timeouts == timeouts  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("sqlite:///rel.sqlite", "rel.sqlite"),
        ("sqlite:////ABS/abs.sqlite", "/ABS/abs.sqlite"),
        ("plain.sqlite", "plain.sqlite"),
    ],
)
def test_connect_opens_a_journal_from_a_path_or_url(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    location = location.replace("/ABS", str(tmp_path))
    expected = expected.replace("/ABS", str(tmp_path))
    settings = sandbox.info()["channels"]["linkaja"]
    with jc.connect("linkaja", settings, journal=location) as client:
        assert isinstance(client.journal, Journal)
        assert client.journal.path == expected
    assert (tmp_path / Path(expected).name).exists()


def test_connect_uses_an_open_store_as_it_is(sandbox: Sandbox) -> None:
    store = Journal()
    client = jc.connect("linkaja", sandbox.info()["channels"]["linkaja"], journal=store)
    assert client.journal is store
    client.close()


@pytest.mark.parametrize("journal", ["postgresql://db/journal", "sqlite:relative", " ", None, 42])
def test_connect_refuses_a_journal_it_cannot_open(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInput) as raised:
        jc.connect("linkaja", sandbox.info()["channels"]["linkaja"], journal=journal)
    assert [(p.field, p.code) for p in raised.value.problems] == [("journal", "journal.location")]
    assert list(tmp_path.iterdir()) == []


def test_connect_checks_channel_and_settings_before_opening_the_journal(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "never.sqlite"
    with pytest.raises(UnknownChannel):
        jc.connect("gopay", {}, journal=journal)
    with pytest.raises(SettingsInvalid):
        jc.connect("kantorpos", {"office": "40115"}, journal=journal)
    assert not journal.exists()
    # Settings only the profile can judge: the journal opened for them is closed again.
    settings = {**sandbox.info()["channels"]["kantorpos"], "office": "99999"}
    with pytest.raises(SettingsInvalid) as raised:
        jc.connect("kantorpos", settings, journal=journal)
    assert [(p.field, p.code) for p in raised.value.problems] == [("office", "settings.office")]


def test_sandbox_client_checks_the_channel_against_what_it_serves() -> None:
    box = Sandbox(seed=0, clock=fixed, channels=("linkaja",))
    assert list(box.channels) == ["linkaja"]
    with pytest.raises(UnknownChannel) as raised:
        box.client("kantorpos")
    assert raised.value.known == ("linkaja",)
    with pytest.raises(UnknownChannel):
        Sandbox(seed=0, clock=fixed, channels=("gopay",))


def test_a_partners_channel_joins_the_sandbox_and_connect(tmp_path: Path) -> None:
    """A spec registered from outside the package (here: a SNAP profile under a new name) is
    served by the sandbox at /<name>/ and reached by connect, with no change to the core."""
    partner = attrs.evolve(registry.spec("linkaja"), name="partner-wallet")
    with registry.registered(partner):
        assert "partner-wallet" in faked_channels()
        box = Sandbox(seed=3, clock=fixed, channels=("partner-wallet",))
        box.install()
        try:
            settings = box.info()["channels"]["partner-wallet"]
            assert settings["base_url"].endswith("/partner-wallet")
            with box.client("partner-wallet", journal=tmp_path / "p.sqlite") as client:
                client.pay(payable(box), months=1, reference="PW-1")
            assert [e.reference for e in box.host.ledger()] == ["PW-1"]
        finally:
            box.stop()


# The core names no channel ---------------------------------------------------------------------


def _core_files() -> list[Path]:
    """Every .py file of the core: the package but its linked adapters/ and schemas/."""
    files = []
    for folder, subfolders, names in os.walk(CORE):  # symlinks are not followed
        subfolders[:] = [d for d in subfolders if not (Path(folder) / d).is_symlink()]
        files += [Path(folder) / n for n in names if n.endswith(".py")]
    return files


def test_the_core_names_no_channel() -> None:
    files = _core_files()
    assert CORE / "registry.py" in files
    assert not any("adapters" in f.relative_to(CORE).parts for f in files)
    names = set(registry.names()) | SHIPPED
    spellings = names | {name.replace("-", "_") for name in names}
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for spelling in sorted(spellings):
            pattern = rf"(?<![A-Za-z0-9_]){re.escape(spelling)}(?![A-Za-z0-9_])"
            for match in re.finditer(pattern, text, re.IGNORECASE):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {spelling}")
    assert found == [], "the core names a channel (ask the registry instead):\n" + "\n".join(found)


def test_the_core_imports_no_adapter_and_fakes_keep_to_their_family() -> None:
    for path in _core_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("jamsostek_channels.adapters"), path
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("jamsostek_channels.adapters"), path
    families = {spec.family for spec in registry.channels() if spec.name in SHIPPED}
    for family in families:
        fake = ROOT / "adapters" / family / "fake.py"
        assert fake.is_file(), fake
        for node in ast.walk(ast.parse(fake.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                if module.startswith("jamsostek_channels.adapters."):
                    assert module.split(".")[2] == family, (fake, module)
    assert not (CORE / "testing" / "snap_biller.py").exists()
    assert not (CORE / "testing" / "kantorpos_gateway.py").exists()
