"""Wire facts: the few small strings an adapter fixes before it sends a request (an ISO 8583
STAN and DE7 transmission time), journaled with the request and handed back to the adapter on
every later request about the same payment (its advice, reversal, status, a repeat), after a
restart or in another process too.

The core never reads them: it only checks they are small and plain (:func:`checked`), stores
them with the journal entry (or the outbox item) in the write that journals the attempt, and
gives them back. They must hold nothing secret or personal: a journal file is read by
support staff and a reconciliation tool. The check refuses what cannot be a wire fact: long
values, many keys, and any run of :data:`MAX_DIGIT_RUN` + 1 digits or more (a NIK, a KPJ or
a phone number; an ISO 8583 DE7 is 10 digits).
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping

__all__ = ["MAX_DIGIT_RUN", "MAX_FACTS", "MAX_VALUE", "NO_FACTS", "checked"]

#: At most this many facts per request.
MAX_FACTS = 8
#: A fact's value is at most this many printable ASCII characters.
MAX_VALUE = 32
#: A fact's value holds no run of more digits than this (an identity or phone number is longer).
MAX_DIGIT_RUN = 10
#: No facts (what a channel without the seam has, and an entry journaled before schema 5).
NO_FACTS: Mapping[str, str] = types.MappingProxyType({})

_KEY = re.compile(r"[a-z][a-z0-9_]{0,23}")
_VALUE = re.compile(rf"[ -~]{{0,{MAX_VALUE}}}")
_LONG_NUMBER = re.compile(rf"[0-9]{{{MAX_DIGIT_RUN + 1}}}")


def checked(facts: Mapping[str, str]) -> Mapping[str, str]:
    """``facts`` as a plain dict, or ``ValueError`` (an adapter's programming error, raised
    before anything is journaled or sent) when they are not small plain strings: at most
    :data:`MAX_FACTS` keys of ``[a-z][a-z0-9_]``, up to 24 characters; values printable ASCII
    up to :data:`MAX_VALUE` characters, with no run of more than :data:`MAX_DIGIT_RUN` digits.
    The message names the key, never the value."""
    if not isinstance(facts, Mapping) or len(facts) > MAX_FACTS:
        raise ValueError(f"wire facts: a mapping of at most {MAX_FACTS} facts")
    plain: dict[str, str] = {}
    for key, value in facts.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError("wire facts: keys are [a-z][a-z0-9_], 1-24 characters")
        if not isinstance(value, str) or not _VALUE.fullmatch(value) or _LONG_NUMBER.search(value):
            raise ValueError(
                f"wire facts: {key!r} must be printable ASCII up to {MAX_VALUE} characters,"
                f" no run of more than {MAX_DIGIT_RUN} digits"
            )
        plain[key] = value
    return plain
