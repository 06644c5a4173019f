"""Redaction: the one place that decides how personal data and credentials are masked.

Everything the library writes where people or log pipelines can read it (``repr()``/``str()``
of its types, log records, exception messages, receipts, reconciliation lines) shows personal
data only through these functions, so that one rule holds per kind of value:

==============  ======================================  ==========================================
kind            rule                                    example
==============  ======================================  ==========================================
NIK             first 4 digits (province, regency)      ``3201015508950001`` -> ``3201********0001``
                and last 4 (serial); the district and
                the birth date in between are hidden
KPJ             last 4 digits only                      ``12345678901`` -> ``*******8901``
customer id     a NIK (16 digits) as NIK, else as KPJ
phone           first 4 (``08`` + operator) and last    ``+6281234567890`` -> ``0812****7890``
                4 digits, national form
name            initials only                           ``Siti Rahayu`` -> ``S*** R***``
address         fully masked                            ``***``
birth date      fully masked                            ``***``
e-mail          fully masked                            ``***``
secret          fully masked: tokens, signatures,       ``***``
                passwords, OTPs, private keys
==============  ======================================  ==========================================

A value shorter than what a rule keeps is masked completely (a 6-digit "NIK" shows no digit).
Every function is idempotent (masking a masked value changes nothing: ``*`` counts as a digit),
never raises, and accepts any ``str``.

:func:`text` masks free text such as a logged HTTP body or path: by **field name** (a JSON
member, an XML element, a ``name=value`` field or attribute, at any depth: nested objects and
``additionalInfo`` included) with the rule of that field's kind (see :data:`FIELDS`), and
then, wherever it stands, any run of 16 or more digits (a NIK, or a number holding one) and any
Indonesian mobile number.

This module sits in the lowest layer: it imports only the standard library, so that identifiers,
the model and everything above can use it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Final

__all__ = [
    "FIELDS",
    "MASK",
    "Kind",
    "address",
    "birth_date",
    "customer",
    "email",
    "field",
    "kind_of",
    "kpj",
    "name",
    "nik",
    "optional",
    "phone",
    "secret",
    "text",
]

#: What a fully masked value becomes (its length is not shown either).
MASK: Final = "***"

_NIK_LENGTH = 16
_DIGITS_AND_STAR = "0123456789*"


class Kind(enum.Enum):
    """The kinds of value that are masked, each by its own rule."""

    NIK = "nik"
    KPJ = "kpj"
    CUSTOMER = "customer"  #: a NIK or a KPJ, by length
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"
    BIRTH_DATE = "birth_date"
    EMAIL = "email"
    SECRET = "secret"  # noqa: S105 - the kind's name, not a password


def _digits(value: str) -> str:
    """The digits of ``value``, ``*`` included so that a masked value stays as it is."""
    if not value.strip(_DIGITS_AND_STAR):  # already digits only: the common case, fast
        return value
    return "".join(ch for ch in value if ch in _DIGITS_AND_STAR)


def _keep(digits: str, head: int, tail: int) -> str:
    if len(digits) <= head + tail:
        return "*" * len(digits)
    return f"{digits[:head]}{'*' * (len(digits) - head - tail)}{digits[len(digits) - tail :]}"


def nik(value: str) -> str:
    """``3201********0001``: the birth date (and sex) encoded in the middle never shows.

    >>> nik("3201015508950001")
    '3201********0001'
    >>> nik("3201.01.550895.0001")
    '3201********0001'
    """
    return _keep(_digits(value), 4, 4)


def kpj(value: str) -> str:
    """``*******8901``: the last four digits, as a card's number is usually quoted.

    >>> kpj("12345678901")
    '*******8901'
    """
    return _keep(_digits(value), 0, 4)


def customer(value: str) -> str:
    """A customer id: 16 digits by the NIK rule, anything else by the KPJ rule.

    >>> customer("3201015508950001"), customer("12345678901")
    ('3201********0001', '*******8901')
    """
    digits = _digits(value)
    return _keep(digits, 4, 4) if len(digits) == _NIK_LENGTH else _keep(digits, 0, 4)


def phone(value: str) -> str:
    """``0812****7890``: national form, the operator prefix and the last four digits.

    >>> phone("+62 812-3456-7890")
    '0812****7890'
    """
    digits = _digits(value)
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return _keep(digits, 4, 4)


def name(value: str) -> str:
    """Initials, each followed by ``***`` whatever the word's length.

    >>> name("Siti  Rahayu")
    'S*** R***'
    >>> name(name("Siti Rahayu"))
    'S*** R***'
    """
    return " ".join(f"{word[0]}***" for word in value.split())


def address(value: str) -> str:
    """Fully masked: a street address with a house number points at one home."""
    return MASK


def birth_date(value: object) -> str:
    """Fully masked (a ``date`` or its text): with a name or region it singles a person out."""
    return MASK


def email(value: str) -> str:
    """Fully masked: the local part is often the person's name."""
    return MASK


