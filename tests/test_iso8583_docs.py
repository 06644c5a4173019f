"""docs/channels/iso8583.md: the captured exchanges are what the library and the fake switch put
on the wire today, byte for byte; the response-code and timer tables are the profiles'; every
DE48 tag on the wire is documented; each flow shows what its title says."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import iso8583
import pytest
from docs_kit import load_script
from test_iso8583_codec import hexdump

from jamsostek_channels.adapters.iso8583 import flows, load_profile
from jamsostek_channels.adapters.iso8583.profile import Meaning
from jamsostek_channels.adapters.iso8583.tlv import decode_items

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "channels" / "iso8583.md"
GENERATOR_PATH = ROOT / "docs" / "channels" / "iso8583_examples.py"
REGENERATE = "run `python docs/channels/iso8583_examples.py` to regenerate docs/channels/iso8583.md"

_DUMP = re.compile(r"^```\n(.*?)\n```$", re.DOTALL | re.MULTILINE)
_DUMP_LINE = re.compile(r"^[0-9a-f]{4}  ((?:[0-9a-f]{2} ?)+?)\s*\|.*\|$")


@functools.cache
def doc() -> str:
    return DOC_PATH.read_text(encoding="utf-8")


@functools.cache
def generator() -> ModuleType:
    return load_script("iso8583_examples")


@functools.cache
def captured() -> dict[str, list[tuple[Any, list[Any]]]]:
    """One fresh capture per profile for the whole module (a few seconds: two messages are
    held in the network past a timer on purpose)."""
    return {name: generator().capture(name) for name in generator().PROFILES}


def frames_on_the_page(profile: str) -> list[bytes]:
    region = generator().regions_of(doc()).get(f"capture-{profile}")
    assert region is not None, f"no region capture-{profile}: {REGENERATE}"
    frames = []
    for block in _DUMP.findall(region):
        data = bytearray()
        for line in block.splitlines():
            match = _DUMP_LINE.match(line)
            assert match is not None, f"not a dump line: {line!r}"
            data += bytes.fromhex(match[1])
        frames.append(bytes(data))
    return frames


def answer_codes(profile: str, flow: str) -> list[str]:
    """DE39 of every answer the switch sent in ``flow``."""
    codec = load_profile(profile).codec()
    for item, frames in captured()[profile]:
        if item.name == flow:
            return [
                iso8583.decode(frame.payload, codec.spec)[0]["39"]
                for frame in frames
                if frame.direction == "switch → terminal"
            ]
    raise AssertionError(f"{profile} has no flow {flow}")


def code_of(profile: str, meaning: Meaning) -> str:
    return next(
        code
        for code, entry in load_profile(profile).response_codes.items()
        if entry.meaning is meaning
    )


# The page is what the wire carries ------------------------------------------------------------


@pytest.mark.parametrize("profile", ["brilink", "indomaret", "alfamart"])
def test_every_dump_is_a_frame_captured_now_byte_for_byte(profile: str) -> None:
    fresh = [frame.wire for _flow, frames in captured()[profile] for frame in frames]
    shown = frames_on_the_page(profile)
    assert len(shown) == len(fresh), REGENERATE
    for number, (page, wire) in enumerate(zip(shown, fresh, strict=True)):
        assert page == wire, f"{profile}: frame {number} differs; {REGENERATE}"


@pytest.mark.parametrize("profile", ["brilink", "indomaret", "alfamart"])
def test_every_captured_region_is_what_the_generator_writes(profile: str) -> None:
    module = generator()
    fresh = module.render_capture(load_profile(profile), captured()[profile])
    assert module.regions_of(doc())[f"capture-{profile}"] == fresh.rstrip(), REGENERATE


def test_the_response_code_and_timer_tables_are_the_profiles() -> None:
    current = generator().regions_of(doc())
    for name, wanted in generator().deterministic_regions().items():
        assert current.get(name) == wanted, f"region {name!r} is stale: {REGENERATE}"


def test_the_response_code_table_has_every_code_of_every_profile() -> None:
    region = generator().regions_of(doc())["response-codes"]
    for name in generator().PROFILES:
        for code, entry in load_profile(name).response_codes.items():
            assert f"`{entry.meaning}` ({entry.label})" in region
            assert re.search(rf"^\| {code} \|", region, re.MULTILINE), code


def test_the_dump_is_the_one_the_codec_examples_use() -> None:
    data = bytes(range(256)) + b"0200"
    assert generator().dump(data) == hexdump(data)


# Each flow shows what it says ---------------------------------------------------------------


@pytest.mark.parametrize("profile", ["brilink", "indomaret", "alfamart"])
def test_the_flows_answer_as_their_titles_say(profile: str) -> None:
    approved = "00"
    assert answer_codes(profile, "sign-on") == [approved]
    assert answer_codes(profile, "echo") == [approved]
    assert answer_codes(profile, "inquiry") == [approved]
    assert answer_codes(profile, "payment") == [approved]
    assert answer_codes(profile, "already-paid") == [code_of(profile, Meaning.ALREADY_PAID)]
    assert answer_codes(profile, "duplicate-stan") == [code_of(profile, Meaning.DUPLICATE)]
    assert answer_codes(profile, "sign-off") == [approved]
    if load_profile(profile).resolution == "advice":
        assert answer_codes(profile, "advice") == [approved] * 3  # 0220, 0221, the late 0200
    else:
        not_found = code_of(profile, Meaning.NOT_FOUND)
        declined = code_of(profile, Meaning.DECLINED)
        assert answer_codes(profile, "reversal") == [not_found, not_found, declined]
        # the late 0200 applied (nobody listening), then the 0420 and 0421 reverse it
        assert answer_codes(profile, "reversal-forwarded") == [approved] * 3


@pytest.mark.parametrize("profile", ["brilink", "indomaret", "alfamart"])
def test_a_duplicate_reuses_the_payments_stan_and_a_repeat_its_firsts(profile: str) -> None:
    codec = load_profile(profile).codec()

    def requests(flow: str) -> list[tuple[str, str]]:
        frames = {item.name: frames for item, frames in captured()[profile]}[flow]
        decoded = [iso8583.decode(f.payload, codec.spec)[0] for f in frames]
        return [(d["t"], d["11"]) for d in decoded if d["t"][2] in "02"]

    assert requests("duplicate-stan")[0][1] == requests("payment")[0][1]
    settle = "advice" if load_profile(profile).resolution == "advice" else "reversal"
    (first, stan), (repeat, repeat_stan), (late, _late_stan) = requests(settle)
    assert (first[3], repeat[3], late) == ("0", "1", "0200")
    assert stan == repeat_stan
    if settle == "reversal":  # in store-and-forward: a new STAN, kept by the repeat
        (_payment, paid_stan), (forward, forward_stan), (again, again_stan) = requests(
            "reversal-forwarded"
        )
        assert (forward, again) == ("0420", "0421")
        assert forward_stan == again_stan != paid_stan


def test_every_tag_on_the_wire_and_in_flows_is_documented() -> None:
    section = doc().split("## DE48: private data (TLV)")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `([A-Z0-9]{2})`", section, re.MULTILINE))
    on_the_wire: set[str] = set()
    for profile, runs in captured().items():
        codec = load_profile(profile).codec()
        for _flow, frames in runs:
            for frame in frames:
                private = iso8583.decode(frame.payload, codec.spec)[0].get("48")
                if private:
                    on_the_wire |= {tag for tag, _value in decode_items(private)}
    project = {
        value
        for name, value in vars(flows).items()
        if name in flows.__all__ and name.isupper() and isinstance(value, str)  # tags, not widths
    }
    assert on_the_wire
    assert on_the_wire <= documented
    assert project <= documented
    assert project | on_the_wire <= set(generator().TAG_NAMES)


def test_every_flow_applies_somewhere_and_names_are_unique() -> None:
    module = generator()
    names = [flow.name for flow in module.FLOWS]
    assert len(names) == len(set(names))
    for flow in module.FLOWS:
        assert any(flow.applies(load_profile(name)) for name in module.PROFILES), flow.name
