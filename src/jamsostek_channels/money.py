"""Money is whole rupiah (``int``): formatting in figures and in words (*terbilang*).

>>> rupiah(36800)
'Rp36.800'
>>> in_words(36800)
'tiga puluh enam ribu delapan ratus rupiah'
"""

from __future__ import annotations

__all__ = ["in_words", "rupiah"]


def _check(amount: int) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("money is a whole number of rupiah (int)")
    return amount


def rupiah(amount: int) -> str:
    """``Rp36.800``: Indonesian grouping with dots, no decimals."""
    from lokal import format_rupiah

    return str(format_rupiah(_check(amount)))


def in_words(amount: int) -> str:
    """The amount in Indonesian words, as receipts print it (*terbilang*)."""
    from lokal import terbilang

    return str(terbilang(_check(amount), currency=True))