def secret(value: object) -> str:
    """Fully masked: tokens, signatures, passwords, OTPs, client secrets, private keys."""
    return MASK


_RULES: Final[dict[Kind, Callable[[str], str]]] = {
    Kind.NIK: nik,
    Kind.KPJ: kpj,
    Kind.CUSTOMER: customer,
    Kind.PHONE: phone,
    Kind.NAME: name,
    Kind.ADDRESS: address,
    Kind.BIRTH_DATE: birth_date,
    Kind.EMAIL: email,
    Kind.SECRET: secret,
}


def optional(rule: Callable[[str], str]) -> Callable[[str | None], str]:
    """``rule`` for an optional field's ``repr``: ``None`` stays ``None``.

    >>> optional(kpj)(None), optional(kpj)("12345678901")
    ('None', '*******8901')
    """

    def masked(value: str | None) -> str:
        return "None" if value is None else rule(value)

    masked.__name__ = f"optional_{rule.__name__}"
    return masked


# --- field names -----------------------------------------------------------------------------

#: Field names (JSON members, XML elements and attributes, form fields) whose values are masked,
#: compared with case, namespace prefix and ``_ - .`` ignored: ``kp:birthDate`` and
#: ``birth_date`` are both ``birthdate``. These are the names on the wire: SNAP JSON (with the
#: project's ``additionalInfo`` and the canonical participant JSON of a registration), the Kantor
#: Pos XML (its XSDs under ``schemas/``), and the usual spellings of the same data elsewhere.
#: Fields already masked on the wire (``nikMasked``, ``nameMasked``, ``phoneMasked``) are left
#: as they are.
FIELDS: Final[dict[str, Kind]] = {
    "nik": Kind.NIK,
    "noktp": Kind.NIK,
    "kpj": Kind.KPJ,
    "kpjno": Kind.KPJ,
    "customer": Kind.CUSTOMER,
    "customerno": Kind.CUSTOMER,
    "customerid": Kind.CUSTOMER,
    "virtualaccountno": Kind.CUSTOMER,  # partnerServiceId + customerNo
    "phone": Kind.PHONE,
    "phoneno": Kind.PHONE,
    "phonenumber": Kind.PHONE,
    "mobileno": Kind.PHONE,
    "mobilenumber": Kind.PHONE,
    "msisdn": Kind.PHONE,
    "hp": Kind.PHONE,
    "nohp": Kind.PHONE,
    "name": Kind.NAME,
    "fullname": Kind.NAME,
    "customername": Kind.NAME,
    "participantname": Kind.NAME,
    "payername": Kind.NAME,
    "virtualaccountname": Kind.NAME,
    "nama": Kind.NAME,
    "address": Kind.ADDRESS,
    "alamat": Kind.ADDRESS,
    "birthdate": Kind.BIRTH_DATE,
    "dateofbirth": Kind.BIRTH_DATE,
    "dob": Kind.BIRTH_DATE,
    "tanggallahir": Kind.BIRTH_DATE,
    "email": Kind.EMAIL,
}

