"""ISO 8583 profiles: what makes BRILink, Indomaret and Alfamart different is configuration.

No national ISO 8583 profile exists, so every partner-specific value of the family lives in a
TOML file (``profiles/<name>.toml`` beside this module, or any path): framing (length width,
byte order or ASCII length, frame limit), bitmap (hex or binary), DE41 length, the DE7 time zone,
DE18 channel type, DE32 acquirer id, DE48's product id, the processing codes (DE3), every timer,
the response-code map (what 54, 88 and 91 mean differs between partners), the receipt widths
the terminals print, the channel's :class:`~jamsostek_channels.channel.Capabilities`
(operations, limits, admin fee, and ``resolution``: how an unanswered payment is settled,
``advice`` or ``reverse``), and the layout of its end-of-day settlement file (``[settlement]``:
:class:`SettlementFormat`, written and read by :mod:`.settlement`).
Credentials (a sign-on key) are never in a profile.

``load_profile`` refuses an incomplete or inconsistent file with ``ValueError``/``KeyError``.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

import attrs

from jamsostek_channels.adapters.iso8583.codec import Bitmap, Codec
from jamsostek_channels.channel import Capabilities, Redelivery, Resolution
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.transport.tcp import Framing

__all__ = [
    "PROFILES",
    "CustomerForm",
    "Iso8583Profile",
    "Layout",
    "Meaning",
    "ProcessingCodes",
    "ResponseCode",
    "SettlementFormat",
    "Timers",
    "load_profile",
    "redelivery",
]

#: The profiles shipped with the library.
PROFILES = ("brilink", "indomaret", "alfamart")

_T = TypeVar("_T")


class Meaning(enum.StrEnum):
    """What a response code means to the library, whatever its number at this partner."""

    APPROVED = "approved"
    SIGN_ON_NEEDED = "sign-on-needed"  #: sign on again, then send again: nothing was applied
    DECLINED = "declined"  #: refused; nothing applied
    INVALID_AMOUNT = "invalid-amount"
    INVALID_CUSTOMER = "invalid-customer"
    INVALID_PRODUCT = "invalid-product"
    INVALID_TRANSACTION = "invalid-transaction"  #: e.g. a processing code it does not take
    ALREADY_PAID = "already-paid"
    NO_BILL = "no-bill"  #: nothing to pay for these months
    NO_INQUIRY = "no-inquiry"  #: a payment without a successful inquiry first
    NOT_FOUND = "not-found"  #: the original of an advice or reversal is unknown
    CUT_OFF = "cut-off"  #: the host is closing its day: try later
    LINK_DOWN = "link-down"  #: the host's own link (issuer, biller) is down: nothing applied
    TOO_LATE = "too-late"  #: the host answered after its own timeout: outcome unknown
    DUPLICATE = "duplicate"  #: a repeat of a message it has: the original's outcome stands
    MALFUNCTION = "malfunction"  #: the host failed: for a payment, outcome unknown
    # Registration (BRILink's project messages): refusals of a registration or its OTP.
    OTP_INVALID = "otp-invalid"  #: the OTP is not the one sent (counted by the host)
    OTP_EXPIRED = "otp-expired"  #: the OTP's lifetime passed or too many wrong tries
    ALREADY_REGISTERED = "already-registered"  #: the NIK has a membership that has not lapsed


@attrs.frozen
class ResponseCode:
    code: str = attrs.field(validator=attrs.validators.matches_re(r"[0-9A-Z]{2}"))
    meaning: Meaning = attrs.field(converter=Meaning)
    label: str  #: the partner's own wording, for logs and support


@attrs.frozen
class ProcessingCodes:
    """DE3 per operation. ``registration``/``registration_confirm`` only where the profile
    offers registration (the project's own 0200 messages)."""

    inquiry: str = attrs.field(validator=attrs.validators.matches_re(r"[0-9]{6}"))
    payment: str = attrs.field(validator=attrs.validators.matches_re(r"[0-9]{6}"))
    registration: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.matches_re(r"[0-9]{6}"))
    )
    registration_confirm: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.matches_re(r"[0-9]{6}"))
    )

    def __attrs_post_init__(self) -> None:
        codes = [c for c in attrs.astuple(self) if c is not None]
        if len(codes) != len(set(codes)):
            raise ValueError("two operations share one processing code")


