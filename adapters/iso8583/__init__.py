"""ISO 8583 over TCP: the family of BRILink agents' EDC terminals and of Indomaret/Alfamart tills
(through a payment aggregator's switch).

jPOS's cut, kept here: the *channel* (length framing and the connection:
:mod:`jamsostek_channels.transport.tcp`, in the core) apart from the *packager* (field layout:
:mod:`.codec`, over pyiso8583). Modules with one job each, usable from either side of the wire
(the library as terminal, the fake switch as host):

* :mod:`.fields` — DE4 whole rupiah, DE7 :class:`TransmissionTime`, DE90 :class:`OriginalData`;
* :mod:`.tlv` — DE48 :class:`PrivateData` and DE57 :class:`Lines` (2-character tag, 2-digit
  length);
* :mod:`.messages` — the typed messages: 0200/0210, 0220/0221/0230, 0400/0401/0410,
  0420/0421/0430, 0800/0810;
* :mod:`.codec` — :class:`Codec` (encode, decode, ``decode_keyed`` for the transport) and
  :func:`match_key` (MTI class + DE11 + DE41);
* :mod:`.profile` — the per-partner settings, one TOML file per profile in ``profiles/``
  (``brilink``, ``indomaret``, ``alfamart``).

``docs/channels/iso8583.md`` describes the wire for a team writing a terminal in another language.
"""

from __future__ import annotations

from jamsostek_channels.adapters.iso8583.codec import Codec, MatchKey, build_spec, match_key
from jamsostek_channels.adapters.iso8583.fields import (
    MAX_AMOUNT,
    OriginalData,
    TransmissionTime,
    decode_amount,
    encode_amount,
)
from jamsostek_channels.adapters.iso8583.messages import (
    RUPIAH,
    Advice,
    AdviceResponse,
    Answer,
    FinancialRequest,
    FinancialResponse,
    Message,
    NetworkCode,
    NetworkRequest,
    NetworkResponse,
    Reversal,
    ReversalResponse,
    Transaction,
)
from jamsostek_channels.adapters.iso8583.profile import (
    PROFILES,
    Iso8583Profile,
    Meaning,
    ProcessingCodes,
    ResponseCode,
    Timers,
    load_profile,
)
from jamsostek_channels.adapters.iso8583.tlv import Lines, PrivateData, decode_items, encode_items

__all__ = [
    "MAX_AMOUNT",
    "PROFILES",
    "RUPIAH",
    "Advice",
    "AdviceResponse",
    "Answer",
    "Codec",
    "FinancialRequest",
    "FinancialResponse",
    "Iso8583Profile",
    "Lines",
    "MatchKey",
    "Meaning",
    "Message",
    "NetworkCode",
    "NetworkRequest",
    "NetworkResponse",
    "OriginalData",
    "PrivateData",
    "ProcessingCodes",
    "ResponseCode",
    "Reversal",
    "ReversalResponse",
    "Timers",
    "Transaction",
    "TransmissionTime",
    "build_spec",
    "decode_amount",
    "decode_items",
    "encode_amount",
    "encode_items",
    "load_profile",
    "match_key",
]