#: A name holding any of these (any case) names a credential or a one-time code.
_SECRET_NAME = re.compile(
    r"token|secret|signature|password|passwd|otp|authorization|private_?key|api_?key|credential",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[_.\-]")


def kind_of(field_name: str) -> Kind | None:
    """The kind of value a field of this name holds, or ``None`` when it is not masked.

    >>> kind_of("kp:birthDate"), kind_of("accessToken"), kind_of("amount")
    (<Kind.BIRTH_DATE: 'birth_date'>, <Kind.SECRET: 'secret'>, None)
    """
    if _SECRET_NAME.search(field_name) is not None:
        return Kind.SECRET
    local = field_name.rpartition(":")[2]
    return FIELDS.get(_SEPARATORS.sub("", local).lower())


def field(field_name: str, value: str) -> str:
    """``value`` masked by the rule of ``field_name``'s kind (unchanged when it has none)."""
    kind = kind_of(field_name)
    return value if kind is None else _RULES[kind](value)


# --- free text -------------------------------------------------------------------------------

# Each pattern finds a name and its value; _masked_value decides on the name. Possessive
# quantifiers and anchoring on the name's first character keep every pattern linear in the
# text's length.
#: "name": "value" or "name": scalar; the value may be cut short (a truncated log line).
_JSON_MEMBER = re.compile(
    r'(?P<head>"(?P<name>[^"\\]{1,128}+)"\s*+:\s*+)'
    r'(?P<value>"(?:[^"\\]|\\.)*+"?|[^\s,{}\[\]"]++)'
)
#: <ns:name attr="...">value: the text up to the next tag.
_XML_ELEMENT = re.compile(r"(?P<head><(?P<name>[\w.:-]{1,128}+)(?:\s[^<>]*+)?>)(?P<value>[^<]++)")
#: name=value in a form body, a query string or an XML attribute.
_FORM_FIELD = re.compile(
    r"""(?P<head>(?<![\w.-])(?P<name>[\w.-]{1,128}+)=)(?P<value>"[^"]*+"?|'[^']*+'?|[^&\s"'<>]++)"""
)
#: A PEM private key, whole or cut short.
_PEM_KEY = re.compile(r"-----BEGIN [A-Z ]{0,40}?PRIVATE KEY-----[^-]*+(?:-----END[^-]*+-----)?")
#: 16 digits or more: a NIK, or a longer number holding one (a virtual account number).
_LONG_DIGITS = re.compile(r"\d{16,}")
#: An Indonesian mobile number as people and systems write it (0812..., 62812..., +62 812-...):
#: the same 10-13 digits as :mod:`jamsostek_channels.identifiers.phone`, separators allowed.
_PHONE = re.compile(r"(?<!\d)(?:\+62|62|0)[-. ]?8[0-9](?:[-. ]?[0-9]){7,10}(?!\d)")


_LITERALS = frozenset({"null", "true", "false"})


def _masked_value(match: re.Match[str]) -> str:
    kind = kind_of(match["name"])
    if kind is None:
        return match[0]
    value = match["value"]
    quote = value[0] if value[0] in "\"'" else ""
    inner = value[1:-1] if quote and len(value) > 1 and value[-1] == quote else value[len(quote) :]
    if not inner.strip() or (not quote and inner in _LITERALS):
        return match[0]  # nothing to hide: an XML wrapper's indentation, a JSON null
    return f"{match['head']}{quote}{_RULES[kind](inner)}{quote}"


def _long_digits(match: re.Match[str]) -> str:
    return nik(match[0])


def _phone_number(match: re.Match[str]) -> str:
    return phone(match[0])


def text(value: str) -> str:
    """``value`` (a logged body, path or message) with personal data and credentials masked.

    - the value of a JSON member, XML element or ``name=value`` field named in :data:`FIELDS`
      is masked by its kind's rule; one whose name contains token, secret, signature, password,
      otp, authorization, private key or api key (any case) becomes ``***``;
    - a PEM private key becomes ``***``;
    - every run of 16 or more digits keeps only its first and last four;
    - Indonesian mobile numbers become ``0812****7890``.

    Runs in time linear in the text (about 0.1 s a megabyte at worst), and never raises: should
    anything go wrong it fails closed and returns ``"***"``.

    >>> text('{"nik": "3201015508950001", "additionalInfo": {"payerName": "Budi Santoso"}}')
    '{"nik": "3201********0001", "additionalInfo": {"payerName": "B*** S***"}}'
    >>> text("<kp:birthDate>1995-08-15</kp:birthDate>")
    '<kp:birthDate>***</kp:birthDate>'
    """
    try:
        value = _JSON_MEMBER.sub(_masked_value, value)
        value = _XML_ELEMENT.sub(_masked_value, value)
        value = _FORM_FIELD.sub(_masked_value, value)
        if "PRIVATE KEY" in value:
            value = _PEM_KEY.sub(MASK, value)
        value = _LONG_DIGITS.sub(_long_digits, value)
        return _PHONE.sub(_phone_number, value)
    except Exception:
        return MASK