def _seconds(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a finite number of seconds > 0")


def _count(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number >= 0")


@attrs.frozen
class Timers:
    """Every timer of the family, in seconds. No public figures exist: these defaults are the
    project's (channels.md, "Timers"), each a partner setting."""

    inquiry_timeout: float = attrs.field(default=15.0, converter=float, validator=_seconds)
    payment_timeout: float = attrs.field(default=30.0, converter=float, validator=_seconds)
    repeat_interval: float = attrs.field(default=30.0, converter=float, validator=_seconds)
    repeats: int = attrs.field(default=3, validator=_count)
    store_and_forward_interval: float = attrs.field(
        default=60.0, converter=float, validator=_seconds
    )
    store_and_forward_expiry: float = attrs.field(
        default=86_400.0, converter=float, validator=_seconds
    )
    echo_idle: float = attrs.field(default=60.0, converter=float, validator=_seconds)
    missed_echoes: int = attrs.field(default=3, validator=_count)
    #: reconnecting: the first wait, doubled per failed try up to the cap (then jittered)
    reconnect_backoff: float = attrs.field(default=0.5, converter=float, validator=_seconds)
    reconnect_backoff_max: float = attrs.field(default=30.0, converter=float, validator=_seconds)
    #: connect tries a message makes itself when it finds no link (within its own timer)
    reconnect_attempts: int = attrs.field(default=3, validator=_count)


def redelivery(timers: Timers) -> Redelivery:
    """The client's outbox schedule these timers state: advices (0220, then 0221) and
    reversals (0400/0420, then their repeats) are sent again ``repeat_interval`` apart
    ``repeats`` times, then every ``store_and_forward_interval``, and given up (reported for a
    person) ``store_and_forward_expiry`` after they were queued."""
    return Redelivery(
        repeat_interval=dt.timedelta(seconds=timers.repeat_interval),
        repeats=timers.repeats,
        interval=dt.timedelta(seconds=timers.store_and_forward_interval),
        expiry=dt.timedelta(seconds=timers.store_and_forward_expiry),
    )


def _zone(text: str) -> dt.tzinfo:
    """``UTC``, ``WIB`` (UTC+7, :data:`~jamsostek_channels.clock.JAKARTA`) or ``+HH:MM``."""
    if text == "UTC":
        return dt.UTC
    if text == "WIB":
        return JAKARTA
    match = re.fullmatch(r"([+-])([01][0-9]|2[0-3]):([0-5][0-9])", text)
    if match is None:
        raise ValueError(f"time_zone is UTC, WIB or +HH:MM, not {text!r}")
    sign = -1 if match[1] == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=int(match[2]), minutes=int(match[3])))


class Layout(enum.StrEnum):
    FIXED = "fixed"  #: fixed-width columns, numbers zero-padded, text space-padded
    DELIMITED = "delimited"  #: one separator between columns, no padding


class CustomerForm(enum.StrEnum):
    """How the file carries the customer id (the NIK or KPJ the terminal sent in DE48 CN)."""

    MASKED = "masked"  #: ``3201********0001`` (the reader keeps it so)
    FULL = "full"  #: the whole number (the reader masks it at once: records never hold it)


_LINE_ENDINGS: Final = {"crlf": "\r\n", "lf": "\n"}
#: Separators that none of the columns' values can contain.
_DELIMITERS: Final = frozenset("|;")


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"settlement.{attribute.name} must be a whole number >= 1")


