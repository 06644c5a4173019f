"""Identifiers, one small module each with the same surface (as python-stdnum does).

Every module offers ``compact`` (strip separators), ``validate`` (return the compact form or
raise :class:`~jamsostek_channels.errors.InvalidInput`), ``is_valid``, ``format`` and ``mask``
(the only form that may appear in logs, reprs and messages).
"""

__all__ = ["kpj", "nik", "phone"]