@attrs.frozen
class SettlementFormat:
    """A profile's ``[settlement]`` section: ``layout`` (``fixed`` or ``delimited``),
    ``delimiter`` (``|`` or ``;``, delimited only), ``line_ending`` (``crlf`` or ``lf``; either
    is read), ``customer`` (``masked`` or ``full``), ``file_name`` (``{date}`` becomes
    ``YYYYMMDD``) and ``max_records`` (a larger file is refused)."""

    layout: Layout = attrs.field(default=Layout.DELIMITED, converter=Layout)
    delimiter: str = "|"
    line_ending: str = "lf"
    customer: CustomerForm = attrs.field(default=CustomerForm.MASKED, converter=CustomerForm)
    file_name: str = "{date}.txt"
    max_records: int = attrs.field(default=1_000_000, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.delimiter not in _DELIMITERS:
            raise ValueError(f"settlement.delimiter is | or ;, not {self.delimiter!r}")
        if self.line_ending not in _LINE_ENDINGS:
            raise ValueError(f"settlement.line_ending is crlf or lf, not {self.line_ending!r}")
        if "{date}" not in self.file_name or "/" in self.file_name:
            raise ValueError("settlement.file_name is a file name holding {date}")

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> SettlementFormat:
        """The format a TOML table states; a key it does not have is a ValueError naming it."""
        unknown = sorted(set(table) - set(attrs.fields_dict(cls)))
        if unknown:
            raise ValueError(f"[settlement] has unknown keys: {', '.join(unknown)}")
        return cls(**table)

    @property
    def end_of_line(self) -> str:
        """What the writer puts after every record."""
        return _LINE_ENDINGS[self.line_ending]

    def name_for(self, day: dt.date) -> str:
        """The file's name for business day ``day``."""
        return self.file_name.replace("{date}", day.strftime("%Y%m%d"))


@attrs.frozen
class Iso8583Profile:
    name: str
    label: str
    framing: Framing
    bitmap: Bitmap
    terminal_id_length: int
    time_zone: dt.tzinfo
    channel_type: str  #: DE18
    acquirer_id: str  #: DE32
    product_id: str  #: DE48 PI
    processing_codes: ProcessingCodes
    timers: Timers
    response_codes: Mapping[str, ResponseCode]
    receipt_widths: tuple[int, ...]
    agent_id: Literal["DE42", "none"]  #: where an agent's id travels in every message
    capabilities: Capabilities
    #: the end-of-day settlement file's layout (``[settlement]``; defaults when absent)
    settlement: SettlementFormat = attrs.field(factory=SettlementFormat)

    @property
    def resolution(self) -> Resolution:
        """How an unanswered payment is settled: ``advice`` or ``reverse`` (the capabilities')."""
        return self.capabilities.resolution

    def codec(self) -> Codec:
        """The codec this profile's wire settings describe."""
        return Codec(bitmap=self.bitmap, terminal_id_length=self.terminal_id_length)

    @property
    def refusal_code(self) -> str:
        """What the terminal answers a request from the switch it does not support: the
        profile's first ``invalid-transaction`` code, else its first ``declined`` one, else
        ISO's ``12`` (invalid transaction)."""
        for meaning in (Meaning.INVALID_TRANSACTION, Meaning.DECLINED):
            for code, entry in self.response_codes.items():
                if entry.meaning is meaning:
                    return code
        return "12"

    def response(self, code: str) -> ResponseCode:
        """What ``code`` means here; a code the map does not list is a plain refusal."""
        known = self.response_codes.get(code)
        return known or ResponseCode(code, Meaning.DECLINED, "not in this profile's map")


def _table(kind: type[_T], table: Mapping[str, Any], name: str) -> _T:
    """``kind`` built from a TOML table; a key it does not have is a ValueError naming it."""
    unknown = sorted(set(table) - set(attrs.fields_dict(kind)))  # type: ignore[arg-type]
    if unknown:
        raise ValueError(f"[{name}] has unknown keys: {', '.join(unknown)}")
    return kind(**table)


def _response_codes(table: Mapping[str, Any]) -> Mapping[str, ResponseCode]:
    codes = {
        str(code): ResponseCode(str(code), str(entry["meaning"]), str(entry["label"]))
        for code, entry in table.items()
    }
    if codes.get("00") is None or codes["00"].meaning is not Meaning.APPROVED:
        raise ValueError("response_codes must map 00 to approved")
    return MappingProxyType(codes)


def _from_data(data: Mapping[str, Any]) -> Iso8583Profile:
    wire = data["wire"]
    framing = Framing(
        width=int(wire.get("length_width", 2)),
        byteorder=str(wire.get("length_byteorder", "big")),  # type: ignore[arg-type]
        ascii_length=bool(wire.get("ascii_length", False)),
        max_bytes=int(wire.get("max_frame_bytes", 8192)),
    )
    bitmap = str(wire.get("bitmap", "hex"))
    if bitmap not in ("hex", "binary"):
        raise ValueError(f"bitmap is hex or binary, not {bitmap!r}")
    agent_id = str(data.get("agent_id", "none"))
    if agent_id not in ("DE42", "none"):
        raise ValueError(f"agent_id is DE42 or none, not {agent_id!r}")
    timers = _table(Timers, data.get("timers", {}), "timers")
    capabilities = attrs.evolve(
        Capabilities.from_mapping(data["capabilities"]), redelivery=redelivery(timers)
    )
    if capabilities.resolution not in (Resolution.ADVICE, Resolution.REVERSE):
        raise ValueError("capabilities.resolution is advice or reverse for ISO 8583 (no status)")
    widths = tuple(int(w) for w in data["receipt"]["widths"])
    if capabilities.receipt_width not in widths:
        raise ValueError("capabilities.receipt_width must be one of receipt.widths")
    profile = Iso8583Profile(
        name=str(data["name"]),
        label=str(data.get("label", data["name"])),
        framing=framing,
        bitmap=bitmap,  # type: ignore[arg-type]
        terminal_id_length=int(wire.get("terminal_id_length", 8)),
        time_zone=_zone(str(wire.get("time_zone", "UTC"))),
        channel_type=str(data["channel_type"]),
        acquirer_id=str(data["acquirer_id"]),
        product_id=str(data["product_id"]),
        processing_codes=_table(ProcessingCodes, data["processing_codes"], "processing_codes"),
        timers=timers,
        response_codes=_response_codes(data["response_codes"]),
        receipt_widths=widths,
        agent_id=agent_id,  # type: ignore[arg-type]
        capabilities=capabilities,
        settlement=SettlementFormat.from_mapping(data.get("settlement", {})),
    )
    profile.codec()  # bitmap and DE41 length checked now, not at the first message
    if not re.fullmatch(r"[0-9]{4}", profile.channel_type):
        raise ValueError("channel_type (DE18) is 4 digits")
    if not re.fullmatch(r"[0-9]{1,11}", profile.acquirer_id):
        raise ValueError("acquirer_id (DE32) is 1 to 11 digits")
    if not re.fullmatch(r"[\x21-\x7e]{1,6}", profile.product_id):
        raise ValueError("product_id (DE48 PI) is 1 to 6 printable characters")
    return profile


def load_profile(name_or_path: str | Path) -> Iso8583Profile:
    """A shipped profile by name (``"indomaret"``) or any profile file by path."""
    if isinstance(name_or_path, str) and name_or_path in PROFILES:
        text = (
            resources.files("jamsostek_channels.adapters.iso8583")
            .joinpath("profiles", f"{name_or_path}.toml")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(name_or_path).read_text(encoding="utf-8")
    return _from_data(tomllib.loads(text))
